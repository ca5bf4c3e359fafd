"""Offers of freed chair time under faults: no offer text handed to the provider twice, no freed time lost.

The witness is the stand-in Twilio's own log (tests/sms_standin.py): every
request it received, so a number in it twice is an offer sent twice.

- Worker and broker faults use real processes (tests/celery_harness.py): a
  ``redis-server`` of the test's own and ``celery worker`` subprocesses. These
  run at the real time: the freed time is tomorrow at noon, and the patients
  who could take it were last seen two days ago (due from today to three days
  on), at a site open all day with no quiet hours.
- Provider faults, and a planning task lost with the broker, run the sweep,
  the send and beat's passes in this process on the offer tests' frozen
  Monday (tests/scheduling/messaging/offer_world.py), with the clock moved on
  instead of waiting out each backoff.
"""

from __future__ import annotations

import signal
import threading
import time as clock
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from clinic import queueing
from protocols.models import Modality
from scheduling.booking import services as booking
from scheduling.messaging import jobs, offers_ending, offers_sending
from scheduling.messaging.offers_planning import FreedTime, plan_offers
from scheduling.messaging.offers_replies import TAKEN_TEXT
from scheduling.messaging.offers_sending import OFFER_TEXT
from scheduling.models import (
    Direction,
    MessagePurpose,
    OfferState,
    OfferText,
    ReminderState,
    Session,
    SessionStatus,
    TextMessage,
)
from scheduling.models.offers import FreedTimeMark
from scheduling.tasks import plan_offers_task
from tests import sms_standin
from tests.celery_harness import free_port, redis_server, use_broker, wait_for, workers
from tests.factories import (
    EVERY_DAY_ALL_DAY,
    ChairFactory,
    ReminderPolicyFactory,
    TreatmentCourseFactory,
    standard_protocol,
)
from tests.scheduling.conftest import local
from tests.scheduling.messaging.faults import integration, policies_locked, reap_later, waiting_on_the_policy_lock
from tests.scheduling.messaging.offer_world import (
    WEDNESDAY,
    freed_time,
    last_seen,
    offered,
    offers_planned_inline,
    send_due_offers,
    text_of,
)
from tests.scheduling.messaging.provider_webhooks import text_in, texts_to
from tests.sms_standin import Reply, error_reply

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # Real workers and brokers are slow to start and busy while they run: these tests take turns on one
    # xdist worker with the other tests that start workers.
    pytest.mark.xdist_group("celery-workers"),
]

def offers_handed(provider) -> list[str]:
    """The numbers the provider stand-in was handed an offer text for, from its own log. Other texts are
    not offers: once an offer ended, a patient left due and unbooked may be sent the due-visit text."""
    prefix = OFFER_TEXT.split("{", 1)[0]
    return [request["form"].get("To", "") for request in provider.requests
            if request["form"].get("Body", "").startswith(prefix)]


SWEEP = "scheduling.sweep_reminders"
SEND = "scheduling.send_offer"
PLAN = "scheduling.plan_offers"
END = "scheduling.end_offers"
FEB_27, FEB_28 = date(2026, 2, 27), date(2026, 2, 28)


@pytest.fixture
def site_hours():
    """Open all day, every day: the real-worker tests run at the real time."""
    return EVERY_DAY_ALL_DAY


# --- the clinic at the real time ---------------------------------------------------------------------


def _due_now(site, clinician, count: int) -> list:
    """``count`` courses whose session 1 was given at ``site`` two days ago: session 2 is due today to three days
    on, and nothing is booked. The site sends texts at any hour (no quiet hours)."""
    ReminderPolicyFactory(location=site, quiet_from=time(0), quiet_until=time(0))
    given = site.local_date(timezone.now()) - timedelta(days=2)
    protocol = standard_protocol("esketamine-trd")
    courses = [TreatmentCourseFactory(protocol=protocol, start_date=given) for _ in range(count)]
    for course in courses:
        booking.record_past_session(by=clinician, course=course, day=given, location=site)
    return courses


def _tomorrow_noon(site) -> datetime:
    return datetime.combine(site.local_date(timezone.now()) + timedelta(days=1), time(12), tzinfo=site.zone)


def _offered_tomorrow(site, chair, clinician, count: int = 3) -> tuple[FreedTime, list]:
    """Tomorrow noon on ``chair`` freed, and offered (planned, texts pending) to ``count`` due patients."""
    courses = _due_now(site, clinician, count)
    start = _tomorrow_noon(site)
    freed = FreedTime(site.pk, chair.pk, start, start + timedelta(minutes=150), Modality.ESKETAMINE_NASAL)
    assert len(plan_offers(freed)) == count
    return freed, courses


