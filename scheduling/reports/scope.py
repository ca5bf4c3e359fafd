"""What a report is asked about: the period, the site (or all sites) and the moment it is asked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scheduling.reports.period import Period


@dataclass(frozen=True)
class Scope:
    period: Period
    location_id: int | None  # None: all sites
    now: datetime

    @property
    def previous(self) -> Scope:
        return Scope(period=self.period.previous(), location_id=self.location_id, now=self.now)

    def params(self) -> dict:
        """The SQL parameters every figure's query shares."""
        return {"start": self.period.start, "end": self.period.end, "location": self.location_id, "now": self.now}
