"""The freed-chair offer sweep: a thousand cancelled times offered by text, beside the planning's SQL floor.

Set-up (untimed): offers on at every site, one booked session in ten from the
rest marked as wanting an earlier time, then ``FREED_SLOTS`` booked sessions at
least FREED_CHAIR_MIN_NOTICE_HOURS ahead, spread over the sites and days, are
cancelled through ``booking.services.cancel_session`` with the planning tasks
it publishes kept rather than sent. One call runs each of those tasks in turn,
as a worker would (``tasks.plan_offers_task``: the site's checks, the
candidates, their due windows, the Offer and OfferText rows, committed); the
floor runs the planning's own statements raw for the same times and writes the
same offers. Between calls the offers are deleted, so every call does the same
work. Afterwards every row the case changed is put back, so nothing measured
later (the concurrency test) sees its cancels.
"""

from __future__ import annotations

import statistics
import time as clock
from collections import Counter, defaultdict
from datetime import timedelta
from unittest import mock

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from scheduling import tasks
from scheduling.benchmark.hot_path import Case, fetch
from scheduling.benchmark.scales import SCALES
from scheduling.booking import services
from scheduling.messaging import offers_planning
from scheduling.models import Location, Offer, OfferText, Reminder, Session, SessionStatus
from scheduling.models import offers as offer_models
from scheduling.worklist.course_views import swept_sql

# How many booked times are cancelled and offered: the thousand wherever the network has them.
FREED_SLOTS = {"tiny": 40, "small": 200, "medium": 1000, "large": 1000}
# The target: the planning within 3x its SQL floor, and a fixed number of statements per freed time
# (the lock, the site's checks in one, the candidates' one statement, their due windows read together, and
# two INSERTs per offer, OFFERS_AT_ONCE at most: 13 today), never one per candidate.
OFFER_FLOOR_RATIO = 3.0
MAX_QUERIES_PER_FREED_TIME = 16
# The runner's warm-up and query-counted calls of a sweep (and its floor's warm-up call) plan this many of the
# freed times: a thousand more plannings would only warm what the first hundred warm. Every timed call plans
# them all.
SAMPLE = 100
UNTIMED_CALLS, UNTIMED_FLOORS = 2, 1
# Timed calls at the scales where one call is a thousand plannings (the scale's sweep repeats elsewhere): one
# gives a thousand times per freed slot already, and a call (and its floor) takes a minute or more at large.
THOUSAND_SLOT_REPEATS = 1
# Among the future bookings not cancelled, one in this many is marked as wanting an earlier time, so the
# candidates include patients with a later booking who asked, beside those due and not booked.
EARLIER_ONE_IN = 10
_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")

# The planning's reads of the site, as one statement: the freed time's treatment (the cancel did not load
# its course), the site's switch and calendar, its quiet hours, whether the chair was booked again and
# whether an offer of the time is open or taken.
_FACTS_SQL = """
SELECT (SELECT c.modality FROM scheduling_session s JOIN protocols_treatmentcourse c ON c.id = s.course_id
         WHERE s.id = %(session)s),
       l.active, l.offers_enabled, (%(start)s::timestamptz AT TIME ZONE l.time_zone)::date,
       ARRAY(SELECT h.weekday FROM scheduling_openinghours h WHERE h.location_id = l.id ORDER BY h.weekday),
       ARRAY(SELECT h.opens FROM scheduling_openinghours h WHERE h.location_id = l.id ORDER BY h.weekday),
       ARRAY(SELECT h.closes FROM scheduling_openinghours h WHERE h.location_id = l.id ORDER BY h.weekday),
       ARRAY(SELECT d.date FROM scheduling_closure d WHERE d.location_id = l.id),
       rp.quiet_from, rp.quiet_until,
       EXISTS (SELECT 1 FROM scheduling_session s WHERE s.chair_id = %(chair)s AND s.start < %(end)s
                  AND s.occupied_until > %(start)s AND s.status NOT IN ('cancelled', 'no_show')),
       EXISTS (SELECT 1 FROM scheduling_offer o WHERE o.chair_id = %(chair)s AND o.start = %(start)s
                  AND o.state IN ('planned', 'sent', 'taken'))
FROM scheduling_location l LEFT JOIN scheduling_reminderpolicy rp ON rp.location_id = l.id
WHERE l.id = %(location)s
"""

