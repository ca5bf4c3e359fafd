"""Course actions: pause, resume, discontinue, weekly maintenance, phase restart, completion."""

from __future__ import annotations

from datetime import timedelta

import pghistory.models
import pytest
import time_machine
from django.utils import timezone

from clinic.errors import NotAllowed
from protocols import services
from protocols.models import CourseStatus
from tests.factories import TreatmentCourseFactory, standard_protocol

pytestmark = pytest.mark.django_db


def post(api, course, action, body=None):
    return api.post(f"/api/courses/{course.id}/{action}/", body or {}, format="json")


def days(n):
    return timedelta(days=n)


# --- pause, resume, discontinue ---------------------------------------------


def test_a_clinician_pauses_and_resumes_a_course(clinician_api, course):
    # when
    paused = post(clinician_api, course, "pause")
    # then
    assert paused.status_code == 200, paused.json()
    assert paused.json()["status"] == "paused"
    assert paused.json()["timing"] is None
    assert paused.json()["paused_at"]
    # when
    resumed = post(clinician_api, course, "resume")
    # then
    assert resumed.status_code == 200
    assert (resumed.json()["status"], resumed.json()["paused_at"], resumed.json()["timing"]) == (
        "active", None, "due")


def test_pausing_a_paused_course_is_a_state_conflict(manager_api, course):
    post(manager_api, course, "pause")
    response = post(manager_api, course, "pause")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"
    assert response.json()["status"] == "paused"
    assert "paused" in response.json()["detail"]


def test_resuming_an_active_course_is_a_state_conflict(clinician_api, course):
    response = post(clinician_api, course, "resume")
    assert response.status_code == 409
    assert (response.json()["code"], response.json()["status"]) == ("invalid_state", "active")


def test_discontinuing_needs_a_reason(clinician_api, course):
    response = post(clinician_api, course, "discontinue", {"reason": ""})
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE


def test_a_discontinued_course_keeps_its_reason_and_cannot_be_resumed_or_paused(clinician_api, clinician, course):
    # when
    response = post(clinician_api, course, "discontinue", {"reason": "Moved away."})
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["discontinued_reason"], body["next_due"], body["timing"]) == (
        "discontinued", "Moved away.", None, None)
    course.refresh_from_db()
    assert course.discontinued_by == clinician
    for action in ("resume", "pause", "discontinue"):
        refused = post(clinician_api, course, action, {"reason": "again"})
        assert refused.status_code == 409, action
        assert refused.json()["status"] == "discontinued"


WEEKLY = {"frequency": "weekly", "reason": "Relapse risk after the holidays"}


@pytest.mark.parametrize("action", ["pause", "resume", "discontinue", "maintenance-frequency"])
def test_the_front_desk_cannot_change_a_courses_state(desk_api, course, action):
    response = post(desk_api, course, action, {"reason": "x", "frequency": "weekly"})
    assert response.status_code == 403
    course.refresh_from_db()
    assert (course.status, course.maintenance_frequency) == ("active", "default")


def test_a_change_of_state_is_recorded_with_who_made_it(clinician_api, clinician, course):
    # when
    post(clinician_api, course, "pause")
    # then
    events = pghistory.models.Events.objects.tracks(course).order_by("pgh_created_at", "pgh_id")
    update = [event for event in events if event.pgh_label == "update"][-1]
    assert update.pgh_diff["status"] == ["active", "paused"]
    assert update.pgh_context["user"] == clinician.id


# --- maintenance frequency ---------------------------------------------------


def test_weekly_maintenance_shortens_the_gap_in_the_open_ended_phase(clinician_api, session_dates, course):
    # given: twelve sessions done on target, so session 13 is in "Maintenance every 2 weeks"
    targets = (0, 3, 7, 10, 14, 17, 21, 24, 31, 38, 45, 52)
    session_dates[course.id] = (tuple(course.start_date + days(n) for n in targets), ())
    last = course.start_date + days(52)
    before = clinician_api.get(f"/api/courses/{course.id}/").json()["next_due"]
    # when
    response = post(clinician_api, course, "maintenance-frequency", WEEKLY)
    # then
    assert response.status_code == 200, response.json()
    after = response.json()["next_due"]
    assert before["phase"] == after["phase"] == "Maintenance every 2 weeks"
    assert [before["earliest"], before["target"], before["latest"]] == [
        (last + days(n)).isoformat() for n in (10, 14, 18)]
    assert [after["earliest"], after["target"], after["latest"]] == [
        (last + days(n)).isoformat() for n in (5, 7, 10)]
    assert response.json()["maintenance_frequency"] == "weekly"


def test_weekly_maintenance_leaves_induction_spacing_alone(clinician_api, session_dates, course):
    session_dates[course.id] = ((course.start_date,), ())
    before = clinician_api.get(f"/api/courses/{course.id}/").json()["next_due"]
    after = post(clinician_api, course, "maintenance-frequency", WEEKLY).json()["next_due"]
    assert before == after


@pytest.mark.parametrize("slug", ["esketamine-mdsi", "ketamine-iv-series", "ketamine-iv-weekly"])
def test_only_a_protocol_with_a_weekly_option_can_switch_to_weekly(clinician_api, slug):
    course = TreatmentCourseFactory(protocol=standard_protocol(slug))
    response = post(clinician_api, course, "maintenance-frequency", WEEKLY)
    assert response.status_code == 409
    assert response.json()["code"] == "no_weekly_option"


def test_an_unknown_frequency_is_a_field_error(clinician_api, course):
    response = post(clinician_api, course, "maintenance-frequency", {"frequency": "daily", "reason": "x"})
    assert response.status_code == 400
    assert "frequency" in response.json()["fields"]


