"""Attendance: no-shows and late cancels among the sessions that came due, by weekday and hour (local)."""

from __future__ import annotations

from collections import defaultdict

from scheduling.reports.layout import WEEKDAYS, column, figure, percent, table
from scheduling.reports.scope import Scope
from scheduling.reports.sql import site_filter

CAME_DUE = (
    "Sessions that came due: those whose start (in the site's time zone) is in the period and already past, "
    "not cancelled ahead (a cancel 24 hours or more before the start), not recorded from before the system."
)
DEFINITIONS = {
    "no_shows": f"No-shows divided by the sessions that came due. {CAME_DUE}",
    "late_cancels": f"Cancels less than 24 hours before the start divided by the sessions that came due. {CAME_DUE}",
}
TITLES = {"no_shows": "No-shows", "late_cancels": "Late cancels"}

# Sessions come from the covering index session_report_day. Those starting at one site at one instant are counted
# together first, so each start is turned into the site's local hour once, not once per chair.
_ATTENDANCE = """
WITH starts AS (
    SELECT s.location_id, s.local_date, s.start,
           count(*) AS due,
           count(*) FILTER (WHERE s.status = 'no_show') AS no_shows,
           count(*) FILTER (WHERE s.status = 'cancelled' AND s.late_cancel) AS late_cancels
      FROM scheduling_session s
     WHERE s.local_date BETWEEN %(first)s AND %(end)s AND s.start < %(now)s
       AND NOT s.recorded_history
       AND NOT (s.status = 'cancelled' AND NOT s.late_cancel)
       {site}
     GROUP BY 1, 2, 3
)
SELECT date_part('isodow', st.local_date)::int - 1 AS weekday,
       date_part('hour', st.start AT TIME ZONE l.time_zone)::int AS hour,
       st.local_date >= %(start)s AS current,
       sum(st.due)::int AS due, sum(st.no_shows)::int AS no_shows, sum(st.late_cancels)::int AS late_cancels
  FROM starts st
  JOIN scheduling_location l ON l.id = st.location_id
 GROUP BY 1, 2, 3
"""


def statements(scope: Scope) -> dict[str, tuple[str, dict]]:
    return {"attendance": (_ATTENDANCE.format(site=site_filter("s.location_id", scope.location_id)), scope.params())}


def _counted(groups: dict, key: str, key_name: str, keys, labels=None) -> list[dict]:
    rows = []
    for value in keys:
        due, missed = groups.get(value, (0, 0))
        rows.append({key_name: labels[value] if labels else value, "sessions": due, key: missed,
                     "rate": percent(missed, due)})
    return rows


def _attendance_figure(key: str, scope: Scope) -> dict:
    rows = scope.read(statements(scope))["attendance"]
    totals = {True: [0, 0], False: [0, 0]}
    by_weekday, by_hour = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
    for row in rows:
        totals[row["current"]][0] += row["due"]
        totals[row["current"]][1] += row[key]
        if row["current"]:
            for groups, group in ((by_weekday, row["weekday"]), (by_hour, row["hour"])):
                groups[group][0] += row["due"]
                groups[group][1] += row[key]
    (due_now, missed_now), (due_before, missed_before) = totals[True], totals[False]
    counted = [column("sessions", "Sessions due", "count"), column(key, TITLES[key], "count"),
               column("rate", "Rate", "percent")]
    return figure(
        key, TITLES[key], DEFINITIONS[key], unit="rate", value=percent(missed_now, due_now),
        previous=percent(missed_before, due_before), numerator=missed_now, denominator=due_now,
        tables=[
            table("by_weekday", "By weekday", chart="bar", columns=[column("weekday", "Weekday"), *counted],
                  rows=_counted(by_weekday, key, "weekday", range(7), WEEKDAYS), x="weekday", series=["rate"]),
            table("by_hour", "By hour (local)", chart="bar", columns=[column("hour", "Hour (local)"), *counted],
                  rows=_counted(by_hour, key, "hour", sorted(by_hour)), x="hour", series=["rate"]),
        ])


def no_shows(scope: Scope) -> dict:
    return _attendance_figure("no_shows", scope)


def late_cancels(scope: Scope) -> dict:
    return _attendance_figure("late_cancels", scope)
