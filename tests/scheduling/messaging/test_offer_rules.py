"""The rules of DOMAIN's "Freed chairs" (and issue 20) that no other offer test checks on its own, one test each.

docs/OFFERS.md, "Rules and their tests", maps every rule to its test, here or in the other offer tests.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings as django_settings

from protocols.models import CourseStatus, TreatmentCourse
from scheduling.booking import services as booking
from scheduling.messaging import inbound, offers_ending
from scheduling.messaging.offers_planning import plan_offers
from scheduling.messaging.offers_replies import BOOKED_TEXT, TAKEN_TEXT
from scheduling.models import (
    Direction,
    MessagePurpose,
    OfferState,
    ReminderState,
    Session,
    SessionStatus,
    TextMessage,
)
from tests.factories import ChairFactory
from tests.scheduling.conftest import local
from tests.scheduling.messaging.offer_world import (
    WEDNESDAY,
    freed_time,
    last_seen,
    offered,
    offers_planned_inline,
    open_patients,
    send_due_offers,
    text_of,
)
from tests.scheduling.messaging.provider_webhooks import text_in, texts_to

FEB_27, FEB_28 = date(2026, 2, 27), date(2026, 2, 28)
TUESDAY, THURSDAY = date(2026, 3, 3), date(2026, 3, 5)
pytestmark = pytest.mark.usefixtures("sent_texts")


def wanting_earlier(session, at):
    session.earlier_wanted_at = at
    session.save(update_fields=["earlier_wanted_at"])
    return session


# --- who is a candidate ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("status", [CourseStatus.PAUSED, CourseStatus.DISCONTINUED])
def test_only_an_active_course_is_offered_a_freed_time(site, chair, clinician, now, status):
    # given a due course that is paused or discontinued, and an active one
    active = last_seen(site, clinician, FEB_27)
    stopped = last_seen(site, clinician, FEB_27)
    TreatmentCourse.objects.filter(pk=stopped.pk).update(status=status, paused_at=now,
                                                         discontinued_reason="Moved away")
    # when the time is planned
    planned = plan_offers(freed_time(chair))
    # then only the active course is offered it
    assert [offer.course_id for offer in planned] == [active.pk]


@pytest.mark.django_db
def test_an_archived_patient_is_not_offered_a_freed_time(site, chair, clinician, now):
    # given a due patient whose record was archived, and one whose record is current
    last_seen(site, clinician, FEB_27, archived_at=now)
    current = last_seen(site, clinician, FEB_27)
    # when the time is planned
    planned = plan_offers(freed_time(chair))
    # then only the current one is offered it
    assert [offer.course_id for offer in planned] == [current.pk]


@pytest.mark.django_db
def test_a_patient_last_treated_at_another_site_is_not_offered_its_time(site, other_site, chair, clinician, now):
    # given a patient due on Wednesday whose sessions are at Westside, and one whose sessions are at Midtown
    last_seen(other_site, clinician, FEB_27)
    here = last_seen(site, clinician, FEB_27)
    # when a Midtown time is planned
    planned = plan_offers(freed_time(chair))
    # then only the Midtown patient is offered it
    assert [offer.course_id for offer in planned] == [here.pk]


@pytest.mark.django_db
def test_a_patient_booked_before_the_freed_day_is_not_offered_it_even_when_wanting_earlier(site, chair, chair2,
                                                                                          clinician, book, now):
    # given a patient due 2-5 March, booked on Tuesday, who asked for an earlier time
    course = last_seen(site, clinician, FEB_28)
    wanting_earlier(book(chair2, local(site, TUESDAY, 10), course=course), now)
    # when Wednesday's time is planned, and a time this afternoon
    planned = plan_offers(freed_time(chair))
    today = plan_offers(freed_time(chair, day=date(2026, 3, 2), hour=13))
    # then Wednesday is not offered to them (it is later than what they have), this afternoon is
    assert planned == []
    assert [offer.course_id for offer in today] == [course.pk]


@pytest.mark.django_db
def test_a_patient_is_offered_a_freed_time_only_once(site, chair, clinician, clock, now):
    # given a patient whose offer of Wednesday 10:00 expired unanswered
    last_seen(site, clinician, FEB_27)
    freed = freed_time(chair)
    plan_offers(freed)
    send_due_offers()
    clock.shift(timedelta(minutes=30))
    done = offers_ending.end_and_refill()
    # then the time is not offered to them again
    assert done == {"ended_times": 1, "planned": 0}
    assert [offer.state for offer in offered(freed)] == [OfferState.EXPIRED]
    assert plan_offers(freed) == []


# --- when a time is freed and offered --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_move_under_three_hours_ahead_frees_no_time_worth_offering(site, chair, chair2, clinician, front_desk,
                                                                   book, clock, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    # given a due patient and a session on Wednesday at 10:00
    last_seen(site, clinician, FEB_27)
    session = book(chair, local(site, WEDNESDAY, 10))
    # when the desk moves it to the afternoon at 07:30 that day
    clock.move_to(local(site, WEDNESDAY, 7, 30))
    with offers_planned_inline(monkeypatch, django_capture_on_commit_callbacks) as published:
        booking.reschedule_session(by=front_desk, session=session, start=local(site, WEDNESDAY, 14), chair=chair2)
    # then the morning time is not offered
    assert "scheduling.plan_offers" not in published
    assert offered(freed_time(chair)) == []


@pytest.mark.django_db
def test_a_cancel_exactly_three_hours_ahead_frees_the_time(site, chair, clinician, front_desk, book, clock,
                                                          monkeypatch, django_capture_on_commit_callbacks):
    # given a due patient and a session on Wednesday at 10:00
    due = last_seen(site, clinician, FEB_27)
    session = book(chair, local(site, WEDNESDAY, 10))
    # when it is cancelled at 07:00, three hours ahead ("at least 3 hours")
    clock.move_to(local(site, WEDNESDAY, 7))
    with offers_planned_inline(monkeypatch, django_capture_on_commit_callbacks):
        booking.cancel_session(by=front_desk, session=session, reason="Unwell")
    # then the time is offered
    assert [offer.course_id for offer in offered(freed_time(chair))] == [due.pk]


@pytest.mark.django_db
def test_the_notice_a_freed_time_needs_is_a_setting(site, chair, clinician, front_desk, book, clock, settings,
                                                    monkeypatch, django_capture_on_commit_callbacks):
    # given a clinic that offers times freed 2.5 hours ahead, a due patient and a session at 10:00
    settings.FREED_CHAIR_MIN_NOTICE_HOURS = 2.5
    due = last_seen(site, clinician, FEB_27)
    session = book(chair, local(site, WEDNESDAY, 10))
    # when it is cancelled at 07:30
    clock.move_to(local(site, WEDNESDAY, 7, 30))
    with offers_planned_inline(monkeypatch, django_capture_on_commit_callbacks):
        booking.cancel_session(by=front_desk, session=session, reason="Unwell")
    # then the time is offered
    assert [offer.course_id for offer in offered(freed_time(chair))] == [due.pk]


@pytest.mark.django_db
def test_no_offer_is_planned_for_a_time_two_hours_away_or_less(site, chair, clinician, clock):
    # given a due patient, and a time at 12:00
    due = last_seen(site, clinician, FEB_27)
    freed = freed_time(chair, hour=12)
    # when it is planned at exactly 10:00, and at 09:59
    at_ten = plan_offers(freed, now=local(site, WEDNESDAY, 10))
    before = plan_offers(freed, now=local(site, WEDNESDAY, 9, 59))
    # then it is offered only while more than two hours away
    assert at_ten == []
    assert [offer.course_id for offer in before] == [due.pk]


@pytest.mark.django_db
def test_a_time_on_a_closure_day_is_not_offered(site, chair, clinician, closure, now):
    # given a patient due 2-5 March, and Midtown closed on Wednesday
    due = last_seen(site, clinician, FEB_28)
    # when a Wednesday time is planned, and a Thursday one
    wednesday = plan_offers(freed_time(chair))
    thursday = plan_offers(freed_time(chair, day=THURSDAY))
    # then only Thursday's is offered
    assert wednesday == []
    assert [offer.course_id for offer in thursday] == [due.pk]


@pytest.mark.django_db
def test_three_patients_are_offered_at_once_by_default(site, chair, clinician, now):
    # given four due patients
    courses = [last_seen(site, clinician, FEB_27) for _ in range(4)]
    # when the time is planned with the installed settings
    planned = plan_offers(freed_time(chair))
    # then the first three are offered it
    assert [offer.course_id for offer in planned] == [course.pk for course in courses[:3]]


@pytest.mark.django_db
def test_the_next_few_are_offered_only_when_all_the_few_have_ended(client, site, chair, clinician, clock,
                                                                   monkeypatch, django_capture_on_commit_callbacks):
    # given three patients sent offers of the time, and two more due
    courses = [last_seen(site, clinician, FEB_27) for _ in range(5)]
    freed = freed_time(chair)
    plan_offers(freed)
    send_due_offers()
    # when one of the three opts out, the others still open
    with offers_planned_inline(monkeypatch, django_capture_on_commit_callbacks):
        text_in(client, courses[0].patient, "STOP")
    # then nobody new is offered it
    assert open_patients(freed) == {course.patient_id for course in courses[1:3]}
    # and when the other two expire, the next two are offered it
    clock.shift(timedelta(minutes=30))
    assert offers_ending.end_and_refill() == {"ended_times": 1, "planned": 2}
    assert open_patients(freed) == {course.patient_id for course in courses[3:]}


# --- sending ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_offer_text_waiting_when_the_site_turns_offers_off_is_not_sent(site, chair, clinician, now):
    # given a planned offer, and the site then turning offers off
    course = last_seen(site, clinician, FEB_27)
    freed = freed_time(chair)
    plan_offers(freed)
    site.offers_enabled = False
    site.save(update_fields=["offers_enabled"])
    # when the sweep runs
    states = send_due_offers()
    # then no text went (withdrawn, not skipped: nothing about the patient stopped it) and the offer ended
    assert states == [ReminderState.VOID] and texts_to(course.patient.phone) == []
    offer = offered(freed)[0]
    assert (offer.state, offer.ended_reason) == (OfferState.VOID, "the text was not sent: the site turned offers off")


# --- taking ----------------------------------------------------------------------------------------------------


def _declined(freed, patient, code: str) -> None:
    """The YES booked nothing: the offer is declined with the booking rule's ``code`` and the patient hears the time
    has gone."""
    assert not Session.objects.filter(chair_id=freed.chair_id, start=freed.start).exists()
    offer = offered(freed)[0]
    assert offer.state == OfferState.DECLINED and code in offer.ended_reason
    assert texts_to(patient.phone)[-1]["body"] == TAKEN_TEXT


@pytest.mark.django_db
def test_yes_is_refused_for_a_course_no_longer_active(client, site, chair, clinician, now):
    # given a patient sent an offer, whose course was then paused
    course = last_seen(site, clinician, FEB_27)
    freed = freed_time(chair)
    plan_offers(freed)
    send_due_offers()
    TreatmentCourse.objects.filter(pk=course.pk).update(status=CourseStatus.PAUSED, paused_at=now)
    # when they answer YES
    text_in(client, course.patient, "YES")
    # then nothing is booked: the offer is declined with the booking rule's code and they hear the time has gone
    _declined(freed, course.patient, "course_not_active")


@pytest.mark.django_db
def test_yes_is_refused_when_the_time_has_left_the_patients_due_window(client, site, chair, clinician, now):
    # given a patient due 1-4 March sent an offer of this afternoon, whose session of yesterday is then charted
    course = last_seen(site, clinician, FEB_27)
    freed = freed_time(chair, day=date(2026, 3, 2), hour=13)
    plan_offers(freed)
    send_due_offers()
    booking.record_past_session(by=clinician, course=course, day=date(2026, 3, 1), location=site)
    # when they answer YES (their next session is now due from Tuesday)
    text_in(client, course.patient, "YES")
    # then nothing is booked: the offer is declined for the due window and they hear the time has gone
    _declined(freed, course.patient, "outside_due_window")


@pytest.mark.django_db
def test_yes_moving_a_later_booking_is_refused_when_its_clinician_is_at_capacity(client, site, chair, chair2,
                                                                                 clinician, book, now):
    # given a patient booked Thursday with a clinician who may treat one patient at a time, wanting earlier,
    # and that clinician treating someone else at the freed time
    site.max_in_treatment_per_clinician = 1
    site.save(update_fields=["max_in_treatment_per_clinician"])
    site.staff.add(clinician)
    course = last_seen(site, clinician, FEB_28)
    later = wanting_earlier(book(chair2, local(site, THURSDAY, 10), course=course, clinician=clinician), now)
    third = ChairFactory(location=site, name="Chair 3", serves_esketamine=True)
    book(third, local(site, WEDNESDAY, 10), clinician=clinician)
    freed = freed_time(chair)
    plan_offers(freed)
    send_due_offers()
    # when they answer YES
    text_in(client, course.patient, "YES")
    # then Thursday stands, the offer is declined for capacity and they hear the time has gone
    later.refresh_from_db()
    assert (later.start, later.chair_id) == (local(site, THURSDAY, 10), chair2.pk)
    offer = offered(freed)[0]
    assert offer.state == OfferState.DECLINED and "clinician_capacity" in offer.ended_reason
    assert texts_to(course.patient.phone)[-1]["body"] == TAKEN_TEXT


@pytest.mark.django_db
def test_y_with_no_offer_to_answer_goes_to_a_person_and_confirms_nothing(site, chair2, clinician, book, now):
    # given a patient booked Thursday, reminded of it, with no offer
    course = last_seen(site, clinician, FEB_28)
    visit = book(chair2, local(site, THURSDAY, 10), course=course)
    TextMessage.objects.create(patient=course.patient, direction=Direction.OUTBOUND, purpose=MessagePurpose.REMINDER,
                               counts_toward_caps=True, phone=course.patient.phone, body="reminder", at=now)
    # when they reply Y
    result = inbound.handle_inbound(from_phone=course.patient.phone, to_phone="", body="Y", provider_id="SMy")
    # then a person reads it (Y is only an offer's answer), and the visit is not confirmed
    assert result.outcome == inbound.Outcome.NEEDS_ATTENTION
    visit.refresh_from_db()
    assert visit.status == SessionStatus.BOOKED


# --- ending ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_planned_offer_whose_text_never_went_ends_two_hours_before_the_time(site, chair, clinician, clock):
    # given an offer planned at 22:00 on Tuesday (its text waiting for the morning) of 10:00 on Wednesday
    course = last_seen(site, clinician, FEB_27)
    clock.move_to(local(site, TUESDAY, 22))
    freed = freed_time(chair)
    plan_offers(freed)
    # when beat runs at 08:00 on Wednesday, before the sweep
    clock.move_to(local(site, WEDNESDAY, 8))
    offers_ending.end_and_refill()
    # then the offer has ended, its text is withdrawn and nothing is ever sent
    assert [offer.state for offer in offered(freed)] == [OfferState.EXPIRED]
    assert text_of(offered(freed)[0]).state == ReminderState.VOID
    assert send_due_offers() == [] and texts_to(course.patient.phone) == []


@pytest.mark.django_db
def test_a_staff_move_into_the_freed_time_voids_its_offers_at_once(site, chair, chair2, clinician, front_desk, book,
                                                                   now):
    # given two patients offered Wednesday 10:00, and a Thursday booking of someone else
    last_seen(site, clinician, FEB_27)
    last_seen(site, clinician, FEB_28)
    freed = freed_time(chair)
    plan_offers(freed)
    send_due_offers()
    other = last_seen(site, clinician, FEB_28)
    session = book(chair2, local(site, THURSDAY, 10), course=other)
    # when the desk moves that booking into the freed time
    booking.reschedule_session(by=front_desk, session=session, start=freed.start, chair=chair)
    # then the offers ended in the move's transaction
    assert open_patients(freed) == set()
    assert {offer.state for offer in offered(freed)} == {OfferState.VOID}


@pytest.mark.django_db
def test_a_freed_time_booked_by_staff_for_an_offered_patient_ends_that_patients_offer_too(site, chair, clinician,
                                                                                         book, now):
    # given two patients offered Wednesday 10:00
    first = last_seen(site, clinician, FEB_27)
    last_seen(site, clinician, FEB_28)
    freed = freed_time(chair)
    plan_offers(freed)
    send_due_offers()
    # when the desk books the time for the first of them (on the phone, say)
    session = book(chair, freed.start, course=first)
    # then every offer of it ended, theirs too: the time was booked, not taken by a text
    assert open_patients(freed) == set()
    assert {(offer.state, offer.ended_reason) for offer in offered(freed)} == {
        (OfferState.VOID, "the time was booked")}
    assert not any(offer.session_id == session.pk for offer in offered(freed))


@pytest.mark.django_db
def test_a_yes_after_the_desk_booked_the_time_for_that_patient_is_told_it_is_booked(client, site, chair, clinician,
                                                                                  book, now):
    # given two patients offered Wednesday 10:00, and the desk booked it for the first on the phone
    first = last_seen(site, clinician, FEB_27)
    second = last_seen(site, clinician, FEB_28)
    freed = freed_time(chair)
    plan_offers(freed)
    send_due_offers()
    book(chair, freed.start, course=first)
    # when both answer YES
    for course in (first, second):
        text_in(client, course.patient, "YES")
    # then the first is told the time is theirs, the second that it has gone; nothing more is booked
    assert texts_to(first.patient.phone)[-1]["body"] == BOOKED_TEXT.format(
        day="Wednesday March 4", time="10:00 AM", clinic=django_settings.CLINIC_NAME)
    assert texts_to(second.patient.phone)[-1]["body"] == TAKEN_TEXT
    assert Session.objects.filter(chair=chair, start=freed.start).count() == 1

