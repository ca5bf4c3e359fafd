"""Reminders through real Celery workers on the machine's Redis, against the test database.

Workers run as separate processes (``celery -A clinic worker``, tests/celery_harness.py) with
the outbox SMS backend, so what they send is visible here as OutboxMessage rows. Tasks are
published by name from a bare Celery app pointed at the same Redis database, exactly as beat
would publish the sweep. "Now" is the real time.
"""

from __future__ import annotations

import os
import time as clock
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.utils import timezone

from clinic.models import OutboxMessage
from scheduling.models import Reminder, ReminderKind, ReminderState
from tests.celery_harness import clinic_for_real_workers, wait_for, workers
from tests.factories import EVERY_DAY_ALL_DAY, SessionFactory

REDIS_URL = os.environ.get("REDIS_URL")
SEND = "scheduling.send_reminder"
SWEEP = "scheduling.sweep_reminders"

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
    # so the probe app would otherwise talk to the test run's memory broker.
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    yield url
    redis.Redis.from_url(url).flushdb()


@pytest.fixture
def site_hours():
    """Open all day, every day: "now" is the real time here."""
    return EVERY_DAY_ALL_DAY


def _sessions_due_now(site, count: int) -> list:
    """``count`` patients booked three hours from now, their same-day reminders due a minute ago."""
    start, pairs = clinic_for_real_workers(site, count)
    sessions = [SessionFactory(course=course, chair=chair, start=start) for course, chair in pairs]
    now = timezone.now()
    Reminder.objects.filter(session__in=sessions).update(state=ReminderState.VOID, reason="not under test")
    Reminder.objects.filter(session__in=sessions, kind=ReminderKind.SAME_DAY).update(
        state=ReminderState.PENDING, reason="", send_at=now - timedelta(minutes=1))
    return sessions


def test_a_booking_becomes_a_sent_text_through_a_real_worker(broker_url, site, tmp_path):
    # given a booked session whose reminder is due
    [session] = _sessions_due_now(site, 1)
    with workers(broker_url, tmp_path, count=1) as running:
        # when beat publishes the sweep
        running.send(SWEEP)
        # then a worker claims it, sends it, and it lands in the outbox (the text is stored before the
        # reminder is marked sent, so wait for both)
        assert wait_for(lambda: OutboxMessage.objects.filter(to=session.patient.phone).exists() and not Reminder.objects
                        .filter(session=session, kind=ReminderKind.SAME_DAY, state=ReminderState.SENDING).exists(),
                        45), running.log_tail()
    reminder = Reminder.objects.get(session=session, kind=ReminderKind.SAME_DAY)
    assert reminder.state == ReminderState.SENT
    assert OutboxMessage.objects.get(to=session.patient.phone).provider_id == reminder.provider_id


def test_two_workers_draining_one_queue_send_each_reminder_exactly_once(broker_url, site, tmp_path):
    # given thirty due reminders
    sessions = _sessions_due_now(site, 30)
    ids = list(Reminder.objects.filter(session__in=sessions, state=ReminderState.PENDING).values_list("id",
                                                                                                        flat=True))
    with workers(broker_url, tmp_path, count=2) as running:
        # when two sweeps race and every send is also published twice more by hand
        for _ in range(2):
            running.send(SWEEP)
        for reminder_id in ids * 2:
            running.send(SEND, reminder_id)
        assert wait_for(lambda: not Reminder.objects.filter(
            id__in=ids, state__in=[ReminderState.PENDING, ReminderState.QUEUED, ReminderState.SENDING]).exists(),
            45), running.log_tail()
        clock.sleep(2)  # let any straggling duplicate run, to prove it does nothing
    # then
    assert Reminder.objects.filter(id__in=ids, state=ReminderState.SENT).count() == 30
    assert OutboxMessage.objects.count() == 30
    assert OutboxMessage.objects.values("to").distinct().count() == 30
