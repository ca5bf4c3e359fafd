"""Booking rules as plain functions over already-loaded facts.

Booking checks one slot and the availability search checks thousands; both
call these, so a slot the search offers is exactly a slot booking accepts,
and the search stays a fixed number of queries (the facts are loaded once).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta


@dataclass(frozen=True)
class SiteCalendar:
    """A location's opening hours by weekday, its closures, in its own time zone."""

    zone: object  # zoneinfo.ZoneInfo
    hours: dict[int, tuple[time, time]]
    closures: frozenset[date] = field(default_factory=frozenset)

    def opening(self, day: date) -> tuple[datetime, datetime] | None:
        """Opening and closing instants of ``day``, or None when closed."""
        if day in self.closures or day.weekday() not in self.hours:
            return None
        opens, closes = self.hours[day.weekday()]
        return datetime.combine(day, opens, tzinfo=self.zone), datetime.combine(day, closes, tzinfo=self.zone)

    def is_open_for(self, start: datetime, end: datetime) -> bool:
        """True when [start, end) lies inside one day's opening hours, on a day that is not a closure."""
        local_start = start.astimezone(self.zone)
        window = self.opening(local_start.date())
        if window is None:
            return False
        return window[0] <= start and end <= window[1]


def overlaps(start: datetime, end: datetime, other_start: datetime, other_end: datetime) -> bool:
    return start < other_end and other_start < end


def peak_concurrency(intervals: Iterable[tuple[datetime, datetime]], start: datetime, end: datetime) -> int:
    """The most intervals that overlap one another at any moment inside [start, end).

    Clinician capacity counts patients *in treatment at once*, so two sessions
    that both touch a new one but not each other count as one, not two.
    """
    events: list[tuple[datetime, int]] = []
    for other_start, other_end in intervals:
        clipped_start, clipped_end = max(other_start, start), min(other_end, end)
        if clipped_start < clipped_end:
            events.append((clipped_start, 1))
            events.append((clipped_end, -1))
    # Ends sort before starts at the same instant: back-to-back is not overlap.
    events.sort(key=lambda event: (event[0], event[1]))
    current = peak = 0
    for _, change in events:
        current += change
        peak = max(peak, current)
    return peak


def grid_starts(opens: datetime, closes: datetime, duration: timedelta, step_minutes: int = 15) -> list[datetime]:
    """Start instants on a ``step_minutes`` grid from opening such that the session ends by closing."""
    starts = []
    cursor = opens
    step = timedelta(minutes=step_minutes)
    while cursor + duration <= closes:
        starts.append(cursor)
        cursor += step
    return starts