def _text_states(freed) -> Counter:
    return Counter(OfferText.objects.filter(offer__chair_id=freed.chair_id, offer__start=freed.start)
                   .values_list("state", flat=True))


def _offer_states(freed) -> Counter:
    return Counter(offer.state for offer in offered(freed))


def _offer_texts_logged(freed) -> int:
    """Offer texts logged as sent to the patients offered ``freed`` (not the answers to their YES)."""
    phones = [offer.patient.phone for offer in offered(freed)]
    return TextMessage.objects.filter(phone__in=phones, direction=Direction.OUTBOUND, purpose=MessagePurpose.OFFER,
                                      body__startswith="A time opened").count()


def _yes_at_once(patients) -> list[int]:
    """Each patient answers YES through the signed webhook, all at the same instant (threads, a barrier)."""
    barrier = threading.Barrier(len(patients))

    def answer(patient):
        try:
            barrier.wait(timeout=30)
            return text_in(Client(), patient, "YES").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(patients)) as pool:
        return list(pool.map(answer, patients))


# --- a worker is killed (SIGKILL) while offers are sent ---------------------------------------------------


@integration
def test_a_worker_killed_after_calling_the_provider_leaves_that_offer_unknown_and_a_yes_at_once_books_it_once(
        tmp_path, site, chair, clinician, sent_texts):
    freed, courses = _offered_tomorrow(site, chair, clinician)
    phones = sorted(course.patient.phone for course in courses)
    with sms_standin.running() as provider, redis_server(tmp_path) as broker, use_broker(broker.url):
        # given the provider holds its first answer, so the worker is inside that call when it dies
        provider.answer_next(Reply(hold=True))
        with workers(broker.url, tmp_path, concurrency=1, environment=provider.environment(timeout=60)) as running:
            running.send(SWEEP)
            assert provider.wait_for_requests(1, 90), running.log_tail()
            [held] = OfferText.objects.filter(offer__start=freed.start, state=ReminderState.SENDING)
            assert held.provider_called_at is not None
            # when the pool process running that send is killed
            [child] = running.pool_children()
            child.send_signal(signal.SIGKILL)
            child.wait(30)
            provider.release()
            # then the next pool process sends the other two, and the killed send's task, back in the queue,
            # loses its claim and does nothing
            assert wait_for(lambda: broker.queue_is_drained() and _text_states(freed) == {
                ReminderState.SENT: 2, ReminderState.SENDING: 1}, 120), running.log_tail()
            # when the reaper runs: the provider may have sent it, so it is never sent again ...
            assert reap_later()["offers"] == {"unknown": 1, "requeued": 0, "re_enqueued": 0}
            held.refresh_from_db()
            assert held.state == ReminderState.UNKNOWN
            assert "check the provider before sending again" in held.reason
            # ... and its offer counts as sent from the call: the patient may have it, so their YES counts
            offer = held.offer
            offer.refresh_from_db()
            assert (offer.state, offer.sent_at) == (OfferState.SENT, held.provider_called_at)
            assert offer.expires_at == held.provider_called_at + timedelta(minutes=30)
            # when the whole worker is killed
            running.kill()
        # and all three patients answer YES at the same instant while no worker runs
        statuses = _yes_at_once([course.patient for course in courses])
        # then every answer is accepted and exactly one books the time; the others are told it has gone
        assert statuses == [200] * 3
        [taken] = Session.objects.filter(chair=chair, start=freed.start)
        assert _offer_states(freed) == {OfferState.TAKEN: 1, OfferState.VOID: 2}
        answers = [texts_to(course.patient.phone)[-1]["body"] for course in courses]
        assert answers.count(TAKEN_TEXT) == 2 and sum(body.startswith("Booked: ") for body in answers) == 1
        # when a new worker starts, beat sweeps, reaps and ends offers, and the killed send is published again
        with workers(broker.url, tmp_path, concurrency=1, environment=provider.environment()) as running:
            for task in (SWEEP, END):
                running.send(task)
            running.send(SEND, held.pk)
            reap_later()
            assert wait_for(broker.queue_is_drained, 90), running.log_tail()
    # then each patient's number was handed to the provider once, and the time stays booked once
    assert sorted(offers_handed(provider)) == phones
    assert list(Session.objects.filter(chair=chair, start=freed.start).exclude(
        status=SessionStatus.CANCELLED)) == [taken]
    assert _offer_texts_logged(freed) == 2  # the unknown one is not logged as sent: a person checks it
    assert _text_states(freed) == {ReminderState.SENT: 2, ReminderState.UNKNOWN: 1}


