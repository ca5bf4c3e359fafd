"""The clinic's numbers for one period and one site (or all sites): every figure beside the previous period's.

The shape is the dashboard's, the CSV export's and the API's contract (docs/REPORTS.md); each figure is
computed by its own module in a handful of aggregate queries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from scheduling.models import Location
from scheduling.reports import attendance, courses, offers, outcomes, rems_timeliness, texts, utilisation
from scheduling.reports.period import Period, period_from
from scheduling.reports.scope import Scope

__all__ = ["FIGURE_KEYS", "Period", "clinic_numbers", "figure_numbers", "period_from", "statements"]

# The dashboard's order.
BUILDERS = {
    "chair_utilisation": utilisation.chair_utilisation,
    "no_shows": attendance.no_shows,
    "late_cancels": attendance.late_cancels,
    "rems_on_time": rems_timeliness.rems_on_time,
    "outcomes": outcomes.outcomes,
    "sessions_by_phase": courses.sessions_by_phase,
    "courses": courses.courses,
    "texts": texts.texts,
    "freed_chairs": offers.freed_chairs,
}
FIGURE_KEYS = tuple(BUILDERS)
# The modules whose statements make the dashboard (the benchmark runs them raw as its floor).
SOURCES = (utilisation, attendance, rems_timeliness, outcomes, courses, texts, offers)
# The statements by the time they took for a month of all sites at large scale (docs/PERFORMANCE.md), longest
# first: read side by side, each reader takes the next one free, so the long ones must not come last.
LONGEST_FIRST = ("outcomes", "booked", "on_time", "texts", "by_phase", "attendance", "courses", "freed", "overdue",
                 "open", "opt_outs")


def _location(location_id: int | None) -> dict[str, Any] | None:
    if location_id is None:
        return None
    location = Location.objects.only("name").get(pk=location_id)
    return {"id": location.pk, "name": location.name}


def figure_numbers(key: str, *, period: Period, location_id: int | None, now: datetime | None = None) -> dict:
    """One figure (``key`` from FIGURE_KEYS) for ``period`` beside the previous period's value."""
    scope = Scope(period=period, location_id=location_id, now=now or timezone.now())
    return BUILDERS[key](scope)


def clinic_numbers(*, period: Period, location_id: int | None, now: datetime | None = None) -> dict:
    """Every figure for ``period`` at one site (``location_id``) or all sites (None), JSON-ready.

    Raises ``Location.DoesNotExist`` for an unknown site; the API checks the site first.
    """
    location = _location(location_id)
    scope = Scope(period=period, location_id=location_id, now=now or timezone.now())
    scope.read_ahead(_statements(scope))
    return {
        "period": period.as_dict(),
        "previous_period": period.previous().as_dict(),
        "location": location,
        "figures": [build(scope) for build in BUILDERS.values()],
    }


def statements(*, period: Period, location_id: int | None, now: datetime) -> list[tuple[str, dict]]:
    """Every ``(sql, params)`` the dashboard runs for its figures, once each, longest first."""
    return _statements(Scope(period=period, location_id=location_id, now=now))


def _statements(scope: Scope) -> list[tuple[str, dict]]:
    named = {name: statement for source in SOURCES for name, statement in source.statements(scope).items()}
    rank = {name: place for place, name in enumerate(LONGEST_FIRST)}
    return [named[name] for name in sorted(named, key=lambda name: rank.get(name, len(rank)))]
