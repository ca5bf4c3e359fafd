"""Bookings checked against a course's prior authorisations, on every path that books, moves or puts back.

``esk_course`` (esketamine-trd, whose protocol requires authorisation) starts on Tuesday
3 March 2026; its induction sessions are 2 to 5 days apart. "Now" is Monday 2 March.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.errors import Conflict, NotAllowed
from protocols.models import AuthorisationStatus
from scheduling.booking import authorisations, fast_reads, series, undo
from scheduling.booking import services as booking
from scheduling.models import Session, SessionStatus
from tests.factories import PriorAuthorisationFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

TUESDAY, FRIDAY, NEXT_TUESDAY, NEXT_FRIDAY = date(2026, 3, 3), date(2026, 3, 6), date(2026, 3, 10), date(2026, 3, 13)


def covering(course, units=8, first=TUESDAY, last=date(2026, 3, 31), status=AuthorisationStatus.APPROVED, **fields):
    return PriorAuthorisationFactory(course=course, units_approved=units, first_day=first, last_day=last,
                                     status=status, **fields)


@pytest.fixture
def book_on(site, chair, front_desk, now):
    """``book_on(day, by=front_desk, **arguments)``: book ``esk_course``-like courses on ``chair`` at 09:00."""

    def book_on(course, day, *, by=front_desk, **arguments):
        return booking.book_session(by=by, course=course, chair=chair, start=local(site, day, 9), **arguments)

    return book_on


def used(course) -> list[tuple[int, int | None]]:
    return [(use.used, use.left) for use in authorisations.uses_for_courses([course.pk])[course.pk]]


# --- one booking ---------------------------------------------------------------------------------------


def test_a_day_the_approved_authorisation_covers_is_booked_and_uses_a_unit(esk_course, book_on):
    # given
    covering(esk_course, units=8)
    # when
    session = book_on(esk_course, TUESDAY)
    # then
    assert session.authorisation_override_reason == ""
    assert used(esk_course) == [(1, 7)]


def test_a_day_after_the_last_covered_day_is_refused_naming_the_payer_and_dates(esk_course, book_on):
    # given an authorisation that ends on Thursday
    covering(esk_course, last=date(2026, 3, 5), payer="Aetna", number="PA-1")
    # when / then
    with pytest.raises(Conflict) as refused:
        book_on(esk_course, FRIDAY)
    assert refused.value.code == "no_authorisation"
    assert "Aetna PA-1, 3 Mar 2026 to 5 Mar 2026" in refused.value.detail
    assert not Session.objects.filter(course=esk_course).exists()


@pytest.mark.parametrize("status", [AuthorisationStatus.PENDING, AuthorisationStatus.DENIED,
                                    AuthorisationStatus.EXPIRED])
def test_an_authorisation_not_approved_covers_nothing(esk_course, book_on, status):
    # given
    covering(esk_course, status=status)
    # when / then
    with pytest.raises(Conflict) as refused:
        book_on(esk_course, TUESDAY)
    assert refused.value.code == "no_authorisation"


def test_a_course_with_no_authorisation_is_refused_when_every_course_is_checked(
        esk_course, book_on, prior_authorisation_checks_all):
    with pytest.raises(Conflict) as refused:
        book_on(esk_course, TUESDAY)
    assert refused.value.code == "no_authorisation"


def test_a_course_with_no_authorisation_entered_is_booked_while_only_entered_courses_are_checked(
        esk_course, book_on, settings):
    # given a clinic still entering its authorisations
    settings.PRIOR_AUTHORISATION_CHECKS = "entered"
    # when
    session = book_on(esk_course, TUESDAY)
    # then
    assert session.status == SessionStatus.BOOKED


def test_the_unit_after_the_last_is_refused_with_authorisation_units_used(esk_course, book_on):
    # given two units, both booked
    covering(esk_course, units=2)
    book_on(esk_course, TUESDAY)
    book_on(esk_course, FRIDAY)
    # when / then
    with pytest.raises(Conflict) as refused:
        book_on(esk_course, NEXT_TUESDAY)
    assert refused.value.code == "authorisation_units_used"
    assert Session.objects.filter(course=esk_course).count() == 2


def test_units_booked_beyond_the_approval_are_named_as_overridden_not_counted_past_it(esk_course, book_on, clinician):
    # given an approval of two sessions, both used
    covering(esk_course, units=2, last=date(2026, 3, 31))
    book_on(esk_course, TUESDAY)
    book_on(esk_course, FRIDAY)
    # when a clinician books a third with a reason
    book_on(esk_course, NEXT_TUESDAY, by=clinician, authorisation_reason="Renewal sent")
    # then
    [use] = authorisations.uses_for_courses([esk_course.pk])[esk_course.pk]
    assert (use.used, use.left, use.label) == (3, 0, "all 2 used and 1 beyond (overridden), ends 31 Mar")


@pytest.mark.parametrize("role", ["clinician", "manager"])
def test_a_clinician_or_manager_books_beyond_with_a_reason_recorded_with_who_and_when(
        request, esk_course, book_on, now, role):
    # given
    covering(esk_course, last=date(2026, 3, 5))
    person = request.getfixturevalue(role)
    # when
    session = book_on(esk_course, FRIDAY, by=person, authorisation_reason="  Renewal sent, approval expected  ")
    # then
    session.refresh_from_db()
    assert session.authorisation_override_reason == "Renewal sent, approval expected"
    assert session.authorisation_override_by == person
    assert session.authorisation_override_at == now


def test_the_front_desk_cannot_book_beyond_even_with_a_reason(esk_course, book_on, front_desk):
    # given
    covering(esk_course, units=1)
    book_on(esk_course, TUESDAY)
    # when / then
    with pytest.raises(NotAllowed) as refused:
        book_on(esk_course, FRIDAY, by=front_desk, authorisation_reason="Patient insists")
    assert refused.value.code == "authorisation_override_not_allowed"
    assert Session.objects.filter(course=esk_course).count() == 1


def test_a_reason_given_where_none_is_needed_is_not_recorded(esk_course, book_on, clinician):
    covering(esk_course)
    session = book_on(esk_course, TUESDAY, by=clinician, authorisation_reason="Just in case")
    assert (session.authorisation_override_reason, session.authorisation_override_by) == ("", None)


def test_a_protocol_without_the_requirement_is_not_checked(
        iv_course, iv_chair, site, front_desk, now, prior_authorisation_checks_all):
    # given an IV course (its protocol does not require authorisation) whose only authorisation was denied
    covering(iv_course, status=AuthorisationStatus.DENIED)
    # when
    session = booking.book_session(by=front_desk, course=iv_course, chair=iv_chair, start=local(site, TUESDAY, 9))
    # then
    assert session.authorisation_override_reason == ""


def test_a_booking_reads_no_more_statements_where_the_protocol_requires_authorisation(esk_course, book_on):
    # given two bookings alike but for the requirement
    covering(esk_course)
    protocol = esk_course.protocol
    with CaptureQueriesContext(connection) as checked:
        book_on(esk_course, TUESDAY)
    protocol.requires_authorisation = False
    protocol.save(update_fields=["requires_authorisation"])
    with CaptureQueriesContext(connection) as unchecked:
        book_on(esk_course, FRIDAY)
    # then the course's read locks its approved authorisations, and the slot's read counts their units
    assert len(checked) == len(unchecked)
    assert sum("FOR UPDATE OF a" in query["sql"] for query in checked.captured_queries) == 1


# --- units over time: cancels, no-shows, moves, several authorisations --------------------------------


def test_cancelled_and_no_show_sessions_give_their_unit_back(esk_course, book_on, front_desk, clock):
    # given two units, both booked
    covering(esk_course, units=2)
    first = book_on(esk_course, TUESDAY)
    second = book_on(esk_course, FRIDAY)
    # when one is cancelled and the other a no-show
    booking.cancel_session(by=front_desk, session=second, reason="Travel")
    clock.move_to(first.start + timedelta(minutes=30))
    booking.mark_no_show(by=front_desk, session=first)
    # then
    assert used(esk_course) == [(0, 2)]


def test_a_move_within_the_dates_keeps_its_own_unit(esk_course, book_on, site, front_desk):
    # given two units, both booked
    covering(esk_course, units=2)
    book_on(esk_course, TUESDAY)
    second = book_on(esk_course, FRIDAY)
    # when the second moves a day (its own unit is not counted twice)
    moved = booking.reschedule_session(by=front_desk, session=second, start=local(site, date(2026, 3, 7), 9))
    # then
    assert moved.local_date == date(2026, 3, 7)
    assert used(esk_course) == [(2, 0)]


def test_a_move_past_the_last_covered_day_is_refused_and_the_session_stays(esk_course, book_on, site, front_desk):
    # given
    covering(esk_course, last=date(2026, 3, 5))
    session = book_on(esk_course, TUESDAY)
    # when / then
    with pytest.raises(Conflict) as refused:
        booking.reschedule_session(by=front_desk, session=session, start=local(site, FRIDAY, 9))
    assert refused.value.code == "no_authorisation"
    session.refresh_from_db()
    assert session.local_date == TUESDAY


def test_a_move_onto_another_authorisations_days_with_no_unit_left_is_refused(esk_course, book_on, site, front_desk):
    # given two blocks: the first (to Thursday) with room, the second (from Friday) with its one unit used
    covering(esk_course, units=2, last=date(2026, 3, 5))
    covering(esk_course, units=1, first=FRIDAY, last=date(2026, 3, 31))
    tuesday = book_on(esk_course, TUESDAY)
    book_on(esk_course, date(2026, 3, 7))
    # when Tuesday's session moves onto Friday, in the second block / then
    with pytest.raises(Conflict) as refused:
        booking.reschedule_session(by=front_desk, session=tuesday, start=local(site, FRIDAY, 9))
    assert refused.value.code == "authorisation_units_used"
    assert used(esk_course) == [(1, 1), (1, 0)]


def test_a_clinicians_move_beyond_records_the_reason_and_a_move_back_inside_clears_it(
        esk_course, book_on, site, clinician, front_desk):
    # given
    covering(esk_course, last=date(2026, 3, 5))
    session = book_on(esk_course, TUESDAY)
    # when a clinician moves it past the last day with a reason, then the desk moves it back
    moved = booking.reschedule_session(by=clinician, session=session, start=local(site, FRIDAY, 9),
                                       authorisation_reason="Payer extension on the phone")
    assert (moved.authorisation_override_reason, moved.authorisation_override_by) == (
        "Payer extension on the phone", clinician)
    back = booking.reschedule_session(by=front_desk, session=moved, start=local(site, date(2026, 3, 4), 9))
    # then
    assert (back.authorisation_override_reason, back.authorisation_override_by) == ("", None)


def test_several_authorisations_over_time_each_count_their_own_days(esk_course, book_on):
    # given an induction block and a maintenance block after it
    induction = covering(esk_course, units=2, last=date(2026, 3, 8))
    maintenance = covering(esk_course, units=4, first=date(2026, 3, 9), last=date(2026, 4, 30))
    # when
    for day in (TUESDAY, FRIDAY, NEXT_TUESDAY):
        book_on(esk_course, day)
    # then
    uses = authorisations.uses_for_courses([esk_course.pk])[esk_course.pk]
    assert [(use.authorisation, use.used, use.left, use.label) for use in uses] == [
        (induction, 2, 0, "2 of 2 used, ends 8 Mar"), (maintenance, 1, 3, "1 of 4 used, ends 30 Apr")]
    assert authorisations.current_use(esk_course.pk, NEXT_TUESDAY).authorisation == maintenance
    assert authorisations.current_use(esk_course.pk, date(2026, 5, 1)) is None


# --- a series ------------------------------------------------------------------------------------------


def _series(esk_course, chair, site, by, **arguments):
    return series.book_series(by=by, course=esk_course, chair=chair, first_start=local(site, date(2026, 3, 5), 9),
                              weekdays=[0, 3], **arguments)


def test_a_series_crossing_the_last_covered_day_flags_the_occurrences_after_it(esk_course, chair, site, front_desk):
    # given an authorisation to Monday 16 March: the Mon/Thu series from 5 March has 4 sessions inside it
    covering(esk_course, units=8, last=date(2026, 3, 16))
    # when
    with pytest.raises(Conflict) as refused:
        _series(esk_course, chair, site, front_desk)
    # then the last four are flagged, nothing booked
    occurrences = refused.value.extra["occurrences"]
    codes = [[problem["code"] for problem in occurrence["problems"]] for occurrence in occurrences]
    assert codes == [[]] * 4 + [["no_authorisation"]] * 4
    assert not Session.objects.filter(course=esk_course).exists()


def test_a_series_counts_its_units_cumulatively(esk_course, chair, site, front_desk):
    # given three units for the whole month
    covering(esk_course, units=3)
    # when
    occurrences = series.plan_series(by=front_desk, course=esk_course, chair=chair,
                                     first_start=local(site, date(2026, 3, 5), 9), weekdays=[0, 3])
    # then the fourth and later use units already taken by the earlier occurrences
    codes = [[problem["code"] for problem in occurrence.problems] for occurrence in occurrences]
    assert codes == [[]] * 3 + [["authorisation_units_used"]] * 5
    assert all(occurrence.alternative is None for occurrence in occurrences)


def test_a_clinicians_series_beyond_records_the_reason_on_those_sessions_only(esk_course, chair, site, clinician):
    # given
    covering(esk_course, units=8, last=date(2026, 3, 16))
    # when
    occurrences = _series(esk_course, chair, site, clinician, authorisation_reason="Renewal submitted 1 Mar")
    # then
    reasons = [occurrence.session.authorisation_override_reason for occurrence in occurrences]
    assert reasons == [""] * 4 + ["Renewal submitted 1 Mar"] * 4


def test_the_front_desks_series_beyond_is_refused_even_with_a_reason(esk_course, chair, site, front_desk):
    covering(esk_course, units=8, last=date(2026, 3, 16))
    with pytest.raises(NotAllowed) as refused:
        _series(esk_course, chair, site, front_desk, authorisation_reason="Please")
    assert refused.value.code == "authorisation_override_not_allowed"
    assert not Session.objects.filter(course=esk_course).exists()


# --- putting back, and history ---------------------------------------------------------------------------


def test_putting_back_a_cancelled_session_needs_a_unit_left(esk_course, book_on, front_desk):
    # given one unit: booked, cancelled, and taken by another session
    covering(esk_course, units=1)
    first = book_on(esk_course, TUESDAY)
    booking.cancel_session(by=front_desk, session=first, reason="Unwell")
    book_on(esk_course, FRIDAY)
    # when / then
    with pytest.raises(Conflict) as refused:
        undo.undo_cancel(first, by=front_desk)
    assert refused.value.code == "authorisation_units_used"
    first.refresh_from_db()
    assert first.status == SessionStatus.CANCELLED


def test_a_session_put_back_where_an_approval_now_covers_it_drops_its_old_reason(esk_course, book_on, front_desk,
                                                                                clinician):
    # given a session a clinician booked with no approval on file, then cancelled
    first = book_on(esk_course, TUESDAY, by=clinician, authorisation_reason="Payer confirmed by phone")
    booking.cancel_session(by=front_desk, session=first, reason="Unwell")
    # when the approval arrives and the cancel is undone
    covering(esk_course, units=8)
    undo.undo_cancel(first, by=front_desk)
    # then
    first.refresh_from_db()
    assert (first.status, first.authorisation_override_reason, first.authorisation_override_by) == (
        SessionStatus.BOOKED, "", None)


def test_recorded_history_is_not_checked(esk_course, site, clinician, clock):
    # given a course that started in January with a denied authorisation, and today 2 March
    esk_course.start_date = date(2026, 1, 6)
    esk_course.save(update_fields=["start_date"])
    covering(esk_course, status=AuthorisationStatus.DENIED, first=date(2026, 1, 6))
    # when a session given before the system is recorded
    session = booking.record_past_session(by=clinician, course=esk_course, day=date(2026, 1, 6), location=site)
    # then
    assert session.recorded_history
    assert session.authorisation_override_reason == ""


@pytest.mark.parametrize("leave_out_the_session", [False, True])
def test_the_slot_read_and_its_orm_twin_agree_on_the_authorisations(esk_course, chair, site, book_on,
                                                                     leave_out_the_session):
    # given two approvals, one session in the first, and a denied request (not a cover, but entered)
    covering(esk_course, units=2, last=date(2026, 3, 8))
    covering(esk_course, units=4, first=date(2026, 3, 9), last=date(2026, 4, 30))
    covering(esk_course, status=AuthorisationStatus.DENIED, first=date(2026, 5, 1), last=date(2026, 5, 31))
    session = book_on(esk_course, TUESDAY)
    start = local(site, FRIDAY, 9)
    slot = {"course": esk_course, "chair": chair, "start": start, "occupied_until": start + timedelta(hours=3),
            "local_day": FRIDAY, "exclude_session_id": session.pk if leave_out_the_session else None}
    # when
    built, read = fast_reads.slot_facts(**slot), fast_reads.slot_facts_by_orm(**slot)
    # then
    assert (built.covers, built.authorisation_entered) == (read.covers, read.authorisation_entered)
    assert [(cover.units_approved, cover.used) for cover in built.covers] == [
        (2, 0 if leave_out_the_session else 1), (4, 0)]
    assert built.authorisation_entered
