"""Booking one session: every refusal has its own 409 code, and nothing is half-saved."""

from __future__ import annotations

from datetime import date, timedelta

import pghistory.models
import pytest
import time_machine

from clinic.errors import Conflict, NotAllowed
from protocols.models import CourseStatus
from scheduling.booking import selectors as booking_selectors
from scheduling.booking import services as booking
from scheduling.models import Session, SessionStatus
from tests.factories import ChairFactory, PatientFactory, TreatmentCourseFactory, UserFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

TUESDAY = date(2026, 3, 3)


def post_session(api, course, chair, start, **extra):
    """Book through the API: POST /api/sessions/."""
    return api.post("/api/sessions/", {"course": course.pk, "chair": chair.pk, "start": start.isoformat(), **extra},
                    format="json")


def test_it_books_a_session_sized_by_the_protocol_with_turnover(desk_api, esk_course, chair, staff_clinician):
    # when
    response = post_session(desk_api, esk_course, chair, local(chair.location, TUESDAY, 9))
    # then
    assert response.status_code == 201, response.json()
    session = Session.objects.get(pk=response.json()["id"])
    assert session.end - session.start == timedelta(minutes=150)
    assert session.occupied_until - session.end == timedelta(minutes=15)
    assert session.clinician == staff_clinician
    assert session.local_date == TUESDAY
    assert response.json()["start_local"] == "2026-03-03T09:00:00-05:00"


def test_the_booking_answer_is_the_session_as_it_reads_back(desk_api, esk_course, chair, staff_clinician):
    # The answer is built from the booked session without reading it back; it must match a later read.
    booked = post_session(desk_api, esk_course, chair, local(chair.location, TUESDAY, 9), override_reason="")
    assert booked.status_code == 201, booked.json()
    read = desk_api.get(f"/api/sessions/{booked.json()['id']}/")
    assert read.status_code == 200
    assert booked.json() == read.json()
    assert booked.json()["clinician_name"] and booked.json()["patient_name"] == esk_course.patient.display_name


def test_a_start_without_an_offset_is_local_time_at_the_chair(desk_api, esk_course, chair):
    response = post_session(desk_api, esk_course, chair, local(chair.location, TUESDAY, 9).replace(tzinfo=None))
    assert response.status_code == 201, response.json()
    assert response.json()["start"] == "2026-03-03T14:00:00Z"


def test_chair_conflict(desk_api, esk_course, chair, book, now):
    # given another patient on the chair 09:00-11:30 (+15 turnover)
    book(chair, local(chair.location, TUESDAY, 9))
    # when the turnover is not over yet
    response = post_session(desk_api, esk_course, chair, local(chair.location, TUESDAY, 11, 30))
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "chair_conflict"
    assert post_session(desk_api, esk_course, chair, local(chair.location, TUESDAY, 11, 45)).status_code == 201


def test_patient_conflict(desk_api, esk_course, iv_chair, chair, book, now):
    # given the same patient in an IV course on another chair at the same time
    book(iv_chair, local(chair.location, TUESDAY, 9), patient=esk_course.patient, slug="ketamine-iv-series")
    # when
    response = post_session(desk_api, esk_course, chair, local(chair.location, TUESDAY, 10))
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "patient_conflict"


def test_clinician_capacity(desk_api, esk_course, chair, chair2, site, staff_clinician, book, now):
    # given a site where a clinician may have one patient in treatment at once, already busy
    site.max_in_treatment_per_clinician = 1
    site.save()
    book(chair2, local(site, TUESDAY, 9))
    # when
    response = post_session(desk_api, esk_course, chair, local(site, TUESDAY, 10), clinician=staff_clinician.pk)
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "clinician_capacity"


def test_capacity_counts_patients_at_once_not_sessions_touching_the_interval(esk_course, chair, chair2, site,
                                                                              staff_clinician, book, now):
    # given capacity 2 and two sessions that touch a new one's interval but do not overlap each other
    site.max_in_treatment_per_clinician = 2
    site.save()
    book(chair2, local(site, TUESDAY, 8))
    book(ChairFactory(location=site, name="Chair 3"), local(site, TUESDAY, 11))
    # when a session spans both (09:00-11:30): at most 2 at once, so it fits
    session = booking.book_session(by=UserFactory(), course=esk_course, chair=chair, start=local(site, TUESDAY, 9),
                                    clinician=staff_clinician)
    # then
    assert session.clinician == staff_clinician


