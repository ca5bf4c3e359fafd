"""Freed chairs: chair hours freed ahead, the hours patients' YES to an offer refilled, and how fast they took them.

A freed time is one chair's time from a start (``chair``, ``start``), counted
once however many offers it had and however often it was freed. The system
knows it three ways, all for times freed at least FREED_CHAIR_MIN_NOTICE_HOURS
ahead (the rule that plans offers), so a time with no candidate counts too:

- it was offered (its ``Offer`` rows);
- a cancel or a move kept it (its ``FreedTimeMark``, written in the change's
  own transaction), at a site with offers on;
- it is a cancelled session's chair time at a site with offers on, cancelled
  that far ahead (times freed before the marks were kept).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings

from scheduling.models import OfferState, SessionStatus
from scheduling.reports.layout import column, figure, percent, table
from scheduling.reports.period import Period
from scheduling.reports.scope import Scope
from scheduling.reports.sql import site_filter

DEFINITION = (
    "Refill rate: freed chair hours refilled by a patient's YES to an offer, divided by the chair hours freed. "
    "A freed time is a chair's time given up by a cancel or a move at least {notice} hours before it starts, at a "
    "site with offers on, whether or not there was a patient to offer it to. It counts once however many offers it "
    "had, for its whole length, on its own local day. Refilled: one of its offers was taken (the YES booked that "
    "very time); a time the desk booked again is freed but not refilled by offers. Offers sent: texts that reached "
    "the provider. Median minutes to take: from the offer's text being sent to the YES that took it."
)

_FREED = """
WITH offered AS (
    SELECT o.location_id, o.chair_id, o.start, o."end", o.state, o.sent_at, o.answered_at
      FROM scheduling_offer o
     WHERE o.start >= %(utc_from)s AND o.start < %(utc_to)s {site_offers}
), freed AS (
    -- One row per freed time: a chair's start, however many offers or cancels it had.
    SELECT times.location_id, times.chair_id, times.start, max(times."end") AS "end",
           sum(times.sent) AS sent, sum(times.taken) AS taken
      FROM (SELECT location_id, chair_id, start, "end", (sent_at IS NOT NULL)::int AS sent,
                   (state = %(taken)s)::int AS taken
              FROM offered
            UNION ALL
            SELECT m.location_id, m.chair_id, m.start, m."end", 0, 0
              FROM scheduling_freedtimemark m
              JOIN scheduling_location ml ON ml.id = m.location_id AND ml.offers_enabled
             WHERE m.start >= %(utc_from)s AND m.start < %(utc_to)s {site_marks}
            UNION ALL
            SELECT s.location_id, s.chair_id, s.start, s."end", 0, 0
              FROM scheduling_session s
              JOIN scheduling_location sl ON sl.id = s.location_id AND sl.offers_enabled
             WHERE s.status = %(cancelled)s AND s.start >= %(utc_from)s AND s.start < %(utc_to)s
               AND s.chair_id IS NOT NULL AND NOT s.recorded_history
               AND s.cancelled_at <= s.start - make_interval(hours => %(notice)s) {site_sessions}) times
     GROUP BY 1, 2, 3
), counted AS (
    SELECT f.location_id, l.name AS site, (f.start AT TIME ZONE l.time_zone)::date AS day,
           extract(epoch FROM f."end" - f.start) / 3600.0 AS freed_hours,
           CASE WHEN f.taken > 0 THEN extract(epoch FROM f."end" - f.start) / 3600.0 ELSE 0 END AS refilled_hours,
           f.sent, f.taken, NULL::float8 AS minutes
      FROM freed f JOIN scheduling_location l ON l.id = f.location_id
    UNION ALL
    -- One row per taken offer, for the median: a freed time's hours are above, once.
    SELECT o.location_id, l.name, (o.start AT TIME ZONE l.time_zone)::date, 0, 0, 0, 0,
           extract(epoch FROM o.answered_at - o.sent_at) / 60.0
      FROM offered o JOIN scheduling_location l ON l.id = o.location_id
     WHERE o.state = %(taken)s AND o.sent_at IS NOT NULL AND o.answered_at IS NOT NULL
), dated AS (
    SELECT counted.*, day >= %(start)s AS current, date_trunc('week', day)::date AS week
      FROM counted
     WHERE day BETWEEN %(first)s AND %(end)s
)
SELECT current, location_id, site, week, GROUPING(site, week) AS grouped,
       sum(freed_hours)::float8 AS freed_hours, sum(refilled_hours)::float8 AS refilled_hours,
       sum(sent)::int AS sent, sum(taken)::int AS taken,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY minutes) AS median_minutes
  FROM dated
 GROUP BY GROUPING SETS ((current), (current, location_id, site), (current, week))
