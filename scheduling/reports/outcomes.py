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

# A course's PHQ-9s, each dated as the chart dates it: a linked session's local day, else the clinic's day. The
# instants bound them a day wider than the dates, so the (patient, instrument, taken_at) index finds them.
_PHQ9S = """
    SELECT m.id, m.total, m.taken_at, coalesce(ls.local_date, (m.taken_at AT TIME ZONE %(zone)s)::date) AS day
      FROM patients_outcomemeasure m
      LEFT JOIN scheduling_sessionmeasure sm ON sm.measure_id = m.id
      LEFT JOIN scheduling_session ls ON ls.id = sm.session_id
     WHERE m.patient_id = pt.patient_id AND m.instrument = %(instrument)s
       AND m.taken_at >= ({since})::timestamp AT TIME ZONE %(zone)s
       AND m.taken_at < ({until})::timestamp AT TIME ZONE %(zone)s
       AND (ls.course_id IS NULL OR ls.course_id = pt.course_id)"""
_FROM_THE_START = _PHQ9S.format(since="pt.start_date - 1", until="'infinity'")
_AROUND_THE_WEEK = _PHQ9S.format(since="pt.target - %(window)s - 1", until="pt.target + %(window)s + 2")

_OUTCOMES = f"""
WITH points AS (
    SELECT c.id AS course_id, c.patient_id, p.name AS protocol, w.week, c.start_date,
           c.start_date + 7 * w.week AS target,
           (coalesce(c.completed_at, c.discontinued_at) AT TIME ZONE %(zone)s)::date AS ended_on
      FROM protocols_treatmentcourse c
      JOIN protocols_protocol p ON p.id = c.protocol_id
     CROSS JOIN (VALUES {', '.join(f'({week})' for week in WEEKS)}) AS w(week)
     WHERE c.start_date BETWEEN %(first)s - {7 * max(WEEKS)} AND %(end)s - {7 * min(WEEKS)}
       AND c.start_date + 7 * w.week BETWEEN %(first)s AND %(end)s
       {{site}}
),
readings AS (
    SELECT pt.protocol, pt.week, pt.target >= %(start)s AS current,
           CASE WHEN baseline.day < pt.target - %(window)s THEN baseline.total END AS baseline, reading.total AS reading
      FROM points pt
      LEFT JOIN LATERAL (
          SELECT m.total, m.day FROM ({_FROM_THE_START}) m
           WHERE m.day >= pt.start_date AND (pt.ended_on IS NULL OR m.day <= pt.ended_on)
           ORDER BY m.taken_at, m.id LIMIT 1) baseline ON true
      LEFT JOIN LATERAL (
          SELECT m.total FROM ({_AROUND_THE_WEEK}) m
           WHERE m.day BETWEEN pt.target - %(window)s AND pt.target + %(window)s
             AND (pt.ended_on IS NULL OR m.day <= pt.ended_on)
           ORDER BY m.taken_at DESC, m.id DESC LIMIT 1) reading ON true
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