@pytest.mark.parametrize(
    "day, hour, minute",
    [(TUESDAY, 7, 45), (TUESDAY, 15, 45), (date(2026, 3, 8), 9, 0)],
    ids=["before opening", "ends after closing", "closed on Sunday"],
)
def test_outside_hours(desk_api, esk_course, chair, day, hour, minute):
    response = post_session(desk_api, esk_course, chair, local(chair.location, day, hour, minute))
    assert response.status_code == 409
    assert response.json()["code"] in {"outside_hours", "outside_due_window"}
    if day == TUESDAY:
        assert response.json()["code"] == "outside_hours"


def test_a_closure_day_is_outside_hours(desk_api, esk_course, chair, closure):
    response = post_session(desk_api, esk_course, chair, local(chair.location, closure.date, 9))
    assert response.status_code == 409
    assert response.json()["code"] == "outside_hours"


def test_outside_due_window(desk_api, esk_course, chair):
    # session 1 is due 3-10 March
    response = post_session(desk_api, esk_course, chair, local(chair.location, date(2026, 3, 11), 9))
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "outside_due_window"
    assert body["due"] == {"earliest": "2026-03-03", "target": "2026-03-03", "latest": "2026-03-10"}


def test_a_clinician_may_book_outside_the_window_with_a_reason(clinician_api, esk_course, chair, clinician):
    response = post_session(clinician_api, esk_course, chair, local(chair.location, date(2026, 3, 11), 9),
                            override_reason="Patient travelling; agreed with prescriber")
    assert response.status_code == 201, response.json()
    session = Session.objects.get(pk=response.json()["id"])
    assert session.override_reason == "Patient travelling; agreed with prescriber"
    assert session.override_by == clinician


def test_front_desk_cannot_override_the_window(desk_api, esk_course, chair):
    response = post_session(desk_api, esk_course, chair, local(chair.location, date(2026, 3, 11), 9),
                            override_reason="x")
    assert response.status_code == 403
    assert response.json()["code"] == "override_needs_clinician"


def test_the_second_session_is_due_two_to_five_days_after_the_first(esk_course, chair, book, now):
    # given session 1 booked on Tuesday
    book(chair, local(chair.location, TUESDAY, 9), course=esk_course)
    # then session 2 cannot be the next day, but can be on Friday (target: +3)
    with pytest.raises(Conflict) as refused:
        booking.book_session(by=UserFactory(), course=esk_course, chair=chair,
                              start=local(chair.location, date(2026, 3, 4), 9))
    assert refused.value.code == "outside_due_window"
    second = booking.book_session(by=UserFactory(), course=esk_course, chair=chair,
                                   start=local(chair.location, date(2026, 3, 6), 9))
    assert second.local_date == date(2026, 3, 6)


def test_same_day(clinician_api, esk_course, chair, chair2, book, now):
    # given a session on Tuesday morning
    book(chair, local(chair.location, TUESDAY, 8), course=esk_course)
    # when a clinician overrides the window for a second one that afternoon
    response = post_session(clinician_api, esk_course, chair2, local(chair.location, TUESDAY, 14), override_reason="x")
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "same_day"


def test_not_rems_certified(desk_api, esk_course, other_site):
    chair = ChairFactory(location=other_site, name="LA 1", serves_esketamine=True)
    response = post_session(desk_api, esk_course, chair, local(other_site, TUESDAY, 10))
    assert response.status_code == 409
    assert response.json()["code"] == "not_rems_certified"


def test_modality_mismatch(desk_api, iv_course, chair):
    response = post_session(desk_api, iv_course, chair, local(chair.location, TUESDAY, 10))
    assert response.status_code == 409
    assert response.json()["code"] == "modality_mismatch"


def test_in_the_past(desk_api, esk_course, chair):
    with time_machine.travel("2026-03-04 15:00Z", tick=False):
        response = post_session(desk_api, esk_course, chair, local(chair.location, date(2026, 3, 4), 9))
    assert response.status_code == 409
    assert response.json()["code"] == "in_the_past"


def test_a_paused_course_cannot_be_booked(desk_api, esk_course, chair):
    esk_course.status = CourseStatus.PAUSED
    esk_course.paused_at = esk_course.created_at
    esk_course.save()
    response = post_session(desk_api, esk_course, chair, local(chair.location, TUESDAY, 9))
    assert response.status_code == 409
    assert response.json()["code"] == "course_not_active"


