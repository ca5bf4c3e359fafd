"""Chair utilisation: booked chair minutes over open chair minutes, by site, chair kind, weekday and hour."""

from __future__ import annotations

from scheduling.reports.layout import column, figure, table
from scheduling.reports.scope import Scope

DEFINITION = ("Booked chair minutes (sessions booked, confirmed, checked in, in treatment or discharged, from start "
              "to end, clipped to opening hours) divided by open chair minutes (each active chair times its site's "
              "opening hours on each day of the period, closures excluded).")


def chair_utilisation(scope: Scope) -> dict:
    columns = [column("booked_hours", "Booked chair hours", "hours"), column("open_hours", "Open chair hours", "hours"),
               column("utilisation", "Utilisation", "percent")]
    return figure(
        "chair_utilisation", "Chair utilisation", DEFINITION, unit="percent", value=None, previous=None,
        numerator=0, denominator=0,
        tables=[
            table("by_site", "By site", chart="bar", columns=[column("site", "Site"), *columns], rows=[],
                  x="site", series=["utilisation"]),
            table("by_chair_kind", "By chair kind", chart="bar", columns=[column("kind", "Chair kind"), *columns],
                  rows=[], x="kind", series=["utilisation"]),
            table("by_weekday_hour", "By weekday and hour", chart="heatmap",
                  columns=[column("weekday", "Weekday"), column("hour", "Hour"), *columns], rows=[],
                  x="hour", series=["utilisation"], y="weekday"),
        ])
