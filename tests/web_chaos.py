"""The production web server as a subprocess, and the faults a chaos test throws at it.

``gunicorn_server`` starts gunicorn as docker-compose.yml runs it (gthread
workers, Django's connection pool in each process) against the test
database, reached through a ``TcpProxy`` so the test can cut the database
away without touching the machine's PostgreSQL. ``Chaos`` cuts the proxy's
connections for a moment and SIGKILLs web workers (the master starts new
ones) on a seeded schedule, until told to stop, and logs what it did.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time as clock
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

from tests.celery_harness import ROOT, database_url_for_subprocess, free_port, wait_for
from tests.tcp_proxy import TcpProxy


@dataclass
class WebServer:
    url: str
    process: subprocess.Popen
    log: Path

    def workers(self) -> list[int]:
        """The master's children: the web workers that are alive now."""
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with suppress(OSError):
                stat = (entry / "stat").read_text()
                # "pid (comm) state ppid ...": comm may hold spaces, so read after its closing parenthesis.
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    children.append(int(entry.name))
        return children

    def answers(self) -> bool:
        with suppress(requests.RequestException):
            return requests.get(f"{self.url}/health/", timeout=5).status_code == 200
        return False

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@contextmanager
def gunicorn_server(proxy: TcpProxy, log: Path, *, workers: int = 3, threads: int = 4,
                    pool: int = 4) -> Iterator[WebServer]:
    """gunicorn serving the project against the test database through ``proxy``, as in production."""
    parts = urlsplit(database_url_for_subprocess())
    netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@127.0.0.1:{proxy.port}"
    port = free_port()
    env = {**os.environ, "DATABASE_URL": urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")),
           "DATABASE_POOL": str(pool), "DJANGO_DEBUG": "false", "DJANGO_HTTPS": "false",
           "DJANGO_ALLOWED_HOSTS": "127.0.0.1"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "clinic.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--threads", str(threads), "--timeout", "30", "--graceful-timeout", "5",
             "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
    server = WebServer(f"http://127.0.0.1:{port}", process, log)
    try:
        if not wait_for(server.answers, 90, every=0.3):
            raise AssertionError(f"gunicorn did not start:\n{server.tail()}")
        yield server
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@dataclass
class Chaos:
    """Seeded faults in two threads: database cuts of 1-3 s every 2-5 s, a worker SIGKILLed every 3-7 s."""

    proxy: TcpProxy
    server: WebServer
    seed: int
    events: list[tuple[float, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def seconds(self) -> float:
        return self.events[-1][0] - self.events[0][0] if self.events else 0.0

    def count(self, kind: str) -> int:
        return sum(1 for _, what in self.events if what.startswith(kind))

    def start(self) -> None:
        self._log("start")
        for name, loop in (("cuts", self._cut_database), ("kills", self._kill_workers)):
            thread = threading.Thread(target=loop, args=(random.Random(f"{self.seed}-{name}"),), daemon=True,
                                      name=f"chaos-{name}")
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        """Stop throwing faults and leave the database reachable."""
        self._stop.set()
        for thread in self._threads:
            thread.join(15)
        self.proxy.accept()
        self._log("stop")

    def _log(self, what: str) -> None:
        self.events.append((clock.monotonic(), what))

    def _cut_database(self, rng: random.Random) -> None:
        while not self._stop.wait(rng.uniform(2, 5)):
            self.proxy.refuse()
            self._log("cut")
            self._stop.wait(rng.uniform(1, 3))
            self.proxy.accept()
            self._log("restored")

    def _kill_workers(self, rng: random.Random) -> None:
        while not self._stop.wait(rng.uniform(3, 7)):
            alive = sorted(self.server.workers())
            if not alive:
                continue  # the master is between a death and a birth
            pid = rng.choice(alive)
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                self._log(f"kill {pid}")
