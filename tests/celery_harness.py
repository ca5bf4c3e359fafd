"""Real processes for fault tests: a Redis server of the test's own, and Celery workers on it.

The machine's Redis is shared with other tests and people, so a test that
stops its broker starts its own ``redis-server`` on a free port instead
(no persistence, like a crashed Redis that lost what it held). Workers run
as ``celery -A clinic worker`` subprocesses, each in its own process group
so the test can SIGKILL a whole worker (main process and pool children) and
nothing it started outlives it. Every wait polls against a generous deadline:
these tests run on a loaded 2-core machine.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time as clock
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.factories import ChairFactory, ReminderPolicyFactory, TreatmentCourseFactory, standard_protocol

ROOT = Path(__file__).resolve().parents[1]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def wait_for(condition: Callable[[], object], seconds: float = 60, every: float = 0.2) -> bool:
    """Poll ``condition`` until it is true or ``seconds`` have passed; returns its last answer as a bool."""
    deadline = clock.monotonic() + seconds
    while clock.monotonic() < deadline:
        if condition():
            return True
        clock.sleep(every)
    return bool(condition())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clinic_for_real_workers(site, count: int) -> tuple[datetime, list[tuple]]:
    """``count`` (course, chair) pairs at ``site`` and a start about three hours from the real now.

    Real workers run at the real time, so ``site`` should be open all day (``EVERY_DAY_ALL_DAY``);
    its texts get no quiet hours here, as a send in New York's night would otherwise be skipped.
    Each course's session 1 is due on the start's local day, which the three hours do not leave.
    """
    ReminderPolicyFactory(location=site, quiet_from=time(0), quiet_until=time(0))
    now = datetime.now(UTC)
    start = (now + timedelta(hours=3)).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 15)
    if site.local_date(start) != site.local_date(start + timedelta(hours=3)):
        start = datetime.combine(site.local_date(now) + timedelta(days=1), time(12), tzinfo=site.zone)
    protocol = standard_protocol("esketamine-trd")
    pairs = [(TreatmentCourseFactory(protocol=protocol, start_date=site.local_date(start)),
              ChairFactory(location=site, name=f"Chair {n}")) for n in range(count)]
    return start, pairs


def database_url_for_subprocess() -> str:
    """DATABASE_URL for a subprocess: the test database pytest-django created, on the same server."""
    from django.db import connection

    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit((parts.scheme, parts.netloc, "/" + connection.settings_dict["NAME"], parts.query, ""))


class RedisServer:
    """``redis-server`` on a free port in ``directory``; ``kill()`` and ``start()`` it at will (same port)."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=2, socket_timeout=5)

    def is_up(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except Exception:
            return False

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory), "--logfile", str(self.directory / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        if not wait_for(self.is_up, 30, every=0.05):
            self.kill()
            raise AssertionError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: the broker crashes and, without persistence, forgets every message it held."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
        assert not self.is_up()

    def queue_is_drained(self, *, unacked_before: int = 0) -> bool:
        """Nothing waits in either queue and no message is out with a worker (beyond ``unacked_before``)."""
        return queues_drained(self.client(), unacked_before=unacked_before)

    def unacked(self) -> int:
        with self.client() as client:
            return client.hlen("unacked")


QUEUES = ("texts", "background")


def queues_drained(client, *, unacked_before: int = 0) -> bool:
    """Nothing waits in the texts or background queue of the Redis behind ``client``, and no message is out
    with a worker beyond ``unacked_before``."""
    with client:
        return all(client.llen(queue) == 0 for queue in QUEUES) and client.hlen("unacked") <= unacked_before


def queue_length(client, queue: str) -> int:
    with client:
        return client.llen(queue)


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@contextmanager
def use_broker(url: str) -> Iterator[None]:
    """Point this process's Celery app (what ``task.delay`` publishes to) at ``url``, then back.

    Celery reads CELERY_BROKER_URL from the environment before the app's
    settings, and the app keeps its connection pools once made: both change.
    """
    from clinic.celery import app

    def reset_pools():
        for pool in (app._pool, app.amqp._producer_pool):
            if pool is not None:
                with suppress(Exception):
                    pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None

    saved = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = url
    reset_pools()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved
        reset_pools()


class Workers:
    """Running ``celery worker`` processes and a bare Celery app (``probe``) that publishes and pings."""

    def __init__(self, processes: list[subprocess.Popen], probe, logs: list[Path]):
        self.processes = processes
        self.probe = probe
        self.logs = logs

    def send(self, task_name: str, *args) -> None:
        """Publish a task by name, as beat (or a redelivery) would."""
        self.probe.send_task(task_name, args=list(args))

    def ready(self, seconds: float = 90) -> bool:
        """Every live worker answers a ping (after a start, or once the broker is back)."""
        alive = sum(1 for process in self.processes if process.poll() is None)

        def answered() -> bool:
            try:
                return len(self.probe.control.ping(timeout=1) or []) >= alive
            except Exception:  # the broker is not back yet
                return False

        return wait_for(answered, seconds, every=0.5)

    def pool_children(self, index: int = 0) -> list:
        """The pool processes (the ones that run tasks) of worker ``index``."""
        import psutil

        return psutil.Process(self.processes[index].pid).children(recursive=True)

    def kill(self, index: int = 0) -> None:
        """SIGKILL worker ``index``, main process and pool children alike (its whole process group)."""
        process = self.processes[index]
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)

    def log_tail(self) -> str:
        return "\n".join(log.read_text(errors="replace")[-3000:] for log in self.logs if log.exists())


@contextmanager
def workers(broker_url: str, directory: Path, *, count: int = 1, concurrency: int = 2,
            environment: dict[str, str] | None = None, queues: str = ",".join(QUEUES)) -> Iterator[Workers]:
    """``count`` real workers on ``broker_url`` against the test database; all stopped (or killed) on exit.

    They consume ``queues`` in that order, texts first, as ``make run`` and compose start them.

    ``environment`` adds to the workers' settings, e.g. the stand-in Twilio's
    (tests/sms_standin.py). The test process must have CELERY_BROKER_URL set
    to the same URL (``use_broker``) for the probe app to reach them.
    """
    from celery import Celery

    env = {**os.environ, "DATABASE_URL": database_url_for_subprocess(), "CELERY_BROKER_URL": broker_url,
           "SMS_BACKEND": "outbox", "DJANGO_DEBUG": "false", "DJANGO_HTTPS": "false", **(environment or {})}
    processes, logs = [], []
    stamp = clock.monotonic_ns()
    for n in range(count):
        log = directory / f"worker-{stamp}-{n}.log"
        logs.append(log)
        with log.open("wb") as output:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "clinic", "worker", "--pool", "prefork",
                 "--concurrency", str(concurrency), "-Q", queues, "-n", f"fault{stamp}-{n}@%h", "--without-gossip",
                 "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"],
                cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            ))
    from django.conf import settings

    # Routed as the clinic's own app routes (texts or background), so what it publishes by name lands
    # where beat's or a web process's message would.
    probe = Celery(broker=broker_url, set_as_current=False)
    probe.conf.task_routes = settings.CELERY_TASK_ROUTES
    probe.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE
    running = Workers(processes, probe, logs)
    try:
        if not running.ready():
            raise AssertionError(f"workers did not start:\n{running.log_tail()}")
        yield running
    finally:
        for process in processes:
            if process.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
            # Whatever is left of the group (a pool child of a killed main process) goes too.
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        probe.close()
