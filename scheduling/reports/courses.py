"""Courses and sessions: discharged sessions by protocol phase; courses started, completed and lapsed."""

from __future__ import annotations

from scheduling.reports.layout import column, figure, table
from scheduling.reports.scope import Scope


def sessions_by_phase(scope: Scope) -> dict:
    return figure(
        "sessions_by_phase", "Sessions by phase", "Discharged sessions in the period by protocol phase.",
        unit="count", value=0, previous=0,
        tables=[table("by_phase", "By protocol phase", chart="bar",
                      columns=[column("phase", "Protocol and phase"), column("protocol", "Protocol"),
                               column("sessions", "Sessions", "count")],
                      rows=[], x="phase", series=["sessions"])])


def courses(scope: Scope) -> dict:
    return figure(
        "courses", "Courses started", "Courses started, completed and lapsed in the period.", unit="count",
        value=0, previous=0,
        tables=[table("courses", "Courses", chart="bar",
                      columns=[column("measure", "Courses"), column("count", "Count", "count"),
                               column("previous", "Previous period", "count")],
                      rows=[], x="measure", series=["count", "previous"])])
