"""What a report is asked about: the period, the site (or all sites) and the moment it is asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.conf import settings

from scheduling.reports.period import Period
from scheduling.reports.reading import read_together
from scheduling.reports.sql import ZONE_MARGIN_HOURS, fetch


@dataclass(frozen=True)
class Scope:
    period: Period
    location_id: int | None  # None: all sites
    now: datetime
    # Rows already read for this question: two figures built on one statement (no-shows and late cancels)
    # read it once.
    memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def previous_period(self) -> Period:
        return self.period.previous()

    def params(self) -> dict:
        """The SQL parameters the figures share. ``first`` is the previous period's first day: each figure
        reads both periods in one query (they are adjacent) and tells them apart by ``start``."""
        first = self.previous_period.start
        margin = timedelta(hours=ZONE_MARGIN_HOURS)
        return {
            "first": first, "start": self.period.start, "end": self.period.end,
            "utc_from": datetime.combine(first, time(0), tzinfo=UTC) - margin,
            "utc_to": datetime.combine(self.period.end + timedelta(days=1), time(0), tzinfo=UTC) + margin,
            "location": self.location_id, "now": self.now,
            # Where a row has no site to take a time zone from (a course with no session yet), the clinic's own.
            "zone": settings.TIME_ZONE,
        }

    def read(self, statements: dict[str, tuple[str, dict]]) -> dict[str, list[dict]]:
        """The rows of each named ``(sql, params)``, each statement run once per scope."""
        found = {}
        for name, (sql, params) in statements.items():
            key = _key(sql, params)
            if key not in self.memo:
                self.memo[key] = fetch(sql, params)
            found[name] = self.memo[key]
        return found

    def read_ahead(self, statements: list[tuple[str, dict]]) -> None:
        """Read ``statements`` side by side on one snapshot (``reading.read_together``, longest first) into the
        memo that ``read`` answers from."""
        todo = {_key(sql, params): (sql, params) for sql, params in statements}
        todo = {key: statement for key, statement in todo.items() if key not in self.memo}
        self.memo.update(zip(todo, read_together(list(todo.values())), strict=True))


def _key(sql: str, params: dict) -> tuple:
    return sql, tuple(sorted((param, repr(value)) for param, value in params.items()))
