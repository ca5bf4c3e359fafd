"""Reminders under faults: the broker goes away, a worker is killed mid-send, the SMS provider misbehaves.

Each reminder must still go out exactly once, or be left ``unknown`` for a
person when it may already have gone out. The SMS provider is the stand-in
Twilio API (tests/sms_standin.py), which records every request it received:
a phone number in it twice would be a duplicate text.

- Broker and worker faults use real processes (tests/celery_harness.py): a
  ``redis-server`` of the test's own (never the machine's shared Redis) and
  ``celery worker`` subprocesses against the test database.
- Provider faults run the sweep and the send task's body in this process,
  with ``now`` moved on instead of waiting out each backoff.

"Now" is the real time; the clinic has no quiet hours so any time of day works.
"""

from __future__ import annotations

import signal
import time as clock
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from scheduling.messaging import reminders
from scheduling.models import (
    Direction,
    Reminder,
    ReminderKind,
    ReminderState,
    Session,
    TextMessage,
    WorklistRefresh,
)
from scheduling.tasks import sweep_reminders_task
from tests import sms_standin
from tests.celery_harness import (
    clinic_for_real_workers,
    free_port,
    redis_server,
    use_broker,
    wait_for,
    workers,
)
from tests.factories import EVERY_DAY_ALL_DAY, SessionFactory
from tests.scheduling.messaging.faults import (
    integration,
    policies_locked,
    reap_later,
    waiting_on_the_policy_lock,
    warnings_from,
)
from tests.sms_standin import Reply, error_reply

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # Real workers and brokers are slow to start and busy while they run: these tests take turns on one
    # xdist worker with the other tests that start workers.
    pytest.mark.xdist_group("celery-workers"),
]


SEND = "scheduling.send_reminder"
SWEEP = "scheduling.sweep_reminders"


# --- the clinic -------------------------------------------------------------------------------------


@pytest.fixture
def site_hours():
    """Open all day, every day: "now" is the real time here."""
    return EVERY_DAY_ALL_DAY


def _booked(site, count: int) -> list[Session]:
    start, pairs = clinic_for_real_workers(site, count)
    return [SessionFactory(course=course, chair=chair, start=start) for course, chair in pairs]


def _make_due(sessions) -> list[int]:
    """Each session's same-day reminder due a minute ago, the others out of the way; returns their ids."""
    Reminder.objects.filter(session__in=sessions).update(state=ReminderState.VOID, reason="not under test")
    due = Reminder.objects.filter(session__in=sessions, kind=ReminderKind.SAME_DAY)
    due.update(state=ReminderState.PENDING, reason="", send_at=timezone.now() - timedelta(minutes=1))
    return sorted(due.values_list("id", flat=True))


def _states(ids) -> dict[int, str]:
    return dict(Reminder.objects.filter(id__in=ids).values_list("id", "state"))


def _texts_logged(ids) -> int:
    return TextMessage.objects.filter(reminder_id__in=ids, direction=Direction.OUTBOUND).count()


def _phones(ids) -> list[str]:
    return sorted(Reminder.objects.filter(id__in=ids).values_list("session__patient__phone", flat=True))


def _reap_later() -> dict[str, int]:
    """What beat's reaper does to reminders, run in this process once the claims are old enough to be stuck."""
    return reap_later()["reminders"]


# --- (a) the broker goes down while bookings are made --------------------------------------------------


