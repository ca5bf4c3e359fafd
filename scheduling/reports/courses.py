"""Courses and sessions: discharged sessions by protocol phase; courses started, completed, discontinued, lapsed."""

from __future__ import annotations

from scheduling.reports.layout import column, figure, table
from scheduling.reports.scope import Scope
from scheduling.reports.sql import COURSE_SITE, site_filter

PHASE_DEFINITION = (
    "Discharged sessions (a patient who left before discharge included: the dose counts) dated in the period, "
    "by the protocol phase each belonged to: the phase the due engine gives the session's number among the "
    "course's completed sessions (history recorded from before the system counted, and a clinician's phase "
    "restart followed)."
)
COURSES_DEFINITION = (
    "Courses started: start date in the period. Completed and discontinued: the day the course was marked so, "
    "in the course's site's time zone. Lapsed: courses the worklist found 14 days past their latest day in the "
    "period. A course's site is that of its first session."
)

# The session's number among its course's completed sessions (``SessionNumber``, kept by the database), then its
# phase as ``protocols.due._locate`` finds it: after a restart, numbering starts again at the restarted phase. The
# period's discharged sessions and their numbers come from the covering index sessionnumber_day alone; history from
# before the system is numbered but not counted here.
_BY_PHASE = """
WITH counted AS (
    SELECT c.protocol_id, n.local_date >= %(start)s AS current,
           CASE WHEN n.number > c.restart_after_completed THEN c.restart_phase_index ELSE 0 END AS from_index,
           CASE WHEN n.number > c.restart_after_completed THEN n.number - c.restart_after_completed
                ELSE n.number END AS position,
           count(*) AS sessions
      FROM scheduling_sessionnumber n
      JOIN protocols_treatmentcourse c ON c.id = n.course_id
     WHERE n.local_date BETWEEN %(first)s AND %(end)s AND NOT n.recorded_history
       {site}
     GROUP BY 1, 2, 3, 4
),
phases AS (
    SELECT ph.protocol_id, ph.name, ph.sessions, row_number() OVER (PARTITION BY ph.protocol_id ORDER BY ph."order")
           - 1 AS phase_index
      FROM protocols_phase ph
)
SELECT p.name AS protocol, found.name AS phase, found.phase_index, counted.current,
       sum(counted.sessions)::int AS sessions
  FROM counted
  JOIN protocols_protocol p ON p.id = counted.protocol_id
  LEFT JOIN LATERAL (
      SELECT f.name, f.phase_index FROM (
          SELECT phases.name, phases.phase_index, phases.sessions,
                 coalesce(sum(phases.sessions) OVER (ORDER BY phases.phase_index
                                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
            FROM phases WHERE phases.protocol_id = counted.protocol_id AND phases.phase_index >= counted.from_index
      ) f
       WHERE counted.position > f.before AND (f.sessions IS NULL OR counted.position <= f.before + f.sessions)
       ORDER BY f.phase_index LIMIT 1) found ON true
 GROUP BY 1, 2, 3, 4
"""

