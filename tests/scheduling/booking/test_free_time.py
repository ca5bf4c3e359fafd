"""The slot grid's week of free chair time: the whole open day, from intervals, by booking's rules.

"Now" is Monday 2 March 2026, 09:00 in New York; ``esk_course`` starts Tuesday 3 March, so
session 1 is due 3-10 March, target the 3rd. Midtown is open Monday to Saturday 08:00-18:00;
an esketamine session holds its chair 150 minutes plus 15 of turnover.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from clinic.errors import Invalid
from clinic.roles import CLINICIAN
from scheduling.booking.availability import find_slots
from scheduling.booking.free_time import AFTER_NEXT, CLOSED, COURSE_DAY, OPEN, week_of_free_time
from tests.factories import ChairFactory, UserFactory
from tests.scheduling.conftest import TUESDAY, local

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 3, 2)
WEDNESDAY = date(2026, 3, 4)
SUNDAY = date(2026, 3, 8)
# The site with its calendar, its chairs, its clinicians, the week's sessions; the course's last site.
GRID_MAX_QUERIES = 8


def free_starts(week, day: date, chair=None) -> list[time]:
    """The starts offered on ``day`` (on ``chair`` when given)."""
    grid_day = next(grid_day for grid_day in week.days if grid_day.day == day)
    return [clock for clock, cell in grid_day.cells.items() if chair is None or chair in cell.chairs]


def test_the_grid_offers_the_whole_open_day_not_just_the_morning(esk_course, site, chair):
    # when
    week = week_of_free_time(course=esk_course)
    # then: every quarter hour from opening to the last start that ends by 18:00
    tuesday = free_starts(week, TUESDAY)
    assert tuesday[0] == time(8) and tuesday[-1] == time(15, 30)
    assert len(tuesday) == 31
    assert time(14, 15) in tuesday
    assert week.times[0] == time(8) and week.times[-1] == time(15, 30)


def test_the_week_is_the_targets_monday_to_sunday_with_the_target_and_window_marked(esk_course, site, chair):
    # when
    week = week_of_free_time(course=esk_course)
    # then
    assert week.week_start == MONDAY
    assert [day.day for day in week.days] == [MONDAY + timedelta(days=n) for n in range(7)]
    assert [day.day for day in week.days if day.is_target] == [TUESDAY]
    assert [day.in_window for day in week.days] == [False, True, True, True, True, True, True]


def test_a_closed_sunday_and_a_closure_offer_nothing(esk_course, site, chair, closure):
    # when
    week = week_of_free_time(course=esk_course)
    # then
    states = {day.day: day.state for day in week.days}
    assert states[SUNDAY] == CLOSED and states[WEDNESDAY] == CLOSED
    assert free_starts(week, SUNDAY) == [] and free_starts(week, WEDNESDAY) == []


def test_past_starts_today_are_not_offered(esk_course, site, chair):
    # when: Monday at 09:00
    week = week_of_free_time(course=esk_course)
    # then
    assert free_starts(week, MONDAY)[0] == time(9)


def test_another_session_holds_its_chair_and_turnover(esk_course, site, chair, chair2, book):
    # given another patient on Chair 1 from 11:00 (to 13:30, clean by 13:45)
    book(chair, local(site, TUESDAY, 11))
    # when
    week = week_of_free_time(course=esk_course)
    # then: Chair 1 is free until a start that is clean by 11:00, and again from 13:45
    on_chair = free_starts(week, TUESDAY, chair)
    assert time(8, 15) in on_chair and time(8, 30) not in on_chair
    assert time(13, 30) not in on_chair and time(13, 45) in on_chair
    assert time(10) in free_starts(week, TUESDAY, chair2)


def test_the_patients_own_session_elsewhere_blocks_every_chair(esk_course, site, chair, iv_chair, book):
    # given the same patient has an infusion on Tuesday 12:00-13:30 (+15)
    book(iv_chair, local(site, TUESDAY, 12), patient=esk_course.patient, slug="ketamine-iv-series")
    # when
    week = week_of_free_time(course=esk_course)
    # then
    tuesday = free_starts(week, TUESDAY)
    assert time(9, 15) in tuesday and time(9, 30) not in tuesday
    assert time(13, 30) not in tuesday and time(13, 45) in tuesday


def test_a_day_with_a_session_of_the_course_is_not_offered(esk_course, site, chair, chair2, book):
    # given session 1 on Tuesday
    book(chair, local(site, TUESDAY, 9), course=esk_course)
    # when: session 2's grid
    week = week_of_free_time(course=esk_course)
    # then
    assert {day.day: day.state for day in week.days}[TUESDAY] == COURSE_DAY
    assert free_starts(week, TUESDAY) == []


def test_no_start_where_every_clinician_of_the_site_is_full(esk_course, site, chair, chair2, book):
    # given one clinician who may look after one patient at once, with a patient 10:00-12:30
    site.max_in_treatment_per_clinician = 1
    site.save()
    nurse = UserFactory(roles=[CLINICIAN])
    site.staff.add(nurse)
    book(chair, local(site, TUESDAY, 10), clinician=nurse)
    # when
    week = week_of_free_time(course=esk_course)
    # then: no treatment may overlap 10:00-12:30 on any chair (turnover is not treatment)
    on_chair2 = free_starts(week, TUESDAY, chair2)
    assert time(7, 30) not in on_chair2 and time(8) not in on_chair2 and time(12, 30) in on_chair2
    assert time(12, 15) not in on_chair2


def test_a_moved_session_is_left_out_of_its_own_conflicts(esk_course, site, chair, book):
    # given session 1 on Tuesday at 09:00
    session = book(chair, local(site, TUESDAY, 9), course=esk_course)
    # when
    week = week_of_free_time(course=esk_course, moving=session)
    # then: its own day and time are free for it, judged by session 1's window
    assert {day.day: day.state for day in week.days}[TUESDAY] == OPEN
    assert time(9) in free_starts(week, TUESDAY)
    assert week.window.number == 1


def test_a_moved_session_stays_before_the_next_booked_one(esk_course, site, chair, book):
    # given sessions 1 and 2 on Tuesday and Friday
    first = book(chair, local(site, TUESDAY, 9), course=esk_course)
    book(chair, local(site, date(2026, 3, 6), 9), course=esk_course)
    # when
    week = week_of_free_time(course=esk_course, moving=first)
    # then
    states = {day.day: day.state for day in week.days}
    assert states[date(2026, 3, 6)] == COURSE_DAY and states[date(2026, 3, 7)] == AFTER_NEXT
    assert free_starts(week, date(2026, 3, 7)) == []


def test_the_chair_and_part_of_day_filters(esk_course, site, chair, chair2):
    # when
    week = week_of_free_time(course=esk_course, chair_id=chair2.pk, part="afternoon")
    # then
    assert week.times[0] == time(12) and week.times[-1] == time(15, 30)
    assert {cell.chair for day in week.days for cell in day.cells.values()} == {chair2}


def test_a_chair_of_another_site_is_refused_at_the_chair_filter(esk_course, site, chair):
    elsewhere = ChairFactory()
    with pytest.raises(Invalid) as refused:
        week_of_free_time(course=esk_course, chair_id=elsewhere.pk)
    assert "chair" in refused.value.fields


def test_the_grid_agrees_with_the_availability_search(esk_course, site, chair, chair2, book):
    # given a busy Tuesday and Thursday: three other patients, one clinician with room for one
    site.max_in_treatment_per_clinician = 1
    site.save()
    nurse = UserFactory(roles=[CLINICIAN])
    site.staff.add(nurse)
    book(chair, local(site, TUESDAY, 9), clinician=nurse)
    book(chair2, local(site, TUESDAY, 12, 15), clinician=nurse)
    book(chair, local(site, date(2026, 3, 5), 13))
    # when
    week = week_of_free_time(course=esk_course)
    slots = find_slots(course=esk_course, date_from=TUESDAY, date_to=date(2026, 3, 7), limit=10_000)
    # then
    grid = {(chair.pk, cell.start) for day in week.days if day.day >= TUESDAY for cell in day.cells.values()
            for chair in cell.chairs}
    assert grid == {(slot.chair.pk, slot.start) for slot in slots}


def test_the_grid_reads_a_fixed_number_of_queries(esk_course, site, chair, chair2, book,
                                                   django_assert_max_num_queries):
    for hour in (8, 11, 14):
        book(chair, local(site, TUESDAY, hour))
    with django_assert_max_num_queries(GRID_MAX_QUERIES):
        week_of_free_time(course=esk_course)


def test_a_week_with_nothing_left_in_the_window_opens_on_the_next_week(esk_course, site, chair, clock):
    # given 23:30 on Saturday 7 March in New York: the rest of session 1's window (to Tue 10) is next week
    clock.move_to(local(site, date(2026, 3, 7), 23, 30))
    # when
    week = week_of_free_time(course=esk_course)
    # then
    assert week.week_start == date(2026, 3, 9)
    assert free_starts(week, date(2026, 3, 9))[0] == time(8)