@integration
def test_bookings_made_while_redis_is_down_succeed_and_each_reminder_is_sent_once_when_it_is_back(
        tmp_path, desk_api, site):
    start, pairs = clinic_for_real_workers(site, 4)
    with sms_standin.running() as provider, redis_server(tmp_path) as broker, use_broker(broker.url), \
            workers(broker.url, tmp_path, environment=provider.environment()) as running:
        # given the broker crashes (and forgets everything it held)
        broker.kill()
        # when the front desk books four visits
        with warnings_from("clinic.queueing") as warnings:
            for course, chair in pairs:
                began = clock.monotonic()
                response = desk_api.post("/api/sessions/", {"course": course.pk, "chair": chair.pk,
                                                            "start": start.isoformat()}, format="json")
                # then each booking succeeds, promptly
                assert response.status_code == 201, response.json()
                assert clock.monotonic() - began < 20
        # and each lost worklist pass is logged, not raised (its course stays marked for beat's pass)
        assert len(warnings) == len(pairs)
        assert all("broker unavailable" in record.getMessage() and "refresh_marked_worklists" in record.getMessage()
                   for record in warnings)
        assert set(WorklistRefresh.objects.values_list("course_id", flat=True)) == {course.pk for course, _ in pairs}
        ids = _make_due(Session.objects.filter(course__in=[course for course, _ in pairs]))
        early, late = ids[:2], ids[2:]
        Reminder.objects.filter(id__in=late).update(send_at=timezone.now() + timedelta(hours=1))
        # when beat's sweep claims two of them while the broker is still down
        with warnings_from("clinic.queueing") as warnings:
            assert sweep_reminders_task() == {"reminders": 2, "outreach": 0, "desk_texts": 0, "offers": 0}
        # then they stay queued, with one warning for the lost sends (not one failed publish each)
        assert set(_states(early).values()) == {ReminderState.QUEUED}
        [warning] = warnings
        assert "2 of 2 scheduling.send_reminder task(s) not enqueued" in warning.getMessage()

        # when the broker comes back and the workers reconnect
        Reminder.objects.filter(id__in=late).update(send_at=timezone.now() - timedelta(minutes=1))
        broker.start()
        assert running.ready(120), running.log_tail()
        # then the reaper re-enqueues the two whose sends were lost and a worker sends them
        assert _reap_later() == {
            "unknown": 0, "requeued": 0, "re_enqueued": 2}
        assert wait_for(lambda: set(_states(early).values()) == {ReminderState.SENT}, 90), running.log_tail()
        # and beat's next sweep claims the other two, which a worker sends
        running.send(SWEEP)
        assert wait_for(lambda: set(_states(ids).values()) == {ReminderState.SENT}, 90), running.log_tail()

        # when every way a send could be repeated happens: two more sweeps, the reaper, each send published twice
        for _ in range(2):
            running.send(SWEEP)
        for reminder_id in ids * 2:
            running.send(SEND, reminder_id)
        _reap_later()
        assert wait_for(broker.queue_is_drained, 90), running.log_tail()
    # then the provider was asked once per patient, and each text is logged once
    assert sorted(provider.sent_to()) == _phones(ids)
    assert _texts_logged(ids) == 4


# --- (b) a worker is killed (SIGKILL) during a send ------------------------------------------------------


@integration
def test_a_worker_killed_after_calling_the_provider_leaves_the_reminder_unknown_and_never_sends_it_again(
        tmp_path, site):
    [session] = _booked(site, 1)
    [reminder_id] = _make_due([session])
    with sms_standin.running() as provider, redis_server(tmp_path) as broker, use_broker(broker.url):
        # given the provider holds its answer, so the worker is inside the call when it dies
        provider.answer_next(Reply(hold=True))
        with workers(broker.url, tmp_path, concurrency=1, environment=provider.environment(timeout=60)) as running:
            running.send(SWEEP)
            assert provider.wait_for_requests(1, 90), running.log_tail()
            reminder = Reminder.objects.get(pk=reminder_id)
            assert reminder.state == ReminderState.SENDING
            assert reminder.provider_called_at is not None
            # when the pool process running the send is killed
            [child] = running.pool_children()
            child.send_signal(signal.SIGKILL)
            child.wait(30)
            provider.release()
            # then the task goes back to the queue (acks_late, reject_on_worker_lost), a new pool process takes
            # it, and its claim fails: it does nothing
            assert wait_for(broker.queue_is_drained, 90), running.log_tail()
            assert "SIGKILL" in running.log_tail()  # the worker saw its pool process die
            assert Reminder.objects.get(pk=reminder_id).state == ReminderState.SENDING
            # when the reaper runs: the provider may have sent it, so a person must check
            assert _reap_later() == {
                "unknown": 1, "requeued": 0, "re_enqueued": 0}
            # and beat keeps sweeping and the send is published again
            running.send(SWEEP)
            running.send(SEND, reminder_id)
            running.send(SEND, reminder_id)
            _reap_later()
            assert wait_for(broker.queue_is_drained, 90), running.log_tail()
    # then it was never sent a second time
    reminder = Reminder.objects.get(pk=reminder_id)
    assert reminder.state == ReminderState.UNKNOWN
    assert "check the provider before sending again" in reminder.reason
    assert provider.sent_to() == [session.patient.phone]
    assert _texts_logged([reminder_id]) == 0


