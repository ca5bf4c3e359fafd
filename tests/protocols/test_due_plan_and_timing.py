"""Example-based tests of the due engine against DOMAIN.md "Protocols": plans, restarts, timing and the outlook.

The dates are in due_days.py: every course starts on Monday 6 January 2025, day 0.
"""


import pytest

from protocols.due import (
    ESKETAMINE_MDSI,
    ESKETAMINE_TRD,
    CourseFacts,
    DueWindow,
    PhaseRestart,
    Timing,
    next_due,
    outlook,
    phase_for_session,
    plan,
    timing,
)
from tests.protocols.due_days import (
    INDUCTION,
    MONDAY,
    WEEKS_5_8,
    complete_on_target,
    day,
    offsets,
)


def test_booked_dates_appear_in_the_plan_and_later_rows_chain_from_them():
    # given: sessions 1-2 done; 3 and 4 booked, given out of order
    facts = CourseFacts(
        start_date=MONDAY, completed=(day(0), day(3)), booked=(day(11), day(8))
    )

    # when
    rows = plan(ESKETAMINE_TRD, facts, today=day(4))

    # then: session 3's window still comes from session 2 (day 3 + 2/4/5)
    assert offsets(rows[0]) == (3, INDUCTION, 5, 7, 8)
    assert (rows[0].booked, rows[0].status) == (day(8), "booked")
    # session 4 chains from session 3's booked day 8, not its target day 7
    assert offsets(rows[1]) == (4, INDUCTION, 10, 11, 13)
    assert (rows[1].booked, rows[1].status) == (day(11), "booked")
    # session 5 chains from session 4's booked day 11 (fourth gap: 4 days)
    assert offsets(rows[2]) == (5, INDUCTION, 13, 15, 16)
    assert (rows[2].booked, rows[2].status) == (None, "projected")
    # session 6 chains from session 5's target
    assert offsets(rows[3]) == (6, INDUCTION, 17, 18, 20)


def test_plan_rows_are_due_or_overdue_by_today():
    # given: session 1 done on day 0, nothing booked
    facts = CourseFacts(start_date=MONDAY, completed=(day(0),))

    # when
    on_day_4 = plan(ESKETAMINE_TRD, facts, today=day(4))
    on_day_6 = plan(ESKETAMINE_TRD, facts, today=day(6))

    # then: session 2 is due 2-5, session 3 (from target day 3) 5-8
    assert [row.status for row in on_day_4[:3]] == ["due", "projected", "projected"]
    assert [row.status for row in on_day_6[:3]] == ["overdue", "due", "projected"]


@pytest.mark.parametrize(
    ("today", "expected"),
    [(day(1), "projected"), (day(2), "due"), (day(5), "due"), (day(6), "overdue")],
)
def test_a_plan_row_is_due_from_its_earliest_through_its_latest_day(today, expected):
    # given: session 1 done on day 0, so session 2 is due days 2-5
    facts = CourseFacts(start_date=MONDAY, completed=(day(0),))

    # when
    rows = plan(ESKETAMINE_TRD, facts, today)

    # then
    assert rows[0].status == expected


def test_a_restart_makes_the_next_session_due_like_a_first_session():
    # given: ten sessions, a lapse, then weeks 5-8 restarted on day 120
    _, completed = complete_on_target(ESKETAMINE_TRD, 10)
    restart = PhaseRestart(after_completed=10, phase_index=1, on=day(120))
    facts = CourseFacts(start_date=MONDAY, completed=completed, restart=restart)

    # when
    window = next_due(ESKETAMINE_TRD, facts)

    # then
    assert offsets(window) == (11, WEEKS_5_8, 120, 120, 127)


def test_a_restarted_phase_needs_its_full_session_count_again():
    # given: induction restarted after three completed sessions
    restart = PhaseRestart(after_completed=3, phase_index=0, on=day(60))

    # when
    phases = [
        phase_for_session(ESKETAMINE_TRD, number, restart) for number in range(1, 18)
    ]

    # then: 1-3 as before, 4-11 induction again, 12-15 weeks 5-8, then every 2 weeks
    assert phases == [0] * 11 + [1] * 4 + [2] * 2