_PROTOCOLS_SQL = """
SELECT p.*, ph.* FROM protocols_protocol p JOIN protocols_phase ph ON ph.protocol_id = p.id
WHERE p.id IN (SELECT c.protocol_id FROM protocols_treatmentcourse c WHERE c.id = ANY(%(ids)s))
"""

# The offers and their pending texts, in one statement.
_OFFERS_SQL = """
WITH made AS (
    INSERT INTO scheduling_offer (location_id, chair_id, start, "end", freed_from_id, patient_id, course_id, state,
                                  created_at, ended_reason)
    SELECT %(location)s, %(chair)s, %(start)s, %(end)s, %(session)s, x.patient, x.course, 'planned', %(now)s, ''
    FROM unnest(%(patients)s::bigint[], %(courses)s::bigint[]) AS x(patient, course)
    RETURNING id
)
INSERT INTO scheduling_offertext (offer_id, state, send_at, attempts, provider_id, reason, created_at, body)
SELECT id, 'pending', %(now)s, 0, '', '', %(now)s, '' FROM made
"""


def _is_query(sql: str) -> bool:
    return not sql.lstrip().upper().startswith(_TRANSACTION_CONTROL)


class _Counter:
    """``connection.execute_wrapper`` counting the statements of one freed time's planning (and, while
    ``keep`` is set, keeping their SQL)."""

    def __init__(self, keep: bool = False) -> None:
        self.count, self.keep, self.sql = 0, keep, []

    def __call__(self, execute, sql, params, many, context):
        if _is_query(sql):
            self.count += 1
            if self.keep:
                self.sql.append(sql[:300])
        return execute(sql, params, many, context)


