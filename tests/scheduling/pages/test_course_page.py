"""The course's page: where the course stands, its history, and each action with the API's roles and words.

"Now" is Monday 2 March 2026, 09:00 in New York (tests/conftest.py). ``course`` is an active
esketamine-trd course starting today; ``lapsed_course`` started 22 days ago and had no session,
so it is lapsed. ``desk``/``nurse`` are the front desk's and a clinician's browsers
(tests/scheduling/pages/conftest.py); ``boss`` is a manager's.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from protocols.models import CourseStatus
from scheduling.pages.course_actions import ACTIONS
from tests.factories import TreatmentCourseFactory, standard_protocol

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

CLINICIAN_AND_MANAGER_ACTIONS = ("pause", "discontinue")
CLINICIAN_ONLY_ACTIONS = ("maintenance-frequency", "restart-phase")


@pytest.fixture
def boss(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def lapsed_course(patient, now):
    """An esketamine-trd course that started 22 days ago and never had a session: lapsed, needs review."""
    return TreatmentCourseFactory(patient=patient, protocol=standard_protocol("esketamine-trd"),
                                  start_date=now.date() - timedelta(days=22))


def page(client, course) -> str:
    response = client.get(f"/courses/{course.id}/")
    assert response.status_code == 200
    return response.content.decode()


def act(client, course, action, **data):
    return client.post(f"/courses/{course.id}/{action}/", data)


# --- what the page shows -----------------------------------------------------------------------------------


def test_the_page_shows_protocol_status_phase_plan_and_next_due(desk, desk_api, site, course):
    html = page(desk, course)
    plan = desk_api.get(f"/api/courses/{course.id}/plan/").json()
    assert course.protocol.name in html
    assert 'data-testid="course-status" data-status="active"' in html
    assert 'data-testid="course-phase">Induction<' in html
    assert "Session 1 due Mon Mar 2" in html
    assert html.count('data-testid="plan-step"') == len(plan)  # the rows the API's plan gives
    assert f'data-number="{plan[-1]["number"]}"' in html


def test_next_due_says_when_that_session_is_already_booked(desk, site, chair, book, course, patient):
    # given session 1, due from today, booked for Tuesday
    book(chair, site.at(date(2026, 3, 3), time(10)), course=course)
    # then neither the course's page nor the patient's reads as a visit left to book
    expected = 'Session 1 booked for Tue Mar 3 (due Mon Mar 2'
    assert expected in page(desk, course)
    patient_page = desk.get(f"/patients/{patient.id}/").content.decode()
    assert expected in patient_page
    assert "Session 1 due Mon Mar 2" not in patient_page


def test_sessions_so_far_read_on_the_sites_clock_and_an_override_is_on_file(desk, site, chair, book, course,
                                                                            clinician):
    # given session 1 booked for Tuesday 10:00 in New York, and session 2 booked outside its window by a clinician
    book(chair, site.at(date(2026, 3, 3), time(10)), course=course)
    book(chair, site.at(date(2026, 3, 20), time(10)), course=course, by=clinician,
         override_reason="The patient travels until then")
    # when
    html = page(desk, course)
    # then
    assert html.count('data-testid="course-session" data-status="booked"') == 2
    assert "Tue Mar 3, 2026 10:00" in html
    assert "Booked outside the due window</strong> (Fri Mar 20): The patient travels until then" in html


def test_a_change_made_through_the_api_shows_in_the_pages_history(clinician_api, clinician, desk, site, course):
    clinician_api.post(f"/api/courses/{course.id}/pause/")
    html = page(desk, course)
    assert 'data-testid="history-what">Paused<' in html
    assert (clinician.get_full_name() or clinician.username) in html


def test_opening_the_page_is_logged_as_a_read_of_the_patients_record(desk, site, course, front_desk):
    page(desk, course)
    assert course.patient.accesses.filter(user=front_desk, path=f"/courses/{course.id}/").exists()


def test_an_unknown_course_is_a_404(desk):
    assert desk.get("/courses/999999/").status_code == 404


# --- who sees which action ------------------------------------------------------------------------------------


def test_the_front_desk_sees_no_action(desk, site, course):
    html = page(desk, course)
    assert 'data-testid="no-actions"' in html
    assert not any(f'data-testid="action-{name}"' in html for name in ACTIONS)


def test_a_manager_sees_pause_and_discontinue_but_not_the_clinicians_actions(boss, site, course):
    html = page(boss, course)
    for name in CLINICIAN_AND_MANAGER_ACTIONS:
        assert f'data-testid="action-{name}"' in html
    assert 'data-testid="action-maintenance-frequency"' not in html


def test_a_clinician_sees_the_weekly_switch_and_a_lapsed_course_offers_a_restart(nurse, site, lapsed_course):
    html = page(nurse, lapsed_course)
    for name in ("pause", "maintenance-frequency", "restart-phase", "discontinue"):
        assert f'data-testid="action-{name}"' in html
    assert 'data-testid="action-resume"' not in html


# --- each action ---------------------------------------------------------------------------------------


def test_a_clinician_pauses_with_a_reason_and_the_history_says_who_and_why(nurse, site, course):
    # when
    response = act(nurse, course, "pause", reason="Travelling for two weeks")
    # then
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.status == CourseStatus.PAUSED
    html = nurse.get(response["Location"]).content.decode()
    assert "Paused: the course keeps its place" in html
    assert 'data-testid="history-what">Paused<' in html
    assert "Travelling for two weeks" in html
    assert "Ana Ortiz" in html
    assert 'data-testid="action-resume"' in html


def test_a_manager_resumes_a_paused_course(boss, site, course, manager):
    course.pause()
    course.save()
    # when
    response = act(boss, course, "resume", reason="Back from travel")
    # then
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE
    html = boss.get(response["Location"]).content.decode()
    assert 'data-testid="history-what">Resumed<' in html and "Back from travel" in html


def test_discontinuing_keeps_the_reason_and_ends_the_actions(nurse, site, course):
    response = act(nurse, course, "discontinue", reason="Moved away")
    assert response.status_code == 302
    html = nurse.get(response["Location"]).content.decode()
    assert 'data-status="discontinued"' in html
    assert "Moved away" in html
    assert "The course has ended." in html


def test_a_clinician_switches_maintenance_to_weekly_with_a_reason(nurse, site, course):
    response = act(nurse, course, "maintenance-frequency", frequency="weekly", reason="Relapse risk")
    assert response.status_code == 302
    course.refresh_from_db()
    assert (course.maintenance_frequency, course.frequency_reason) == ("weekly", "Relapse risk")
    html = nurse.get(response["Location"]).content.decode()
    assert "Maintenance frequency changed: now weekly." in html
    assert 'data-testid="history-what">Maintenance: weekly<' in html


def test_a_clinician_restarts_the_phase_of_a_lapsed_course(nurse, site, lapsed_course):
    response = act(nurse, lapsed_course, "restart-phase", reason="Reviewed; restarting induction")
    assert response.status_code == 302
    lapsed_course.refresh_from_db()
    assert lapsed_course.restart_reason == "Reviewed; restarting induction"
    html = nurse.get(response["Location"]).content.decode()
    assert "Phase restarted after a lapse" in html


# --- refusals: the API's status and words, in place ------------------------------------------------------


@pytest.mark.parametrize("action", [*CLINICIAN_AND_MANAGER_ACTIONS, "resume", *CLINICIAN_ONLY_ACTIONS])
def test_the_front_desk_is_refused_every_action_with_the_apis_words(desk, desk_api, site, course, action):
    body = {"reason": "x", "frequency": "weekly"}
    # when
    response = act(desk, course, action, **body)
    # then
    api = desk_api.post(f"/api/courses/{course.id}/{action}/", body, format="json")
    assert response.status_code == api.status_code == 403
    assert api.json()["detail"] in response.content.decode()
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE


@pytest.mark.parametrize("action", CLINICIAN_ONLY_ACTIONS)
def test_a_manager_is_refused_the_clinicians_actions(boss, manager_api, site, lapsed_course, action):
    body = {"reason": "x", "frequency": "weekly"}
    response = act(boss, lapsed_course, action, **body)
    api = manager_api.post(f"/api/courses/{lapsed_course.id}/{action}/", body, format="json")
    assert response.status_code == api.status_code == 403
    assert api.json()["detail"] in response.content.decode()


def test_discontinuing_without_a_reason_is_a_400_beside_the_reason(nurse, site, course):
    response = act(nurse, course, "discontinue", reason="  ")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="discontinue-reason-error"' in html and "A reason is required." in html
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE


def test_an_unknown_frequency_is_a_400_beside_the_frequency_and_keeps_the_reason(nurse, site, course):
    response = act(nurse, course, "maintenance-frequency", frequency="daily", reason="Relapse risk")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="maintenance-frequency-frequency-error"' in html
    assert ">Relapse risk</textarea>" in html


def test_a_reason_longer_than_the_api_takes_is_refused(nurse, site, course):
    response = act(nurse, course, "discontinue", reason="x" * 4001)
    assert response.status_code == 400
    assert 'id="discontinue-reason-error"' in response.content.decode()


def test_resuming_an_active_course_is_a_409_in_the_services_words(nurse, site, course):
    # given: the page was opened while the course was paused, and someone resumed it since
    response = act(nurse, course, "resume")
    assert response.status_code == 409
    html = response.content.decode()
    assert 'data-code="invalid_state"' in html
    assert "This course is active, so it cannot be resumed." in html
    assert 'data-testid="action-resume"' in html  # the refusal stands in the form that was sent


def test_restarting_a_course_that_has_not_lapsed_is_a_409(nurse, site, course):
    response = act(nurse, course, "restart-phase", reason="Back from travel")
    assert response.status_code == 409
    assert 'data-code="not_lapsed"' in response.content.decode()


def test_an_action_needs_a_post(nurse, site, course):
    assert nurse.get(f"/courses/{course.id}/pause/").status_code == 405
