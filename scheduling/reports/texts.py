"""Texts: sent, delivered, failed, opt-outs, and patients' replies by kind."""

from __future__ import annotations

from scheduling.messaging import inbound, opt_out
from scheduling.reports.layout import column, figure, table
from scheduling.reports.scope import Scope
from scheduling.reports.sql import NEAREST_SITE

DELIVERED = ("delivered", "read")
FAILED = ("failed", "undelivered", "canceled")
NOT_SENT = ("not_sent",)

DEFINITION = (
    "Texts sent: every text to a patient the clinic recorded in the period (reminders, outreach, answers, staff's "
    "texts), except those the provider refused to take. Delivered: the carrier reported it delivered (or read); "
    "failed: failed, undelivered or cancelled. Replies: patients' texts by their first word (C or YES confirm, "
    "R asks for a new time, a stop word, START, HELP, anything else read by a person). Opt-outs: every opt-out "
    "recorded (by a stop word, a request in words, or by staff), even if the patient opted in again later. "
    "A text counts at the site of its session, or else of the patient's latest session before it (or next)."
)

# The reply's first word as ``inbound.keyword_of`` reads it: upper-cased, surrounding punctuation stripped.
_KEYWORD = r"""upper(btrim(coalesce((regexp_match(t.body, '^\s*(\S+)'))[1], ''), '.,!?;:''"()'))"""

_TEXTS = f"""
WITH sited AS (
    SELECT t.direction, t.delivery_status, t.at,
           CASE WHEN t.direction = 'inbound' THEN
                CASE WHEN lower({_KEYWORD}) = ANY(%(stop_words)s) THEN 'stop'
                     WHEN {_KEYWORD} = ANY(%(start_words)s) THEN 'start'
                     WHEN {_KEYWORD} = ANY(%(help_words)s) THEN 'help'
                     WHEN {_KEYWORD} = ANY(%(confirm_words)s) THEN 'confirm'
                     WHEN {_KEYWORD} = ANY(%(reschedule_words)s) THEN 'new_time'
                     ELSE 'other' END
           END AS reply_kind,
           -- A probe of the session's primary key per text: a join let the planner hash every session there is.
           CASE WHEN t.session_id IS NULL THEN {NEAREST_SITE.format(row='t', at='at')}
                ELSE (SELECT s.location_id FROM scheduling_session s WHERE s.id = t.session_id) END AS location_id
      FROM scheduling_textmessage t
     WHERE t.at >= %(utc_from)s AND t.at < %(utc_to)s AND t.patient_id IS NOT NULL
), dated AS (
    SELECT sited.*, (sited.at AT TIME ZONE coalesce(l.time_zone, %(zone)s))::date AS day
      FROM sited LEFT JOIN scheduling_location l ON l.id = sited.location_id
     WHERE true {{site}}
)
SELECT day >= %(start)s AS current, coalesce(reply_kind, 'outbound') AS kind,
       count(*) FILTER (WHERE direction = 'outbound' AND delivery_status <> ALL(%(not_sent)s)) AS sent,
       count(*) FILTER (WHERE direction = 'outbound' AND delivery_status = ANY(%(delivered)s)) AS delivered,
       count(*) FILTER (WHERE direction = 'outbound' AND delivery_status = ANY(%(failed)s)) AS failed,
       count(*) FILTER (WHERE direction = 'inbound') AS replies
  FROM dated
 WHERE day BETWEEN %(first)s AND %(end)s
 GROUP BY 1, 2
"""

# An opt-out sets ``sms_opted_out_at`` once; the patient's history (pghistory) keeps it after an opt-in clears it.
_OPT_OUTS = f"""
WITH opt_outs AS (
    SELECT DISTINCT e.pgh_obj_id AS patient_id, e.sms_opted_out_at AS at
      FROM patients_patientevent e
     WHERE e.sms_opted_out_at >= %(utc_from)s AND e.sms_opted_out_at < %(utc_to)s
), dated AS (
    SELECT (o.at AT TIME ZONE coalesce(l.time_zone, %(zone)s))::date AS day, l.id AS location_id
      FROM opt_outs o LEFT JOIN scheduling_location l ON l.id = {NEAREST_SITE.format(row='o', at='at')}
)
SELECT count(*) FILTER (WHERE day BETWEEN %(start)s AND %(end)s) AS now,
       count(*) FILTER (WHERE day BETWEEN %(first)s AND %(start)s - 1) AS before
  FROM dated WHERE true {{site}}
"""

REPLY_KINDS = {"confirm": "Confirmed (C or YES)", "new_time": "Asked for a new time (R)", "stop": "Stop word",
               "start": "START (opt in again)", "help": "HELP", "other": "Other, read by a person"}
TEXT_MEASURES = {"sent": "Sent", "delivered": "Delivered", "failed": "Failed", "opt_outs": "Opt-outs"}


def statements(scope: Scope) -> dict[str, tuple[str, dict]]:
    site = "AND location_id = %(location)s" if scope.location_id is not None else ""
    params = {
        **scope.params(), "not_sent": list(NOT_SENT), "delivered": list(DELIVERED), "failed": list(FAILED),
        "stop_words": sorted(opt_out.STOP_WORDS), "start_words": sorted(inbound.START_WORDS),
        "help_words": sorted(inbound.HELP_WORDS), "confirm_words": sorted(inbound.CONFIRM_WORDS),
        "reschedule_words": sorted(inbound.RESCHEDULE_WORDS),
    }
    return {"texts": (_TEXTS.format(site=site), params), "opt_outs": (_OPT_OUTS.format(site=site), params)}


def texts(scope: Scope) -> dict:
    found = scope.read(statements(scope))
    counts = {(period, measure): 0 for period in (True, False) for measure in (*TEXT_MEASURES, *REPLY_KINDS)}
    for row in found["texts"]:
        for measure in ("sent", "delivered", "failed"):
            counts[(row["current"], measure)] += row[measure]
        if row["kind"] in REPLY_KINDS:
            counts[(row["current"], row["kind"])] += row["replies"]
    opt_outs = found["opt_outs"][0]
    counts[(True, "opt_outs")], counts[(False, "opt_outs")] = opt_outs["now"], opt_outs["before"]

    def rows(labels: dict, key_name: str) -> list[dict]:
        return [{key_name: label, "count": counts[(True, key)], "previous": counts[(False, key)]}
                for key, label in labels.items()]

    return figure(
        "texts", "Texts sent", DEFINITION, unit="count", value=counts[(True, "sent")],
        previous=counts[(False, "sent")],
        tables=[
            table("texts", "Texts", chart="bar",
                  columns=[column("measure", "Texts"), column("count", "This period", "count"),
                           column("previous", "Previous period", "count")],
                  rows=rows(TEXT_MEASURES, "measure"), x="measure", series=["count", "previous"]),
            table("replies", "Replies by kind", chart="bar",
                  columns=[column("kind", "Reply"), column("count", "This period", "count"),
                           column("previous", "Previous period", "count")],
                  rows=rows(REPLY_KINDS, "kind"), x="kind", series=["count", "previous"]),
        ])
