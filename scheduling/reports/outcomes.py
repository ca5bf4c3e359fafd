"""Outcomes: PHQ-9 response and remission at week 4 and week 8 of the course, by protocol.

The baseline, the measures that belong to a course, response and remission are the patient chart's
(``scheduling.charting.outcomes``): the baseline is the course's first PHQ-9 on or after its start; a measure
linked to another course's session never counts; response is a fall of 50% or more from a baseline above 0;
remission a PHQ-9 below 5. Here the same rules are one aggregate query over every course in the period.
"""

from __future__ import annotations

from patients import measures
from scheduling.reports.layout import column, figure, percent, table
from scheduling.reports.scope import Scope
from scheduling.reports.sql import COURSE_SITE

WEEKS = (4, 8)
# The week-N reading is the latest PHQ-9 within this many days either side of day 7 x N.
WINDOW_DAYS = 7

DEFINITION = (
    "For courses whose week 4 or week 8 (the start date plus 28 or 56 days) falls in the period: the latest "
    f"PHQ-9 within {WINDOW_DAYS} days either side of that day against the course's baseline, its first PHQ-9 on or "
    "after the start and before that window. Response: a fall of 50% or more; remission: PHQ-9 below 5. "
    "Patients: courses with both readings."
)

# The courses whose week 4 or 8 falls in either period, and every PHQ-9 that counts for each: the patient's, dated
# as the chart dates it (a linked session's local day, else the clinic's day), not linked to another course's
# session, from the start day to the end of the course. The instants bound them a day wider than the dates, so the
# (patient, instrument, taken_at) index finds them. Read once, in one join, and reduced to one row per course in
# one grouping: its baseline (the first) and its reading at each week (the latest in the week's window). No probe
# per course or per week, and no join between derived sets whose sizes the planner can only guess.
_WINDOWS = {week: ("m.taken_at >= (pt.start_date + {d} - %(window)s - 1)::timestamp AT TIME ZONE %(zone)s"
                   " AND m.taken_at < (pt.start_date + {d} + %(window)s + 2)::timestamp AT TIME ZONE %(zone)s"
                   " AND m.day BETWEEN pt.start_date + {d} - %(window)s AND pt.start_date + {d} + %(window)s"
                   ).format(d=7 * week) for week in WEEKS}
# The first and the latest reading are found by comparing arrays (moment, id, total, day), not by sorting each
# course's readings once per aggregate: the moment and the id order them as "ORDER BY taken_at, id" would, and every
# element is exact in a float8 (microseconds since 1970 and ids stay below 2^53).
_ORDERED = "ARRAY[date_part('epoch', m.taken_at), m.id, m.total, m.day - DATE '2000-01-01']::float8[]"
_READING_AT = ",\n           ".join(
    f"(max({_ORDERED}) FILTER (WHERE {condition}))[3]::int AS week_{week}" for week, condition in _WINDOWS.items())