def test_a_restarted_phase_alternates_from_its_own_first_gap():
    # given: induction restarted after three sessions; session 4 done on day 60
    restart = PhaseRestart(after_completed=3, phase_index=0, on=day(60))
    facts = CourseFacts(
        start_date=MONDAY, completed=(day(0), day(3), day(7), day(60)), restart=restart
    )

    # when
    rows = plan(ESKETAMINE_TRD, facts, today=day(60))

    # then: 3 days, then 4, as at the start of a course; the plan still ends four
    # sessions into the open-ended phase (sessions 16-19)
    assert [(row.target - MONDAY).days for row in rows[:3]] == [63, 67, 70]
    assert [row.number for row in rows] == list(range(5, 20))


def test_the_plan_after_a_restart_starts_from_the_restart_date():
    # given
    restart = PhaseRestart(after_completed=3, phase_index=0, on=day(60))
    facts = CourseFacts(
        start_date=MONDAY, completed=(day(0), day(3), day(7)), restart=restart
    )

    # when
    rows = plan(ESKETAMINE_TRD, facts, today=day(59))

    # then
    assert offsets(rows[0]) == (4, INDUCTION, 60, 60, 67)
    assert offsets(rows[1]) == (5, INDUCTION, 62, 63, 65)


# Timing. Session 1 done on day 0, so session 2 is due days 2-5.
AFTER_SESSION_1 = CourseFacts(start_date=MONDAY, completed=(day(0),))


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (day(1), Timing.ON_TRACK),  # the day before earliest
        (day(2), Timing.DUE),  # earliest
        (day(5), Timing.DUE),  # latest
        (day(6), Timing.OVERDUE),  # latest + 1
        (day(19), Timing.OVERDUE),  # latest + 14
        (day(20), Timing.LAPSED),  # latest + 15
    ],
)
def test_timing_changes_on_the_window_boundary_days(today, expected):
    # given / when
    state = timing(ESKETAMINE_TRD, AFTER_SESSION_1, today)

    # then
    assert state == expected


def test_a_booked_next_session_keeps_the_course_on_track_inside_its_window():
    # given
    facts = CourseFacts(start_date=MONDAY, completed=(day(0),), booked=(day(4),))

    # when
    state = timing(ESKETAMINE_TRD, facts, today=day(3))

    # then
    assert state == Timing.ON_TRACK


def test_a_booking_does_not_hide_an_overdue_course():
    # given: session 2 booked after its latest day
    facts = CourseFacts(start_date=MONDAY, completed=(day(0),), booked=(day(9),))

    # when
    state = timing(ESKETAMINE_TRD, facts, today=day(6))

    # then
    assert state == Timing.OVERDUE


def test_the_lapse_threshold_is_a_setting():
    # given: latest is day 5

    # when
    state = timing(ESKETAMINE_TRD, AFTER_SESSION_1, today=day(13), lapse_after_days=7)

    # then
    assert state == Timing.LAPSED


def test_a_new_course_is_due_from_its_start_date_to_a_week_later():
    # given
    facts = CourseFacts(start_date=MONDAY)

    # when / then
    assert timing(ESKETAMINE_TRD, facts, today=day(-1)) == Timing.ON_TRACK
    assert timing(ESKETAMINE_TRD, facts, today=day(0)) == Timing.DUE
    assert timing(ESKETAMINE_TRD, facts, today=day(7)) == Timing.DUE
    assert timing(ESKETAMINE_TRD, facts, today=day(8)) == Timing.OVERDUE


def test_a_finished_finite_protocol_is_completed():
    # given
    _, completed = complete_on_target(ESKETAMINE_MDSI, 8)
    facts = CourseFacts(start_date=MONDAY, completed=completed)

    # when
    state = timing(ESKETAMINE_MDSI, facts, today=day(200))

    # then
    assert state == Timing.COMPLETED


def test_the_outlook_gathers_next_due_plan_and_timing():
    # given
    facts = CourseFacts(start_date=MONDAY, completed=(day(0),))

    # when
    result = outlook(ESKETAMINE_TRD, facts, today=day(4))

    # then
    assert result.sessions_completed == 1
    assert (result.phase, result.phase_index) == (INDUCTION, 0)
    assert result.next_due == DueWindow(2, INDUCTION, 0, day(2), day(3), day(5))
    assert result.plan == plan(ESKETAMINE_TRD, facts, day(4))
    assert result.timing == Timing.DUE