class OfferSweep(Case):
    name = "offer_sweep"
    description = ("freed chair times offered by text: the planning task a cancel publishes (site checks, "
                   "candidates, their due windows, the Offer and OfferText rows), for every one of the freed "
                   "slots in turn")
    sweep = True

    def __init__(self, network):
        super().__init__(network)
        if FREED_SLOTS.get(network.scale, 1000) >= 1000:
            self.repeats = THOUSAND_SLOT_REPEATS

    def setup(self, count):
        self.now = timezone.now()
        self.slots = FREED_SLOTS.get(self.network.scale, 1000)
        self.timed = self.repeats or SCALES[self.network.scale].sweep_repeats
        self.offers_before = Offer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        mark_model = getattr(offer_models, "FreedTimeMark", None)
        self.marks = mark_model
        self.marks_before = (mark_model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) \
            if mark_model else 0
        self.sites_off = list(Location.objects.filter(pk__in=self.network.location_ids, offers_enabled=False)
                              .values_list("pk", flat=True))
        Location.objects.filter(pk__in=self.sites_off).update(offers_enabled=True)
        # Far enough ahead that every time is still worth offering when the last call runs.
        notice = max(settings.FREED_CHAIR_MIN_NOTICE_HOURS, settings.OFFER_STALE_HOURS) + 2
        ids = [row[0] for row in fetch("""
            SELECT id FROM (
                SELECT s.id, s.location_id, s.local_date,
                       row_number() OVER (PARTITION BY s.location_id, s.local_date ORDER BY s.start, s.id) AS n
                FROM scheduling_session s
                WHERE s.status IN ('booked', 'confirmed') AND s.chair_id IS NOT NULL AND s.start >= %s
            ) AS upcoming
            ORDER BY n, local_date, location_id, id LIMIT %s
        """, [self.now + timedelta(hours=notice), self.slots])]
        earlier = [row[0] for row in fetch("""
            SELECT s.id FROM scheduling_session s
            WHERE s.status IN ('booked', 'confirmed') AND s.start >= %s AND s.id %% %s = 0 AND NOT s.id = ANY(%s)
        """, [self.now, EARLIER_ONE_IN, ids])]
        self.saved = {
            Session: self._snapshot(Session, "id", ids + earlier),
            Reminder: self._snapshot(Reminder, "session_id", ids),
        }
        # Asked over the last three days, in an order of their own.
        fetch("UPDATE scheduling_session SET earlier_wanted_at = %s - (id %% 4320) * interval '1 minute' "
              "WHERE id = ANY(%s)", [self.now, earlier])
        self.freed: list[tuple] = []
        kept = tasks.publish_on_commit

        def keep_plans(task, arguments, *args, **kwargs):
            if task is tasks.plan_offers_task:
                self.freed.extend(tuple(each) for each in arguments)
            else:
                kept(task, arguments, *args, **kwargs)

        desk = get_user_model().objects.get(pk=self.network.desk_user_id)
        with mock.patch.object(tasks, "publish_on_commit", keep_plans):
            for session in Session.objects.filter(pk__in=ids).order_by("start", "pk"):
                services.cancel_session(by=desk, session=session, reason="Patient unwell", now=self.now)
        self.calls = self.floors = 0
        self.record_planned = False
        self.passes: list[list[float]] = []
        self.queries: list[int] = []
        self.offered: list[int] = []
        self.sql: list[str] = []
        self.planned: dict[tuple, list[tuple[int, int]]] = {}  # (chair, start) -> (patient, course) offered

    @staticmethod
    def _snapshot(model, key: str, ids: list[int]) -> tuple[list[str], list[tuple]]:
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {table} WHERE {key} = ANY(%s)", [ids])
            return [column.name for column in cursor.description], cursor.fetchall()

    def prepare(self, index):
        """Each call starts from the cancels alone: the offers the last call (or floor) planned are noted, for
        the floor to write the same ones, then deleted."""
        made = Offer.objects.filter(pk__gt=self.offers_before)
        rows = list(made.values_list("chair_id", "start", "patient_id", "course_id").order_by("pk"))
        if self.record_planned:  # after a call that planned every freed time
            self.planned, self.record_planned = {}, False
            for chair_id, start, patient_id, course_id in rows:
                self.planned.setdefault((chair_id, start), []).append((patient_id, course_id))
        if rows:
            with transaction.atomic():
                OfferText.objects.filter(offer_id__gt=self.offers_before).delete()
                made.delete()

    def call(self, index):
        full = self.calls >= UNTIMED_CALLS
        self.calls += 1
        times, queries, offered = [], [], []
        keep = not self.sql
        for arguments in self.freed if full else self.freed[:SAMPLE]:
            counter = _Counter(keep=keep)
            started = clock.perf_counter()
            with connection.execute_wrapper(counter):
                offered.append(tasks.plan_offers_task(*arguments))
            times.append(clock.perf_counter() - started)
            queries.append(counter.count)
            if keep and offered[-1] == settings.OFFERS_AT_ONCE:
                self.sql, keep = counter.sql, False
        if full:
            self.passes.append(times)
            self.queries, self.offered, self.record_planned = queries, offered, True

    def floor(self, index):
        freed_times = self.freed if self.floors >= UNTIMED_FLOORS else self.freed[:SAMPLE]
        self.floors += 1
        for freed in (offers_planning.FreedTime.from_args(*arguments) for arguments in freed_times):
            params = {"location": freed.location_id, "chair": freed.chair_id, "start": freed.start,
                      "end": freed.end, "session": freed.session_id, "now": self.now}
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)",
                               [freed.chair_id, int(freed.start.timestamp()) % 2_000_000_000])
                cursor.execute(_FACTS_SQL, params)
                modality, _active, _on, local_day = cursor.fetchone()[:4]
                cursor.execute(*offers_planning.candidates_statement(freed, modality=modality, day=local_day,
                                                                     now=self.now))
                ids = [row[0] for row in cursor.fetchall()]  # with the earlier-time requests
                if not ids:
                    continue
                cursor.execute(swept_sql(some=True), {"ids": ids, "now": self.now})
                cursor.fetchall()
                cursor.execute(_PROTOCOLS_SQL, {"ids": ids})
                cursor.fetchall()
                pairs = self.planned.get((freed.chair_id, freed.start), [])
                if pairs:
                    cursor.execute(_OFFERS_SQL, {**params, "patients": [patient for patient, _ in pairs],
                                                 "courses": [course for _, course in pairs]})

    def teardown(self):
        """Put back every row the case changed: its offers and marks go, the cancelled sessions (and those
        marked as wanting an earlier time) and their reminders are restored as they were, the sites'
        switches too. The audit triggers stay off, as for the generator's own rows."""
        self.prepare(-1)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            if self.marks:
                self.marks.objects.filter(pk__gt=self.marks_before).delete()
            for model, (columns, rows) in self.saved.items():
                assignments = ", ".join(f'"{column}" = %s' for column in columns if column != "id")
                cursor.executemany(f"UPDATE {model._meta.db_table} SET {assignments} WHERE id = %s",
                                   [(*(value for column, value in zip(columns, row, strict=True) if column != "id"),
                                     row[columns.index("id")]) for row in rows])
        Location.objects.filter(pk__in=self.sites_off).update(offers_enabled=False)
        still = Session.objects.filter(pk__in=[row[0] for row in self.saved[Session][1]],
                                       status=SessionStatus.CANCELLED, cancel_reason="Patient unwell").count()
        if still:
            raise RuntimeError(f"{still} sessions the offer sweep cancelled were not restored")

    def extra(self):
        timed = [value for times in self.passes[-self.timed:] for value in times]
        per_1000 = [sum(times) / len(times) * 1000 * 1000 for times in self.passes[-self.timed:] if times]
        by_offers: dict[int, set[int]] = defaultdict(set)
        for planned, queries in zip(self.offered, self.queries, strict=True):
            by_offers[planned].add(queries)
        return {
            "freed_slots": len(self.freed),
            "ms_per_1000_freed_slots": round(statistics.median(per_1000), 1) if per_1000 else None,
            "per_slot_median_ms": round(statistics.median(timed) * 1000, 2) if timed else None,
            "per_slot_p95_ms": round(sorted(timed)[max(0, int(0.95 * len(timed) + 0.5) - 1)] * 1000, 2)
            if timed else None,
            "queries_per_freed_time": {"min": min(self.queries, default=0), "max": max(self.queries, default=0),
                                       "median": statistics.median(self.queries) if self.queries else 0},
            # Offers planned for a time -> the statement counts seen: they grow with the offers (at most
            # OFFERS_AT_ONCE), not with the candidates.
            "queries_by_offers_planned": {str(planned): sorted(counts)
                                          for planned, counts in sorted(by_offers.items())},
            "offers_planned": sum(self.offered),
            "freed_times_offered": sum(1 for planned in self.offered if planned),
            "offer_counts": dict(sorted(Counter(self.offered).items())),
            # The whole call's statements (the runner's count is capped by Django's query log).
            "queries": sum(self.queries),
            # One freed time's statements (a time offered to OFFERS_AT_ONCE patients), not the whole call's.
            "sql": self.sql,
        }


