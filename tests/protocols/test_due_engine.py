"""Example-based tests of the due engine against DOMAIN.md "Protocols"."""

from datetime import date, timedelta

import pytest

from protocols.due import (
    ESKETAMINE_MDSI,
    ESKETAMINE_TRD,
    KETAMINE_IV_SERIES,
    KETAMINE_IV_WEEKLY,
    STANDARD_PROTOCOLS,
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

MONDAY = date(2025, 1, 6)


def day(offset):
    """The date `offset` days after the Monday every course here starts on."""
    return MONDAY + timedelta(days=offset)


def offsets(window):
    """A window as (number, phase, earliest, target, latest) in days from MONDAY."""
    return (
        window.number,
        window.phase,
        (window.earliest - MONDAY).days,
        (window.target - MONDAY).days,
        (window.latest - MONDAY).days,
    )


def complete_on_target(protocol, sessions, **facts):
    """Complete `sessions` sessions, each on its target day; return their windows."""
    completed = ()
    windows = []
    for _ in range(sessions):
        window = next_due(
            protocol, CourseFacts(start_date=MONDAY, completed=completed, **facts)
        )
        windows.append(window)
        completed += (window.target,)
    return windows, completed


INDUCTION = "Induction"
WEEKS_5_8 = "Maintenance weeks 5-8"
EVERY_2_WEEKS = "Maintenance every 2 weeks"
BOOSTERS = "Monthly boosters"

# (number, phase, earliest, target, latest) in days from a Monday start, every
# session completed on its target day. Derived by hand from the protocol table.
ESKETAMINE_INDUCTION_ROWS = [
    (1, INDUCTION, 0, 0, 7),
    (2, INDUCTION, 2, 3, 5),
    (3, INDUCTION, 5, 7, 8),
    (4, INDUCTION, 9, 10, 12),
    (5, INDUCTION, 12, 14, 15),
    (6, INDUCTION, 16, 17, 19),
    (7, INDUCTION, 19, 21, 22),
    (8, INDUCTION, 23, 24, 26),
]
EXPECTED_ON_TARGET = {
    "esketamine-trd": ESKETAMINE_INDUCTION_ROWS
    + [
        (9, WEEKS_5_8, 29, 31, 34),
        (10, WEEKS_5_8, 36, 38, 41),
        (11, WEEKS_5_8, 43, 45, 48),
        (12, WEEKS_5_8, 50, 52, 55),
        (13, EVERY_2_WEEKS, 62, 66, 70),
        (14, EVERY_2_WEEKS, 76, 80, 84),
        (15, EVERY_2_WEEKS, 90, 94, 98),
        (16, EVERY_2_WEEKS, 104, 108, 112),
    ],
    "esketamine-mdsi": ESKETAMINE_INDUCTION_ROWS,
    "ketamine-iv-series": [
        (1, INDUCTION, 0, 0, 7),
        (2, INDUCTION, 2, 2, 5),
        (3, INDUCTION, 4, 5, 7),
        (4, INDUCTION, 7, 7, 10),
        (5, INDUCTION, 9, 10, 12),
        (6, INDUCTION, 12, 12, 15),
        (7, BOOSTERS, 33, 40, 54),
        (8, BOOSTERS, 61, 68, 82),
        (9, BOOSTERS, 89, 96, 110),
        (10, BOOSTERS, 117, 124, 138),
    ],
    "ketamine-iv-weekly": [
        (1, INDUCTION, 0, 0, 7),
        (2, INDUCTION, 5, 7, 10),
        (3, INDUCTION, 12, 14, 17),
        (4, INDUCTION, 19, 21, 24),
        (5, INDUCTION, 26, 28, 31),
        (6, INDUCTION, 33, 35, 38),
        (7, BOOSTERS, 56, 63, 77),
        (8, BOOSTERS, 84, 91, 105),
        (9, BOOSTERS, 112, 119, 133),
        (10, BOOSTERS, 140, 147, 161),
    ],
}


def test_the_standard_protocols_are_keyed_by_slug():
    # given / when
    slugs = set(STANDARD_PROTOCOLS)

    # then
    assert slugs == set(EXPECTED_ON_TARGET)
    assert all(rule.slug == slug for slug, rule in STANDARD_PROTOCOLS.items())


@pytest.mark.parametrize("slug", sorted(EXPECTED_ON_TARGET))
def test_a_course_completed_on_target_days_follows_the_protocol_table(slug):
    # given
    protocol = STANDARD_PROTOCOLS[slug]
    expected = EXPECTED_ON_TARGET[slug]

    # when
    windows, _ = complete_on_target(protocol, len(expected))

    # then
    assert [offsets(window) for window in windows] == expected


@pytest.mark.parametrize("slug", sorted(EXPECTED_ON_TARGET))
def test_a_fresh_course_plans_the_table_as_projected_sessions(slug):
    # given
    protocol = STANDARD_PROTOCOLS[slug]
    facts = CourseFacts(start_date=MONDAY)

    # when
    rows = plan(protocol, facts, today=day(-1))

    # then: finite phases plus four open-ended sessions, or the whole finite protocol
    assert [offsets(row) for row in rows] == EXPECTED_ON_TARGET[slug]
    assert {row.status for row in rows} == {"projected"}
    assert all(row.booked is None for row in rows)


def test_esketamine_trd_induction_alternates_monday_and_thursday():
    # given
    windows, _ = complete_on_target(ESKETAMINE_TRD, 8)

    # when
    weekdays = [window.target.strftime("%a") for window in windows]

    # then
    assert weekdays == ["Mon", "Thu"] * 4


@pytest.mark.parametrize(
    ("completed_count", "expected_numbers"),
    [
        (
            11,
            list(range(12, 17)),
        ),  # still finite: through the fourth open-ended session
        (12, list(range(13, 18))),  # open-ended: the next session plus four more
        (20, list(range(21, 26))),
    ],
)
def test_the_plan_runs_four_sessions_past_the_next_once_open_ended(
    completed_count, expected_numbers
):
    # given
    _, completed = complete_on_target(ESKETAMINE_TRD, completed_count)
    facts = CourseFacts(start_date=MONDAY, completed=completed)

    # when
    rows = plan(ESKETAMINE_TRD, facts, today=completed[-1])

    # then
    assert [row.number for row in rows] == expected_numbers


def test_a_finite_protocol_is_planned_through_its_last_session():
    # given
    _, completed = complete_on_target(ESKETAMINE_MDSI, 5)
    facts = CourseFacts(start_date=MONDAY, completed=completed)

    # when
    rows = plan(ESKETAMINE_MDSI, facts, today=completed[-1])

    # then
    assert [row.number for row in rows] == [6, 7, 8]


def test_a_late_session_shifts_every_later_window():
    # given: session 2 done on day 5 instead of its target day 3
    facts = CourseFacts(start_date=MONDAY, completed=(day(0), day(5)))
    on_time = CourseFacts(start_date=MONDAY, completed=(day(0), day(3)))

    # when
    late_rows = plan(ESKETAMINE_TRD, facts, today=day(5))
    on_time_rows = plan(ESKETAMINE_TRD, on_time, today=day(3))

    # then
    assert offsets(late_rows[0]) == (3, INDUCTION, 7, 9, 10)
    for late, punctual in zip(late_rows, on_time_rows, strict=True):
        assert late.earliest - punctual.earliest == timedelta(days=2)
        assert late.target - punctual.target == timedelta(days=2)
        assert late.latest - punctual.latest == timedelta(days=2)


def test_alternation_follows_the_position_in_the_phase_not_what_happened():
    # given: session 2 was late, but session 3's gap is still the phase's second gap
    facts = CourseFacts(start_date=MONDAY, completed=(day(0), day(5)))

    # when
    window = next_due(ESKETAMINE_TRD, facts)

    # then: second gap takes the higher alternating value, 4 days
    assert window.target == day(9)


def test_a_missed_session_does_not_count():
    # given: session 2 was a no-show, so only session 1 is completed
    facts = CourseFacts(start_date=MONDAY, completed=(day(0),))

    # when
    window = next_due(ESKETAMINE_TRD, facts)

    # then: session 2 is still the next one, anchored on session 1
    assert offsets(window) == (2, INDUCTION, 2, 3, 5)


def test_completed_and_booked_dates_are_sorted_before_use():
    # given
    in_order = CourseFacts(
        start_date=MONDAY, completed=(day(0), day(3), day(7)), booked=(day(10), day(14))
    )
    shuffled = CourseFacts(
        start_date=MONDAY, completed=(day(7), day(0), day(3)), booked=(day(14), day(10))
    )

    # when / then
    assert next_due(ESKETAMINE_TRD, shuffled) == next_due(ESKETAMINE_TRD, in_order)
    assert plan(ESKETAMINE_TRD, shuffled, day(7)) == plan(
        ESKETAMINE_TRD, in_order, day(7)
    )


@pytest.mark.parametrize(
    ("number", "expected_phase"),
    [(1, 0), (8, 0), (9, 1), (12, 1), (13, 2), (100, 2)],
)
def test_esketamine_trd_sessions_map_to_phases_by_cumulative_count(
    number, expected_phase
):
    # given / when
    phase_index = phase_for_session(ESKETAMINE_TRD, number)

    # then
    assert phase_index == expected_phase


def test_a_session_past_a_finite_protocol_has_no_phase():
    # given / when / then
    assert phase_for_session(ESKETAMINE_MDSI, 8) == 0
    assert phase_for_session(ESKETAMINE_MDSI, 9) is None


def test_session_9_of_esketamine_trd_is_due_5_to_10_days_after_session_8_target_7():
    # given: eight induction sessions, the last on day 30
    completed = tuple(day(offset) for offset in (0, 3, 7, 10, 14, 18, 25, 30))
    facts = CourseFacts(start_date=MONDAY, completed=completed)

    # when
    window = next_due(ESKETAMINE_TRD, facts)

    # then
    assert offsets(window) == (9, WEEKS_5_8, 35, 37, 40)
    assert window.phase_index == 1


def test_session_13_of_esketamine_trd_starts_the_every_two_weeks_phase():
    # given
    _, completed = complete_on_target(ESKETAMINE_TRD, 12)
    facts = CourseFacts(start_date=MONDAY, completed=completed)

    # when
    window = next_due(ESKETAMINE_TRD, facts)

    # then: day 52 + 10 / 14 / 18
    assert offsets(window) == (13, EVERY_2_WEEKS, 62, 66, 70)


def test_ketamine_iv_series_moves_to_monthly_boosters_after_six_infusions():
    # given
    _, completed = complete_on_target(KETAMINE_IV_SERIES, 6)
    facts = CourseFacts(start_date=MONDAY, completed=completed)

    # when
    window = next_due(KETAMINE_IV_SERIES, facts)

    # then: day 12 + 21 / 28 / 42
    assert offsets(window) == (7, BOOSTERS, 33, 40, 54)


def test_esketamine_mdsi_completes_after_eight_sessions():
    # given
    _, completed = complete_on_target(ESKETAMINE_MDSI, 8)
    facts = CourseFacts(start_date=MONDAY, completed=completed)

    # when
    result = outlook(ESKETAMINE_MDSI, facts, today=day(60))

    # then
    assert result.next_due is None
    assert result.plan == ()
    assert result.timing == Timing.COMPLETED
    assert result.phase is None and result.phase_index is None
    assert result.sessions_completed == 8


def test_the_weekly_option_spaces_open_ended_maintenance_weekly():
    # given
    _, completed = complete_on_target(ESKETAMINE_TRD, 12)
    weekly = CourseFacts(
        start_date=MONDAY, completed=completed, maintenance_frequency="weekly"
    )

    # when
    rows = plan(ESKETAMINE_TRD, weekly, today=day(52))

    # then: day 52 + 5 / 7 / 10, then every 7 days
    assert offsets(rows[0]) == (13, EVERY_2_WEEKS, 57, 59, 62)
    assert [(row.target - MONDAY).days for row in rows] == [59, 66, 73, 80, 87]


def test_the_weekly_option_leaves_phases_without_a_weekly_spacing_alone():
    # given
    weekly_trd, _ = complete_on_target(
        ESKETAMINE_TRD, 12, maintenance_frequency="weekly"
    )
    weekly_iv, _ = complete_on_target(
        KETAMINE_IV_WEEKLY, 10, maintenance_frequency="weekly"
    )

    # when / then: induction, weeks 5-8 and IV boosters are unchanged
    assert [offsets(window) for window in weekly_trd] == EXPECTED_ON_TARGET[
        "esketamine-trd"
    ][:12]
    assert [offsets(window) for window in weekly_iv] == EXPECTED_ON_TARGET[
        "ketamine-iv-weekly"
    ]


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
