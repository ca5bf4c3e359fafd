"""The stand-in Twilio failing at seeded rates, with the time each request arrived: the soak's witness."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer

from tests.sms_standin import Reply, StandInTwilio, error_reply

UNAVAILABLE = error_reply(503, 20503, "Service unavailable")
TOO_MANY = error_reply(429, 20429, "Too Many Requests")
DROPPED = Reply(drop=True)
ACCEPTED = Reply()


class FaultyProvider(StandInTwilio):
    """Answers 503, 429 or drops the connection (after reading the request) at the given rates, else 201.

    Every request is recorded with ``at`` (the wall clock when it arrived) and ``status`` (None when dropped):
    a 201 or a drop is a text handed to the provider (a dropped one may have been sent), a 503 or 429 is not.
    """

    def __init__(self, *, seed: int, unavailable: float, too_many: float, dropped: float):
        super().__init__()
        self.rng = random.Random(seed)
        self.rates = ((DROPPED, dropped), (UNAVAILABLE, unavailable), (TOO_MANY, too_many))

    def _choose(self) -> Reply:
        roll = self.rng.random()
        for reply, rate in self.rates:
            if roll < rate:
                return reply
            roll -= rate
        return ACCEPTED

    def _take(self, form: dict, path: str, authorization: str) -> tuple[Reply, str]:
        with self._changed:
            reply = self._choose()
            sid = f"SM{len(self.requests) + 1:032x}"
            self.requests.append({"path": path, "form": form, "sid": sid, "at": time.time(),
                                  "status": None if reply.drop else reply.status})
            self._changed.notify_all()
        return reply, sid

    def log(self) -> list[dict]:
        with self._changed:
            return [dict(request) for request in self.requests]


@contextmanager
def faulty_provider(**rates) -> Iterator[FaultyProvider]:
    provider = FaultyProvider(**rates)
    server = ThreadingHTTPServer(("127.0.0.1", 0), provider.handler())
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="soak-provider", daemon=True)
    thread.start()
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
