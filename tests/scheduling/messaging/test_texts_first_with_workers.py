"""Texts first, and as fast as the workers go: real Celery workers on the machine's Redis, against the test database.

Workers consume ``texts,background`` as ``make run`` starts them (tests/celery_harness.py); what
they send lands in the outbox. Tasks are published by name, routed as the clinic routes them.
"Now" is the real time.
"""

from __future__ import annotations

import os
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.utils import timezone

from clinic.models import OutboxMessage
from scheduling.models import Reminder, ReminderKind, ReminderState
from tests.celery_harness import clinic_for_real_workers, queue_length, wait_for, workers
from tests.factories import EVERY_DAY_ALL_DAY, SessionFactory

REDIS_URL = os.environ.get("REDIS_URL")
SWEEP = "scheduling.sweep_reminders"
FULL_REFRESH = "scheduling.refresh_worklist"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not REDIS_URL and not os.environ.get("CI"), reason="needs REDIS_URL (a real Redis)"),
    pytest.mark.xdist_group("celery-workers"),
]


@pytest.fixture
def broker_url(monkeypatch):
    """This run's Redis database, emptied before and after (see test_reminders_with_workers.py)."""
    parts = urlsplit(REDIS_URL)
    url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/0", "", ""))
    redis.Redis.from_url(url).flushdb()
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    yield url
    redis.Redis.from_url(url).flushdb()


@pytest.fixture
def site_hours():
    return EVERY_DAY_ALL_DAY


def _due_now(site, count: int) -> list[int]:
    """``count`` patients booked three hours from now, their same-day reminders due a minute ago; their ids."""
    start, pairs = clinic_for_real_workers(site, count)
    sessions = [SessionFactory(course=course, chair=chair, start=start) for course, chair in pairs]
    Reminder.objects.filter(session__in=sessions).update(state=ReminderState.VOID, reason="not under test")
    due = Reminder.objects.filter(session__in=sessions, kind=ReminderKind.SAME_DAY)
    due.update(state=ReminderState.PENDING, reason="", send_at=timezone.now() - timedelta(minutes=1))
    return sorted(due.values_list("id", flat=True))


def _sent(ids) -> int:
    return Reminder.objects.filter(id__in=ids, state=ReminderState.SENT).count()


def test_a_due_text_goes_out_ahead_of_a_backlog_of_worklist_work(broker_url, site, tmp_path):
    [reminder_id] = _due_now(site, 1)
    client = redis.Redis.from_url(broker_url)
    with workers(broker_url, tmp_path, count=1, concurrency=1) as running:
        # given the worker is busy with a backlog of 300 worklist sweeps
        for _ in range(300):
            running.send(FULL_REFRESH)
        # when beat publishes the reminder sweep behind them
        running.send(SWEEP)
        # then the text goes out while most of the backlog still waits
        assert wait_for(lambda: _sent([reminder_id]) == 1, 60), running.log_tail()
        assert queue_length(client, "background") > 250
    assert OutboxMessage.objects.count() == 1


def test_one_sweep_drains_many_batches_without_waiting_for_beat(broker_url, site, tmp_path):
    # given 24 reminders due and a claim batch of 4
    ids = _due_now(site, 24)
    with workers(broker_url, tmp_path, count=2, environment={"TEXT_CLAIM_BATCH": "4"}) as running:
        # when beat publishes one sweep (and no other)
        running.send(SWEEP)
        # then the sweep runs again by itself while it finds a full batch, and every text goes out once
        assert wait_for(lambda: _sent(ids) == 24, 90), running.log_tail()
    assert OutboxMessage.objects.count() == 24
    assert OutboxMessage.objects.values("to").distinct().count() == 24