"""

# GROUPING(site, week): which rows a line sums (the grouped-away columns are 1 bits, site the high one).
BY_SITE, BY_WEEK, ALL = 1, 2, 3

MEASURES = [
    column("freed_hours", "Freed chair hours", "hours"),
    column("refilled_hours", "Refilled by offers", "hours"),
    column("refill_rate", "Refill rate", "percent"),
    column("offers_sent", "Offers sent", "count"),
    column("taken", "Offers taken", "count"),
    column("median_minutes", "Median minutes to take", "minutes"),
]


def statements(scope: Scope) -> dict[str, tuple[str, dict]]:
    sql = _FREED.format(site_offers=site_filter("o.location_id", scope.location_id),
                        site_marks=site_filter("m.location_id", scope.location_id),
                        site_sessions=site_filter("s.location_id", scope.location_id))
    params = {**scope.params(), "notice": settings.FREED_CHAIR_MIN_NOTICE_HOURS, "taken": OfferState.TAKEN.value,
              "cancelled": SessionStatus.CANCELLED.value}
    return {"freed": (sql, params)}


def _hours(value) -> float:
    return round(float(value or 0), 1)


def _measures(row: dict | None) -> dict:
    """A line's measures; a line with no freed time reads 0 hours, no rate and no median."""
    row = row or {}
    freed, refilled = _hours(row.get("freed_hours")), _hours(row.get("refilled_hours"))
    median = row.get("median_minutes")
    return {"freed_hours": freed, "refilled_hours": refilled,
            "refill_rate": percent(row.get("refilled_hours"), row.get("freed_hours")),
            "offers_sent": row.get("sent") or 0, "taken": row.get("taken") or 0,
            "median_minutes": None if median is None else round(float(median), 1)}


def weeks_of(start: date, end: date) -> list[date]:
    """The Mondays of every week the period touches (its first week may begin before it)."""
    monday = start - timedelta(days=start.weekday())
    return [monday + timedelta(days=7 * index) for index in range((end - monday).days // 7 + 1)]


def _week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d} ({monday.day} {monday:%b})"


def freed_chairs(scope: Scope) -> dict:
    rows = scope.read(statements(scope))["freed"]
    totals = {row["current"]: row for row in rows if row["grouped"] == ALL}
    by_week = {row["week"]: row for row in rows if row["grouped"] == BY_WEEK and row["current"]}
    by_site = sorted((row for row in rows if row["grouped"] == BY_SITE and row["current"]),
                     key=lambda row: (row["site"], row["location_id"]))
    now, before = _measures(totals.get(True)), _measures(totals.get(False))
    return figure(
        "freed_chairs", "Freed chair hours refilled by offers",
        DEFINITION.format(notice=settings.FREED_CHAIR_MIN_NOTICE_HOURS), unit="percent",
        value=now["refill_rate"], previous=before["refill_rate"],
        numerator=now["refilled_hours"] if now["freed_hours"] else None,
        denominator=now["freed_hours"] if now["freed_hours"] else None,
        tables=[
            table("by_site", "By site", chart="bar", columns=[column("site", "Site"), *MEASURES],
                  rows=[{"site": row["site"], **_measures(row)} for row in by_site],
                  x="site", series=["freed_hours", "refilled_hours"]),
            table("by_week", "By week (local)", chart="bar", columns=[column("week", "Week"), *MEASURES],
                  rows=[{"week": _week_label(monday), **_measures(by_week.get(monday))}
                        for monday in weeks_of(scope.period.start, scope.period.end)],
                  x="week", series=["freed_hours", "refilled_hours"]),
        ])


def week_at_site(location_id: int, day: date, *, now) -> dict:
    """The freed-chair measures of the week holding ``day`` at one site (for the desk's offers page)."""
    monday = day - timedelta(days=day.weekday())
    scope = Scope(period=Period("week", monday, monday + timedelta(days=6)), location_id=location_id, now=now)
    rows = scope.read(statements(scope))["freed"]
    return _measures(next((row for row in rows if row["grouped"] == ALL and row["current"]), None))