def test_bad_input_is_a_400_with_fields(desk_api, esk_course, chair):
    response = desk_api.post("/api/sessions/", {"course": 999999, "chair": chair.pk, "start": "tomorrow"},
                             format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"course", "start"}


@pytest.mark.parametrize("chair_id", [999999, "seven", True, 2**63, -1, None])
def test_a_chair_that_is_not_one_is_a_400_on_the_chair(desk_api, esk_course, chair_id):
    # when
    response = desk_api.post("/api/sessions/", {"course": esk_course.pk, "chair": chair_id,
                                                "start": "2026-03-03T09:00:00"}, format="json")
    # then
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"chair"}
    assert not Session.objects.exists()


def test_a_time_the_clocks_skip_is_a_400(desk_api, esk_course, chair):
    response = desk_api.post("/api/sessions/", {"course": esk_course.pk, "chair": chair.pk,
                                                "start": "2026-03-08T02:30:00"}, format="json")
    assert response.status_code == 400
    assert "start" in response.json()["fields"]


# --- reschedule, cancel, no-show ---------------------------------------------------------------


def test_reschedule_moves_the_session(desk_api, esk_course, chair, book, now):
    session = book(chair, local(chair.location, TUESDAY, 9), course=esk_course)
    response = desk_api.post(f"/api/sessions/{session.pk}/reschedule/",
                             {"start": local(chair.location, date(2026, 3, 5), 13).isoformat()}, format="json")
    assert response.status_code == 200, response.json()
    session.refresh_from_db()
    assert session.local_date == date(2026, 3, 5)
    assert session.rescheduled_from == local(chair.location, TUESDAY, 9)


def test_a_refused_reschedule_keeps_the_old_slot(desk_api, esk_course, chair, book, now):
    # given our session at 09:00 and another patient's at 13:00 on the same chair
    session = book(chair, local(chair.location, TUESDAY, 9), course=esk_course)
    book(chair, local(chair.location, TUESDAY, 13))
    # when moving ours onto theirs
    response = desk_api.post(f"/api/sessions/{session.pk}/reschedule/",
                             {"start": local(chair.location, TUESDAY, 13).isoformat()}, format="json")
    # then it is refused and ours still holds 09:00: a third booking there is refused too
    assert response.status_code == 409
    assert response.json()["code"] == "chair_conflict"
    session.refresh_from_db()
    assert session.start == local(chair.location, TUESDAY, 9)
    third = TreatmentCourseFactory(patient=PatientFactory(), protocol=esk_course.protocol, start_date=TUESDAY)
    with pytest.raises(Conflict) as refused:
        booking.book_session(by=UserFactory(), course=third, chair=chair, start=local(chair.location, TUESDAY, 9))
    assert refused.value.code == "chair_conflict"


def test_a_reschedule_frees_the_old_slot(esk_course, chair, book, now):
    session = book(chair, local(chair.location, TUESDAY, 9), course=esk_course)
    booking.reschedule_session(by=UserFactory(), session=session, start=local(chair.location, TUESDAY, 13))
    other = TreatmentCourseFactory(patient=PatientFactory(), protocol=esk_course.protocol, start_date=TUESDAY)
    taken = booking.book_session(by=UserFactory(), course=other, chair=chair, start=local(chair.location, TUESDAY, 9))
    assert taken.pk


