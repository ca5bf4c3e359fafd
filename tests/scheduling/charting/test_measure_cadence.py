"""Which sessions are due a PHQ-9: the first of a course, weekly in induction, every maintenance session.

"Now" is Monday 2 March 2026, 09:00 in New York (tests/conftest.py). ``jan_course``
starts on Monday 5 January, so its sessions, and the measures taken at them, are past.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scheduling.charting import outcomes
from scheduling.models import Session, SessionStatus
from tests.factories import PHQ9_CLEAR, TreatmentCourseFactory
from tests.scheduling.charting.chart_steps import phq9_at
from tests.scheduling.conftest import JAN_5

pytestmark = pytest.mark.django_db

# measures_due for any number of sessions: courses, protocols, phases, locations, completed sessions, PHQ-9s.
MEASURES_DUE_MAX_QUERIES = 6


# -- the cadence -------------------------------------------------------------------------------------


def test_the_first_session_of_a_course_is_due_a_phq9_even_after_an_intake_phq9(esk_course, clinician, now, session_on):
    # given a PHQ-9 at intake this morning, and session 1 booked for tomorrow, the start date
    outcomes.record_measure(by=clinician, patient=esk_course.patient, instrument="phq9", items=PHQ9_CLEAR)
    session = session_on(esk_course, date(2026, 3, 3), SessionStatus.BOOKED)
    # when
    due = outcomes.measure_due(session)
    # then the course's baseline is taken at its first session
    assert due is True


def test_an_induction_session_3_days_after_a_phq9_is_not_due(jan_course, clinician, session_on):
    # given session 1 on Monday 5 January with its PHQ-9
    phq9_at(session_on(jan_course, JAN_5, SessionStatus.DISCHARGED), clinician)
    # when
    second = session_on(jan_course, date(2026, 1, 8), SessionStatus.DISCHARGED)
    # then
    assert outcomes.measure_due(second) is False


def test_an_induction_session_6_days_after_a_phq9_is_not_due(jan_course, clinician, session_on):
    phq9_at(session_on(jan_course, JAN_5, SessionStatus.DISCHARGED), clinician)
    assert outcomes.measure_due(session_on(jan_course, date(2026, 1, 11), SessionStatus.DISCHARGED)) is False


def test_an_induction_session_7_days_after_a_phq9_is_due(jan_course, clinician, session_on):
    # given session 1 with a PHQ-9 and session 2 three days later without one
    phq9_at(session_on(jan_course, JAN_5, SessionStatus.DISCHARGED), clinician)
    session_on(jan_course, date(2026, 1, 8), SessionStatus.DISCHARGED)
    # when
    third = session_on(jan_course, date(2026, 1, 12), SessionStatus.DISCHARGED)
    # then
    assert outcomes.measure_due(third) is True


def test_a_gad7_does_not_stand_in_for_the_weekly_phq9(jan_course, clinician, session_on):
    # given session 1 with only a GAD-7
    first = session_on(jan_course, JAN_5, SessionStatus.DISCHARGED)
    outcomes.record_measure(by=clinician, patient=jan_course.patient, instrument="gad7", items=[1] * 7,
                            taken_at=first.start, session=first)
    # when / then
    assert outcomes.measure_due(session_on(jan_course, date(2026, 1, 8), SessionStatus.DISCHARGED)) is True


def test_the_phq9_taken_at_the_session_itself_does_not_change_the_answer(jan_course, clinician, session_on):
    # given session 1, then session 2 with a week's gap since any PHQ-9
    phq9_at(session_on(jan_course, JAN_5, SessionStatus.DISCHARGED), clinician)
    second = session_on(jan_course, date(2026, 1, 12), SessionStatus.DISCHARGED)
    assert outcomes.measure_due(second) is True
    # when its PHQ-9 is recorded
    phq9_at(second, clinician)
    # then
    assert outcomes.measure_due(second) is True


def test_a_maintenance_session_is_always_due(jan_course, clinician, session_on):
    # given the 8 induction sessions given, the last with a PHQ-9 the day before session 9
    days = [JAN_5 + timedelta(days=offset) for offset in (0, 3, 7, 10, 14, 17, 21, 24)]
    induction = [session_on(jan_course, day, SessionStatus.DISCHARGED) for day in days]
    phq9_at(induction[-1], clinician)
    # when
    ninth = session_on(jan_course, days[-1] + timedelta(days=1), SessionStatus.BOOKED)
    # then
    assert outcomes.measure_due(ninth) is True


def test_cancelled_sessions_do_not_count_toward_the_phase(jan_course, clinician, session_on):
    # given 7 given sessions and one cancelled: the next is still session 8, in induction
    days = [JAN_5 + timedelta(days=offset) for offset in (0, 3, 7, 10, 14, 17, 21)]
    given = [session_on(jan_course, day, SessionStatus.DISCHARGED) for day in days]
    session_on(jan_course, date(2026, 1, 28), SessionStatus.CANCELLED)
    phq9_at(given[-1], clinician)
    # when
    eighth = session_on(jan_course, date(2026, 1, 29), SessionStatus.DISCHARGED)
    # then
    assert outcomes.measure_due(eighth) is False


def test_a_cancelled_session_is_never_due(esk_course, session_on):
    session = session_on(esk_course, date(2026, 3, 3), SessionStatus.CANCELLED)
    assert outcomes.measure_due(session) is False


def test_the_cadence_of_many_sessions_takes_a_fixed_number_of_queries(
        jan_course, clinician, django_assert_max_num_queries, session_on):
    # given ten sessions of two courses
    other = TreatmentCourseFactory(protocol=jan_course.protocol, start_date=JAN_5)
    sessions = []
    for offset in (0, 3, 7, 10, 14):
        sessions.append(session_on(jan_course, JAN_5 + timedelta(days=offset), SessionStatus.DISCHARGED, hour=8))
        sessions.append(session_on(other, JAN_5 + timedelta(days=offset), SessionStatus.DISCHARGED, hour=12))
    # PHQ-9s on 5 and 12 January for the first course, on 8 January for the other
    for index in (0, 4, 3):
        phq9_at(sessions[index], clinician)
    fresh = list(Session.objects.filter(pk__in=[s.pk for s in sessions]))
    # when
    with django_assert_max_num_queries(MEASURES_DUE_MAX_QUERIES):
        answers = outcomes.measures_due(fresh)
    # then
    due_days = sorted((s.course_id == jan_course.pk, s.local_date.day) for s in fresh if answers[s.pk])
    assert due_days == [(False, 5), (False, 8), (False, 15), (False, 19), (True, 5), (True, 12), (True, 19)]
