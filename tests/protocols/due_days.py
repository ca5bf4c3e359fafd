"""Dates for the due engine's example tests: every course starts on Monday 6 January 2025, day 0."""

from datetime import date, timedelta

from protocols.due import CourseFacts, next_due

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
