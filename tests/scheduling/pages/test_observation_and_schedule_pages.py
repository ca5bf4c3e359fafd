"""The clinician's observation board and "my schedule".

``esk_session`` is booked on Monday for Tuesday 3 March 2026 at 09:00 in New York, and the clock
stands there when a test begins; ``later`` walks through the session (chart_page_steps.py).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from patients import measures
from scheduling.charting import outcomes
from tests.factories import ChairFactory
from tests.scheduling.pages.chart_page_steps import (
    CHECKLIST,
    NINE,
    NORMAL,
    checked_in_with_vitals,
    dosed,
    later,
    step,
)

pytestmark = pytest.mark.django_db

# Measured: the web session, user and roles; the user's locations; sessions with what a row shows; the
# protocols' phases; completed sessions; item-9 alerts; latest readings; the calendar feed; saving the web
# session (savepoint, update, release).
SCHEDULE_MAX_QUERIES = 13
# Measured: the web session, user and roles; the location; the sessions; doses, vitals and item-9 alerts;
# the location switcher; saving the web session (savepoint, update, release).
OBSERVATION_MAX_QUERIES = 12


# --- the observation board -----------------------------------------------------------------------------


def test_the_observation_board_lists_patients_in_treatment_with_minutes_left_and_the_bp_checkpoint(
        nurse, esk_session, chair2, clock, book):
    # given one patient dosed at 09:10 and another only checked in
    dosed(nurse, esk_session, clock)
    waiting = book(chair2, NINE + timedelta(minutes=30))
    assert step(nurse, waiting, "check-in", CHECKLIST).status_code == 302
    later(nurse, clock, 50)  # 40 minutes after the first device
    # when
    response = nurse.get(f"/observation/{esk_session.location_id}/")
    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert content.count('data-testid="observation-row"') == 2
    assert 'data-minutes-left="80"' in content
    assert 'data-checkpoint="due"' in content
    assert 'hx-trigger="every 5s"' in content and "data-ends-at=" in content


def test_the_observation_board_partial_renders_and_says_ready_to_discharge(nurse, esk_session, clock):
    dosed(nurse, esk_session, clock)
    later(nurse, clock, 131)
    response = nurse.get(f"/observation/{esk_session.location_id}/body/")
    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="observation-body"' in content and "<html" not in content
    assert 'data-testid="ready-to-discharge"' in content
    assert 'data-checkpoint="missed"' in content


def test_the_observation_board_takes_a_fixed_number_of_queries(nurse, site, staff_clinician, now, clock,
                                                               django_assert_max_num_queries, book):
    # given Tuesday 09:00, when the sessions start
    clock.move_to(NINE)
    # given four patients in treatment on four chairs
    for number in range(4):
        chair = ChairFactory(location=site, name=f"Bay {number}", serves_esketamine=True)
        session = book(chair, NINE)
        checked_in_with_vitals(nurse, session)
    # when / then
    with django_assert_max_num_queries(OBSERVATION_MAX_QUERIES):
        response = nurse.get(f"/observation/{site.pk}/")
    assert response.content.decode().count('data-testid="observation-row"') == 4


# --- my schedule ---------------------------------------------------------------------------------------


def test_my_schedule_shows_today_with_number_phase_alerts_and_the_calendar_link(nurse, esk_session, clock):
    # given an item-9 alert and no REMS enrolment on the patient
    patient = esk_session.patient
    outcomes.record_measure(by=esk_session.clinician, patient=patient, instrument=measures.PHQ9,
                            items=[1, 1, 1, 1, 1, 1, 1, 1, 2])
    patient.rems_enrolled_on, patient.rems_patient_id = None, ""
    patient.save()
    # when
    response = nurse.get("/schedule/")
    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert f'data-session-id="{esk_session.pk}" data-mine="true"' in content
    assert "Session 1 · " in content
    assert "PHQ-9 item 9 alert" in content and "Not REMS-enrolled" in content
    assert f'href="/sessions/{esk_session.pk}/chart/"' in content
    assert re.search(r'data-testid="calendar-feed-link"[^>]*>|href="http://testserver/ical/clinician/[^"]+\.ics"',
                     content)
    assert "/ical/clinician/" in content


def test_my_schedule_flags_a_high_last_blood_pressure(nurse, esk_session, clock):
    checked_in_with_vitals(nurse, esk_session, {**NORMAL, "systolic": "160"})
    assert "High BP" in nurse.get("/schedule/").content.decode()


def test_my_schedule_takes_a_fixed_number_of_queries(nurse, site, staff_clinician, now, clock,
                                                     django_assert_max_num_queries, book):
    # given Tuesday 09:00, when the sessions start
    clock.move_to(NINE)
    for number in range(4):
        chair = ChairFactory(location=site, name=f"Bay {number}", serves_esketamine=True)
        book(chair, NINE)
    nurse.get("/schedule/")  # the calendar feed is created on the first visit
    with django_assert_max_num_queries(SCHEDULE_MAX_QUERIES):
        response = nurse.get("/schedule/")
    assert response.content.decode().count('data-testid="schedule-row"') == 4