@integration
def test_a_worker_killed_before_calling_the_provider_is_requeued_by_the_reaper_and_sends_once(tmp_path, site):
    [session] = _booked(site, 1)
    [reminder_id] = _make_due([session])
    with sms_standin.running() as provider, redis_server(tmp_path) as broker, use_broker(broker.url):
        # given a worker that has claimed the reminder and not yet called the provider
        with policies_locked(), \
                workers(broker.url, tmp_path, concurrency=1, environment=provider.environment()) as running:
            running.send(SWEEP)
            assert wait_for(lambda: waiting_on_the_policy_lock() == 1, 90), running.log_tail()
            reminder = Reminder.objects.get(pk=reminder_id)
            assert (reminder.state, reminder.provider_called_at) == (ReminderState.SENDING, None)
            # when the whole worker is killed, main process and pool alike
            running.kill()
        assert Reminder.objects.get(pk=reminder_id).state == ReminderState.SENDING
        assert provider.requests == []
        # its task stays unacknowledged in Redis (it would come back only after the visibility timeout)
        held = broker.unacked()
        with workers(broker.url, tmp_path, concurrency=1, environment=provider.environment()) as running:
            # when the reaper runs: nothing reached the provider, so the reminder is queued and enqueued again
            assert _reap_later() == {
                "unknown": 0, "requeued": 1, "re_enqueued": 0}
            # then a worker sends it
            assert wait_for(lambda: _states([reminder_id]) == {reminder_id: ReminderState.SENT}, 90), \
                running.log_tail()
            # and when the lost task does come back (published here by hand), with beat's sweep, nothing more goes
            running.send(SEND, reminder_id)
            running.send(SEND, reminder_id)
            running.send(SWEEP)
            assert wait_for(lambda: broker.queue_is_drained(unacked_before=held), 90), running.log_tail()
    assert provider.sent_to() == [session.patient.phone]
    assert _texts_logged([reminder_id]) == 1
    assert Reminder.objects.get(pk=reminder_id).provider_id == provider.requests[0]["sid"]


# --- (d) the SMS provider times out, rate-limits and fails ---------------------------------------------


def _send_due(now: datetime) -> dict[int, str | None]:
    """What beat's sweep and then a worker do, in this process: claim what is due at ``now``, send each."""
    return {reminder_id: reminders.send_claimed(reminder_id)
            for reminder_id in reminders.claim_due_reminders(now=now)}


