"""Recorded history: a course's sessions given before it was entered, under the rules a clinic audit expects.

Clinicians and managers only; only before the course's first session booked here; never on a day the
course already has a session (a no-show included); each dose checked as any dose; the course and its
worklist move on with it.
"""

from __future__ import annotations

from datetime import date

import pytest

from protocols.models import CourseStatus
from scheduling.booking import services as booking
from scheduling.models import Session
from tests.factories import TreatmentCourseFactory, standard_protocol
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

FEBRUARY = date(2026, 2, 16)


@pytest.fixture
def started_in_february(esk_course):
    esk_course.start_date = FEBRUARY
    esk_course.save()
    return esk_course


def post_history(api, course, day: str, **extra):
    return api.post("/api/sessions/history/", {"course": course.pk, "date": day, **extra}, format="json")


def test_the_front_desk_cannot_record_history(desk_api, started_in_february):
    # when
    response = post_history(desk_api, started_in_february, "2026-02-17", dose_mg="56")
    # then
    assert response.status_code == 403
    assert not Session.objects.filter(course=started_in_february).exists()


def test_a_manager_may_record_history(manager_api, started_in_february):
    assert post_history(manager_api, started_in_february, "2026-02-17", dose_mg="56").status_code == 201


def test_the_service_refuses_the_front_desk_too(front_desk, started_in_february):
    with pytest.raises(booking.NotAllowed) as refused:
        booking.record_past_session(by=front_desk, course=started_in_february, day=date(2026, 2, 17))
    assert refused.value.code == "history_needs_clinician"


def test_history_on_a_day_that_had_a_no_show_is_refused(clinician_api, started_in_february, chair, book,
                                                         front_desk, clock):
    # given a session booked on 17 February that the patient did not come to
    clock.move_to(local(chair.location, date(2026, 2, 16), 8))
    missed = book(chair, local(chair.location, date(2026, 2, 17), 10), course=started_in_february)
    clock.move_to(local(chair.location, date(2026, 2, 17), 15))
    booking.mark_no_show(by=front_desk, session=missed)
    clock.move_to(local(chair.location, date(2026, 3, 2), 9))
    # when history is recorded for that day
    response = post_history(clinician_api, started_in_february, "2026-02-17", dose_mg="56")
    # then
    assert response.status_code in (400, 409), response.json()
    assert Session.objects.filter(course=started_in_february, recorded_history=True).count() == 0


def test_history_is_only_before_the_first_session_booked_here(clinician_api, started_in_february, chair, book,
                                                               clock):
    # given the course's first session booked in the system on Friday 20 February
    clock.move_to(local(chair.location, date(2026, 2, 18), 9))
    book(chair, local(chair.location, date(2026, 2, 20), 10), course=started_in_february)
    clock.move_to(local(chair.location, date(2026, 3, 2), 9))
    # when history is recorded after it
    response = post_history(clinician_api, started_in_february, "2026-02-23", dose_mg="56")
    # then
    assert response.status_code == 400
    assert "date" in response.json()["fields"]
    # and before it, it is accepted
    assert post_history(clinician_api, started_in_february, "2026-02-17", dose_mg="56").status_code == 201


@pytest.mark.parametrize("dose", ["99.5", "28", "112"])
def test_a_recorded_esketamine_dose_must_be_a_protocol_dose(clinician_api, started_in_february, dose):
    response = post_history(clinician_api, started_in_february, "2026-02-17", dose_mg=dose)
    assert response.status_code == 400
    assert "dose_mg" in response.json()["fields"]


def test_the_first_recorded_dose_is_the_protocols_first_dose(clinician_api, started_in_february):
    # when the first session of an esketamine-trd course is recorded at 84 mg
    response = post_history(clinician_api, started_in_february, "2026-02-17", dose_mg="84")
    # then it is refused: 84 mg comes only after 56 mg
    assert response.status_code == 400
    assert "dose_mg" in response.json()["fields"]


def test_84_mg_after_a_recorded_56_mg_is_accepted(clinician_api, started_in_february):
    assert post_history(clinician_api, started_in_february, "2026-02-17", dose_mg="56").status_code == 201
    assert post_history(clinician_api, started_in_february, "2026-02-20", dose_mg="84").status_code == 201


def test_recording_the_last_session_of_a_finite_course_completes_it(clinician, now):
    # given an esketamine-mdsi course (eight sessions, then complete) with seven given before adoption
    course = TreatmentCourseFactory(protocol=standard_protocol("esketamine-mdsi"), start_date=date(2026, 2, 2))
    days = [date(2026, 2, 2 + 3 * n) for n in range(8)]
    for day in days[:7]:
        booking.record_past_session(by=clinician, course=course, day=day, dose_mg=84)
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE
    # when the eighth is recorded
    booking.record_past_session(by=clinician, course=course, day=days[7], dose_mg=84)
    # then the course is complete
    course.refresh_from_db()
    assert course.status == CourseStatus.COMPLETED


def test_recording_history_refreshes_the_courses_worklist(clinician, started_in_february, monkeypatch, now):
    # given the refresh the service asks for, recorded instead of published
    refreshed = []
    monkeypatch.setattr(booking, "refresh_course_worklist_on_commit", refreshed.append)
    # when
    booking.record_past_session(by=clinician, course=started_in_february, day=date(2026, 2, 17), dose_mg=56)
    # then the course's worklist follows
    assert refreshed == [started_in_february.pk]


def test_moving_a_recorded_visit_is_a_409_not_a_500(clinician, clinician_api, started_in_february):
    # given a visit recorded from before the system: no chair, completed
    recorded = booking.record_past_session(by=clinician, course=started_in_february, day=date(2026, 2, 17))
    assert recorded.chair_id is None
    # when someone asks to move it without naming a chair
    response = clinician_api.post(f"/api/sessions/{recorded.id}/reschedule/", {"start": "2026-03-10T10:00"},
                                  format="json")
    # then the service's refusal, not a crash on the missing chair
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"