# --- restart after a lapse ---------------------------------------------------


def test_restart_is_refused_while_the_course_is_only_overdue(clinician_api, course):
    # given: day 21 is 14 days past the latest day of session 1 (day 7): overdue, not yet lapsed
    with time_machine.travel(course.start_date + days(21), tick=False):
        # when
        response = post(clinician_api, course, "restart-phase", {"reason": "Back from travel."})
    # then
    assert response.status_code == 409
    assert (response.json()["code"], response.json()["timing"]) == ("not_lapsed", "overdue")


def test_a_clinician_restarts_the_current_phase_of_a_lapsed_course(clinician_api, clinician, session_dates, course):
    # given: three induction sessions, then nothing for weeks
    session_dates[course.id] = ((course.start_date, course.start_date + days(3), course.start_date + days(7)), ())
    restart_day = course.start_date + days(7 + 5 + 15)
    with time_machine.travel(restart_day, tick=False):
        assert clinician_api.get(f"/api/courses/{course.id}/").json()["timing"] == "lapsed"
        # when
        response = post(clinician_api, course, "restart-phase", {"reason": "Reviewed; restarting induction."})
    # then
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["restart"] == {"after_completed": 3, "phase_index": 0, "phase": "Induction",
                               "on": restart_day.isoformat(), "by": clinician.id,
                               "reason": "Reviewed; restarting induction."}
    assert body["next_due"] == {"number": 4, "phase": "Induction", "earliest": restart_day.isoformat(),
                                "target": restart_day.isoformat(),
                                "latest": (restart_day + days(7)).isoformat()}
    assert "phase_restarted" in body["flags"]


def test_a_lapsed_course_is_flagged_for_review(desk_api, course):
    with time_machine.travel(course.start_date + days(22), tick=False):
        body = desk_api.get(f"/api/courses/{course.id}/").json()
    assert body["timing"] == "lapsed"
    assert "needs_clinician_review" in body["flags"]


@pytest.mark.parametrize("who", ["desk_api", "manager_api"])
def test_only_a_clinician_may_restart_a_phase(request, who, course):
    with time_machine.travel(course.start_date + days(22), tick=False):
        response = post(request.getfixturevalue(who), course, "restart-phase", {"reason": "ok"})
    assert response.status_code == 403
    course.refresh_from_db()
    assert course.restart_on is None


def test_the_restart_service_itself_refuses_a_non_clinician(manager, course):
    from clinic.errors import NotAllowed

    with pytest.raises(NotAllowed):
        services.restart_phase(by=manager, course=course, reason="ok")


def test_restart_needs_a_reason(clinician_api, course):
    with time_machine.travel(course.start_date + days(22), tick=False):
        response = post(clinician_api, course, "restart-phase", {"reason": ""})
    assert response.status_code == 400


# --- completion --------------------------------------------------------------


def test_a_finite_course_completes_after_its_last_session(session_dates):
    # given: esketamine-mdsi has eight sessions and no open-ended phase
    course = TreatmentCourseFactory(protocol=standard_protocol("esketamine-mdsi"))
    session_dates[course.id] = (tuple(course.start_date + days(n) for n in (0, 3, 7, 10, 14, 17, 21)), ())
    assert services.complete_course_if_finished(course=course) is False
    session_dates[course.id] = (session_dates[course.id][0] + (course.start_date + days(24),), ())
    # when
    completed = services.complete_course_if_finished(course=course)
    # then
    assert completed is True
    course.refresh_from_db()
    assert (course.status, course.completed_at is not None) == ("completed", True)


def test_an_open_ended_course_never_completes(session_dates, course):
    session_dates[course.id] = (tuple(course.start_date + days(n) for n in range(0, 100, 4)), ())
    assert services.complete_course_if_finished(course=course) is False
    course.refresh_from_db()
    assert course.status == "active"


def test_a_completed_course_shows_completed_timing(desk_api):
    course = TreatmentCourseFactory(protocol=standard_protocol("esketamine-mdsi"), status="completed",
                                    completed_at=timezone.now())
    body = desk_api.get(f"/api/courses/{course.id}/").json()
    assert (body["timing"], body["next_due"]) == ("completed", None)


def test_a_manager_cannot_switch_a_course_to_weekly_maintenance(manager_api, course):
    # when
    response = post(manager_api, course, "maintenance-frequency", WEEKLY)
    # then it is a clinician's call
    assert response.status_code == 403
    course.refresh_from_db()
    assert course.maintenance_frequency == "default"


def test_switching_to_weekly_needs_a_reason(clinician_api, course):
    response = post(clinician_api, course, "maintenance-frequency", {"frequency": "weekly", "reason": "  "})
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
    course.refresh_from_db()
    assert course.maintenance_frequency == "default"


def test_the_switch_is_recorded_with_the_clinician_and_the_reason(clinician_api, clinician, course):
    # when
    response = post(clinician_api, course, "maintenance-frequency", WEEKLY)
    # then
    assert response.status_code == 200, response.json()
    course.refresh_from_db()
    assert (course.frequency_changed_by, course.frequency_reason) == (clinician, WEEKLY["reason"])
    assert response.json()["frequency_reason"] == WEEKLY["reason"]


def test_the_service_refuses_a_manager_too(manager, course):
    with pytest.raises(NotAllowed) as refused:
        services.set_maintenance_frequency(by=manager, course=course, frequency="weekly", reason="x")
    assert refused.value.code == "frequency_needs_clinician"
