"""REMS monitoring forms submitted within 7 days of the session, and the forms overdue now."""

from __future__ import annotations

from scheduling.reports.layout import column, figure, table
from scheduling.reports.scope import Scope


def rems_on_time(scope: Scope) -> dict:
    return figure(
        "rems_on_time", "REMS forms on time", "Forms submitted within 7 days of the session.", unit="rate",
        value=None, previous=None, numerator=0, denominator=0,
        tables=[
            table("by_site", "By site", chart="bar",
                  columns=[column("site", "Site"), column("forms", "Forms due", "count"),
                           column("on_time", "On time", "count"), column("rate", "On time", "percent")],
                  rows=[], x="site", series=["rate"]),
            table("overdue_now", "Overdue now", chart="none",
                  columns=[column("site", "Site"), column("overdue_now", "Overdue now", "count")], rows=[]),
        ])
