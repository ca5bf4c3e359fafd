"""Taking an offer by text, and offers ending (docs/OFFERS.md "Taking", "Ending").

Replies arrive through the signed SMS webhook, as from a patient's phone.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings as django_settings

from clinic import queueing
from scheduling.booking import services as booking
from scheduling.messaging import inbound, offers_ending
from scheduling.messaging.offers_planning import plan_offers
from scheduling.messaging.offers_replies import TAKEN_TEXT
from scheduling.models import (
    Direction,
    MessagePurpose,
    OfferState,
    OfferText,
    Reminder,
    ReminderState,
    Session,
    SessionStatus,
    TextMessage,
)
from tests.scheduling.conftest import local
from tests.scheduling.messaging.offer_world import (
    WEDNESDAY,
    freed_time,
    last_seen,
    offered,
    offers_planned_inline,
    open_patients,
    send_due_offers,
)
from tests.scheduling.messaging.provider_webhooks import text_in, texts_to

FEB_27, FEB_28 = date(2026, 2, 27), date(2026, 2, 28)
BOOKED = f"Booked: Wednesday March 4 at 10:00 AM at {django_settings.CLINIC_NAME}."
pytestmark = pytest.mark.usefixtures("sent_texts")


@pytest.fixture
def two_offered(site, chair, clinician, now):
    """Two due patients, each sent an offer of Wednesday 10:00 on ``chair``; the freed time and the courses."""
    courses = [last_seen(site, clinician, FEB_27), last_seen(site, clinician, FEB_28)]
    freed = freed_time(chair)
    plan_offers(freed)
    assert send_due_offers() == [ReminderState.SENT, ReminderState.SENT]
    return freed, courses


def last_text_to(patient) -> str:
    return texts_to(patient.phone)[-1]["body"]


@pytest.mark.django_db
@pytest.mark.parametrize("word", ["YES", "y"])
def test_yes_books_the_time_as_staff_would_and_ends_the_other_offers(client, two_offered, word):
    freed, (first, second) = two_offered
    # when the first patient answers
    response = text_in(client, first.patient, word)
    # then the time is theirs: session 2 of the course on the chair, the offer taken, the other ended
    assert response.status_code == 200
    session = Session.objects.get(course=first, chair_id=freed.chair_id, start=freed.start)
    assert session.status == SessionStatus.BOOKED and session.booked_by is None
    mine, theirs = offered(freed)
    assert (mine.state, mine.session_id) == (OfferState.TAKEN, session.pk)
    assert theirs.state == OfferState.VOID
    # and the answer confirms it, recorded and not counted against the caps
    assert last_text_to(first.patient) == BOOKED
    answer = TextMessage.objects.filter(patient=first.patient, direction=Direction.OUTBOUND).first()
    assert (answer.purpose, answer.counts_toward_caps) == (MessagePurpose.OFFER, False)
    # and the second patient's YES is told the time has gone
    text_in(client, second.patient, "YES")
    assert last_text_to(second.patient) == TAKEN_TEXT
    assert Session.objects.filter(start=freed.start, chair_id=freed.chair_id).count() == 1


@pytest.mark.django_db
def test_yes_moves_the_patients_later_booking_and_its_reminders_follow(client, site, chair, chair2, clinician, book,
                                                                       now):
    # given a patient booked Thursday who asked for an earlier time, offered Wednesday
    course = last_seen(site, clinician, FEB_28)
    later = book(chair2, local(site, date(2026, 3, 5), 10), course=course)
    later.earlier_wanted_at = now
    later.save(update_fields=["earlier_wanted_at"])
    freed = freed_time(chair)
    plan_offers(freed)
    send_due_offers()
    # when they answer YES
    text_in(client, course.patient, "YES")
    # then the same booking moved to Wednesday on the freed chair, with new reminders
    later.refresh_from_db()
    assert (later.start, later.chair_id, later.revision) == (freed.start, chair.pk, 1)
    assert Session.objects.filter(course=course).exclude(status=SessionStatus.DISCHARGED).count() == 1
    assert set(Reminder.objects.filter(session=later, revision=0).values_list("state", flat=True)) == {
        ReminderState.VOID}
    assert Reminder.objects.filter(session=later, revision=1, state=ReminderState.PENDING).exists()
    assert last_text_to(course.patient) == BOOKED


@pytest.mark.django_db
def test_yes_after_the_offer_expired_gets_the_taken_text(client, two_offered, clock):
    freed, (first, _) = two_offered
    # when the patient answers 31 minutes later, before beat has ended the offer
    clock.shift(timedelta(minutes=31))
    text_in(client, first.patient, "YES")
    # then nothing is booked and they are told the time has gone
    assert last_text_to(first.patient) == TAKEN_TEXT
    assert not Session.objects.filter(course=first, start=freed.start).exists()
    assert offered(freed)[0].state == OfferState.EXPIRED


@pytest.mark.django_db
def test_a_booking_the_rules_refuse_ends_the_offer_and_the_next_patient_is_offered(
        client, site, chair, clinician, now, settings, prior_authorisation_checks_all, monkeypatch,
        django_capture_on_commit_callbacks):
    # given one patient offered at a time, with no prior authorisation on file (every course checked)
    settings.OFFERS_AT_ONCE = 1
    first, second = last_seen(site, clinician, FEB_27), last_seen(site, clinician, FEB_28)
    freed = freed_time(chair)
    plan_offers(freed)
    send_due_offers()
    # when the first patient answers YES
    with offers_planned_inline(monkeypatch, django_capture_on_commit_callbacks):
        text_in(client, first.patient, "YES")
    # then the booking is refused, the offer ends with why, the patient hears it is gone, the next is offered
    ended, planned = offered(freed)
    assert ended.state == OfferState.DECLINED and "no_authorisation" in ended.ended_reason
    assert last_text_to(first.patient) == TAKEN_TEXT
    assert (planned.patient_id, planned.state) == (second.patient_id, OfferState.PLANNED)


@pytest.mark.django_db
def test_c_still_confirms_the_next_visit_while_an_offer_is_open(client, site, chair, chair2, clinician, book, now):
    # given a patient booked Thursday, wanting earlier, with an open offer of Wednesday
    course = last_seen(site, clinician, FEB_28)
    later = book(chair2, local(site, date(2026, 3, 5), 10), course=course)
    later.earlier_wanted_at = now
    later.save(update_fields=["earlier_wanted_at"])
    freed = freed_time(chair)
    plan_offers(freed)
    send_due_offers()
    # when they reply C
    text_in(client, course.patient, "C")
    # then Thursday is confirmed and the offer is still open
    later.refresh_from_db()
    assert later.status == SessionStatus.CONFIRMED
    assert offered(freed)[0].state == OfferState.SENT


@pytest.mark.django_db
def test_stop_voids_the_patients_open_offers_and_the_next_patient_is_offered(
        client, site, chair, clinician, now, settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.OFFERS_AT_ONCE = 1
    first, second = last_seen(site, clinician, FEB_27), last_seen(site, clinician, FEB_28)
    freed = freed_time(chair)
    plan_offers(freed)
    send_due_offers()
    # when the offered patient replies STOP
    with offers_planned_inline(monkeypatch, django_capture_on_commit_callbacks):
        text_in(client, first.patient, "STOP")
    # then their offer is void and the next patient has one
    ended, planned = offered(freed)
    assert (ended.state, ended.ended_reason) == (OfferState.VOID, "patient opted out")
    assert planned.patient_id == second.patient_id


@pytest.mark.django_db
def test_beat_ends_offers_after_thirty_minutes_and_offers_the_time_to_the_next_patients(site, chair, clinician,
                                                                                        clock, settings):
    settings.OFFERS_AT_ONCE = 1
    first, second = last_seen(site, clinician, FEB_27), last_seen(site, clinician, FEB_28)
    freed = freed_time(chair)
    plan_offers(freed)
    send_due_offers()
    # when beat runs at 29 and at 30 minutes
    clock.shift(timedelta(minutes=29))
    early = offers_ending.end_and_refill()
    clock.shift(timedelta(minutes=1))
    done = offers_ending.end_and_refill()
    # then the offer expired at 30 minutes and the next patient was offered the time
    assert early == {"ended_times": 0, "planned": 0} and done == {"ended_times": 1, "planned": 1}
    ended, planned = offered(freed)
    assert (ended.patient_id, ended.state) == (first.patient_id, OfferState.EXPIRED)
    assert (planned.patient_id, planned.state) == (second.patient_id, OfferState.PLANNED)


@pytest.mark.django_db
def test_an_offer_ends_two_hours_before_the_time_when_that_comes_first(site, chair, clinician, clock):
    # given an offer sent at 09:45 on the day of a 12:00 time
    last_seen(site, clinician, FEB_27)
    clock.move_to(local(site, WEDNESDAY, 9, 45))
    freed = freed_time(chair, hour=12)
    plan_offers(freed)
    send_due_offers()
    offer = offered(freed)[0]
    assert offer.expires_at == local(site, WEDNESDAY, 10)
    # when beat runs at 10:00
    clock.move_to(local(site, WEDNESDAY, 10))
    offers_ending.end_and_refill()
    # then it has ended, and nobody else is offered a time under two hours away
    assert [offer.state for offer in offered(freed)] == [OfferState.EXPIRED]


@pytest.mark.django_db
def test_a_freed_time_booked_by_staff_voids_its_offers_at_once(two_offered, site, chair, clinician, book, now):
    freed, _ = two_offered
    third = last_seen(site, clinician, FEB_27)
    plan_offers(freed_time(chair, hour=13))  # a planned offer of another time is not touched
    # when the desk books the freed time for a patient who was not offered it
    book(chair, freed.start)
    # then both offers ended in the booking's transaction
    assert open_patients(freed) == set()
    assert {offer.ended_reason for offer in offered(freed)} == {"the time was booked"}
    assert open_patients(freed_time(chair, hour=13)) == {third.patient_id}
    assert OfferText.objects.filter(offer__start=freed.start, state=ReminderState.PENDING).count() == 0


@pytest.mark.django_db
def test_a_yes_delivered_twice_books_once_and_answers_once(client, two_offered):
    freed, (first, _) = two_offered
    # when the provider delivers the same YES twice
    responses = [text_in(client, first.patient, "YES", sid="SMofferyes") for _ in range(2)]
    # then one booking, one answer, and the second delivery reports what the first did
    assert [response.status_code for response in responses] == [200, 200]
    assert Session.objects.filter(chair_id=freed.chair_id, start=freed.start).count() == 1
    assert [text["body"] for text in texts_to(first.patient.phone)].count(BOOKED) == 1
    result = inbound.handle_inbound(from_phone=first.patient.phone, to_phone="", body="YES",
                                    provider_id="SMofferyes")
    assert (result.duplicate, result.outcome) == (True, inbound.Outcome.OFFER_TAKEN)


@pytest.mark.django_db
def test_without_an_offer_to_answer_yes_still_confirms_the_next_visit(client, two_offered, site, chair2, book, now):
    freed, (first, second) = two_offered
    # given the time taken by the first patient, and a later reminder-worthy visit for the second
    text_in(client, first.patient, "YES")
    visit = book(chair2, local(site, date(2026, 3, 5), 10), course=second)
    TextMessage.objects.create(patient=second.patient, direction=Direction.OUTBOUND,
                               purpose=MessagePurpose.REMINDER, counts_toward_caps=True,
                               phone=second.patient.phone, body="reminder", at=now)
    # when the second patient replies YES to that reminder
    text_in(client, second.patient, "YES")
    # then it confirms their visit, as YES always has
    visit.refresh_from_db()
    assert visit.status == SessionStatus.CONFIRMED


@pytest.mark.django_db
def test_a_cancel_whose_planning_task_was_lost_is_offered_by_beats_next_pass(site, chair, clinician, front_desk,
                                                                            book, now, monkeypatch,
                                                                            django_capture_on_commit_callbacks):
    # given a due patient, and a cancel committed while the broker was down (its planning task lost)
    due = last_seen(site, clinician, FEB_27)
    session = book(chair, local(site, WEDNESDAY, 10))
    monkeypatch.setattr(queueing, "publish", lambda task, calls: 0)
    with django_capture_on_commit_callbacks(execute=True):
        booking.cancel_session(by=front_desk, session=session, reason="Unwell")
    assert offered(freed_time(chair)) == []
    # when beat's pass runs
    done = offers_ending.end_and_refill()
    # then the time is offered, once
    assert done["planned"] == 1
    assert [offer.course_id for offer in offered(freed_time(chair))] == [due.pk]
    assert offers_ending.end_and_refill() == {"ended_times": 0, "planned": 0}
