"""Texts: sent, delivered, failed, opt-outs, and patients' replies by kind."""

from __future__ import annotations

from scheduling.messaging import inbound, opt_out
from scheduling.reports.layout import column, figure, table
from scheduling.reports.scope import Scope
from scheduling.reports.sql import NEAREST_SITE, site_filter

DELIVERED = ("delivered", "read")
FAILED = ("failed", "undelivered", "canceled")
NOT_SENT = ("not_sent",)

DEFINITION = (
    "Texts sent: every text to a patient the clinic recorded in the period (reminders, outreach, answers, staff's "
    "texts), except those the provider refused to take. Delivered: the carrier reported it delivered (or read); "
    "failed: failed, undelivered or cancelled. Replies: patients' texts by their first word (C or YES confirm, "
    "R asks for a new time, a stop word, START, HELP, anything else read by a person). Opt-outs: every opt-out "
    "recorded (by a stop word, a request in words, or by staff), even if the patient opted in again later. "
    "A text counts at the site of its session, or else of the patient's latest session before it (or next), as "
    "recorded with the text when it was sent or received (or linked to a session)."
)

# The reply's first word as ``inbound.keyword_of`` reads it: upper-cased, surrounding punctuation stripped.
_KEYWORD = r"""upper(btrim(coalesce((regexp_match(t.body, '^\s*(\S+)'))[1], ''), '.,!?;:''"()'))"""

# The site is the one stored with each text (``TextMessage.location``, set when it was recorded); texts are read by
# time (index message_at). Which period a text falls in is decided by comparing its instant with the instants the
# periods' local days begin at its site (worked out once per site, and once in the clinic's zone for a text with
# no site): the same days as converting each text's time, without converting each. Replies are counted by their
# body and the first word is read once per distinct body; only the few counted groups are sorted into kinds.
_TEXTS = f"""
WITH bounds AS (
    SELECT l.id, l.time_zone FROM scheduling_location l
    UNION ALL
    SELECT 0, %(zone)s  -- a text with no site: the clinic's zone
), days AS MATERIALIZED (  -- worked out once per site, not once per text
    SELECT id, %(first)s::timestamp AT TIME ZONE time_zone AS first_at,
           %(start)s::timestamp AT TIME ZONE time_zone AS start_at,
           (%(end)s::date + 1)::timestamp AT TIME ZONE time_zone AS end_at
      FROM bounds
), counted AS (
    SELECT t.at >= d.start_at AS current, CASE WHEN t.direction = 'inbound' THEN t.body END AS body,
           count(*) FILTER (WHERE t.direction = 'outbound' AND t.delivery_status <> ALL(%(not_sent)s)) AS sent,
           count(*) FILTER (WHERE t.direction = 'outbound' AND t.delivery_status = ANY(%(delivered)s)) AS delivered,
           count(*) FILTER (WHERE t.direction = 'outbound' AND t.delivery_status = ANY(%(failed)s)) AS failed,
           count(*) FILTER (WHERE t.direction = 'inbound') AS replies
      FROM scheduling_textmessage t
      JOIN days d ON d.id = coalesce(t.location_id, 0)
     WHERE t.at >= %(utc_from)s AND t.at < %(utc_to)s AND t.patient_id IS NOT NULL
       AND t.at >= d.first_at AND t.at < d.end_at
       {{site}}
     GROUP BY 1, 2
), worded AS (
    SELECT current, CASE WHEN body IS NOT NULL THEN {_KEYWORD.replace('t.body', 'body')} END AS keyword,
           sent, delivered, failed, replies
      FROM counted
)
SELECT current,
       CASE WHEN keyword IS NULL THEN 'outbound'
            WHEN lower(keyword) = ANY(%(stop_words)s) THEN 'stop'
            WHEN keyword = ANY(%(start_words)s) THEN 'start'
            WHEN keyword = ANY(%(help_words)s) THEN 'help'
            WHEN keyword = ANY(%(confirm_words)s) THEN 'confirm'
            WHEN keyword = ANY(%(reschedule_words)s) THEN 'new_time'
            ELSE 'other' END AS kind,
       sum(sent)::int AS sent, sum(delivered)::int AS delivered, sum(failed)::int AS failed,
       sum(replies)::int AS replies
  FROM worded
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
    text_site = site_filter("t.location_id", scope.location_id)
    params = {
        **scope.params(), "not_sent": list(NOT_SENT), "delivered": list(DELIVERED), "failed": list(FAILED),
        "stop_words": sorted(opt_out.STOP_WORDS), "start_words": sorted(inbound.START_WORDS),
        "help_words": sorted(inbound.HELP_WORDS), "confirm_words": sorted(inbound.CONFIRM_WORDS),
        "reschedule_words": sorted(inbound.RESCHEDULE_WORDS),
    }
    return {"texts": (_TEXTS.format(site=text_site), params), "opt_outs": (_OPT_OUTS.format(site=site), params)}


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
