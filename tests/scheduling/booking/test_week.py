"""The week's reads: a site's days by chairs, every site's counts, and the courses due on a day.

The clinic day of tests/scheduling/conftest.py: Midtown (New York, Monday to Saturday 08:00-18:00), now
Monday 2 March 2026 09:00 there; esketamine-trd holds a chair 150 minutes plus 15 minutes' turnover.
"""

from __future__ import annotations

from datetime import date

import pytest

from clinic.roles import CLINICIAN
from protocols.models import CourseStatus
from scheduling.booking import selectors as booking_selectors
from scheduling.booking import week
from scheduling.models import SessionStatus
from tests.factories import TreatmentCourseFactory, UserFactory, standard_protocol
from tests.scheduling.conftest import NOW, TUESDAY

MONDAY = date(2026, 3, 2)
SUNDAY = date(2026, 3, 8)


def _site(site):
    """The site as the week page reads it: hours and closures prefetched."""
    return booking_selectors.locations_for_lists().get(pk=site.pk)


def _row(site_week, day, chair):
    found = next(one for one in site_week.days if one.day == day)
    return next(row for row in found.chairs if row.chair.pk == chair.pk)


def _kinds(row):
    return [(segment.kind, segment.start_clock, segment.end_clock) for segment in row.segments]


def test_a_chairs_day_is_sessions_free_time_and_closed_time_on_one_axis(site, chair, chair2, session_on, esk_course,
                                                                        now):
    session_on(esk_course, TUESDAY, hour=10)
    shown = week.site_week(_site(site), TUESDAY, now=NOW)

    assert shown.days[0].day == MONDAY and shown.days[-1].day == SUNDAY
    assert shown.axis == (8 * 60, 18 * 60)
    assert shown.hours == [f"{hour:02d}:00" for hour in range(8, 18)]
    assert _kinds(_row(shown, TUESDAY, chair)) == [
        ("free", "08:00", "10:00"), ("session", "10:00", "12:45"), ("free", "12:45", "18:00")]
    assert _row(shown, TUESDAY, chair).segments[1].session.course == esk_course
    # Every row spans the same axis, so the rows line up.
    assert {sum(segment.units for segment in row.segments) for one in shown.days for row in one.chairs} == {
        shown.units}
    # Monday before 09:00 is gone; Sunday is closed.
    assert _kinds(_row(shown, MONDAY, chair))[:2] == [("past", "08:00", "09:00"), ("free", "09:00", "18:00")]
    assert shown.days[-1].opening is None
    assert _kinds(_row(shown, SUNDAY, chair)) == [("closed", "08:00", "18:00")]


def test_a_closure_is_a_closed_day_with_its_reason_and_free_time_is_counted(site, chair, closure, session_on,
                                                                           esk_course, now):
    session_on(esk_course, TUESDAY, hour=10)
    shown = week.site_week(_site(site), MONDAY, now=NOW)
    wednesday = shown.days[2]

    assert wednesday.opening is None and wednesday.closure_reason == "Staff training"
    assert shown.days[6].closure_reason is None  # Sunday is a weekday closed, not a closure
    assert shown.days[1].booked == 1
    assert shown.days[1].free_minutes == 600 - 165
    assert shown.days[0].free_minutes == 540  # Monday from 09:00


def test_a_session_booked_outside_the_hours_stretches_the_axis(site, chair, session_on, esk_course, now):
    session_on(esk_course, TUESDAY, hour=18, minute=30)
    shown = week.site_week(_site(site), MONDAY, now=NOW)

    assert shown.axis == (8 * 60, 22 * 60)
    assert shown.hours[:4] == ["08:00", "", "10:00", ""]  # past 12 hours, every other hour is labelled
    assert ("session", "18:30", "21:15") in _kinds(_row(shown, TUESDAY, chair))


def test_filtered_to_a_clinician_others_sessions_are_only_busy(site, chair, chair2, session_on, esk_course, iv_course,
                                                              staff_clinician, now):
    other = UserFactory(roles=[CLINICIAN])
    mine = session_on(esk_course, TUESDAY, clinician=staff_clinician)
    session_on(iv_course, TUESDAY, on=chair2, clinician=other)
    shown = week.site_week(_site(site), MONDAY, now=NOW, clinician_id=staff_clinician.pk)

    assert _row(shown, TUESDAY, chair).segments[1].kind == "session"
    assert _row(shown, TUESDAY, chair).segments[1].session == mine
    assert [segment.kind for segment in _row(shown, TUESDAY, chair2).segments] == ["free", "busy", "free"]
    assert shown.days[1].booked == 1