_OUTCOMES = f"""
WITH courses AS (
    SELECT c.id AS course_id, c.patient_id, p.name AS protocol, c.start_date,
           (coalesce(c.completed_at, c.discontinued_at) AT TIME ZONE %(zone)s)::date AS ended_on
      FROM protocols_treatmentcourse c
      JOIN protocols_protocol p ON p.id = c.protocol_id
     WHERE c.start_date BETWEEN %(first)s - {7 * max(WEEKS)} AND %(end)s - {7 * min(WEEKS)}
       {{site}}
),
per_course AS (
    SELECT pt.course_id, pt.protocol, pt.start_date,
           (min({_ORDERED}))[3]::int AS baseline,
           DATE '2000-01-01' + (min({_ORDERED}))[4]::int AS baseline_day,
           {_READING_AT}
      FROM courses pt
      LEFT JOIN LATERAL (
          SELECT m.id, m.total, m.taken_at, coalesce(ls.local_date, (m.taken_at AT TIME ZONE %(zone)s)::date) AS day,
                 ls.course_id AS linked_course
            FROM patients_outcomemeasure m
            LEFT JOIN scheduling_sessionmeasure sm ON sm.measure_id = m.id
            LEFT JOIN scheduling_session ls ON ls.id = sm.session_id
           WHERE m.patient_id = pt.patient_id AND m.instrument = %(instrument)s
             AND m.taken_at >= (pt.start_date - 1)::timestamp AT TIME ZONE %(zone)s
             -- The same bound for the earliest course asked about, which the planner can use before it joins.
             AND m.taken_at >= (%(first)s::date - {7 * max(WEEKS) + 1})::timestamp AT TIME ZONE %(zone)s
             -- Nothing later can be a reading, nor a baseline (which must come before its reading's window).
             AND m.taken_at < (%(end)s::date + %(window)s + 2)::timestamp AT TIME ZONE %(zone)s) m
        ON (m.linked_course IS NULL OR m.linked_course = pt.course_id)
       AND m.day >= pt.start_date AND (pt.ended_on IS NULL OR m.day <= pt.ended_on)
     GROUP BY pt.course_id, pt.protocol, pt.start_date
),
readings AS (
    SELECT c.protocol, w.week, c.start_date + 7 * w.week >= %(start)s AS current,
           CASE WHEN c.baseline_day < c.start_date + 7 * w.week - %(window)s THEN c.baseline END AS baseline,
           CASE w.week {' '.join(f'WHEN {week} THEN c.week_{week}' for week in WEEKS)} END AS reading
      FROM per_course c CROSS JOIN (VALUES {', '.join(f'({week})' for week in WEEKS)}) AS w(week)
     WHERE c.start_date + 7 * w.week BETWEEN %(first)s AND %(end)s
)
SELECT protocol, week, current,
       count(*) FILTER (WHERE baseline IS NOT NULL AND reading IS NOT NULL) AS patients,
       count(*) FILTER (WHERE baseline > 0 AND reading IS NOT NULL AND (baseline - reading) * 2 >= baseline)
           AS responders,
       count(*) FILTER (WHERE baseline IS NOT NULL AND reading <= %(remission_max)s) AS remitters
  FROM readings
 GROUP BY 1, 2, 3
"""


def statements(scope: Scope) -> dict[str, tuple[str, dict]]:
    site = f"AND {COURSE_SITE.format(course='c')} = %(location)s" if scope.location_id is not None else ""
    params = {**scope.params(), "instrument": measures.PHQ9, "window": WINDOW_DAYS,
              "remission_max": measures.spec_for(measures.PHQ9).remission_max}
    return {"outcomes": (_OUTCOMES.format(site=site), params)}


def outcomes(scope: Scope) -> dict:
    found = {(row["protocol"], row["week"], row["current"]): row
             for row in scope.read(statements(scope))["outcomes"]}
    rows = []
    for protocol, week in sorted({(protocol, week) for protocol, week, _ in found}):
        now = found.get((protocol, week, True), {"patients": 0, "responders": 0, "remitters": 0})
        before = found.get((protocol, week, False), {"patients": 0, "responders": 0, "remitters": 0})
        rows.append({
            "group": f"{protocol}, week {week}", "protocol": protocol, "week": week, "patients": now["patients"],
            "responders": now["responders"], "response": percent(now["responders"], now["patients"]),
            "remitters": now["remitters"], "remission": percent(now["remitters"], now["patients"]),
            "previous_patients": before["patients"],
            "previous_response": percent(before["responders"], before["patients"]),
            "previous_remission": percent(before["remitters"], before["patients"]),
        })
    return figure(
        "outcomes", "PHQ-9 response and remission", DEFINITION, unit="percent", value=None, previous=None,
        tables=[table("response_remission", "Response and remission by protocol, weeks 4 and 8", chart="grouped_bar",
                      columns=[column("group", "Protocol and week"), column("protocol", "Protocol"),
                               column("week", "Week"), column("patients", "Patients", "count"),
                               column("responders", "Responders", "count"), column("response", "Response", "percent"),
                               column("remitters", "In remission", "count"),
                               column("remission", "Remission", "percent"),
                               column("previous_patients", "Patients, previous period", "count"),
                               column("previous_response", "Response, previous period", "percent"),
                               column("previous_remission", "Remission, previous period", "percent")],
                      rows=rows, x="group", series=["response", "remission"])])
