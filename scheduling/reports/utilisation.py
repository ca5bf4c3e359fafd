"""Chair utilisation: booked chair minutes over open chair minutes, by site, chair kind, weekday and hour.

Both sides are counted in the site's own wall-clock time: opening hours are local ("09:00-17:00" stays
09:00 across daylight saving), and a session's start and end are turned into the same local clock.
"""

from __future__ import annotations

from collections import defaultdict

from scheduling.reports.layout import WEEKDAYS, column, figure, percent, table
from scheduling.reports.scope import Scope
from scheduling.reports.sql import CHAIR_KIND, CHAIR_KIND_LABELS, HOLDING_CHAIR, SITE_DAYS, site_filter

DEFINITION = (
    "Booked chair minutes divided by open chair minutes. Booked: sessions booked, confirmed, checked in, in "
    "treatment or discharged, from start to end (turnover not counted), clipped to the site's opening hours that "
    "day. Open: each active chair times its site's opening hours on every day of the period, closures left out."
)

# One row per site, chair kind, weekday, hour and period: at most sites x 4 x 7 x 24 x 2, whatever the sessions.
# The period's sessions come from the covering index session_report_day (an index-only range scan on local_date);
# the small tables are hashed. Each session is reduced to its site, chair kind, weekday and its clipped start and
# end as seconds after local midnight, and sessions alike are counted together (bookings fall on a few slot times
# and lengths), so only those few groups are split over the hours they span, with arithmetic per hour.
# sql.CHAIR_KIND from the number the booked minutes carry (2 for esketamine, 1 for a pump).
_KIND_NAME = "(ARRAY['other', 'iv', 'esketamine', 'both'])[a.kind + 1]"
_BOOKED = f"""
WITH open_days AS MATERIALIZED (
    -- The days each site opened (closures and closed weekdays left out), with the opening hours as seconds.
    SELECT d.location_id, d.time_zone, d.local_date, d.weekday, d.midnight, d.regular, h.opens, h.closes,
           date_part('epoch', h.opens) AS opens_second, date_part('epoch', h.closes) AS closes_second
      FROM ({SITE_DAYS.format(site='{days_site}')}) d
      JOIN scheduling_openinghours h ON h.location_id = d.location_id AND h.weekday = d.weekday
     WHERE NOT EXISTS (SELECT 1 FROM scheduling_closure x
                        WHERE x.location_id = d.location_id AND x.date = d.local_date)
),
clipped AS (
    SELECT s.location_id, c.kind, o.weekday, s.local_date >= %(start)s AS current,
           CASE WHEN o.regular
                THEN greatest(date_part('epoch', s.start) - o.midnight, o.opens_second)
                ELSE date_part('epoch', greatest(s.start AT TIME ZONE o.time_zone, s.local_date + o.opens)
                                        - s.local_date) END AS from_second,
           CASE WHEN o.regular
                THEN least(date_part('epoch', s."end") - o.midnight, o.closes_second)
                ELSE date_part('epoch', least(s."end" AT TIME ZONE o.time_zone, s.local_date + o.closes)
                                        - s.local_date) END AS to_second
      FROM (SELECT s.location_id, s.chair_id, s.local_date, s.start, s."end"
              FROM scheduling_session s
             WHERE s.local_date BETWEEN %(first)s AND %(end)s
               AND s.status IN {HOLDING_CHAIR!r}
               {{site}}
            OFFSET 0) s  -- one range scan, hashed against the days (not one index probe per site and day)
      JOIN open_days o ON o.location_id = s.location_id AND o.local_date = s.local_date
      -- The chair's kind as a number while rows are many (sorting and hashing text is slower): named after.
      JOIN (SELECT c.id, c.serves_esketamine::int * 2 + c.has_infusion_pump::int AS kind
              FROM scheduling_chair c WHERE c.active) c ON c.id = s.chair_id
),
alike AS MATERIALIZED (
    SELECT location_id, kind, weekday, current, from_second, to_second, count(*) AS sessions
      FROM clipped
     GROUP BY 1, 2, 3, 4, 5, 6
)
SELECT a.location_id, l.name AS site, {_KIND_NAME} AS kind, a.weekday, hour, true AS current,
       sum(a.sessions * (least(a.to_second, 3600 * (hour + 1)) - greatest(a.from_second, 3600 * hour))) / 60
           AS minutes
  FROM alike a
  JOIN scheduling_location l ON l.id = a.location_id,
       generate_series(floor(a.from_second / 3600)::int, ceil(a.to_second / 3600)::int - 1) AS hour
 WHERE a.current AND a.from_second < a.to_second
 GROUP BY 1, 2, 3, 4, 5, 6
UNION ALL
-- The previous period gives only its total: no need to split it by hour.
SELECT a.location_id, l.name, {_KIND_NAME}, NULL, NULL, false, sum(a.sessions * (a.to_second - a.from_second)) / 60
  FROM alike a JOIN scheduling_location l ON l.id = a.location_id
 WHERE NOT a.current AND a.from_second < a.to_second
 GROUP BY 1, 2, 3
"""

# Open chair time: the period's days counted per site, weekday and opening hours (closures left out), each such
# group split over its hours once and multiplied by the site's active chairs of each kind.
_OPEN = f"""
WITH open_days AS (
    SELECT h.location_id, h.weekday, day >= %(start)s AS current,
           date_part('epoch', h.opens) AS from_second, date_part('epoch', h.closes) AS to_second, count(*) AS days
      FROM generate_series(%(first)s::date, %(end)s::date, interval '1 day') AS day
      JOIN scheduling_openinghours h ON h.weekday = date_part('isodow', day)::int - 1
     WHERE NOT EXISTS (SELECT 1 FROM scheduling_closure x WHERE x.location_id = h.location_id AND x.date = day::date)
       {{site_hours}}
     GROUP BY 1, 2, 3, 4, 5
),
chairs AS (
    SELECT c.location_id, {CHAIR_KIND} AS kind, count(*) AS chairs
      FROM scheduling_chair c WHERE c.active {{site_chairs}} GROUP BY 1, 2
)
SELECT o.location_id, l.name AS site, chairs.kind, o.weekday, hour, o.current,
       sum(o.days * chairs.chairs * (least(o.to_second, 3600 * (hour + 1)) - greatest(o.from_second, 3600 * hour)))
           / 60 AS minutes
  FROM open_days o
  JOIN chairs ON chairs.location_id = o.location_id
  JOIN scheduling_location l ON l.id = o.location_id,
       generate_series(floor(o.from_second / 3600)::int, ceil(o.to_second / 3600)::int - 1) AS hour
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
        "booked": (_BOOKED.format(site=site_filter("s.location_id", scope.location_id),
                                  days_site=site_filter("l.id", scope.location_id)), scope.params()),
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
