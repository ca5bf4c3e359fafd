"""Running a figure's aggregate query, and the pieces of SQL the figures share."""

from __future__ import annotations

from django.db import connection

# A site's local day lies within 14 hours of the UTC day of the same date (UTC-12 to UTC+14), so
# bounds this much wider on an instant column let its index narrow the rows before the exact local test.
ZONE_MARGIN_HOURS = 14

# Sessions that hold a chair: every state but the two that release it (SessionStatus, RELEASED_STATUSES).
HOLDING_CHAIR = ("booked", "confirmed", "checked_in", "in_treatment", "discharged")

CHAIR_KIND = """CASE WHEN c.serves_esketamine AND c.has_infusion_pump THEN 'both'
                    WHEN c.serves_esketamine THEN 'esketamine'
                    WHEN c.has_infusion_pump THEN 'iv' ELSE 'other' END"""
CHAIR_KIND_LABELS = {"both": "Esketamine and IV", "esketamine": "Esketamine only", "iv": "IV only",
                     "other": "Neither (no pump, no esketamine)"}

# A course's site: where its first session with a site took place (a course itself names no site).
COURSE_SITE = """(SELECT fs.location_id FROM scheduling_session fs
                   WHERE fs.course_id = {course}.id AND fs.location_id IS NOT NULL
                   ORDER BY fs.start, fs.id LIMIT 1)"""

# The site a text belongs to when it is about no session: that of the patient's latest session started before
# it, else of their next one (two probes of the (patient, start) index).
NEAREST_SITE = """coalesce(
    (SELECT ns.location_id FROM scheduling_session ns
      WHERE ns.patient_id = {row}.patient_id AND ns.start <= {row}.{at} AND ns.location_id IS NOT NULL
      ORDER BY ns.start DESC LIMIT 1),
    (SELECT ns.location_id FROM scheduling_session ns
      WHERE ns.patient_id = {row}.patient_id AND ns.start > {row}.{at} AND ns.location_id IS NOT NULL
      ORDER BY ns.start LIMIT 1))"""


# Each site's local days of both periods (first to end), worked out once per site and day rather than once per row:
# ``midnight``, the instant the day begins there, and ``regular``, whether the day is 24 hours long (no change of
# UTC offset during it). On a regular day an instant's wall-clock time is plain arithmetic from ``midnight``; on the
# day the clocks change, the figures convert each row instead. (No time zone changes its offset twice in a day.)
SITE_DAYS = """
SELECT l.id AS location_id, l.time_zone, day::date AS local_date,
       date_part('isodow', day)::int - 1 AS weekday,
       date_part('epoch', day::timestamp AT TIME ZONE l.time_zone) AS midnight,
       (day::date + 1)::timestamp AT TIME ZONE l.time_zone - day::timestamp AT TIME ZONE l.time_zone
           = interval '24 hours' AS regular
  FROM scheduling_location l, generate_series(%(first)s::date, %(end)s::date, interval '1 day') AS day
 WHERE true {site}"""


def site_filter(column: str, location_id: int | None) -> str:
    """``AND column = %(location)s`` for one site, nothing for all sites (so the planner sees no OR)."""
    return f"AND {column} = %(location)s" if location_id is not None else ""


def fetch(sql: str, params: dict) -> list[dict]:
    """The rows of one query as dicts keyed by column name."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col.name for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
