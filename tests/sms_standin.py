"""A stand-in for Twilio's Messages API on 127.0.0.1, for the SMS backend and fault tests.

It answers ``POST /2010-04-01/Accounts/<sid>/Messages.json`` as Twilio would,
or fails as Twilio can (a status code, a slow answer, a dropped connection,
an answer held back until the test releases it), and records every request
it received: that record is the duplicate detector. The twilio backend
reaches it through ``TWILIO_API_BASE``, in this process (``settings()``) or
in a Celery worker started by the test (``environment()``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "stand-in-token"
FROM_NUMBER = "+12125550100"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
# The longest a held answer waits for release(), so a failed test never leaves a thread behind for long.
HOLD_AT_MOST = 120


@dataclass(frozen=True)
class Reply:
    """How the stand-in answers one request.

    ``status`` and ``body`` (None: a new message resource with its own SID)
    with any further ``headers`` (``Retry-After``...), after ``delay``
    seconds; ``drop`` closes the connection without answering; ``hold`` waits
    until the test calls ``release()`` first.
    """

    status: int = 201
    body: dict | None = None
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    drop: bool = False
    hold: bool = False


def error_reply(status: int, code: int, message: str = "try later", *, retry_after: str | None = None) -> Reply:
    """Twilio's error body for ``status`` (429, 500, 503, 400...), with a ``Retry-After`` header if given."""
    return Reply(status=status, body={"code": code, "message": message, "status": status,
                                      "more_info": f"https://www.twilio.com/docs/errors/{code}"},
                 headers=(("Retry-After", retry_after),) if retry_after is not None else ())


class StandInTwilio:
    """What the stand-in answers next, and every request it received (thread-safe)."""

    def __init__(self):
        self.default = Reply()
        self.script: list[Reply] = []  # answers for the next requests, in order; then ``default``
        self.requests: list[dict] = []
        self.url = ""
        self._changed = threading.Condition()
        self._released = threading.Event()

    # --- what the test says -------------------------------------------------------------------------

    def answer_next(self, *replies: Reply) -> None:
        with self._changed:
            self.script.extend(replies)

    def release(self) -> None:
        """Let held answers go (to a client that may be long dead)."""
        self._released.set()

    def wait_for_requests(self, count: int, seconds: float = 60) -> bool:
        """True once at least ``count`` requests have arrived; False after ``seconds``."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.requests) >= count, timeout=seconds)

    def sent_to(self) -> list[str]:
        """The ``To`` of every request received, in order (a number twice is a duplicate)."""
        with self._changed:
            return [request["form"].get("To", "") for request in self.requests]

    # --- how the backend reaches it -----------------------------------------------------------------

    def settings(self, *, timeout: int = 1) -> dict[str, object]:
        """Django settings that point the twilio backend here."""
        return {"SMS_BACKEND": "twilio", "TWILIO_API_BASE": self.url, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM_NUMBER": FROM_NUMBER,
                "TWILIO_MESSAGING_SERVICE_SID": "", "TWILIO_TIMEOUT_SECONDS": timeout}

    def environment(self, *, timeout: int = 30) -> dict[str, str]:
        """The same as environment variables, for a worker process."""
        return {name: str(value) for name, value in self.settings(timeout=timeout).items()}

    # --- the server ---------------------------------------------------------------------------------

    def _take(self, form: dict, path: str, authorization: str) -> tuple[Reply, str]:
        with self._changed:
            reply = self.script.pop(0) if self.script else self.default
            sid = f"SM{len(self.requests) + 1:032x}"
            self.requests.append({"path": path, "form": form, "authorization": authorization, "sid": sid,
                                  "status": None if reply.drop else reply.status})
            self._changed.notify_all()
        return reply, sid

    def handler(self):
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
                reply, sid = stand_in._take(form, self.path, self.headers.get("Authorization", ""))
                if reply.hold:
                    stand_in._released.wait(HOLD_AT_MOST)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    return  # the request arrived; no answer ever leaves
                body = reply.body if reply.body is not None else {
                    "sid": sid, "status": "queued", "account_sid": ACCOUNT_SID, "to": form.get("To"),
                    "body": form.get("Body")}
                payload = json.dumps(body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for header, value in reply.headers:
                        self.send_header(header, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test) or was killed (a fault test)

            def log_message(self, *args):
                pass

        return Handler


@contextmanager
def running() -> Iterator[StandInTwilio]:
    """A stand-in on a free local port, stopped (and any held answer released) on exit."""
    stand_in = StandInTwilio()
    server = ThreadingHTTPServer(("127.0.0.1", 0), stand_in.handler())
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="stand-in-twilio", daemon=True)
    thread.start()
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield stand_in
    finally:
        stand_in.release()
        server.shutdown()
        server.server_close()
        thread.join(10)
