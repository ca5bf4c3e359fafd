"""REMS monitoring forms submitted within 7 days of the session, and the forms overdue now."""

from __future__ import annotations

from scheduling.models.rems import OVERDUE_AFTER_DAY
from scheduling.reports.layout import column, figure, percent, table
from scheduling.reports.scope import Scope
from scheduling.reports.sql import site_filter

DEFINITION = (
    f"REMS monitoring forms submitted within {OVERDUE_AFTER_DAY} days of the session (local days at the site) "
    "divided by the forms settled: those of the period's sessions already submitted, or not submitted and now "
    f"past day {OVERDUE_AFTER_DAY}. Forms still inside their {OVERDUE_AFTER_DAY} days and unsubmitted wait. "
    "Overdue now: forms of any date not submitted and past their deadline today."
)

# Each site's days of the periods are worked out once (the instant a form's seventh day ends there, and whether that
# day is past at the site today), so each form is compared with an instant instead of being converted to local time.
# A local day ends when the next one begins: "submitted on or before day + 7 at the site" is "before day + 8 began".
_ON_TIME = """
WITH days AS MATERIALIZED (
    SELECT l.id AS location_id, l.name AS site, day::date AS local_date,
           (day::date + %(days)s + 1)::timestamp AT TIME ZONE l.time_zone AS deadline,
           (%(now)s AT TIME ZONE l.time_zone)::date > day::date + %(days)s AS past_deadline
      FROM scheduling_location l, generate_series(%(first)s::date, %(end)s::date, interval '1 day') AS day
     WHERE true {days_site}
)
SELECT d.site, s.local_date >= %(start)s AS current,
       count(*) FILTER (WHERE f.status = 'submitted' OR d.past_deadline) AS settled,
       count(*) FILTER (WHERE f.status = 'submitted' AND f.submitted_at < d.deadline) AS on_time
  FROM scheduling_remsform f
  JOIN scheduling_session s ON s.id = f.session_id
  JOIN days d ON d.location_id = s.location_id AND d.local_date = s.local_date
 WHERE s.local_date BETWEEN %(first)s AND %(end)s
   {site}
 GROUP BY 1, 2
"""

# Few forms are unsubmitted: the partial index remsform_unsubmitted holds exactly these.
_OVERDUE_NOW = """
SELECT l.name AS site, count(*) AS overdue_now
  FROM scheduling_remsform f
  JOIN scheduling_session s ON s.id = f.session_id
  JOIN scheduling_location l ON l.id = s.location_id
 WHERE f.status <> 'submitted' AND s.local_date < (%(now)s AT TIME ZONE l.time_zone)::date - %(days)s
   {site}
 GROUP BY 1
 ORDER BY 1
"""


def statements(scope: Scope) -> dict[str, tuple[str, dict]]:
    params = {**scope.params(), "days": OVERDUE_AFTER_DAY}
    site = site_filter("s.location_id", scope.location_id)
    on_time = _ON_TIME.format(site=site, days_site=site_filter("l.id", scope.location_id))
    return {"on_time": (on_time, params), "overdue": (_OVERDUE_NOW.format(site=site), params)}


def rems_on_time(scope: Scope) -> dict:
    found = scope.read(statements(scope))
    rows, overdue = found["on_time"], found["overdue"]
    totals = {True: [0, 0], False: [0, 0]}
    for row in rows:
        totals[row["current"]][0] += row["settled"]
        totals[row["current"]][1] += row["on_time"]
    by_site = sorted(({"site": row["site"], "forms": row["settled"], "on_time": row["on_time"],
                       "rate": percent(row["on_time"], row["settled"])} for row in rows if row["current"]),
                     key=lambda row: row["site"])
    overdue_rows = [*overdue, {"site": "All", "overdue_now": sum(row["overdue_now"] for row in overdue)}]
    (settled_now, on_time_now), (settled_before, on_time_before) = totals[True], totals[False]
    return figure(
        "rems_on_time", "REMS forms on time", DEFINITION, unit="rate", value=percent(on_time_now, settled_now),
        previous=percent(on_time_before, settled_before), numerator=on_time_now, denominator=settled_now,
        tables=[
            table("by_site", "By site", chart="bar",
                  columns=[column("site", "Site"), column("forms", "Forms settled", "count"),
                           column("on_time", "Submitted on time", "count"), column("rate", "On time", "percent")],
                  rows=by_site, x="site", series=["rate"]),
            table("overdue_now", "Overdue now", chart="none",
                  columns=[column("site", "Site"), column("overdue_now", "Overdue now", "count")], rows=overdue_rows),
        ])
