"""Property tests of the due engine over random completion histories."""

from dataclasses import fields, replace
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from protocols.due import (
    STANDARD_PROTOCOLS,
    CourseFacts,
    DueWindow,
    PhaseRestart,
    Timing,
    next_due,
    phase_for_session,
    plan,
    timing,
)


def finite_length(protocol):
    """Sessions in a protocol with no open-ended phase, else None."""
    counts = [phase.sessions for phase in protocol.phases]
    return None if None in counts else sum(counts)


def effective_spacing(protocol, phase_index, weekly):
    """The spacing a phase uses, given the course's weekly-maintenance choice."""
    phase = protocol.phases[phase_index]
    if weekly and phase.weekly_spacing is not None:
        return phase.weekly_spacing
    return phase.spacing


@st.composite
def courses(draw):
    """A protocol, a course on it with 0-60 day gaps between sessions, and a today."""
    protocol = draw(
        st.sampled_from(sorted(STANDARD_PROTOCOLS.values(), key=lambda p: p.slug))
    )
    weekly = draw(st.booleans())
    start = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
    count = draw(st.integers(min_value=0, max_value=finite_length(protocol) or 30))
    gaps = draw(st.lists(st.integers(0, 60), min_size=count, max_size=count))
    completed = []
    previous = start
    for gap in gaps:
        previous += timedelta(days=gap)
        completed.append(previous)
    # Bookings come after the last completed session (or the start date).
    booked_gaps = draw(st.lists(st.integers(0, 60), max_size=4))
    booked = []
    for gap in booked_gaps:
        previous += timedelta(days=gap)
        booked.append(previous)
    facts = CourseFacts(
        start_date=start,
        completed=tuple(draw(st.permutations(completed))),
        booked=tuple(draw(st.permutations(booked))),
        maintenance_frequency="weekly" if weekly else "default",
    )
    today = start + timedelta(days=draw(st.integers(-30, 3000)))
    return protocol, facts, today


def all_windows(protocol, facts, today):
    window = next_due(protocol, facts)
    return ([window] if window else []) + list(plan(protocol, facts, today))


@given(courses())
def test_every_window_opens_before_its_target_and_closes_after_it(course):
    # given
    protocol, facts, today = course

    # when
    windows = all_windows(protocol, facts, today)

    # then
    for window in windows:
        assert window.earliest <= window.target <= window.latest


@given(courses())
def test_no_window_opens_before_the_last_session_plus_its_phase_earliest(course):
    # given
    protocol, facts, today = course
    weekly = facts.maintenance_frequency == "weekly"
    last = max(facts.completed, default=facts.start_date)

    # when
    windows = all_windows(protocol, facts, today)

    # then
    for window in windows:
        if window.number == 1:
            assert window.earliest == facts.start_date
        else:
            spacing = effective_spacing(protocol, window.phase_index, weekly)
            assert window.earliest >= last + timedelta(days=spacing.earliest)


@given(courses())
def test_plan_numbers_run_up_by_one_from_the_next_session(course):
    # given
    protocol, facts, today = course

    # when
    rows = plan(protocol, facts, today)

    # then
    expected_first = len(facts.completed) + 1
    assert [row.number for row in rows] == list(
        range(expected_first, expected_first + len(rows))
    )
    for row in rows:
        assert row.phase_index == phase_for_session(protocol, row.number)
        assert row.phase == protocol.phases[row.phase_index].name


@given(courses())
def test_next_due_is_the_first_row_of_the_plan(course):
    # given
    protocol, facts, today = course

    # when
    window = next_due(protocol, facts)
    rows = plan(protocol, facts, today)

    # then
    if window is None:
        assert rows == ()
        assert timing(protocol, facts, today) == Timing.COMPLETED
    else:
        first = {
            field.name: getattr(rows[0], field.name) for field in fields(DueWindow)
        }
        assert DueWindow(**first) == window


@given(courses())
def test_every_booking_lands_on_a_plan_row_in_date_order(course):
    # given
    protocol, facts, today = course

    # when
    rows = plan(protocol, facts, today)

    # then
    booked_rows = [row.booked for row in rows if row.status == "booked"]
    assert booked_rows == sorted(facts.booked)[: len(rows)]
    assert all(row.booked is None for row in rows[len(booked_rows) :])


@given(courses(), st.integers(0, 60))
def test_a_restart_leaves_earlier_sessions_in_their_phases(course, lapse):
    # given: the current phase restarted some days after the last session
    protocol, facts, today = course
    next_number = len(facts.completed) + 1
    phase_index = phase_for_session(protocol, next_number)
    if phase_index is None:
        phase_index = len(protocol.phases) - 1
    restart_on = max(facts.completed, default=facts.start_date) + timedelta(days=lapse)
    restart = PhaseRestart(len(facts.completed), phase_index, restart_on)

    # when
    window = next_due(protocol, replace(facts, restart=restart))

    # then
    for number in range(1, next_number):
        assert phase_for_session(protocol, number, restart) == phase_for_session(
            protocol, number
        )
    assert window.number == next_number
    assert window.phase_index == phase_index
    assert window.earliest == window.target == restart_on
