"""A first guess for booking a phase: which weekdays, from which day, at what time.

The weekdays follow the protocol's cadence for the phase (its spacing, in
``protocols.due``) on the days the chosen site is open: "twice weekly, 3 or 4
days apart" is Monday and Thursday where both are open, Tuesday and Friday,
Wednesday and Saturday...; an IV series at 2 or 3 days apart is three days a
week; a weekly phase is one. The first day is the phase's target day, or the
open day nearest it inside its window, never a past one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import combinations

from protocols import due
from scheduling.booking.rules import SiteCalendar

DEFAULT_TIME = time(9)
LOOK_AHEAD_DAYS = 14  # with no open day in the window, the first open day in two weeks


@dataclass(frozen=True)
class SeriesGuess:
    first_date: date
    clock: time
    weekdays: tuple[int, ...]


def cadence_weekdays(spacing: due.Spacing, first_weekday: int, open_weekdays: set[int]) -> tuple[int, ...]:
    """Weekdays, ``first_weekday`` among them, whose gaps week after week best follow ``spacing``.

    As many days a week as the mean target gap allows (7 / 3.5 = 2, 7 / 2.5 = 3, 7 / 7 = 1); every gap
    inside [earliest, latest] where that is possible; then the most even gaps (Thursday-Monday, 4 and 3,
    before Thursday-Saturday, 2 and 5); then the gaps nearest the targets in the order the protocol
    alternates them (the lower first: Monday-Thursday before Monday-Friday).
    """
    targets = (spacing.target, spacing.target_alt if spacing.target_alt is not None else spacing.target)
    mean = sum(targets) / 2
    days = sorted(open_weekdays | {first_weekday})
    per_week = max(1, min(round(7 / mean), len(days)))
    best, best_key = (first_weekday,), None
    others = [day for day in days if day != first_weekday]
    for chosen in combinations(others, per_week - 1):
        ordered = sorted((day - first_weekday) % 7 for day in (first_weekday, *chosen))
        gaps = [later - earlier for earlier, later in zip(ordered, [*ordered[1:], 7], strict=True)]
        outside = sum(1 for gap in gaps if not spacing.earliest <= gap <= spacing.latest)
        uneven = sum((gap - 7 / len(gaps)) ** 2 for gap in gaps)
        cost = sum(abs(gap - targets[index % 2]) for index, gap in enumerate(gaps))
        key = (outside, round(uneven, 6), cost, ordered)
        if best_key is None or key < best_key:
            best, best_key = tuple(sorted((first_weekday, *chosen))), key
    return best


def guess_series(*, window: due.DueWindow | None, spacing: due.Spacing | None, calendar: SiteCalendar,
                 chair_minutes: int, today: date, now: datetime) -> SeriesGuess:
    """The form's defaults at a site whose calendar is ``calendar`` (see the module's docstring)."""
    open_weekdays = set(calendar.hours)
    if window is not None:
        start = max(window.earliest, today)
        candidates = sorted((start + timedelta(days=offset) for offset in range((window.latest - start).days + 1)),
                            key=lambda day: (abs((day - window.target).days), day))
    else:
        candidates = []
    candidates += [today + timedelta(days=offset) for offset in range(LOOK_AHEAD_DAYS)]
    first, clock = today, DEFAULT_TIME
    for day in candidates:
        fits = _clock_on(calendar, day, chair_minutes, now)
        if fits is not None:
            first, clock = day, fits
            break
    weekdays = cadence_weekdays(spacing, first.weekday(), open_weekdays) if spacing else (first.weekday(),)
    return SeriesGuess(first_date=first, clock=clock, weekdays=weekdays)


def _clock_on(calendar: SiteCalendar, day: date, chair_minutes: int, now: datetime) -> time | None:
    """09:00 on ``day`` where the site is open for a whole session then, else its opening time; None
    when the day is closed or that time has passed."""
    opening = calendar.opening(day)
    if opening is None:
        return None
    opens, closes = opening
    duration = timedelta(minutes=chair_minutes)
    for clock in (DEFAULT_TIME, opens.time()):
        start = datetime.combine(day, clock, tzinfo=calendar.zone)
        if opens <= start and start + duration <= closes and start > now:
            return clock
    return None
