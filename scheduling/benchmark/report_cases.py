"""The clinic's numbers as a hot path: a month's dashboard for all sites, beside its SQL floor.

The synthetic network has sessions, courses, REMS forms and the worklist, but no texts or PHQ-9s, so the
case's set-up (untimed, once) adds what a live clinic would have for the figures that read them: a reminder
text per session of the last four months (one in twenty failed), a reply to a third of them, and a PHQ-9 at
each course's start and weekly for twelve weeks. The floor runs the dashboard's own statements raw
(``scheduling.reports.dashboard.statements``), with nothing built from their rows.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings

from scheduling.benchmark.hot_path import Case, fetch
from scheduling.reports.dashboard import clinic_numbers, statements
from scheduling.reports.period import period_from

# The target: a month for all sites under half a second (median), within 3x its SQL floor.
DASHBOARD_MEDIAN_MS = 500
DASHBOARD_FLOOR_RATIO = 3.0
MAX_DASHBOARD_QUERIES = 12

# Each text at the site ``TextMessage.save`` would record: a reminder at its session's, a reply (about no session)
# at that of the patient's latest session started at or before it, else their next one.
_TEXTS = """
INSERT INTO scheduling_textmessage (patient_id, direction, purpose, counts_toward_caps, phone, body, provider_id,
                                    delivery_status, session_id, at, location_id)
SELECT s.patient_id, 'outbound', 'reminder', true, '+15555550000', 'Reminder', '',
       CASE WHEN s.id %% 20 = 0 THEN 'failed' ELSE 'delivered' END, s.id, s.start - interval '1 day', s.location_id
  FROM scheduling_session s
 WHERE s.chair_id IS NOT NULL AND s.start >= %(since)s AND s.start < %(now)s
UNION ALL
SELECT r.patient_id, 'inbound', 'reply', false, '+15555550000', r.body, '', 'received', NULL, r.at,
       coalesce((SELECT b.location_id FROM scheduling_session b
                  WHERE b.patient_id = r.patient_id AND b.start <= r.at AND b.location_id IS NOT NULL
                  ORDER BY b.start DESC LIMIT 1),
                (SELECT a.location_id FROM scheduling_session a
                  WHERE a.patient_id = r.patient_id AND a.start > r.at AND a.location_id IS NOT NULL
                  ORDER BY a.start LIMIT 1))
  FROM (SELECT s.patient_id, (ARRAY['C', 'R', 'Can I come later?'])[1 + s.id / 3 %% 3] AS body,
               s.start - interval '20 hours' AS at
          FROM scheduling_session s
         WHERE s.chair_id IS NOT NULL AND s.start >= %(since)s AND s.start < %(now)s AND s.id %% 3 = 0) r
"""

# A fall from the baseline that differs by course (some respond, some remit, some neither).
_PHQ9 = """
INSERT INTO patients_outcomemeasure (patient_id, instrument, items, total, band, taken_at, item9_positive,
                                     alert_note, created_at, recorded_by_id)
SELECT c.patient_id, 'phq9', ARRAY[1, 1, 1, 1, 1, 1, 1, 1, 0]::smallint[],
       greatest(0, 20 - week * (1 + c.id %% 3)), 'moderate', (c.start_date + 7 * week) + time '12:00', false, '',
       %(now)s, %(by)s
  FROM protocols_treatmentcourse c, generate_series(0, 12) AS week
 WHERE c.start_date >= %(courses_since)s AND c.start_date + 7 * week <= %(today)s
"""


class Dashboard(Case):
    name = "dashboard_month"
    description = ("the clinic's numbers for the last whole month, all sites (clinic_numbers, as "
                   "GET /api/reports/dashboard/?period=month)")

    def setup(self, count):
        network = self.network
        last_month = network.today.replace(day=1) - timedelta(days=1)
        self.period = period_from(kind="month", anchor=last_month, today=network.today)
        if not fetch("SELECT 1 FROM scheduling_textmessage LIMIT 1"):
            params = {"since": network.now - timedelta(days=120), "now": network.now, "today": network.today,
                      "courses_since": network.today - timedelta(days=200), "by": network.desk_user_id}
            with transaction.atomic(), connection.cursor() as cursor:
                # As the generator loads (synthetic.generate): the audit-history triggers, row by row, would
                # take minutes at large; the rows are the benchmark's own.
                cursor.execute("SET LOCAL session_replication_role = replica")
                cursor.execute(_TEXTS, params)
                cursor.execute(_PHQ9, params)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE scheduling_textmessage; ANALYZE patients_outcomemeasure")
        self.counts = dict(zip(("sessions_in_month", "texts", "phq9s"), fetch("""
            SELECT (SELECT count(*) FROM scheduling_session WHERE local_date BETWEEN %s AND %s),
                   (SELECT count(*) FROM scheduling_textmessage), (SELECT count(*) FROM patients_outcomemeasure)
        """, [self.period.start, self.period.end])[0], strict=True))
        # The statements behind the figures, counted on one connection: read side by side, the other readers'
        # statements never pass through the connection the runner counts on.
        with override_settings(REPORT_READERS=1), CaptureQueriesContext(connection) as captured:
            self.call(-1)
        self.counts["statements_one_reader"] = len(captured.captured_queries)

    def call(self, index):
        clinic_numbers(period=self.period, location_id=None, now=self.network.now)

    def floor(self, index):
        for sql, params in statements(period=self.period, location_id=None, now=self.network.now):
            fetch(sql, params)

    def extra(self):
        return {"period": self.period.label, **self.counts}


def checks(report: dict, check) -> list[dict]:
    """The dashboard's targets, for ``runner.checks`` (``check`` is the runner's ``_check``)."""
    case = report["cases"]["dashboard_month"]
    ratio = case["ratio_to_floor"]
    return [
        check("dashboard_month: median", case["median_ms"], DASHBOARD_MEDIAN_MS,
              case["median_ms"] < DASHBOARD_MEDIAN_MS, "ms"),
        check("dashboard_month: ratio to its raw-SQL floor", ratio, DASHBOARD_FLOOR_RATIO,
              ratio is not None and ratio <= DASHBOARD_FLOOR_RATIO),
        check("dashboard_month: queries (fixed, not per session)", case["statements_one_reader"],
              MAX_DASHBOARD_QUERIES, case["statements_one_reader"] <= MAX_DASHBOARD_QUERIES),
    ]
