"""No stale window: a send and a cancel or move of its session serialise, so a text goes before the change
commits or not at all.

Two real connections: the send runs in one thread (as a worker would: claim, take its turn, check,
call the provider) and the desk's change in another, each with its own PostgreSQL connection. The
provider is a stand-in that can hold its answer, and every wait is on a lock PostgreSQL reports in
``pg_stat_activity``, not on a sleep. "Now" is the real time.
"""

from __future__ import annotations

import threading
import time as clock
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from clinic import sms
from scheduling.booking import services as booking
from scheduling.messaging import new_time, reminders
from scheduling.models import (
    Direction,
    Reminder,
    ReminderKind,
    ReminderState,
    Session,
    SessionStatus,
    TextMessage,
    WorkKind,
)
from tests.celery_harness import clinic_for_real_workers, wait_for
from tests.factories import EVERY_DAY_ALL_DAY, SessionFactory, UserFactory, WorkItemFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def site_hours():
    return EVERY_DAY_ALL_DAY


class HeldProvider:
    """Takes each text, says so (``in_call``) and answers only once released; records when it took each."""

    def __init__(self):
        self.in_call = threading.Event()
        self.released = threading.Event()
        self.taken: list[tuple[str, float]] = []

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> sms.SendResult:
        self.taken.append((to, clock.monotonic()))
        self.in_call.set()
        assert self.released.wait(60), "the test never released the provider"
        return sms.SendResult(provider_id=f"HP{uuid.uuid4().hex[:20]}", status="sent")


@pytest.fixture
def provider(monkeypatch):
    held = HeldProvider()
    monkeypatch.setattr(sms, "get_backend", lambda: held)
    yield held
    held.released.set()


class InThread:
    """``work`` in a thread of its own (its own database connection); ``result()`` waits for it."""

    def __init__(self, work: Callable[[], object]):
        self.outcome: list = []
        self.finished_at: float | None = None

        def run():
            try:
                self.outcome.append(work())
            except BaseException as exc:  # handed to the test thread
                self.outcome.append(exc)
            finally:
                self.finished_at = clock.monotonic()
                connections.close_all()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def result(self, seconds: float = 60):
        self.thread.join(seconds)
        assert not self.thread.is_alive(), "the thread did not finish"
        [outcome] = self.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def _waiting_on_an_advisory_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock' AND wait_event = 'advisory'")
        return cursor.fetchone()[0]


def _due_reminder(site) -> Reminder:
    """A visit three hours from now whose same-day reminder is claimed (queued), as the sweep leaves it."""
    start, [(course, chair)] = clinic_for_real_workers(site, 1)
    session = SessionFactory(course=course, chair=chair, start=start)
    Reminder.objects.filter(session=session).update(state=ReminderState.VOID, reason="not under test")
    Reminder.objects.filter(session=session, kind=ReminderKind.SAME_DAY).update(
        state=ReminderState.PENDING, reason="", send_at=timezone.now() - timedelta(minutes=1))
    [reminder_id] = reminders.claim_due_reminders()
    return Reminder.objects.select_related("session__patient").get(pk=reminder_id)


def _texts_logged(reminder: Reminder) -> int:
    return TextMessage.objects.filter(reminder=reminder, direction=Direction.OUTBOUND).count()


def test_a_cancel_during_a_send_waits_until_the_provider_has_the_text(site, provider):
    reminder = _due_reminder(site)
    desk = UserFactory()
    # given a worker's send is with the provider
    send = InThread(lambda: reminders.send_claimed(reminder.pk))
    assert provider.in_call.wait(30)
    # when the desk cancels the visit
    cancel = InThread(lambda: booking.cancel_session(by=desk, session=reminder.session, reason="unwell"))
    # then the cancel waits on the send (not the other way round) until the provider has answered
    assert wait_for(lambda: _waiting_on_an_advisory_lock() == 1, 30)
    assert cancel.finished_at is None
    provider.released.set()
    assert send.result() == ReminderState.SENT
    assert cancel.result().status == SessionStatus.CANCELLED
    # so the one text was taken by the provider before the cancel committed, and is on record
    [(phone, taken_at)] = provider.taken
    assert phone == reminder.session.patient.phone
    assert taken_at < cancel.finished_at
    assert Reminder.objects.get(pk=reminder.pk).state == ReminderState.SENT
    assert _texts_logged(reminder) == 1


@pytest.mark.parametrize("change", ["cancel", "move"])
def test_a_send_during_a_cancel_or_move_waits_for_it_and_then_sends_nothing(site, provider, change):
    reminder = _due_reminder(site)
    session = reminder.session
    desk = UserFactory()
    change_made, commit = threading.Event(), threading.Event()

    def change_and_hold_the_commit():
        with transaction.atomic():
            if change == "cancel":
                booking.cancel_session(by=desk, session=session, reason="unwell")
            else:
                booking.reschedule_session(by=desk, session=session, start=session.start + timedelta(hours=1))
            change_made.set()
            assert commit.wait(60)
        return Session.objects.get(pk=session.pk).status

    # given a worker has claimed the reminder (queued -> sending) and not yet checked the session
    assert reminders.claim_for_sending(reminder.pk)
    # and the desk's change is made and not yet committed
    desk_change = InThread(change_and_hold_the_commit)
    assert change_made.wait(30)
    # when the worker goes on to check the session and send
    send = InThread(lambda: reminders.deliver_reminder(reminder.pk))
    # then it waits for the change
    assert wait_for(lambda: _waiting_on_an_advisory_lock() == 1, 30)
    assert send.finished_at is None
    # and once the change commits, the reminder is void and the provider was never called
    commit.set()
    assert desk_change.result() == (SessionStatus.BOOKED if change == "move" else SessionStatus.CANCELLED)
    assert send.result() == ReminderState.VOID
    assert provider.taken == []
    voided = Reminder.objects.get(pk=reminder.pk)
    assert (voided.state, voided.provider_called_at) == (ReminderState.VOID, None)
    assert voided.reason == ("session moved" if change == "move" else "session cancelled")
    assert _texts_logged(reminder) == 0


def test_a_cancel_during_the_new_time_text_waits_until_the_provider_has_it(site, provider):
    # given a visit the desk moved after the patient asked (R), its request answered
    start, [(course, chair)] = clinic_for_real_workers(site, 1)
    session = SessionFactory(course=course, chair=chair, start=start)
    request = WorkItemFactory(kind=WorkKind.RESCHEDULE_REQUEST, subject=f"session:{session.pk}",
                              patient=session.patient, course=course, session=session,
                              closed_at=timezone.now() - timedelta(seconds=1))
    desk = UserFactory()
    # and its new-time text is with the provider
    send = InThread(lambda: new_time.send_new_time(session.pk, request.pk))
    assert provider.in_call.wait(30)
    # when the desk cancels the visit
    cancel = InThread(lambda: booking.cancel_session(by=desk, session=session, reason="unwell"))
    # then the cancel waits until the provider has answered, and the text was taken before it committed
    assert wait_for(lambda: _waiting_on_an_advisory_lock() == 1, 30)
    assert cancel.finished_at is None
    provider.released.set()
    assert send.result() == "sent"
    assert cancel.result().status == SessionStatus.CANCELLED
    [(phone, taken_at)] = provider.taken
    assert phone == session.patient.phone and taken_at < cancel.finished_at
    # and the task delivered again sends nothing more
    assert new_time.send_new_time(session.pk, request.pk) == "already_sent"
