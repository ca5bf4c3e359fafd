"""The period a report covers: a week, a month, a quarter or custom days, in each site's own local days."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError

KINDS = ("week", "month", "quarter", "custom")
# A custom period longer than a leap year is a different question (and a slow one).
CUSTOM_MAX_DAYS = 366


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _add_months(day: date, months: int) -> date:
    """The first of the month ``months`` after ``day``'s month (negative goes back)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    kind: str  # "week" | "month" | "quarter" | "custom"
    start: date  # first local day, inclusive
    end: date  # last local day, inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The same length just before: the week before, the month before (whatever its length), the quarter
        before; custom days the same number of days ending the day before this one starts."""
        if self.kind == "month":
            first = _add_months(self.start, -1)
            return Period("month", first, _month_end(first))
        if self.kind == "quarter":
            first = _add_months(self.start, -3)
            return Period("quarter", first, _month_end(_add_months(first, 2)))
        return Period(self.kind, self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    @property
    def label(self) -> str:
        if self.kind == "week":
            return f"Week of {self.start.day} {self.start:%B %Y}"
        if self.kind == "month":
            return f"{self.start:%B %Y}"
        if self.kind == "quarter":
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        if self.start.year == self.end.year:
            return f"{self.start.day} {self.start:%B} – {self.end.day} {self.end:%B %Y}"
        return f"{self.start.day} {self.start:%B %Y} – {self.end.day} {self.end:%B %Y}"

    def as_dict(self) -> dict:
        return {"kind": self.kind, "start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label}


def period_from(*, kind: str, anchor: date | None = None, start: date | None = None, end: date | None = None,
                today: date) -> Period:
    """The period of ``kind`` containing ``anchor`` (default ``today``), or custom ``start``..``end``.

    A week runs Monday to Sunday. Custom needs both days, ``start`` on or before ``end`` and at most 366 days.
    Raises ``ValidationError({field: [message]})`` naming the field at fault.
    """
    if kind not in KINDS:
        raise ValidationError({"period": [f"Choose one of {', '.join(KINDS)}."]})
    if kind != "custom":
        day = anchor or today
        if kind == "week":
            monday = day - timedelta(days=day.weekday())
            return Period("week", monday, monday + timedelta(days=6))
        if kind == "month":
            return Period("month", _month_start(day), _month_end(day))
        first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return Period("quarter", first, _month_end(_add_months(first, 2)))
    errors = {}
    if start is None:
        errors["start"] = ["A custom period needs its first day."]
    if end is None:
        errors["end"] = ["A custom period needs its last day."]
    if errors:
        raise ValidationError(errors)
    if start > end:
        raise ValidationError({"end": ["The last day must be on or after the first day."]})
    if (end - start).days + 1 > CUSTOM_MAX_DAYS:
        raise ValidationError({"end": [f"A custom period covers at most {CUSTOM_MAX_DAYS} days."]})
    return Period("custom", start, end)