@integration
def test_a_worker_killed_before_calling_the_provider_is_recovered_by_the_reaper_and_each_offer_goes_once(
        tmp_path, site, chair, clinician):
    freed, courses = _offered_tomorrow(site, chair, clinician)
    phones = sorted(course.patient.phone for course in courses)
    with sms_standin.running() as provider, redis_server(tmp_path) as broker, use_broker(broker.url):
        # given a worker that has claimed one offer's text and not yet called the provider (it waits on the
        # site's texting policy), the other two claimed by the sweep and waiting for it
        with policies_locked(), \
                workers(broker.url, tmp_path, concurrency=1, environment=provider.environment()) as running:
            running.send(SWEEP)
            assert wait_for(lambda: waiting_on_the_policy_lock() == 1, 90), running.log_tail()
            assert _text_states(freed) == {ReminderState.SENDING: 1, ReminderState.QUEUED: 2}
            assert OfferText.objects.filter(offer__start=freed.start, provider_called_at__isnull=False).count() == 0
            # when the whole worker is killed, main process and pool alike
            running.kill()
        assert provider.requests == []
        held = broker.unacked()  # its tasks stay unacknowledged in Redis until the visibility timeout
        # when the reaper runs: nothing reached the provider, so every claim is published again
        assert reap_later()["offers"] == {"unknown": 0, "requeued": 1, "re_enqueued": 2}
        with workers(broker.url, tmp_path, concurrency=1, environment=provider.environment()) as running:
            # then a new worker sends all three
            assert wait_for(lambda: _text_states(freed) == {ReminderState.SENT: 3}, 90), running.log_tail()
            # and when the lost tasks come back (published here by hand), with beat's sweep, nothing more goes
            for text in OfferText.objects.filter(offer__start=freed.start):
                running.send(SEND, text.pk)
            running.send(SWEEP)
            assert wait_for(lambda: broker.queue_is_drained(unacked_before=held), 90), running.log_tail()
    assert sorted(offers_handed(provider)) == phones
    assert _offer_states(freed) == {OfferState.SENT: 3}
    assert _offer_texts_logged(freed) == 3


# --- the broker is down when a cancel and a move commit ---------------------------------------------------


@integration
def test_a_cancel_and_a_move_committed_while_redis_is_down_are_each_offered_once_when_beat_runs_again(
        tmp_path, desk_api, site, chair, chair2, clinician, book):
    courses = _due_now(site, clinician, 6)
    start = _tomorrow_noon(site)
    cancelled, moved = book(chair, start), book(chair2, start)
    chair3 = ChairFactory(location=site, name="Chair 3")
    with sms_standin.running() as provider, redis_server(tmp_path) as broker, use_broker(broker.url), \
            workers(broker.url, tmp_path, environment=provider.environment()) as running:
        # given the broker crashes (and forgets everything it held)
        broker.kill()
        # when the desk cancels one visit and moves the other to another chair
        began = clock.monotonic()
        response = desk_api.post(f"/api/sessions/{cancelled.pk}/cancel/", {"reason": "Unwell"}, format="json")
        assert response.status_code == 200, response.json()
        response = desk_api.post(f"/api/sessions/{moved.pk}/reschedule/",
                                 {"start": start.isoformat(), "chair": chair3.pk}, format="json")
        # then both succeed, promptly, and each freed time is kept, with no offer (its task was lost)
        assert response.status_code == 200, response.json()
        assert clock.monotonic() - began < 40
        assert sorted(FreedTimeMark.objects.values_list("chair_id", flat=True)) == sorted([chair.pk, chair2.pk])
        assert offered(FreedTime(site.pk, chair.pk, start, start, "")) == []
        # when the broker comes back and beat's passes run
        broker.start()
        assert running.ready(120), running.log_tail()
        running.send(END)
        assert wait_for(lambda: OfferText.objects.count() == 6, 90), running.log_tail()
        running.send(SWEEP)
        assert wait_for(lambda: OfferText.objects.filter(state=ReminderState.SENT).count() == 6, 90), \
            running.log_tail()
        # when the lost planning tasks come back after all, and beat runs again
        for session, held_chair in ((cancelled, chair), (moved, chair2)):
            running.send(PLAN, *FreedTime(site.pk, held_chair.pk, start, start + timedelta(minutes=150),
                                          "", session.pk).as_args())
        running.send(END)
        running.send(SWEEP)
        assert wait_for(broker.queue_is_drained, 90), running.log_tail()
    # then each freed time was offered once, to three patients, and each was texted once
    for held_chair in (chair, chair2):
        freed = FreedTime(site.pk, held_chair.pk, start, start, "")
        assert _offer_states(freed) == {OfferState.SENT: 3}
    assert sorted(offers_handed(provider)) == sorted(course.patient.phone for course in courses)
    assert not FreedTimeMark.objects.filter(caught_up_at__isnull=True).exists()  # beat's pass offered both