def checks(report: dict, check, scale_name: str) -> list[dict]:
    """The offer sweep's targets, for ``runner.checks`` (``check`` is the runner's ``_check``).

    The ratio to the floor is a target at medium and large only, as the due-visit sweep's is: on a tiny
    network the SQL takes a few milliseconds and the planner's fixed Python work (the due engine) dominates,
    so the ratio there says nothing about how planning grows, and swings with the machine's load.
    """
    case = report["cases"].get("offer_sweep")
    if case is None:  # a run without the case (``cases.CASES``) has no offer targets
        return []
    ratio, queries = case["ratio_to_floor"], case["queries_per_freed_time"]["max"]
    found = []
    if scale_name in ("medium", "large"):
        found.append(check("offer_sweep: ratio to its raw-SQL floor", ratio, OFFER_FLOOR_RATIO,
                           ratio is not None and ratio <= OFFER_FLOOR_RATIO))
    return found + [
        check("offer_sweep: queries per freed time (fixed, not per candidate)", queries, MAX_QUERIES_PER_FREED_TIME,
              0 < queries <= MAX_QUERIES_PER_FREED_TIME),
        check("offer_sweep: freed times offered", case["freed_times_offered"], case["freed_slots"],
              case["freed_times_offered"] > 0),
    ]