def test_cancel_needs_a_reason_and_frees_the_chair(desk_api, esk_course, chair, book, now):
    session = book(chair, local(chair.location, date(2026, 3, 5), 9), course=esk_course)
    assert desk_api.post(f"/api/sessions/{session.pk}/cancel/", {}, format="json").status_code == 400
    response = desk_api.post(f"/api/sessions/{session.pk}/cancel/", {"reason": "Unwell"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["late_cancel"] is False
    other = TreatmentCourseFactory(patient=PatientFactory(), protocol=esk_course.protocol, start_date=TUESDAY)
    assert booking.book_session(by=UserFactory(), course=other, chair=chair,
                                 start=local(chair.location, date(2026, 3, 5), 9)).pk


def test_a_cancel_under_24_hours_before_is_late(desk_api, esk_course, chair, book, now):
    session = book(chair, local(chair.location, TUESDAY, 8), course=esk_course)
    response = desk_api.post(f"/api/sessions/{session.pk}/cancel/", {"reason": "Car trouble"}, format="json")
    assert response.json()["late_cancel"] is True


def test_cancelling_twice_is_a_409_invalid_state(desk_api, esk_course, chair, book, now):
    session = book(chair, local(chair.location, TUESDAY, 8), course=esk_course)
    desk_api.post(f"/api/sessions/{session.pk}/cancel/", {"reason": "x"}, format="json")
    response = desk_api.post(f"/api/sessions/{session.pk}/cancel/", {"reason": "x"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"


def test_no_show_only_after_the_start(desk_api, esk_course, chair, book, now):
    session = book(chair, local(chair.location, TUESDAY, 9), course=esk_course)
    early = desk_api.post(f"/api/sessions/{session.pk}/no-show/")
    assert early.status_code == 409
    assert early.json()["code"] == "not_started"
    with time_machine.travel("2026-03-03 15:00Z", tick=False):
        late = desk_api.post(f"/api/sessions/{session.pk}/no-show/")
    assert late.status_code == 200
    assert Session.objects.get(pk=session.pk).status == SessionStatus.NO_SHOW


def test_changes_are_in_the_audit_trail(desk_api, esk_course, chair, book, now):
    session = book(chair, local(chair.location, date(2026, 3, 5), 9), course=esk_course)
    desk_api.post(f"/api/sessions/{session.pk}/cancel/", {"reason": "Unwell"}, format="json")
    labels = list(pghistory.models.Events.objects.tracks(session).order_by("pgh_created_at", "pgh_id")
                  .values_list("pgh_label", flat=True))
    assert labels == ["insert", "update"]


# --- history on adoption ------------------------------------------------------------------------


def test_recorded_history_moves_the_due_window(clinician_api, esk_course, chair):
    # given a course that started in February, with two sessions given before adoption
    esk_course.start_date = date(2026, 2, 23)
    esk_course.save()
    for day in ("2026-02-23", "2026-02-26"):
        response = clinician_api.post("/api/sessions/history/",
                                      {"course": esk_course.pk, "date": day, "dose_mg": "56"}, format="json")
        assert response.status_code == 201, response.json()
    # when
    window = booking_selectors.due_window_for_booking(esk_course)
    # then session 3 is due 2-5 days after 26 Feb, target +4 (alternating 3, 4)
    assert (window.number, window.earliest, window.target, window.latest) == (
        3, date(2026, 2, 28), date(2026, 3, 2), date(2026, 3, 3))


def test_history_cannot_be_in_the_future(clinician_api, esk_course):
    response = clinician_api.post("/api/sessions/history/", {"course": esk_course.pk, "date": "2026-03-09"},
                                  format="json")
    assert response.status_code == 400
    assert "date" in response.json()["fields"]


def test_only_bookers_may_book(api_as, esk_course, chair, no_role_user):
    assert post_session(api_as(no_role_user), esk_course, chair, local(chair.location, TUESDAY, 9)).status_code == 403
    assert post_session(api_as(None), esk_course, chair, local(chair.location, TUESDAY, 9)).status_code == 401


def test_forbidden_override_leaves_nothing_saved(desk_api, esk_course, chair):
    response = post_session(desk_api, esk_course, chair, local(chair.location, date(2026, 3, 11), 9),
                            override_reason="x")
    assert response.status_code == NotAllowed.status
    assert not Session.objects.exists()


def test_moving_session_2_of_a_booked_series_is_judged_by_its_own_window(esk_course, chair, book, now):
    # given sessions 1-3 booked Tue 3, Fri 6 and Tue 10 March
    first = book(chair, local(chair.location, date(2026, 3, 3), 9), course=esk_course)
    second = book(chair, local(chair.location, date(2026, 3, 6), 9), course=esk_course)
    book(chair, local(chair.location, date(2026, 3, 10), 9), course=esk_course)
    # when session 2 moves to Thursday 5 (2-5 days after session 1)
    moved = booking.reschedule_session(by=UserFactory(), session=second, start=local(chair.location,
                                                                                     date(2026, 3, 5), 13))
    # then it is allowed, and it may not pass session 3
    assert moved.local_date == date(2026, 3, 5)
    with pytest.raises(Conflict) as refused:
        booking.reschedule_session(by=UserFactory(), session=second,
                                    start=local(chair.location, date(2026, 3, 11), 9))
    assert refused.value.code == "passes_next_session"
    assert first.local_date == date(2026, 3, 3)