# --- a planning task lost after a move, or run twice (in this process) -------------------------------------


@pytest.fixture
def lost_publishes(monkeypatch):
    """The broker is down: every task a commit publishes is lost."""
    monkeypatch.setattr(queueing, "publish", lambda task, calls: 0)


@pytest.mark.django_db
def test_a_move_whose_planning_task_was_lost_offers_its_old_time_once_beat_runs(
        site, chair, chair2, clinician, front_desk, book, now, lost_publishes, django_capture_on_commit_callbacks):
    # given a due patient, and a visit moved off Wednesday 10:00 on chair 1 while the broker was down
    due = last_seen(site, clinician, FEB_27)
    session = book(chair, local(site, WEDNESDAY, 10))
    with django_capture_on_commit_callbacks(execute=True):
        booking.reschedule_session(by=front_desk, session=session, start=session.start, chair=chair2)
    freed = freed_time(chair)
    assert offered(freed) == []
    # when beat's pass runs
    done = offers_ending.end_and_refill()
    # then the old time is offered, once
    assert done["planned"] == 1
    [offer] = offered(freed)
    assert (offer.course_id, offer.freed_from_id) == (due.pk, session.pk)
    assert offers_ending.end_and_refill() == {"ended_times": 0, "planned": 0}
    # and when the lost task is delivered after all, nothing more is planned
    assert plan_offers_task(*freed.as_args()) == 0
    assert offered(freed) == [offer]


@pytest.mark.django_db
def test_a_cancels_and_a_moves_times_are_offered_once_when_both_the_task_and_beats_pass_run(
        site, chair, chair2, clinician, front_desk, book, now, settings, monkeypatch,
        django_capture_on_commit_callbacks):
    settings.OFFERS_AT_ONCE = 1
    for day in (FEB_27, FEB_28):
        last_seen(site, clinician, day)
    cancelled, moved = book(chair, local(site, WEDNESDAY, 10)), book(chair2, local(site, WEDNESDAY, 13))
    # when a cancel and a move commit, and their planning tasks run
    with offers_planned_inline(monkeypatch, django_capture_on_commit_callbacks) as published:
        booking.cancel_session(by=front_desk, session=cancelled, reason="Unwell")
        booking.reschedule_session(by=front_desk, session=moved, start=local(site, WEDNESDAY, 16))
    assert published.count("scheduling.plan_offers") == 2
    # and beat's pass runs too
    assert offers_ending.end_and_refill() == {"ended_times": 0, "planned": 0}
    # then each freed time has its one offer, and beat's pass had nothing to catch up
    assert [len(offered(freed_time(chair))), len(offered(freed_time(chair2, hour=13)))] == [1, 1]
    assert list(FreedTimeMark.objects.values_list("caught_up_at", flat=True)) == [None, None]


@pytest.mark.django_db
def test_a_freed_time_nobody_could_take_is_looked_at_again_for_an_hour(
        site, chair, clinician, front_desk, book, clock, lost_publishes, django_capture_on_commit_callbacks):
    # given a time cancelled with nobody due to take it, whose task was lost
    session = book(chair, local(site, WEDNESDAY, 10))
    with django_capture_on_commit_callbacks(execute=True):
        booking.cancel_session(by=front_desk, session=session, reason="Unwell")
    assert offers_ending.end_and_refill()["planned"] == 0
    assert FreedTimeMark.objects.get().caught_up_at is not None
    # when a patient becomes a candidate within the hour
    due = last_seen(site, clinician, FEB_27)
    clock.shift(timedelta(minutes=30))
    # then beat's next pass offers the time
    assert offers_ending.end_and_refill()["planned"] == 1
    assert [offer.course_id for offer in offered(freed_time(chair))] == [due.pk]


