"""Throughput that grows with the workers, the provider's rate, and claims under a lease the reaper recovers.

The clinic is the frozen New York site of tests/conftest.py (now is Monday 2 March 2026); the
provider's schedule runs on PostgreSQL's own clock. Tasks run in this process, their publishes recorded.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection

from scheduling import tasks
from scheduling.messaging import jobs, reminders
from scheduling.models import Reminder, ReminderKind, ReminderState, SmsSendSlot
from tests.factories import ChairFactory, PatientFactory, TreatmentCourseFactory, standard_protocol
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

TUESDAY = date(2026, 3, 3)


@pytest.fixture
def published(monkeypatch):
    """(task name, how many) for each publish the tasks make; nothing reaches a broker."""
    calls: list[tuple[str, int]] = []

    def record(task, args):
        if args:
            calls.append((task.name, len(args)))
        return len(args)

    monkeypatch.setattr(tasks, "publish", record)
    return calls


def _due(book, site, now, count: int) -> list[int]:
    """``count`` visits on Tuesday, each one's same-day reminder due a minute ago (the others void); their ids."""
    protocol = standard_protocol("esketamine-trd")
    sessions = [book(ChairFactory(location=site), local(site, TUESDAY, 10),
                     course=TreatmentCourseFactory(patient=PatientFactory(), protocol=protocol, start_date=TUESDAY))
                for _ in range(count)]
    Reminder.objects.filter(session__in=sessions).update(state=ReminderState.VOID, reason="not under test")
    due = Reminder.objects.filter(session__in=sessions, kind=ReminderKind.SAME_DAY)
    due.update(state=ReminderState.PENDING, reason="", send_at=now - timedelta(minutes=1))
    return sorted(due.values_list("id", flat=True))


