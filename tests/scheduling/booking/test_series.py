"""Booking a whole phase at once: "Mondays and Thursdays at 09:00", all or none, at 09:00 local across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from scheduling.booking import series
from scheduling.models import Session
from tests.factories import ClosureFactory, TreatmentCourseFactory, standard_protocol
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

MONDAY, THURSDAY, SUNDAY = 0, 3, 6
# Session 1 of esk_course is due 3-10 March; Mondays and Thursdays from Thursday 5 March.
INDUCTION_DAYS = [date(2026, 3, day) for day in (5, 9, 12, 16, 19, 23, 26, 30)]
EST, EDT = timedelta(hours=-5), timedelta(hours=-4)


def post_series(api, course, chair, first_start: str, weekdays=(MONDAY, THURSDAY), dry_run=False):
    return api.post("/api/sessions/series/", {
        "course": course.pk, "chair": chair.pk, "first_start": first_start, "weekdays": list(weekdays),
        "dry_run": dry_run,
    }, format="json")


def local_starts(sessions) -> list[datetime]:
    return [session.location.local(session.start) for session in sessions]


# -- dry run and booking ----------------------------------------------------------------------------


def test_a_dry_run_proposes_the_eight_induction_sessions_without_problems(desk_api, esk_course, site, chair):
    # when
    response = post_series(desk_api, esk_course, chair, "2026-03-05T09:00", dry_run=True)
    # then
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["booked"] is False
    occurrences = body["occurrences"]
    assert [occurrence["number"] for occurrence in occurrences] == list(range(1, 9))
    assert {occurrence["phase"] for occurrence in occurrences} == {"Induction"}
    assert [datetime.fromisoformat(occurrence["start"]) for occurrence in occurrences] == [
        local(site, day, 9) for day in INDUCTION_DAYS]
    assert [occurrence["problems"] for occurrence in occurrences] == [[]] * 8
    assert [occurrence["session"] for occurrence in occurrences] == [None] * 8


def test_a_dry_run_books_nothing(desk_api, esk_course, chair):
    # when
    response = post_series(desk_api, esk_course, chair, "2026-03-05T09:00", dry_run=True)
    # then
    assert response.status_code == 200, response.json()
    assert not Session.objects.exists()


def test_booking_the_series_creates_the_eight_sessions(desk_api, front_desk, esk_course, site, chair):
    # when
    response = post_series(desk_api, esk_course, chair, "2026-03-05T09:00")
    # then
    assert response.status_code == 201, response.json()
    sessions = list(esk_course.sessions.order_by("start"))
    assert [session.local_date for session in sessions] == INDUCTION_DAYS
    assert {(session.chair, session.status, session.booked_by) for session in sessions} == {
        (chair, "booked", front_desk)}
    assert [occurrence["session"] for occurrence in response.json()["occurrences"]] == [s.pk for s in sessions]


# -- daylight-saving changes ------------------------------------------------------------------------


def test_a_series_across_the_spring_clock_change_stays_at_nine_local(front_desk, esk_course, site, chair):
    # given US clocks go forward on Sunday 8 March, between the first and second sessions
    # when
    series.book_series(by=front_desk, course=esk_course, chair=chair, first_start=local(site, INDUCTION_DAYS[0], 9),
                       weekdays=[MONDAY, THURSDAY])
    # then
    starts = local_starts(esk_course.sessions.select_related("location").order_by("start"))
    assert len(starts) == 8
    assert {start.time() for start in starts} == {time(9)}
    assert [start.utcoffset() for start in starts] == [EST] + [EDT] * 7


@pytest.fixture
def october(clock):
    """The clock at Tuesday 20 October 2026, 09:00 in New York: before clocks go back on Sunday 1 November."""
    clock.move_to(datetime(2026, 10, 20, 13, 0, tzinfo=UTC))


def test_a_series_across_the_autumn_clock_change_stays_at_nine_local(october, front_desk, site, chair):
    # given a course starting Tuesday 27 October; the first session is on Thursday 29 October
    course = TreatmentCourseFactory(protocol=standard_protocol("esketamine-trd"), start_date=date(2026, 10, 27))
    # when
    series.book_series(by=front_desk, course=course, chair=chair, first_start=local(site, date(2026, 10, 29), 9),
                       weekdays=[MONDAY, THURSDAY])
    # then
    starts = local_starts(course.sessions.select_related("location").order_by("start"))
    assert [start.date() for start in starts] == [
        date(2026, 10, 29), date(2026, 11, 2), date(2026, 11, 5), date(2026, 11, 9), date(2026, 11, 12),
        date(2026, 11, 16), date(2026, 11, 19), date(2026, 11, 23)]
    assert {start.time() for start in starts} == {time(9)}
    assert [start.utcoffset() for start in starts] == [EDT] + [EST] * 7


# -- problems ---------------------------------------------------------------------------------------


@pytest.fixture
def clash(site, chair, front_desk, book):
    """Another patient on Chair 1 at 09:00 on Thursday 12 March: the third occurrence of the series."""
    return book(chair, local(site, INDUCTION_DAYS[2], 9), by=front_desk)


def test_a_series_with_one_clashing_occurrence_is_refused_as_a_series_conflict(desk_api, esk_course, chair, clash):
    # when
    response = post_series(desk_api, esk_course, chair, "2026-03-05T09:00")
    # then
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "series_conflict"
    assert [[problem["code"] for problem in occurrence["problems"]] for occurrence in body["occurrences"]] == [
        [], [], ["chair_conflict"], [], [], [], [], []]


def test_a_series_with_one_clashing_occurrence_books_nothing(desk_api, esk_course, chair, clash):
    # when
    response = post_series(desk_api, esk_course, chair, "2026-03-05T09:00")
    # then
    assert response.status_code == 409
    assert not esk_course.sessions.exists()
    assert list(Session.objects.all()) == [clash]


def test_a_dry_run_reports_the_clashing_occurrence_with_a_free_alternative_in_its_window(
        desk_api, esk_course, site, chair, clash):
    # when
    response = post_series(desk_api, esk_course, chair, "2026-03-05T09:00", dry_run=True)
    # then
    assert response.status_code == 200, response.json()
    occurrences = response.json()["occurrences"]
    assert [occurrence["alternative"] is not None for occurrence in occurrences] == [
        False, False, True, False, False, False, False, False]
    third = occurrences[2]
    assert [problem["code"] for problem in third["problems"]] == ["chair_conflict"]
    alternative = third["alternative"]
    start, end = datetime.fromisoformat(alternative["start"]), datetime.fromisoformat(alternative["end"])
    assert third["due"]["earliest"] <= site.local_date(start).isoformat() <= third["due"]["latest"]
    assert alternative["chair"] == chair.pk
    clean_by = end + timedelta(minutes=site.turnover_minutes)
    assert not (start < clash.occupied_until and clash.start < clean_by), "the alternative clashes too"


def test_a_dry_run_reports_a_closure_on_its_occurrence(desk_api, esk_course, site, chair):
    # given the clinic is closed on Thursday 12 March
    ClosureFactory(location=site, date=INDUCTION_DAYS[2], reason="Inspection")
    # when
    response = post_series(desk_api, esk_course, chair, "2026-03-05T09:00", dry_run=True)
    # then
    assert response.status_code == 200, response.json()
    assert [[problem["code"] for problem in occurrence["problems"]]
            for occurrence in response.json()["occurrences"]] == [[], [], ["outside_hours"], [], [], [], [], []]


def test_a_dry_run_reports_occurrences_spaced_beyond_their_window(desk_api, esk_course, site, chair):
    # when Mondays only: a week between induction sessions, which may be at most 5 days apart
    response = post_series(desk_api, esk_course, chair, "2026-03-09T09:00", weekdays=[MONDAY], dry_run=True)
    # then
    assert response.status_code == 200, response.json()
    codes = [[problem["code"] for problem in occurrence["problems"]] for occurrence in response.json()["occurrences"]]
    assert codes == [[]] + [["outside_due_window"]] * 7


def test_a_dry_run_for_a_paused_course_answers_as_booking_would(desk_api, esk_course, chair):
    # given
    esk_course.pause()
    esk_course.save()
    # when
    dry_run = post_series(desk_api, esk_course, chair, "2026-03-05T09:00", dry_run=True)
    booking = post_series(desk_api, esk_course, chair, "2026-03-05T09:00")
    # then
    assert (booking.status_code, booking.json()["code"]) == (409, "course_not_active")
    assert (dry_run.status_code, dry_run.json().get("code")) == (409, "course_not_active")


# -- input ------------------------------------------------------------------------------------------


def test_a_first_start_not_on_a_chosen_weekday_is_refused(desk_api, esk_course, chair):
    # when the first start is Tuesday 3 March, but the series is Mondays and Thursdays
    response = post_series(desk_api, esk_course, chair, "2026-03-03T09:00", dry_run=True)
    # then
    assert response.status_code == 400
    assert "first_start" in response.json()["fields"]


def test_a_first_start_without_an_offset_is_local_time_at_the_chair(desk_api, esk_course, chair):
    # when
    response = post_series(desk_api, esk_course, chair, "2026-03-05T09:00", dry_run=True)
    # then 09:00 in New York, not 09:00 UTC
    assert response.status_code == 200, response.json()
    assert response.json()["occurrences"][0]["start"] == "2026-03-05T09:00:00-05:00"


def test_a_first_start_with_an_offset_is_that_instant(desk_api, esk_course, chair):
    response = post_series(desk_api, esk_course, chair, "2026-03-05T14:00:00Z", dry_run=True)
    assert response.status_code == 200, response.json()
    assert response.json()["occurrences"][0]["start"] == "2026-03-05T09:00:00-05:00"


def test_a_first_start_the_clocks_skip_is_refused_naming_the_field(desk_api, esk_course, chair):
    # given clocks in New York jump from 02:00 to 03:00 on Sunday 8 March
    # when
    response = post_series(desk_api, esk_course, chair, "2026-03-08T02:30", weekdays=[SUNDAY], dry_run=True)
    # then
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["first_start"]


def test_no_weekdays_is_refused(desk_api, esk_course, chair):
    response = post_series(desk_api, esk_course, chair, "2026-03-05T09:00", weekdays=[], dry_run=True)
    assert response.status_code == 400
    assert "weekdays" in response.json()["fields"]
