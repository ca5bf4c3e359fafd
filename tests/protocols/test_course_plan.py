"""GET /api/courses/{id}/plan/: the projected sessions of a course, straight from the due engine."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from protocols.models import CourseStatus
from tests.factories import TreatmentCourseFactory, standard_protocol

pytestmark = pytest.mark.django_db


def plan_of(api, course):
    response = api.get(f"/api/courses/{course.id}/plan/")
    assert response.status_code == 200, response.json()
    return response.json()


def offsets(rows, start, key="target"):
    return [(timezone.datetime.fromisoformat(row[key]).date() - start).days for row in rows]


def test_a_new_esketamine_trd_course_projects_the_domain_schedule(desk_api, course):
    # when
    rows = plan_of(desk_api, course)
    # then: induction twice weekly, weeks 5-8 weekly, then every 2 weeks (four rows of it)
    assert offsets(rows, course.start_date) == [0, 3, 7, 10, 14, 17, 21, 24, 31, 38, 45, 52, 66, 80, 94, 108]
    assert [row["number"] for row in rows] == list(range(1, 17))
    assert [row["phase"] for row in rows] == (
        ["Induction"] * 8 + ["Maintenance weeks 5-8"] * 4 + ["Maintenance every 2 weeks"] * 4)
    assert offsets(rows, course.start_date, "earliest")[:3] == [0, 2, 5]
    assert offsets(rows, course.start_date, "latest")[:3] == [7, 5, 8]
    assert rows[0] == {**rows[0], "session": None, "booked": None, "status": "due"}
    assert {row["status"] for row in rows[1:]} == {"projected"}


def test_an_iv_series_projects_six_infusions_over_twelve_days_then_monthly(desk_api):
    course = TreatmentCourseFactory(protocol=standard_protocol("ketamine-iv-series"))
    rows = plan_of(desk_api, course)
    assert offsets(rows, course.start_date) == [0, 2, 5, 7, 10, 12, 40, 68, 96, 124]


def test_the_plan_follows_booked_dates(desk_api, session_dates, course):
    # given: session 1 booked a day after its target
    booked = course.start_date + timedelta(days=1)
    session_dates[course.id] = ((), (booked,))
    # when
    rows = plan_of(desk_api, course)
    # then
    assert (rows[0]["status"], rows[0]["booked"]) == ("booked", booked.isoformat())
    assert offsets(rows, course.start_date)[1] == 1 + 3


def test_a_discontinued_course_has_no_plan(desk_api):
    course = TreatmentCourseFactory(status=CourseStatus.DISCONTINUED, discontinued_reason="Moved away.")
    assert plan_of(desk_api, course) == []
