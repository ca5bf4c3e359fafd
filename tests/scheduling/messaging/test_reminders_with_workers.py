"""Reminders through real Celery workers on the machine's Redis, against the test database.

Workers run as separate processes (``celery -A clinic worker``) with the
outbox SMS backend, so what they send is visible here as OutboxMessage rows.
Tasks are published by name from a bare Celery app pointed at the same
Redis database, exactly as beat would publish the sweep.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time as clock
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery import Celery
from django.db import connection
from django.utils import timezone

from clinic.models import OutboxMessage
from protocols.models import Protocol
from scheduling.booking import services as booking
from scheduling.models import Chair, Location, OpeningHours, Reminder, ReminderKind, ReminderPolicy, ReminderState
from tests.factories import PatientFactory, TreatmentCourseFactory, UserFactory

ROOT = Path(__file__).resolve().parents[3]
REDIS_URL = os.environ.get("REDIS_URL")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not REDIS_URL and not os.environ.get("CI"), reason="needs REDIS_URL (a real Redis)"),
    # Real workers are slow to start and busy while they run: these tests take turns on one xdist worker.
    pytest.mark.xdist_group("celery-workers"),
]


@pytest.fixture
def broker_url(monkeypatch):
    """This run's Redis database, emptied, so no other run's messages reach these workers.

    Under xdist it is the worker's own database (tests/xdist_workers.py): two test
    processes on one broker would answer each other's pings and take each other's
    tasks, against the other's test database.
    """
    import redis

    parts = urlsplit(REDIS_URL)
    url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/0", "", ""))
    redis.Redis.from_url(url).flushdb()
    # Celery reads CELERY_BROKER_URL from the environment before any app setting,
    # so the probe app below would otherwise talk to the test run's memory broker.
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    yield url
    redis.Redis.from_url(url).flushdb()


def _test_database_url() -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit((parts.scheme, parts.netloc, "/" + connection.settings_dict["NAME"], parts.query, ""))


@contextmanager
def workers(count: int, broker_url: str):
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "CELERY_BROKER_URL": broker_url,
           "SMS_BACKEND": "outbox", "DJANGO_DEBUG": "false", "DJANGO_HTTPS": "false"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "clinic", "worker", "--concurrency", "2", "-n", f"w{n}@%h",
             "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        for n in range(count)
    ]
    probe = Celery(broker=broker_url)
    try:
        deadline = clock.monotonic() + 60
        while len(probe.control.ping(timeout=1) or []) < count:
            if clock.monotonic() > deadline or any(p.poll() is not None for p in processes):
                errors = b"".join(p.stderr.read() if p.poll() is not None else b"" for p in processes)
                raise AssertionError(f"workers did not start: {errors.decode()[-2000:]}")
        yield probe
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        probe.close()


def _wait_for(condition, seconds: float = 45) -> bool:
    deadline = clock.monotonic() + seconds
    while clock.monotonic() < deadline:
        if condition():
            return True
        clock.sleep(0.3)
    return condition()


def _open_all_day_site(name: str) -> Location:
    """A site open all day with no quiet hours: "now" is the real time, and a send in New York's night would
    otherwise be skipped (quiet hours), so these tests would fail from 02:00 to 13:00 UTC."""
    site = Location.objects.create(name=name, time_zone="America/New_York", rems_certified=True)
    for weekday in range(7):
        OpeningHours.objects.create(location=site, weekday=weekday, opens=time(0), closes=time(23, 59))
    ReminderPolicy.objects.create(location=site, quiet_from=time(0), quiet_until=time(0))
    return site


def _sessions_due_now(count: int) -> list:
    """``count`` patients booked three hours from now, their same-day reminders due a minute ago."""
    site = _open_all_day_site("Integration")
    now = timezone.now()
    start = (now + timedelta(hours=3)).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 15)
    if site.local_date(start) != site.local_date(start + timedelta(hours=3)):
        start = datetime.combine(site.local_date(now) + timedelta(days=1), time(12), tzinfo=site.zone)
    protocol = Protocol.objects.get(slug="esketamine-trd")
    sessions = []
    for n in range(count):
        chair = Chair.objects.create(location=site, name=f"Chair {n}")
        course = TreatmentCourseFactory(patient=PatientFactory(), protocol=protocol,
                                        start_date=site.local_date(start))
        sessions.append(booking.book_session(by=UserFactory(), course=course, chair=chair, start=start))
    Reminder.objects.filter(session__in=sessions).update(state=ReminderState.VOID, reason="not under test")
    Reminder.objects.filter(session__in=sessions, kind=ReminderKind.SAME_DAY).update(
        state=ReminderState.PENDING, reason="", send_at=now - timedelta(minutes=1))
    return sessions


def test_a_booking_becomes_a_sent_text_through_a_real_worker(broker_url):
    # given a booked session whose reminder is due
    [session] = _sessions_due_now(1)
    with workers(1, broker_url) as probe:
        # when beat publishes the sweep
        probe.send_task("scheduling.sweep_reminders")
        # then a worker claims it, sends it, and it lands in the outbox
        assert _wait_for(lambda: OutboxMessage.objects.filter(to=session.patient.phone).exists())
    reminder = Reminder.objects.get(session=session, kind=ReminderKind.SAME_DAY)
    assert reminder.state == ReminderState.SENT
    assert OutboxMessage.objects.get(to=session.patient.phone).provider_id == reminder.provider_id


def test_two_workers_draining_one_queue_send_each_reminder_exactly_once(broker_url):
    # given thirty due reminders
    sessions = _sessions_due_now(30)
    ids = list(Reminder.objects.filter(session__in=sessions, state=ReminderState.PENDING).values_list("id",
                                                                                                        flat=True))
    with workers(2, broker_url) as probe:
        # when two sweeps race and every send is also published twice more by hand
        for _ in range(2):
            probe.send_task("scheduling.sweep_reminders")
        for reminder_id in ids * 2:
            probe.send_task("scheduling.send_reminder", args=[reminder_id])
        assert _wait_for(lambda: not Reminder.objects.filter(
            id__in=ids, state__in=[ReminderState.PENDING, ReminderState.QUEUED, ReminderState.SENDING]).exists())
        clock.sleep(2)  # let any straggling duplicate run, to prove it does nothing
    # then
    assert Reminder.objects.filter(id__in=ids, state=ReminderState.SENT).count() == 30
    assert OutboxMessage.objects.count() == 30
    assert OutboxMessage.objects.values("to").distinct().count() == 30
