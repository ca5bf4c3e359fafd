"""Example-based tests of the due engine against DOMAIN.md "Protocols": windows, phases and the weekly option.

Plans, restarts and timing are in test_due_plan_and_timing.py; the dates are in due_days.py.
"""

from datetime import timedelta

import pytest

from protocols.due import (
    ESKETAMINE_MDSI,
    ESKETAMINE_TRD,
    KETAMINE_IV_SERIES,
    KETAMINE_IV_WEEKLY,
    STANDARD_PROTOCOLS,
    CourseFacts,
    Timing,
    next_due,
    outlook,
    phase_for_session,
    plan,
)
from tests.protocols.due_days import (
    BOOSTERS,
    EVERY_2_WEEKS,
    INDUCTION,
    MONDAY,
    WEEKS_5_8,
    complete_on_target,
    day,
    offsets,
)

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
