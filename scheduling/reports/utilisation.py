"""Chair utilisation: booked chair minutes over open chair minutes, by site, chair kind, weekday and hour.

Both sides are counted in the site's own wall-clock time: opening hours are local ("09:00-17:00" stays
09:00 across daylight saving), and a session's start and end are turned into the same local clock.
"""

from __future__ import annotations

from collections import defaultdict

from scheduling.reports.layout import WEEKDAYS, column, figure, percent, table
from scheduling.reports.scope import Scope
from scheduling.reports.sql import CHAIR_KIND, CHAIR_KIND_LABELS, HOLDING_CHAIR, site_filter

DEFINITION = (
    "Booked chair minutes divided by open chair minutes. Booked: sessions booked, confirmed, checked in, in "
    "treatment or discharged, from start to end (turnover not counted), clipped to the site's opening hours that "
    "day. Open: each active chair times its site's opening hours on every day of the period, closures left out."
)

# One row per site, chair kind, weekday, hour and period: at most sites x 4 x 7 x 24 x 2, whatever the sessions.
_BOOKED = f"""
WITH held AS MATERIALIZED (
    -- The period's sessions read once (by status and start), before the hours are joined: joined the other way
    -- round, the planner read each site's sessions once per weekday.
    SELECT s.location_id, s.chair_id, s.local_date, s.start, s."end"
      FROM scheduling_session s
     WHERE s.local_date BETWEEN %(first)s AND %(end)s
       AND s.start >= %(utc_from)s AND s.start < %(utc_to)s
       AND s.status IN {HOLDING_CHAIR!r}
       {{site}}
),
clipped AS (
    SELECT s.location_id, l.name AS site, {CHAIR_KIND} AS kind, s.local_date,
           greatest(s.start AT TIME ZONE l.time_zone, s.local_date + h.opens) AS from_local,
           least(s."end" AT TIME ZONE l.time_zone, s.local_date + h.closes) AS to_local
      FROM held s
      JOIN scheduling_location l ON l.id = s.location_id
      JOIN scheduling_chair c ON c.id = s.chair_id AND c.active
      JOIN scheduling_openinghours h
        ON h.location_id = s.location_id AND h.weekday = extract(isodow FROM s.local_date)::int - 1
     WHERE NOT EXISTS (SELECT 1 FROM scheduling_closure x WHERE x.location_id = s.location_id AND x.date = s.local_date)
)
SELECT location_id, site, kind, extract(isodow FROM local_date)::int - 1 AS weekday,
       extract(hour FROM hour_start)::int AS hour, true AS current,
       sum(extract(epoch FROM least(to_local, hour_start + interval '1 hour') - greatest(from_local, hour_start)))
           / 60 AS minutes
  FROM clipped, generate_series(date_trunc('hour', from_local), to_local, interval '1 hour') AS hour_start
 WHERE local_date >= %(start)s AND from_local < to_local AND hour_start < to_local
 GROUP BY 1, 2, 3, 4, 5, 6
UNION ALL
-- The previous period gives only its total: no need to split it by hour.
SELECT location_id, site, kind, NULL, NULL, false, sum(extract(epoch FROM to_local - from_local)) / 60
  FROM clipped
 WHERE local_date < %(start)s AND from_local < to_local
 GROUP BY 1, 2, 3
"""