def test_refusals_for_now_are_retried_with_growing_backoff_and_the_text_goes_out_once(twilio_api, settings, site):
    # given a due reminder, and a provider that cannot be reached, then rate-limits, then fails twice
    [session] = _booked(site, 1)
    [reminder_id] = _make_due([session])
    twilio_api.answer_next(error_reply(429, 20429, "Too Many Requests"), error_reply(500, 20500),
                           error_reply(503, 20503))
    settings.TWILIO_API_BASE = f"http://127.0.0.1:{free_port()}"
    settings.TEXT_RETRY_SECONDS, settings.TEXT_RETRY_JITTER_PERCENT = [5, 15, 30, 60], 0
    due = timezone.now()
    tries = [("could not connect to the provider", 5), ("provider said 429", 15), ("provider said 500", 30),
             ("provider said 503", 60)]
    for attempt, (reason, backoff_seconds) in enumerate(tries, start=1):
        if attempt == 2:
            settings.TWILIO_API_BASE = twilio_api.url  # reachable again
        # when the sweep finds it due and the send fails for now
        before = timezone.now()
        assert _send_due(due) == {reminder_id: ReminderState.PENDING}
        # then it waits a little longer each time, with nothing recorded as called
        reminder = Reminder.objects.get(pk=reminder_id)
        assert (reminder.attempts, reminder.provider_called_at) == (attempt, None)
        assert reason in reminder.reason
        backoff = timedelta(seconds=backoff_seconds)
        assert before + backoff <= reminder.send_at <= timezone.now() + backoff
        # and no sweep before that time claims it
        assert _send_due(reminder.send_at - timedelta(seconds=1)) == {}
        due = reminder.send_at
    # when the provider accepts
    assert _send_due(due) == {reminder_id: ReminderState.SENT}
    # then one text is logged, under the SID of the one accepted request
    assert len(twilio_api.requests) == 3 + 1
    assert [request["status"] for request in twilio_api.requests] == [429, 500, 503, 201]
    reminder = Reminder.objects.get(pk=reminder_id)
    assert reminder.provider_id == twilio_api.requests[-1]["sid"]
    assert _texts_logged([reminder_id]) == 1
    # and later sweeps and the reaper send nothing more
    assert _send_due(due + timedelta(hours=1)) == {}
    assert _reap_later() == {"unknown": 0, "requeued": 0,
                                                                         "re_enqueued": 0}
    assert len(twilio_api.requests) == 4


def test_a_provider_that_keeps_failing_is_given_up_after_the_last_try(twilio_api, site, settings):
    # given a provider that answers 503 to everything
    [session] = _booked(site, 1)
    [reminder_id] = _make_due([session])
    twilio_api.default = error_reply(503, 20503, "Service Unavailable")
    tries = settings.TEXT_SEND_ATTEMPTS
    # when the sweep keeps finding it due
    due = timezone.now()
    outcomes = []
    for _ in range(tries):
        outcomes += _send_due(due).values()
        due = Reminder.objects.get(pk=reminder_id).send_at
    # then it is retried until its last try and then failed with the reason, never sent
    assert outcomes == [ReminderState.PENDING] * (tries - 1) + [ReminderState.FAILED]
    reminder = Reminder.objects.get(pk=reminder_id)
    assert reminder.state == ReminderState.FAILED
    assert reminder.reason == f"gave up after {tries} tries: provider said 503"
    assert _send_due(due + timedelta(days=1)) == {}
    assert len(twilio_api.requests) == tries
    assert _texts_logged([reminder_id]) == 0


@pytest.mark.parametrize("answer", [Reply(delay=3), Reply(drop=True)], ids=["no answer in time", "dropped"])
def test_a_send_that_may_have_gone_out_is_left_unknown_and_never_sent_again(twilio_api, desk_api, answer, site):
    # given a provider that takes the request and then gives no answer (timeout 1 s) or drops the connection
    [session] = _booked(site, 1)
    [reminder_id] = _make_due([session])
    twilio_api.answer_next(answer)
    # when the sweep finds it due
    assert _send_due(timezone.now()) == {reminder_id: ReminderState.UNKNOWN}
    # then it is left for a person, with why
    reminder = Reminder.objects.get(pk=reminder_id)
    assert reminder.state == ReminderState.UNKNOWN
    assert reminder.provider_called_at is not None
    assert "check the provider before sending again" in reminder.reason
    # and neither later sweeps nor the reaper send it again
    assert _send_due(timezone.now() + timedelta(hours=1)) == {}
    assert _reap_later() == {"unknown": 0, "requeued": 0,
                                                                         "re_enqueued": 0}
    assert reminders.send_claimed(reminder_id) is None  # a redelivered send task
    assert len(twilio_api.requests) == 1
    assert _texts_logged([reminder_id]) == 0
    # when a person finds it in the provider's console and says so
    response = desk_api.post(f"/api/reminders/{reminder_id}/resolve-unknown/",
                             {"outcome": "sent", "note": "delivered per the console"}, format="json")
    # then it is sent, its text logged once, and still only one request was ever made
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == ReminderState.SENT
    assert _texts_logged([reminder_id]) == 1
    assert len(twilio_api.requests) == 1