@pytest.mark.django_db
def test_a_stop_whose_offer_again_task_was_lost_has_its_time_offered_to_the_next_patient_by_beat(
        site, chair, clinician, front_desk, book, clock, settings, client, sent_texts, monkeypatch,
        django_capture_on_commit_callbacks):
    settings.OFFERS_AT_ONCE = 1
    first, second = last_seen(site, clinician, FEB_27), last_seen(site, clinician, FEB_28)
    session = book(chair, local(site, WEDNESDAY, 10))
    with offers_planned_inline(monkeypatch, django_capture_on_commit_callbacks):
        booking.cancel_session(by=front_desk, session=session, reason="Unwell")
    assert send_due_offers() == [ReminderState.SENT]
    # given the offered patient opts out five minutes later, while the broker is down (the task offering the time
    # again is lost)
    clock.shift(timedelta(minutes=5))
    monkeypatch.setattr(queueing, "publish", lambda task, calls: 0)
    with django_capture_on_commit_callbacks(execute=True):
        assert text_in(client, first.patient, "STOP").status_code == 200
    [ended] = offered(freed_time(chair))
    assert ended.state == OfferState.VOID
    # when beat's pass runs
    done = offers_ending.end_and_refill()
    # then the time goes to the next patient, once
    assert done["planned"] == 1
    assert [(offer.patient_id, offer.state) for offer in offered(freed_time(chair))] == [
        (first.patient_id, OfferState.VOID), (second.patient_id, OfferState.PLANNED)]
    assert FreedTimeMark.objects.get().caught_up_at == timezone.now()
    assert offers_ending.end_and_refill() == {"ended_times": 0, "planned": 0}


# --- the provider fails, rate-limits, times out (in this process) -------------------------------------------


@pytest.fixture
def offered_once(site, chair, clinician, settings, now):
    """Two due patients and Wednesday 10:00 freed, offered to the first (one at a time): (freed, first, second)."""
    settings.OFFERS_AT_ONCE = 1
    first, second = last_seen(site, clinician, FEB_27), last_seen(site, clinician, FEB_28)
    freed = freed_time(chair)
    plan_offers(freed)
    return freed, first, second


@pytest.mark.django_db
def test_refusals_for_now_are_retried_with_growing_backoff_and_the_offer_goes_once(
        twilio_api, settings, offered_once, clock):
    freed, first, _ = offered_once
    [offer] = offered(freed)
    # given a provider that cannot be reached, then rate-limits, then fails twice
    twilio_api.answer_next(error_reply(429, 20429, "Too Many Requests"), error_reply(500, 20500),
                           error_reply(503, 20503))
    settings.TWILIO_API_BASE = f"http://127.0.0.1:{free_port()}"
    reasons = ["could not connect to the provider", "provider said 429", "provider said 500", "provider said 503"]
    waits = []
    for attempt, reason in enumerate(reasons, start=1):
        if attempt == 2:
            settings.TWILIO_API_BASE = twilio_api.url  # reachable again
        # when the sweep finds it due and the send fails for now
        assert send_due_offers() == [ReminderState.PENDING]
        # then it waits a little longer each time, nothing recorded as called, and the offer is still planned
        text = text_of(offer)
        assert (text.attempts, text.provider_called_at) == (attempt, None)
        assert reason in text.reason
        waits.append(text.send_at - timezone.now())
        offer.refresh_from_db()
        assert offer.state == OfferState.PLANNED
        # and no sweep before that time claims it
        clock.move_to(text.send_at - timedelta(seconds=1))
        assert send_due_offers() == []
        clock.move_to(text.send_at)
    assert timedelta(0) < waits[0] < waits[1] < waits[2] < waits[3]
    # when the provider accepts
    assert send_due_offers() == [ReminderState.SENT]
    # then one offer went, under the SID of the one accepted request, and nothing more goes
    assert [request["status"] for request in twilio_api.requests] == [429, 500, 503, 201]
    assert text_of(offer).provider_id == twilio_api.requests[-1]["sid"]
    offer.refresh_from_db()
    assert offer.state == OfferState.SENT
    clock.shift(timedelta(minutes=10))
    assert send_due_offers() == [] and reap_later()["offers"] == {"unknown": 0, "requeued": 0, "re_enqueued": 0}
    assert len(twilio_api.requests) == 4
    assert _offer_texts_logged(freed) == 1