_OPEN = f"""
WITH open_days AS (
    SELECT h.location_id, day::date AS day, day + h.opens AS from_local, day + h.closes AS to_local
      FROM generate_series(%(first)s::date, %(end)s::date, interval '1 day') AS day
      JOIN scheduling_openinghours h ON h.weekday = extract(isodow FROM day)::int - 1
     WHERE NOT EXISTS (SELECT 1 FROM scheduling_closure x WHERE x.location_id = h.location_id AND x.date = day::date)
       {{site_hours}}
),
chairs AS (
    SELECT c.location_id, {CHAIR_KIND} AS kind, count(*) AS chairs
      FROM scheduling_chair c WHERE c.active {{site_chairs}} GROUP BY 1, 2
)
SELECT o.location_id, l.name AS site, chairs.kind, extract(isodow FROM o.day)::int - 1 AS weekday,
       extract(hour FROM hour_start)::int AS hour, o.day >= %(start)s AS current,
       sum(chairs.chairs * extract(epoch FROM least(o.to_local, hour_start + interval '1 hour')
                                             - greatest(o.from_local, hour_start))) / 60 AS minutes
  FROM open_days o
  JOIN chairs ON chairs.location_id = o.location_id
  JOIN scheduling_location l ON l.id = o.location_id,
       generate_series(date_trunc('hour', o.from_local), o.to_local, interval '1 hour') AS hour_start
 WHERE hour_start < o.to_local
 GROUP BY 1, 2, 3, 4, 5, 6
"""


def _hours(minutes: float) -> float:
    return round(minutes / 60, 1)


def _rows(groups: dict, key_name: str, labels=None) -> list[dict]:
    rows = []
    for key, (booked, open_) in sorted(groups.items(), key=lambda item: str(item[0])):
        rows.append({key_name: labels[key] if labels else key, "booked_hours": _hours(booked),
                     "open_hours": _hours(open_), "utilisation": percent(booked, open_)})
    return rows


def statements(scope: Scope) -> dict[str, tuple[str, dict]]:
    """The booked and the open chair minutes per site, chair kind, local weekday and hour, both periods."""
    return {
        "booked": (_BOOKED.format(site=site_filter("s.location_id", scope.location_id)), scope.params()),
        "open": (_OPEN.format(site_hours=site_filter("h.location_id", scope.location_id),
                              site_chairs=site_filter("c.location_id", scope.location_id)), scope.params()),
    }


def chair_utilisation(scope: Scope) -> dict:
    found = scope.read(statements(scope))
    booked, open_ = found["booked"], found["open"]
    totals = {True: [0.0, 0.0], False: [0.0, 0.0]}
    by_site, by_kind, by_hour = (defaultdict(lambda: [0.0, 0.0]) for _ in range(3))
    for side, rows in ((0, booked), (1, open_)):
        for row in rows:
            minutes = float(row["minutes"])
            totals[row["current"]][side] += minutes
            if row["current"]:
                by_site[row["site"]][side] += minutes
                by_kind[row["kind"]][side] += minutes
                by_hour[(row["weekday"], row["hour"])][side] += minutes
    hours = sorted({hour for _, hour in by_hour})
    heat = []
    if hours:
        for weekday in range(7):
            for hour in range(hours[0], hours[-1] + 1):
                booked_minutes, open_minutes = by_hour.get((weekday, hour), (0.0, 0.0))
                heat.append({"weekday": WEEKDAYS[weekday], "hour": hour, "booked_hours": _hours(booked_minutes),
                             "open_hours": _hours(open_minutes), "utilisation": percent(booked_minutes, open_minutes)})
    (booked_now, open_now), (booked_before, open_before) = totals[True], totals[False]
    columns = [column("booked_hours", "Booked chair hours", "hours"), column("open_hours", "Open chair hours", "hours"),
               column("utilisation", "Utilisation", "percent")]
    return figure(
        "chair_utilisation", "Chair utilisation", DEFINITION, unit="percent",
        value=percent(booked_now, open_now), previous=percent(booked_before, open_before),
        numerator=_hours(booked_now), denominator=_hours(open_now),
        tables=[
            table("by_site", "By site", chart="bar", columns=[column("site", "Site"), *columns],
                  rows=_rows(by_site, "site"), x="site", series=["utilisation"]),
            table("by_chair_kind", "By chair kind", chart="bar", columns=[column("kind", "Chair kind"), *columns],
                  rows=_rows(by_kind, "kind", CHAIR_KIND_LABELS), x="kind", series=["utilisation"]),
            table("by_weekday_hour", "By weekday and hour (local)", chart="heatmap",
                  columns=[column("weekday", "Weekday"), column("hour", "Hour (local)"), *columns], rows=heat,
                  x="hour", series=["utilisation"], y="weekday"),
        ])
