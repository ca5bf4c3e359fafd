"""Per-course outcomes: baseline, latest, change, response and remission; and the demo's measures.

"Now" is Monday 2 March 2026, 09:00 in New York (tests/conftest.py). ``jan_course``
starts on Monday 5 January, so its sessions, and the measures taken at them, are past.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from patients.models import OutcomeMeasure
from scheduling.charting import outcomes
from scheduling.demo.measures import create_demo_measures
from scheduling.models import SessionMeasure, SessionStatus
from tests.factories import SessionRowFactory, TreatmentCourseFactory, standard_protocol
from tests.scheduling.charting.chart_steps import phq9_at
from tests.scheduling.conftest import JAN_5

pytestmark = pytest.mark.django_db


# -- per-course outcomes -----------------------------------------------------------------------------


def test_course_outcomes_give_baseline_latest_change_and_flags(jan_course, clinician, session_on):
    # given a PHQ-9 before the course (not the baseline), then 20 -> 14 -> 10 at sessions
    outcomes.record_measure(by=clinician, patient=jan_course.patient, instrument="phq9", items=[3] * 8 + [0],
                            taken_at=datetime(2025, 12, 20, 15, tzinfo=UTC))
    first = session_on(jan_course, JAN_5, SessionStatus.DISCHARGED)
    middle = session_on(jan_course, date(2026, 1, 12), SessionStatus.DISCHARGED)
    last = session_on(jan_course, date(2026, 1, 19), SessionStatus.DISCHARGED)
    phq9_at(first, clinician, items=[3, 3, 3, 3, 2, 2, 2, 2, 0])
    phq9_at(middle, clinician, items=[2, 2, 2, 2, 2, 2, 1, 1, 0])
    phq9_at(last, clinician, items=[2, 2, 1, 1, 1, 1, 1, 1, 0])
    # when
    result = outcomes.course_outcomes(jan_course)
    # then
    phq9 = result["phq9"]
    assert phq9["baseline"]["total"] == 20
    assert phq9["baseline"]["session"] == first.pk
    assert phq9["latest"]["total"] == 10
    assert phq9["latest"]["date"] == date(2026, 1, 19)
    assert phq9["change"] == -10
    assert phq9["response"] is True
    assert phq9["remission"] is False
    assert [(p["total"], p["band"], p["session"]) for p in phq9["points"]] == [
        (20, "severe", first.pk), (14, "moderate", middle.pk), (10, "moderate", last.pk)]
    assert list(result) == ["phq9"]


def test_remission_at_the_latest_measure(jan_course, clinician, session_on):
    phq9_at(session_on(jan_course, JAN_5, SessionStatus.DISCHARGED), clinician, items=[2] * 8 + [0])
    phq9_at(session_on(jan_course, date(2026, 1, 12), SessionStatus.DISCHARGED), clinician,
            items=[1, 1, 1, 1, 0, 0, 0, 0, 0])
    phq9 = outcomes.course_outcomes(jan_course)["phq9"]
    assert (phq9["change"], phq9["response"], phq9["remission"]) == (-12, True, True)


def test_a_baseline_alone_earns_neither_flag(jan_course, clinician, session_on):
    # given a single low PHQ-9
    phq9_at(session_on(jan_course, JAN_5, SessionStatus.DISCHARGED), clinician, items=[1, 1, 1, 0, 0, 0, 0, 0, 0])
    # when
    phq9 = outcomes.course_outcomes(jan_course)["phq9"]
    # then
    assert phq9["baseline"] == phq9["latest"]
    assert (phq9["change"], phq9["response"], phq9["remission"]) == (0, False, False)


def test_instruments_are_summarised_separately(jan_course, clinician, session_on):
    session = session_on(jan_course, JAN_5, SessionStatus.DISCHARGED)
    phq9_at(session, clinician)
    outcomes.record_measure(by=clinician, patient=jan_course.patient, instrument="madrs", items=[3] * 10,
                            taken_at=session.start, session=session)
    result = outcomes.course_outcomes(jan_course)
    assert sorted(result) == ["madrs", "phq9"]
    assert result["madrs"]["baseline"]["total"] == 30


def test_a_measure_at_another_courses_session_does_not_count(jan_course, iv_chair, clinician, session_on):
    # given the same patient on IV ketamine too, with a PHQ-9 at an IV session
    iv = TreatmentCourseFactory(patient=jan_course.patient, protocol=standard_protocol("ketamine-iv-series"),
                                start_date=JAN_5)
    phq9_at(session_on(iv, date(2026, 1, 6), SessionStatus.DISCHARGED, on=iv_chair), clinician, items=[3] * 8 + [0])
    phq9_at(session_on(jan_course, date(2026, 1, 7), SessionStatus.DISCHARGED), clinician)
    # when
    result = outcomes.course_outcomes(jan_course)
    # then
    assert [p["total"] for p in result["phq9"]["points"]] == [8]


# -- demo data ---------------------------------------------------------------------------------------


def test_the_demo_shows_response_remission_and_an_acknowledged_alert_and_runs_twice(now, clinician):
    # given three courses, each with ten sessions given since 5 January
    offsets = (0, 3, 7, 10, 14, 17, 21, 24, 31, 38)
    courses = TreatmentCourseFactory.create_batch(3, protocol=standard_protocol("esketamine-trd"), start_date=JAN_5)
    for course in courses:
        for day in (JAN_5 + timedelta(days=offset) for offset in offsets):
            noon = datetime.combine(day, time(12), UTC)
            SessionRowFactory(course=course, chair=None, start=noon, end=noon + timedelta(hours=3), local_date=day,
                              status=SessionStatus.DISCHARGED)
    # when
    created = create_demo_measures(courses, by=clinician)
    again = create_demo_measures(courses, by=clinician)
    # then
    assert created == 18  # baseline, weekly in induction (days 7, 14, 21), every maintenance session
    assert again == 0
    flags = [(o["phq9"]["response"], o["phq9"]["remission"])
             for o in (outcomes.course_outcomes(course) for course in courses)]
    assert flags == [(True, True), (True, False), (False, False)]
    assert all(15 <= outcomes.course_outcomes(c)["phq9"]["baseline"]["total"] <= 22 for c in courses)
    alerts = OutcomeMeasure.objects.filter(item9_positive=True)
    assert alerts.count() == 1
    assert alerts.get().alert_acknowledged_at is not None
    assert all(outcomes.measure_due(link.session) for link in SessionMeasure.objects.select_related("session"))