@pytest.mark.django_db
def test_an_offer_the_provider_keeps_refusing_ends_and_the_time_goes_to_the_next_patient(
        twilio_api, offered_once, clock):
    freed, first, second = offered_once
    [offer] = offered(freed)
    # given a provider that answers 503 to everything
    twilio_api.default = error_reply(503, 20503, "Service Unavailable")
    # when the sweep keeps finding it due
    outcomes = []
    while ReminderState.FAILED not in outcomes and len(outcomes) < 20:
        outcomes += send_due_offers()
        clock.move_to(max(text_of(offer).send_at, timezone.now()))
    # then it is tried as many times as a text is, never sent, and its offer ends saying why
    tries = len(outcomes)
    assert outcomes == [ReminderState.PENDING] * (tries - 1) + [ReminderState.FAILED]
    offer.refresh_from_db()
    assert offer.state == OfferState.VOID
    assert offer.ended_reason == f"the text was not sent: gave up after {tries} tries: provider said 503"
    # and the time is offered to the next patient, whose text goes once the provider is well again
    twilio_api.default = Reply()
    ended, planned = offered(freed)
    assert (planned.patient_id, planned.state) == (second.patient_id, OfferState.PLANNED)
    assert send_due_offers() == [ReminderState.SENT]
    assert [request["form"]["To"] for request in twilio_api.requests] == [first.patient.phone] * tries + [
        second.patient.phone]


@pytest.mark.django_db
@pytest.mark.parametrize("answer", [Reply(delay=3), Reply(drop=True)], ids=["no answer in time", "dropped"])
def test_an_offer_that_may_have_gone_out_is_unknown_never_sent_again_and_ends_by_time(
        twilio_api, offered_once, clock, answer, now):
    freed, first, second = offered_once
    [offer] = offered(freed)
    # given a provider that takes the request and then gives no answer (timeout 1 s) or drops the connection
    twilio_api.answer_next(answer)
    # when the sweep finds it due
    assert send_due_offers() == [ReminderState.UNKNOWN]
    # then its text is left for a person, with why, and the offer counts as sent (the patient may have it)
    text = text_of(offer)
    assert text.provider_called_at is not None and "check the provider before sending again" in text.reason
    offer.refresh_from_db()
    assert (offer.state, offer.expires_at) == (OfferState.SENT, now + timedelta(minutes=30))
    # and neither later sweeps, the reaper nor a redelivered send task send it again
    clock.shift(timedelta(minutes=10))
    assert send_due_offers() == [] and reap_later()["offers"] == {"unknown": 0, "requeued": 0, "re_enqueued": 0}
    assert offers_sending.send_claimed(text.pk) is None
    # when nobody answers for thirty minutes and beat ends offers
    clock.shift(timedelta(minutes=20))
    assert offers_ending.end_and_refill() == {"ended_times": 1, "planned": 1}
    # then the offer expired and the time went to the next patient, whose text goes once
    offer.refresh_from_db()
    assert (offer.state, offer.ended_reason) == (OfferState.EXPIRED, "no answer in time")
    assert send_due_offers() == [ReminderState.SENT]
    assert [request["form"]["To"] for request in twilio_api.requests] == [first.patient.phone,
                                                                         second.patient.phone]
    assert text_of(offer).state == ReminderState.UNKNOWN


@pytest.mark.django_db
def test_an_offer_whose_worker_died_during_the_call_counts_as_sent_and_its_yes_books_the_time(
        offered_once, client, sent_texts, now):
    freed, first, _ = offered_once
    [offer] = offered(freed)
    # given a worker that claimed the offer's text, recorded the call, and died before the provider answered
    [text_id] = offers_sending.claim_due_offer_texts()
    assert jobs.claim_for_sending(OfferText, text_id, now=now)
    OfferText.objects.filter(pk=text_id).update(provider_called_at=now)
    # when the reaper runs
    assert reap_later()["offers"] == {"unknown": 1, "requeued": 0, "re_enqueued": 0}
    # then the offer is open as a sent one, from the call
    offer.refresh_from_db()
    assert (offer.state, offer.sent_at, offer.expires_at) == (OfferState.SENT, now, now + timedelta(minutes=30))
    # and the patient's YES books the time
    assert text_in(client, first.patient, "YES").status_code == 200
    offer.refresh_from_db()
    assert offer.state == OfferState.TAKEN
    assert Session.objects.filter(chair_id=freed.chair_id, start=freed.start, course=first).count() == 1
