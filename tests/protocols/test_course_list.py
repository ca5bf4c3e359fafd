"""The course list: filters by patient, protocol, status and computed timing, in a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from protocols.models import CourseStatus
from tests.factories import PatientFactory, TreatmentCourseFactory, standard_protocol

pytestmark = pytest.mark.django_db

# Today: count + page + phases (3); the timing filter adds the candidates and
# their phases (5). Each pin leaves room for exactly the query the scheduling
# app's ``course_session_dates`` will add per outlook batch (two batches with
# the timing filter: the candidates, then the page). The test also checks that
# the count does not grow with the number of courses.
LIST_QUERIES = 3 + 1
TIMING_LIST_QUERIES = 5 + 2


def ids(response):
    assert response.status_code == 200, response.json()
    return sorted(course["id"] for course in response.json()["results"])


def started(days_ago: int, **values):
    return TreatmentCourseFactory(start_date=timezone.localdate() - timedelta(days=days_ago), **values)


def test_the_list_filters_by_patient(desk_api, patient):
    mine = TreatmentCourseFactory(patient=patient)
    TreatmentCourseFactory()
    assert ids(desk_api.get(f"/api/courses/?patient={patient.id}")) == [mine.id]


def test_the_list_filters_by_protocol_slug(desk_api):
    infusion = TreatmentCourseFactory(protocol=standard_protocol("ketamine-iv-series"))
    TreatmentCourseFactory()
    assert ids(desk_api.get("/api/courses/?protocol=ketamine-iv-series")) == [infusion.id]


def test_the_list_filters_by_status(desk_api):
    paused = TreatmentCourseFactory(status=CourseStatus.PAUSED, paused_at=timezone.now())
    TreatmentCourseFactory()
    assert ids(desk_api.get("/api/courses/?status=paused")) == [paused.id]


def test_the_list_filters_by_computed_timing(desk_api):
    # given: session 1 is due from the start date to 7 days later; lapsed after day 21
    upcoming = started(-3)
    due = started(2)
    overdue = started(10)
    lapsed = started(22)
    started(30, status=CourseStatus.PAUSED, paused_at=timezone.now())  # paused: no timing at all
    # when / then
    assert ids(desk_api.get("/api/courses/?timing=on_track")) == [upcoming.id]
    assert ids(desk_api.get("/api/courses/?timing=due")) == [due.id]
    assert ids(desk_api.get("/api/courses/?timing=overdue")) == [overdue.id]
    assert ids(desk_api.get("/api/courses/?timing=lapsed")) == [lapsed.id]


def test_the_timing_filter_combines_with_the_other_filters_and_pages_correctly(desk_api, patient):
    # given
    mine = [started(10, patient=patient, protocol=standard_protocol(slug))
            for slug in ("esketamine-trd", "ketamine-iv-series")]
    for _ in range(3):
        started(10)
    # when
    response = desk_api.get(f"/api/courses/?timing=overdue&patient={patient.id}&page_size=1")
    # then
    assert response.json()["count"] == 2
    assert len(response.json()["results"]) == 1
    assert response.json()["results"][0]["id"] in {course.id for course in mine}


def test_a_completed_course_is_found_by_completed_timing(desk_api):
    done = TreatmentCourseFactory(protocol=standard_protocol("esketamine-mdsi"), status=CourseStatus.COMPLETED,
                                  completed_at=timezone.now())
    TreatmentCourseFactory()
    assert ids(desk_api.get("/api/courses/?timing=completed")) == [done.id]


def test_an_unknown_timing_is_a_field_error(desk_api):
    response = desk_api.get("/api/courses/?timing=late")
    assert response.status_code == 400
    assert "timing" in response.json()["fields"]


def _query_count(api, url):
    with CaptureQueriesContext(connection) as captured:
        assert api.get(url).status_code == 200
    return len(captured)


def _more_courses(count):
    for index in range(count):
        slug = ("esketamine-trd", "ketamine-iv-series", "esketamine-mdsi", "ketamine-iv-weekly")[index % 4]
        started(index * 3, patient=PatientFactory(rems_enrolled_on=None, rems_patient_id=""),
                protocol=standard_protocol(slug))


@pytest.mark.parametrize("url, pinned", [("/api/courses/", LIST_QUERIES),
                                         ("/api/courses/?timing=due", TIMING_LIST_QUERIES)])
def test_the_list_takes_the_same_number_of_queries_for_any_number_of_courses(
    desk_api, django_assert_max_num_queries, url, pinned
):
    # given
    _more_courses(2)
    desk_api.get(url)  # the first request reads the user's roles
    few = _query_count(desk_api, url)
    _more_courses(20)
    # when
    with django_assert_max_num_queries(pinned):
        response = desk_api.get(url)
    # then
    assert response.status_code == 200
    assert _query_count(desk_api, url) == few