# Only a course completed or discontinued around the periods needs its site (for the time zone of that day): a
# course that only started in them is counted by its start date, so its first session is not looked up (unless the
# question is about one site). OFFSET 0 keeps the site looked up once per course, not once per use.
_COURSES = f"""
WITH sited AS (
    SELECT c.start_date, c.completed_at, c.discontinued_at,
           CASE WHEN c.completed_at >= %(utc_from)s AND c.completed_at < %(utc_to)s
                  OR c.discontinued_at >= %(utc_from)s AND c.discontinued_at < %(utc_to)s
                THEN {COURSE_SITE.format(course='c')} END AS location_id
      FROM protocols_treatmentcourse c
     WHERE (c.start_date BETWEEN %(first)s AND %(end)s
            OR c.completed_at >= %(utc_from)s AND c.completed_at < %(utc_to)s
            OR c.discontinued_at >= %(utc_from)s AND c.discontinued_at < %(utc_to)s)
       {{site}}
    OFFSET 0
), dated AS (
    SELECT start_date, (completed_at AT TIME ZONE coalesce(l.time_zone, %(zone)s))::date AS completed_on,
           (discontinued_at AT TIME ZONE coalesce(l.time_zone, %(zone)s))::date AS discontinued_on
      FROM sited LEFT JOIN scheduling_location l ON l.id = sited.location_id
)
SELECT 'started' AS measure,
       count(*) FILTER (WHERE start_date BETWEEN %(start)s AND %(end)s) AS now,
       count(*) FILTER (WHERE start_date BETWEEN %(first)s AND %(start)s - 1) AS before FROM dated
UNION ALL
SELECT 'completed', count(*) FILTER (WHERE completed_on BETWEEN %(start)s AND %(end)s),
       count(*) FILTER (WHERE completed_on BETWEEN %(first)s AND %(start)s - 1) FROM dated
UNION ALL
SELECT 'discontinued', count(*) FILTER (WHERE discontinued_on BETWEEN %(start)s AND %(end)s),
       count(*) FILTER (WHERE discontinued_on BETWEEN %(first)s AND %(start)s - 1) FROM dated
UNION ALL
SELECT 'lapsed', count(*) FILTER (WHERE opened_on BETWEEN %(start)s AND %(end)s),
       count(*) FILTER (WHERE opened_on BETWEEN %(first)s AND %(start)s - 1)
  FROM (SELECT (w.opened_at AT TIME ZONE coalesce(l.time_zone, %(zone)s))::date AS opened_on
          FROM scheduling_workitem w LEFT JOIN scheduling_location l ON l.id = w.location_id
         WHERE w.kind = 'lapsed' AND w.opened_at >= %(utc_from)s AND w.opened_at < %(utc_to)s {{lapsed_site}}) lapses
"""
COURSE_MEASURES = {"started": "Started", "completed": "Completed", "discontinued": "Discontinued",
                   "lapsed": "Lapsed"}


def statements(scope: Scope) -> dict[str, tuple[str, dict]]:
    course_site = f"AND {COURSE_SITE.format(course='c')} = %(location)s" if scope.location_id is not None else ""
    return {
        "by_phase": (_BY_PHASE.format(site=site_filter("n.location_id", scope.location_id)), scope.params()),
        "courses": (_COURSES.format(site=course_site, lapsed_site=site_filter("w.location_id", scope.location_id)),
                    scope.params()),
    }


def sessions_by_phase(scope: Scope) -> dict:
    rows = scope.read({"by_phase": statements(scope)["by_phase"]})["by_phase"]
    totals = {True: 0, False: 0}
    phases: dict[tuple, dict] = {}
    for row in rows:
        totals[row["current"]] += row["sessions"]
        phase = row["phase"] or "Past the protocol's last phase"
        order = row["phase_index"] if row["phase_index"] is not None else 99
        entry = phases.setdefault((row["protocol"], order, phase), {
            "label": f"{row['protocol']}: {phase}", "protocol": row["protocol"], "phase": phase, "sessions": 0,
            "previous": 0})
        entry["sessions" if row["current"] else "previous"] += row["sessions"]
    return figure(
        "sessions_by_phase", "Sessions by phase", PHASE_DEFINITION, unit="count", value=totals[True],
        previous=totals[False],
        tables=[table("by_phase", "Discharged sessions by protocol phase", chart="bar",
                      columns=[column("label", "Protocol and phase"), column("protocol", "Protocol"),
                               column("phase", "Phase"), column("sessions", "Sessions", "count"),
                               column("previous", "Previous period", "count")],
                      rows=[phases[key] for key in sorted(phases)], x="label", series=["sessions"])])


def courses(scope: Scope) -> dict:
    found = {row["measure"]: row for row in scope.read({"courses": statements(scope)["courses"]})["courses"]}
    rows = [{"measure": label, "count": found[key]["now"], "previous": found[key]["before"]}
            for key, label in COURSE_MEASURES.items()]
    return figure(
        "courses", "Courses started", COURSES_DEFINITION, unit="count", value=found["started"]["now"],
        previous=found["started"]["before"],
        tables=[table("courses", "Courses", chart="bar",
                      columns=[column("measure", "Courses"), column("count", "This period", "count"),
                               column("previous", "Previous period", "count")],
                      rows=rows, x="measure", series=["count", "previous"])])
