"""Attendance: no-shows and late cancels among the sessions that came due, by weekday and hour (local)."""

from __future__ import annotations

from scheduling.reports.layout import column, figure, table
from scheduling.reports.scope import Scope


def _figure(key: str, title: str, definition: str, scope: Scope) -> dict:
    counted = [column("sessions", "Sessions due", "count"), column(key, title, "count"),
               column("rate", "Rate", "percent")]
    return figure(key, title, definition, unit="rate", value=None, previous=None, numerator=0, denominator=0,
                  tables=[
                      table("by_weekday", "By weekday", chart="bar", columns=[column("weekday", "Weekday"), *counted],
                            rows=[], x="weekday", series=["rate"]),
                      table("by_hour", "By hour", chart="bar", columns=[column("hour", "Hour"), *counted], rows=[],
                            x="hour", series=["rate"]),
                  ])


def no_shows(scope: Scope) -> dict:
    return _figure("no_shows", "No-shows", "No-shows divided by the sessions that came due.", scope)


def late_cancels(scope: Scope) -> dict:
    return _figure("late_cancels", "Late cancels", "Late cancels divided by the sessions that came due.", scope)
