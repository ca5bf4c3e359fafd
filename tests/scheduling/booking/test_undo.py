"""Undo at the desk: a cancel put back only where a booking could go now; a booking in error withdrawn quietly."""

from __future__ import annotations

from datetime import date, timedelta

import pghistory.models
import pytest

from clinic.errors import Conflict
from scheduling.booking import services as booking
from scheduling.booking.undo import BOOKED_IN_ERROR, undo_booking, undo_cancel
from scheduling.models import Reminder, ReminderState, Session, SessionStatus
from tests.factories import PatientFactory, TreatmentCourseFactory
from tests.scheduling.conftest import TUESDAY, local

pytestmark = pytest.mark.django_db

THURSDAY = date(2026, 3, 5)


def reminder_states(session: Session) -> list[tuple[int, str]]:
    return sorted(Reminder.objects.filter(session=session).values_list("revision", "state"))


@pytest.fixture
def cancelled(book, esk_course, chair, staff_clinician, front_desk, now):
    """Session 1 of ``esk_course`` on Thursday 09:00 with Dr Ortiz, cancelled by the desk on Monday."""
    session = book(chair, local(chair.location, THURSDAY, 9), course=esk_course)
    return booking.cancel_session(by=front_desk, session=session, reason="Patient unwell")


def test_an_undone_cancel_puts_the_session_back_with_fresh_reminders(cancelled, front_desk, staff_clinician):
    # when
    restored = undo_cancel(cancelled, by=front_desk)

    # then: booked again on its chair, at its time, with its clinician, and nothing of the cancel left
    restored = Session.objects.get(pk=cancelled.pk)
    assert (restored.status, restored.start, restored.chair_id) == (SessionStatus.BOOKED, cancelled.start,
                                                                   cancelled.chair_id)
    assert restored.clinician == staff_clinician
    assert (restored.cancel_reason, restored.cancelled_by, restored.cancelled_at, restored.late_cancel) == (
        "", None, None, False)
    # the cancel voided the first reminders; the undo planned the same kinds again for the new revision
    states = reminder_states(restored)
    assert [state for revision, state in states if revision == 0] == [ReminderState.VOID] * 2
    assert [state for revision, state in states if revision == 1] == [ReminderState.PENDING] * 2
    labels = list(pghistory.models.Events.objects.tracks(restored).order_by("pgh_created_at", "pgh_id")
                  .values_list("pgh_label", flat=True))
    assert labels == ["insert", "update", "update"]


def test_a_cancel_is_not_undone_once_another_patient_has_the_chair(cancelled, chair, book, front_desk):
    # given another patient booked on the freed chair
    book(chair, local(chair.location, THURSDAY, 10))

    # when
    with pytest.raises(Conflict) as refused:
        undo_cancel(cancelled, by=front_desk)

    # then
    assert (refused.value.status, refused.value.code) == (409, "chair_conflict")
    assert Session.objects.get(pk=cancelled.pk).status == SessionStatus.CANCELLED


def test_a_cancel_is_not_undone_once_the_patient_is_booked_on_that_day(cancelled, esk_course, chair2, book,
                                                                        front_desk):
    # given the course rebooked the same day on another chair
    book(chair2, local(chair2.location, THURSDAY, 13), course=esk_course)

    # when
    with pytest.raises(Conflict) as refused:
        undo_cancel(cancelled, by=front_desk)

    # then
    assert refused.value.code == "same_day"


def test_a_cancel_is_not_undone_after_the_session_time_has_passed(cancelled, front_desk, clock):
    # given
    clock.move_to(cancelled.start + timedelta(minutes=5))

    # when
    with pytest.raises(Conflict) as refused:
        undo_cancel(cancelled, by=front_desk)

    # then
    assert refused.value.code == "in_the_past"


def test_only_a_cancelled_session_is_put_back(book, esk_course, chair, front_desk):
    session = book(chair, local(chair.location, THURSDAY, 9), course=esk_course)
    with pytest.raises(Conflict) as refused:
        undo_cancel(session, by=front_desk)
    assert refused.value.code == "invalid_state"


def test_a_clinicians_override_of_the_due_window_still_stands_when_the_desk_undoes_the_cancel(
        book, esk_course, chair, clinician, front_desk):
    # given session 1 (due 3-10 March) booked on 12 March by a clinician with a reason, then cancelled
    late = book(chair, local(chair.location, date(2026, 3, 12), 9), course=esk_course, by=clinician,
                override_reason="Patient travelling until the 11th")
    booking.cancel_session(by=front_desk, session=late, reason="Flight moved")

    # when
    restored = undo_cancel(late, by=front_desk)

    # then
    assert restored.status == SessionStatus.BOOKED
    assert restored.override_reason == "Patient travelling until the 11th"


def test_a_booking_in_error_is_withdrawn_without_a_late_cancel_or_a_text(book, esk_course, chair, front_desk,
                                                                         sent_texts):
    # given a session for tomorrow morning (under 24 hours away), booked just now
    session = book(chair, local(chair.location, TUESDAY, 8), course=esk_course, by=front_desk)

    # when
    withdrawn = undo_booking(session, by=front_desk)

    # then
    withdrawn = Session.objects.get(pk=session.pk)
    assert (withdrawn.status, withdrawn.cancel_reason, withdrawn.late_cancel) == (
        SessionStatus.CANCELLED, BOOKED_IN_ERROR, False)
    assert withdrawn.cancelled_by == front_desk
    assert {state for _revision, state in reminder_states(withdrawn)} <= {ReminderState.VOID, ReminderState.SKIPPED}
    assert sent_texts == []
    # the chair is free again for someone else
    other = TreatmentCourseFactory(patient=PatientFactory(), protocol=esk_course.protocol, start_date=TUESDAY)
    assert booking.book_session(by=front_desk, course=other, chair=chair, start=session.start).pk


def test_a_booking_is_withdrawn_as_an_error_only_moments_after_it_was_made(book, esk_course, chair, front_desk,
                                                                           clock):
    # given
    session = book(chair, local(chair.location, THURSDAY, 9), course=esk_course, by=front_desk)
    clock.shift(timedelta(minutes=31))

    # when
    with pytest.raises(Conflict) as refused:
        undo_booking(session, by=front_desk)

    # then
    assert refused.value.code == "undo_too_late"
    assert Session.objects.get(pk=session.pk).status == SessionStatus.BOOKED