def test_only_sessions_still_to_come_and_not_under_way_may_be_dragged(site, chair, session_on, esk_course, iv_course,
                                                                      chair2, now):
    session_on(esk_course, TUESDAY)
    session_on(iv_course, MONDAY, SessionStatus.CHECKED_IN, hour=8, on=chair2)
    shown = week.site_week(_site(site), MONDAY, now=NOW)

    assert _row(shown, TUESDAY, chair).segments[1].movable
    assert not _row(shown, MONDAY, chair2).segments[0].movable


def test_cancelled_sessions_leave_the_chair_free(site, chair, session_on, esk_course, now):
    session_on(esk_course, TUESDAY, SessionStatus.CANCELLED)
    shown = week.site_week(_site(site), MONDAY, now=NOW)

    assert _kinds(_row(shown, TUESDAY, chair)) == [("free", "08:00", "18:00")]


def test_the_week_is_read_in_the_same_queries_for_one_session_or_many(site, chair, chair2, session_on, now,
                                                                      django_assert_num_queries):
    location = _site(site)
    session_on(TreatmentCourseFactory(start_date=TUESDAY), TUESDAY)
    with django_assert_num_queries(2):
        week.site_week(location, MONDAY, now=NOW)
    for day in (3, 5, 6):
        session_on(TreatmentCourseFactory(start_date=date(2026, 3, day)), date(2026, 3, day), on=chair2)
    with django_assert_num_queries(2):
        week.site_week(location, MONDAY, now=NOW)


# --- every site -------------------------------------------------------------------------------------


def test_every_site_has_its_booked_sessions_and_free_chair_hours_by_day(site, chair, other_site, session_on,
                                                                        esk_course, staff_clinician, now,
                                                                        django_assert_num_queries):
    session_on(esk_course, TUESDAY, clinician=staff_clinician)
    with django_assert_num_queries(3):
        rows = week.sites_week(TUESDAY, now=NOW)

    midtown = next(row for row in rows if row.location == site)
    assert [(one.day.day, one.open, one.booked, one.free_minutes) for one in midtown.days] == [
        (2, True, 0, 540), (3, True, 1, 435), (4, True, 0, 600), (5, True, 0, 600), (6, True, 0, 600),
        (7, True, 0, 600), (8, False, 0, 0)]
    westside = next(row for row in rows if row.location == other_site)
    assert [one.free_minutes for one in westside.days] == [0] * 7  # no chairs there
    filtered = week.sites_week(TUESDAY, now=NOW, clinician_id=UserFactory(roles=[CLINICIAN]).pk)
    assert next(row for row in filtered if row.location == site).days[1].booked == 0


# --- who is due ------------------------------------------------------------------------------------


def test_the_courses_due_on_a_day_are_those_whose_next_window_holds_it(chair, iv_chair, esk_course, iv_course, now):
    assert [row.course for row in week.courses_due_on(TUESDAY, chair=chair)] == [esk_course]
    assert week.courses_due_on(MONDAY, chair=chair) == []  # esk_course starts on Tuesday
    # An esketamine-only chair does not list the infusion course; an infusion chair lists only it.
    assert [row.course for row in week.courses_due_on(TUESDAY, chair=iv_chair)] == [iv_course]
    assert week.courses_due_on(TUESDAY, chair=chair)[0].window.number == 1


def test_a_course_booked_that_day_paused_or_of_an_archived_patient_is_not_due(chair, esk_course, session_on,
                                                                              front_desk, now):
    paused = TreatmentCourseFactory(protocol=standard_protocol("esketamine-trd"), start_date=TUESDAY,
                                    status=CourseStatus.PAUSED, paused_at=NOW)
    archived = TreatmentCourseFactory(protocol=standard_protocol("esketamine-trd"), start_date=TUESDAY)
    archived.patient.archive(by=front_desk)
    session_on(esk_course, TUESDAY)

    due = [row.course for row in week.courses_due_on(TUESDAY, chair=chair)]
    assert esk_course not in due and paused not in due and archived not in due


def test_the_courses_due_are_read_in_three_queries(chair, now, django_assert_num_queries):
    for _ in range(4):
        TreatmentCourseFactory(protocol=standard_protocol("esketamine-trd"), start_date=TUESDAY)
    chair = type(chair).objects.select_related("location").get(pk=chair.pk)
    with django_assert_num_queries(3):
        assert len(week.courses_due_on(TUESDAY, chair=chair)) == 4


@pytest.mark.parametrize("day", [MONDAY, TUESDAY, SUNDAY])
def test_a_week_runs_monday_to_sunday(day):
    assert week.week_days(day)[0] == MONDAY and week.week_days(day)[-1] == SUNDAY