def _database_clock():
    """PostgreSQL's own clock (the test's clock is frozen; the provider's schedule is not)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def _states(ids) -> list[str]:
    return sorted(Reminder.objects.filter(id__in=ids).values_list("state", flat=True))


# --- throughput ---------------------------------------------------------------------------------------


def test_a_sweep_claims_a_batch_and_runs_again_while_it_finds_a_full_one(settings, now, book, site, published):
    settings.TEXT_CLAIM_BATCH = 3
    ids = _due(book, site, now, 7)
    # when beat's sweep runs, and then each sweep it published
    results = [tasks.sweep_reminders_task()]
    while ("scheduling.sweep_reminders", 1) in published:
        published.remove(("scheduling.sweep_reminders", 1))
        results.append(tasks.sweep_reminders_task())
    # then three sweeps claimed 3 + 3 + 1 and published one send each; the last one stopped the chain
    assert [result["reminders"] for result in results] == [3, 3, 1]
    assert [result.get("more", False) for result in results] == [True, True, False]
    assert published == [("scheduling.send_reminder", 3), ("scheduling.send_reminder", 3),
                         ("scheduling.send_reminder", 1)]
    assert _states(ids) == [ReminderState.QUEUED] * 7


def test_beat_sweeps_every_few_seconds_as_the_settings_say():
    schedule = django_settings.CELERY_BEAT_SCHEDULE["sweep-reminders"]
    assert schedule["schedule"] == django_settings.TEXT_SWEEP_SECONDS <= 15


def test_workers_take_turns_at_the_providers_rate_per_sending_number(settings):
    # given a sender allowed 10 texts a second
    settings.SMS_RATE_PER_NUMBER, settings.SMS_SENDING_NUMBERS = 5, 2
    # when five sends take their turns at once
    began = _database_clock()
    waits = [jobs.take_turn(max_wait=10) for _ in range(5)]
    ended = _database_clock()
    # then each waits longer than the one before, and the sender's next turn is five tenths of a second on
    assert waits == sorted(waits) and waits[-1] <= 0.4, waits
    next_at = SmsSendSlot.objects.get(sender=jobs._sender()).next_at
    assert began + timedelta(seconds=0.5) <= next_at <= ended + timedelta(seconds=0.5)


def test_a_send_whose_turn_is_too_far_off_goes_back_to_pending_without_counting_a_try(settings, now, book, site):
    settings.SMS_RATE_PER_NUMBER, settings.SMS_SENDING_NUMBERS = 1, 1
    [reminder_id] = _due(book, site, now, 1)
    assert reminders.claim_due_reminders() == [reminder_id]
    # given the sender's schedule is taken for the next day
    SmsSendSlot.objects.create(sender=jobs._sender(), next_at=_database_clock() + timedelta(days=1))
    # when a worker sends the reminder
    assert reminders.send_claimed(reminder_id) == ReminderState.PENDING
    # then it waits for a later sweep, its tries untouched, and nothing was sent
    reminder = Reminder.objects.get(pk=reminder_id)
    assert (reminder.state, reminder.attempts, reminder.provider_called_at) == (ReminderState.PENDING, 0, None)
    assert reminder.reason == "waiting for a turn on the provider's rate"
    assert now < reminder.send_at <= now + timedelta(seconds=settings.TEXT_SEND_TIME_LIMIT)


# --- leases -------------------------------------------------------------------------------------------


def test_the_lease_ends_shortly_after_the_send_time_limit_and_the_reaper_runs_well_within_it():
    lease = jobs.lease().total_seconds()
    limit = django_settings.CELERY_TASK_ANNOTATIONS["scheduling.send_reminder"]["time_limit"]
    assert limit == django_settings.TEXT_SEND_TIME_LIMIT
    assert limit < lease <= limit + 30
    reap = django_settings.CELERY_BEAT_SCHEDULE["reap-reminders"]
    assert reap["task"] == "scheduling.reap_reminders"
    assert reap["schedule"] == django_settings.TEXT_REAP_SECONDS <= lease / 2


def test_the_reaper_follows_the_lease_in_the_settings(settings, now, book, site):
    settings.TEXT_CLAIM_LEASE_SECONDS = 40
    queued, sending, called = _due(book, site, now, 3)
    claimed_at = now - timedelta(seconds=30)
    Reminder.objects.filter(pk=queued).update(state=ReminderState.QUEUED, claimed_at=claimed_at)
    Reminder.objects.filter(pk=sending).update(state=ReminderState.SENDING, claimed_at=claimed_at)
    Reminder.objects.filter(pk=called).update(state=ReminderState.SENDING, claimed_at=claimed_at,
                                              provider_called_at=claimed_at)
    # within the lease nothing is touched
    assert reminders.reap_stuck_reminders(now=now).counts() == {"unknown": 0, "requeued": 0, "re_enqueued": 0}
    # a second after it ran out, each is recovered as its state says
    reaped = reminders.reap_stuck_reminders(now=claimed_at + timedelta(seconds=41))
    assert (reaped.requeued, reaped.re_enqueued, reaped.unknown) == ((sending,), (queued,), 1)
    assert Reminder.objects.get(pk=called).state == ReminderState.UNKNOWN


def test_a_sweep_that_dies_mid_publish_leaves_nothing_stuck_past_the_lease(monkeypatch, clock, now, book, site):
    ids = _due(book, site, now, 5)
    sent_tasks: list[tuple] = []

    def publish_two_then_die(task, args):
        if task.name == "scheduling.send_reminder":
            sent_tasks.extend(args[:2])
            raise SystemExit("the worker was killed mid-publish")
        return len(args)

    monkeypatch.setattr(tasks, "publish", publish_two_then_die)
    # given beat's sweep claimed five and died after publishing two sends
    with pytest.raises(SystemExit):
        tasks.sweep_reminders_task()
    assert _states(ids) == [ReminderState.QUEUED] * 5
    for (reminder_id,) in sent_tasks:
        assert tasks.send_reminder_task(reminder_id) == ReminderState.SENT
    # when the reaper runs once the lease has run out
    published: list[tuple] = []
    monkeypatch.setattr(tasks, "publish", lambda task, args: published.extend(args) or len(args))
    clock.shift(jobs.lease() + timedelta(seconds=1))
    tasks.reap_reminders_task()
    # then the three left queued are published again and each goes out once
    assert sorted(published) == sorted((reminder_id,) for reminder_id in ids if (reminder_id,) not in sent_tasks)
    for (reminder_id,) in published:
        assert tasks.send_reminder_task(reminder_id) == ReminderState.SENT
    assert _states(ids) == [ReminderState.SENT] * 5
