"""A deterministic synthetic clinic network, loaded with COPY.

Sites in five US time zones, open Monday to Saturday, with a few holiday
closures; two thirds of each site's chairs serve esketamine, a third have an
infusion pump; one clinician per three chairs, so clinician capacity (four in
treatment at once) is never the limit by construction. Every patient has one
course on one of the four standard protocols, started on a day spread over
the history. Its sessions follow the due engine's windows (target day first,
then the nearest free day in the window) on real chair-time lanes, so no chair,
patient or course-day is ever double-booked and the exclusion constraints
accept every row. Past sessions are mostly discharged, a few cancelled or
missed and rebooked; active courses have their next one or two sessions
booked, except some that are due, overdue or lapsed, so the worklist has work.
Upcoming sessions have their reminders planned by the real policy code;
esketamine sessions have REMS forms.

The same scale and the same ``today`` give the same rows: one seeded random
generator, and ids assigned here rather than by the database. Rows go in with
COPY while ``session_replication_role = replica`` (the history triggers and
foreign-key triggers are skipped; constraints backed by indexes, including the
exclusion constraints, are still checked), then the sequences are reset and
the tables analysed.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import tempfile
import time as clock
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb
from rest_framework.authtoken.models import Token

from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER
from patients.models import Patient
from protocols import due
from protocols.models import CourseStatus, Modality, Protocol, TreatmentCourse
from scheduling.benchmark.scales import Scale
from scheduling.messaging import reminders
from scheduling.models import (
    KIND_PRIORITY,
    Chair,
    Closure,
    Location,
    OpeningHours,
    Reminder,
    ReminderKind,
    ReminderPolicy,
    ReminderState,
    RemsForm,
    Session,
    SessionStatus,
    WorkItem,
)
from scheduling.worklist import sweep

SEED = 20260309
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Phoenix")
WEEKDAY_HOURS = (time(7), time(19))
SATURDAY_HOURS = (time(8), time(14))
TURNOVER = timedelta(minutes=15)
# Lanes: start times on one chair that never overlap (chair time plus turnover), per kind of day.
LANE_STARTS = {
    Modality.ESKETAMINE_NASAL: {"weekday": (time(7), time(9, 45), time(12, 30), time(15, 15)),
                                "saturday": (time(8), time(10, 45))},
    Modality.KETAMINE_IV: {"weekday": (time(7), time(8, 45), time(10, 30), time(12, 15), time(14), time(15, 45),
                                       time(17, 30)),
                           "saturday": (time(8), time(9, 45), time(11, 30))},
}
# Protocol slug, share of patients, mean extra sessions after the finite phases (0: finite protocol).
PROTOCOL_MIX = (("esketamine-trd", 0.35, 16), ("esketamine-mdsi", 0.10, 0), ("ketamine-iv-series", 0.35, 8),
                ("ketamine-iv-weekly", 0.20, 8))
BOOKING_HORIZON_DAYS = 28
FIRST_NAMES = (
    "Ana", "Ben", "Carla", "David", "Elena", "Frank", "Grace", "Hector", "Iris", "James", "Keiko", "Liam", "Maria",
    "Noah", "Olivia", "Pedro", "Quinn", "Rosa", "Samuel", "Tara", "Uma", "Victor", "Wendy", "Xavier", "Yara",
    "Zane", "Aisha", "Bruno", "Chloe", "Diego", "Emma", "Farid", "Gina", "Hugo", "Ines", "Jonah", "Kara", "Luis",
    "Mei", "Nadia", "Omar", "Priya", "Rafael", "Sofia", "Tomas", "Ursula", "Vera", "Wes", "Yusuf", "Zoe",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker",
    "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson",
    "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner",
    "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook",
    "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos",
    "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza",
    "Ruiz", "Hughes", "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster",
    "Jimenez", "Okafor", "Lindqvist", "Kowalski", "Haddad", "Nakamura", "Oyelaran", "Fitzgerald", "Mbeki",
)
FLUSH_EVERY = 50_000


@dataclass
class Site:
    """One location as the generator sees it: chairs by modality, clinicians by chair, closed days."""

    location: Location
    zone: ZoneInfo
    chairs: dict[str, list[int]]
    clinician_of_chair: dict[int, int]
    closures: frozenset[date]
    lane_order: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def open_on(self, day: date) -> bool:
        return day.weekday() != 6 and day not in self.closures


@dataclass
class Network:
    """What the benchmark cases need to know about the generated data."""

    scale: str
    today: date
    now: datetime
    desk_user_id: int
    token: str
    location_ids: list[int]
    counts: dict[str, int]
    seconds: float


def _default(model_field: models.Field, now: datetime):
    """The value a COPY writes for a column the generator does not set."""
    if isinstance(model_field, models.JSONField):
        return Jsonb(model_field.get_default())
    if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
        return now
    if model_field.has_default():
        return model_field.get_default()
    if model_field.null:
        return None
    if isinstance(model_field, (models.CharField, models.TextField)):
        return ""
    raise ValueError(f"{model_field} needs a value in the synthetic data")


class Table:
    """Rows for one model's table: the given columns, every other column its default; COPY in chunks."""

    def __init__(self, model: type[models.Model], columns: tuple[str, ...], now: datetime) -> None:
        by_column = {model_field.column: model_field for model_field in model._meta.concrete_fields}
        rest = [column for column in by_column if column not in columns]
        quote = connection.ops.quote_name
        names = ", ".join(quote(column) for column in (*columns, *rest))
        self.sql = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"
        self.tail = tuple(_default(by_column[column], now) for column in rest)
        self.rows: list[tuple] = []
        self.count = 0

    def add(self, *row) -> None:
        self.rows.append(row)
        self.count += 1
        if len(self.rows) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        with connection.connection.cursor() as cursor, cursor.copy(self.sql) as copy:
            for row in self.rows:
                copy.write_row(row + self.tail)
        self.rows.clear()


class Generator:
    def __init__(self, scale: Scale, *, now: datetime) -> None:
        self.scale = scale
        self.now = now
        self.today = now.date()
        self.rng = random.Random(SEED)
        self.used: dict[tuple[int, str, date], int] = {}
        self.session_id = 0
        self.reminder_id = 0
        self.form_id = 0
        self.protocols = {protocol.slug: protocol for protocol in Protocol.objects.with_phases()}
        self.rules = {slug: protocol.rule() for slug, protocol in self.protocols.items()}
        self.patients = Table(Patient, ("id", "mrn", "first_name", "last_name", "date_of_birth", "sex", "phone",
                                        "sms_consent", "sms_consent_at", "sms_consent_method", "sms_opted_out_at",
                                        "diagnosis", "rems_enrolled_on", "rems_patient_id"), now)
        self.courses = Table(TreatmentCourse, ("id", "patient_id", "protocol_id", "modality", "start_date", "status",
                                               "created_by_id", "paused_at", "completed_at", "discontinued_at",
                                               "discontinued_by_id", "discontinued_reason"), now)
        self.sessions = Table(Session, ("id", "course_id", "patient_id", "location_id", "chair_id", "clinician_id",
                                        "start", "end", "occupied_until", "local_date", "status", "booked_by_id",
                                        "booked_at", "confirmed_at", "cancelled_at", "cancel_reason",
                                        "cancelled_by_id", "late_cancel", "no_show_at", "checked_in_at",
                                        "discharged_at", "discharged_by_id", "resolution_attested", "driver"), now)
        self.reminders = Table(Reminder, ("id", "session_id", "kind", "priority", "send_at", "session_start",
                                          "state", "attempts", "sent_at", "reason"), now)
        self.forms = Table(RemsForm, ("id", "session_id", "status", "submitted_at", "confirmation_number"), now)
        self.policy = ReminderPolicy()

    # --- sites and staff ------------------------------------------------------------------------------

    def create_staff_and_sites(self) -> tuple[list[Site], object]:
        User = get_user_model()
        groups = {group.name: group for group in Group.objects.filter(name__in=(FRONT_DESK, CLINICIAN, MANAGER))}
        desk = User.objects.create(username="bench_desk", first_name="Bench", last_name="Desk")
        desk.groups.add(groups[FRONT_DESK])
        manager = User.objects.create(username="bench_manager", first_name="Bench", last_name="Manager")
        manager.groups.add(groups[MANAGER])
        sites = []
        chairs_per_site = self.scale.chairs_per_location
        esketamine_chairs = round(chairs_per_site * 2 / 3)
        for index in range(self.scale.locations):
            zone = ZONES[index % len(ZONES)]
            location = Location.objects.create(name=f"Site {index + 1:02d}", time_zone=zone, rems_certified=True,
                                               turnover_minutes=15, max_in_treatment_per_clinician=4,
                                               phone=f"+1555010{index:04d}")
            OpeningHours.objects.bulk_create(
                [OpeningHours(location=location, weekday=weekday, opens=WEEKDAY_HOURS[0], closes=WEEKDAY_HOURS[1])
                 for weekday in range(5)]
                + [OpeningHours(location=location, weekday=5, opens=SATURDAY_HOURS[0], closes=SATURDAY_HOURS[1])])
            closures = self._holidays()
            Closure.objects.bulk_create([Closure(location=location, date=day, reason="Holiday") for day in closures])
            ReminderPolicy.objects.create(location=location)
            chairs = Chair.objects.bulk_create(
                [Chair(location=location, name=f"Chair {n + 1:02d}", serves_esketamine=True, has_infusion_pump=False)
                 for n in range(esketamine_chairs)]
                + [Chair(location=location, name=f"Infusion {n + 1:02d}", serves_esketamine=False,
                         has_infusion_pump=True) for n in range(chairs_per_site - esketamine_chairs)])
            clinicians = []
            for n in range(math.ceil(chairs_per_site / 3)):
                clinician = User.objects.create(username=f"bench_clinician_{index + 1:02d}_{n + 1}",
                                                first_name="Clinician", last_name=f"{index + 1:02d}-{n + 1}")
                clinician.groups.add(groups[CLINICIAN])
                clinicians.append(clinician)
            location.staff.add(*clinicians, desk, manager)
            site = Site(
                location=location, zone=ZoneInfo(zone),
                chairs={Modality.ESKETAMINE_NASAL: [chair.pk for chair in chairs if chair.serves_esketamine],
                        Modality.KETAMINE_IV: [chair.pk for chair in chairs if chair.has_infusion_pump]},
                clinician_of_chair={chair.pk: clinicians[n // 3].pk for n, chair in enumerate(chairs)},
                closures=frozenset(closures),
            )
            for modality, kinds in LANE_STARTS.items():
                for kind, starts in kinds.items():
                    order = list(range(len(starts) * len(site.chairs[modality])))
                    self.rng.shuffle(order)
                    site.lane_order[(modality, kind)] = order
            sites.append(site)
        for user in User.objects.filter(username__startswith="bench_"):
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return sites, desk

    def _holidays(self) -> list[date]:
        days = []
        for year in range(self.today.year - 3, self.today.year + 2):
            days += [date(year, 1, 1), date(year, 7, 4), date(year, 12, 25)]
            november = date(year, 11, 1)
            days.append(november + timedelta(days=(3 - november.weekday()) % 7 + 21))  # Thanksgiving
        return sorted(days)

    # --- lanes ----------------------------------------------------------------------------------------

    def take_lane(self, site: Site, modality: str, day: date) -> tuple[int, time] | None:
        """A free (chair, local start) at ``site`` on ``day`` for ``modality``, or None when the day is full."""
        if not site.open_on(day):
            return None
        kind = "saturday" if day.weekday() == 5 else "weekday"
        starts = LANE_STARTS[modality][kind]
        chairs = site.chairs[modality]
        capacity = len(starts) * len(chairs)
        key = (site.location.pk, modality, day)
        taken = self.used.get(key, 0)
        if taken >= capacity:
            return None
        self.used[key] = taken + 1
        lane = site.lane_order[(modality, kind)][(taken + day.toordinal()) % capacity]
        return chairs[lane % len(chairs)], starts[lane // len(chairs)]

    def place(self, site: Site, modality: str, first: date, last: date, target: date) -> tuple[date, int, time] | None:
        """The open day nearest ``target`` in [first, last] with a free lane."""
        span = (last - first).days
        if span < 0:
            return None
        days = sorted((first + timedelta(days=offset) for offset in range(span + 1)),
                      key=lambda day: (abs((day - target).days), day))
        for day in days:
            lane = self.take_lane(site, modality, day)
            if lane is not None:
                return day, *lane
        return None

    # --- rows -----------------------------------------------------------------------------------------

    def add_session(self, *, site: Site, course_id: int, patient_id: int, modality: str, protocol: Protocol,
                    day: date, chair_id: int, local_start: time, status: str, desk_id: int) -> int:
        self.session_id += 1
        start = datetime.combine(day, local_start, tzinfo=site.zone).astimezone(UTC)
        end = start + timedelta(minutes=protocol.chair_minutes)
        clinician_id = site.clinician_of_chair[chair_id]
        booked_at = start - timedelta(days=7)
        released = status in (SessionStatus.CANCELLED, SessionStatus.NO_SHOW)
        discharged = status == SessionStatus.DISCHARGED
        self.sessions.add(
            self.session_id, course_id, patient_id, site.location.pk, chair_id, clinician_id, start, end,
            end + TURNOVER, day, status, desk_id, booked_at,
            start - timedelta(days=1) if status == SessionStatus.CONFIRMED else None,
            start - timedelta(hours=30) if status == SessionStatus.CANCELLED else None,
            "Patient unwell" if status == SessionStatus.CANCELLED else "",
            desk_id if status == SessionStatus.CANCELLED else None,
            status == SessionStatus.CANCELLED and self.rng.random() < 0.3,
            start + timedelta(minutes=30) if status == SessionStatus.NO_SHOW else None,
            start - timedelta(minutes=10) if discharged else None,
            end if discharged else None,
            clinician_id if discharged else None,
            discharged, "Family member" if discharged else "",
        )
        if not released and start >= self.now - timedelta(days=3):
            self._add_reminders(site, day, start)
        if discharged and modality == Modality.ESKETAMINE_NASAL:
            self._add_form(day, end)
        return self.session_id

    def _add_reminders(self, site: Site, day: date, start: datetime) -> None:
        visit = SimpleNamespace(location=SimpleNamespace(zone=site.zone), start=start, local_date=day)
        for kind in (ReminderKind.DAY_BEFORE, ReminderKind.SAME_DAY):
            send_at = reminders.plan_send_time(self.policy, visit, kind)
            self.reminder_id += 1
            if send_at is None:
                state, send_at, sent_at, reason = ReminderState.SKIPPED, start, None, "no allowed time"
            elif send_at <= self.now:
                state, sent_at, reason = ReminderState.SENT, send_at, ""
            else:
                state, sent_at, reason = ReminderState.PENDING, None, ""
            self.reminders.add(self.reminder_id, self.session_id, kind, KIND_PRIORITY[kind], send_at, start, state,
                               1 if sent_at else 0, sent_at, reason)

    def _add_form(self, day: date, end: datetime) -> None:
        self.form_id += 1
        age = (self.today - day).days
        submitted = (age > 7 and self.rng.random() < 0.998) or (age > 2 and self.rng.random() < 0.5)
        self.forms.add(self.form_id, self.session_id, "submitted" if submitted else "ready",
                       end + timedelta(days=2) if submitted else None,
                       f"REMS-{self.form_id:08d}" if submitted else "")

    # --- patients and courses ---------------------------------------------------------------------------

    def _protocol_for(self, roll: float) -> tuple[str, int]:
        for slug, share, extra in PROTOCOL_MIX:
            if roll < share:
                return slug, extra
            roll -= share
        return PROTOCOL_MIX[-1][0], PROTOCOL_MIX[-1][2]

    def add_patient_and_course(self, number: int, site: Site, desk_id: int) -> None:
        rng = self.rng
        slug, extra_mean = self._protocol_for(rng.random())
        protocol, rule = self.protocols[slug], self.rules[slug]
        modality = protocol.modality
        consent = rng.random() < 0.85
        self.patients.add(
            number, f"B{number:07d}", FIRST_NAMES[rng.randrange(len(FIRST_NAMES))],
            LAST_NAMES[rng.randrange(len(LAST_NAMES))],
            date(1950 + rng.randrange(50), 1 + rng.randrange(12), 1 + rng.randrange(28)),
            ("female", "male", "other")[rng.randrange(3)], f"+1555{number:07d}",
            consent, self.now - timedelta(days=800) if consent else None, "verbal" if consent else "",
            self.now - timedelta(days=10) if consent and rng.random() < 0.02 else None,
            "mdd_si" if slug == "esketamine-mdsi" else "mdd",
            *(((self.today - timedelta(days=900)), f"REMS{number:08d}")
              if modality == Modality.ESKETAMINE_NASAL and rng.random() < 0.95 else (None, "")),
        )
        start_date = self.today - timedelta(days=self.scale.history_days) + timedelta(
            days=rng.randrange(self.scale.history_days + 8))
        finite_sessions = sum(phase.sessions or 0 for phase in rule.phases)
        planned = finite_sessions + (int(rng.expovariate(1 / extra_mean)) + 1 if extra_mean else 0)
        # Some active courses stopped coming weeks ago: overdue or lapsed on the worklist.
        stops_on = self.today - timedelta(days=10 + rng.randrange(40)) if rng.random() < 0.04 else None
        paused = rng.random() < 0.02
        horizon = self.today + timedelta(days=BOOKING_HORIZON_DAYS)
        future_wanted = 0 if paused else (2 if rng.random() < 0.4 else 1 if rng.random() < 0.8 else 0)

        completed: list[date] = []
        last_day: date | None = None
        future_booked = 0
        ended = None  # "finished" or "stuck"
        while len(completed) < planned:
            window = due.next_due(rule, due.CourseFacts(start_date=start_date, completed=tuple(completed)))
            if window is None:
                ended = "finished"
                break
            first = max(window.earliest, last_day + timedelta(days=1)) if last_day else window.earliest
            if stops_on is not None and first > stops_on:
                break
            if first > self.today and future_booked >= future_wanted:
                break
            if first > horizon:
                break
            placed = self.place(site, modality, first, window.latest + timedelta(days=7), window.target)
            if placed is None:
                ended = "stuck"
                break
            day, chair_id, local_start = placed
            start = datetime.combine(day, local_start, tzinfo=site.zone)
            past = start + timedelta(minutes=protocol.chair_minutes) < self.now
            if past:
                roll = rng.random()
                status = (SessionStatus.CANCELLED if roll < 0.04 else SessionStatus.NO_SHOW if roll < 0.07
                          else SessionStatus.DISCHARGED)
            else:
                if future_booked >= future_wanted:
                    break
                future_booked += 1
                soon = start - self.now < timedelta(days=2)
                status = SessionStatus.CONFIRMED if soon and rng.random() < 0.5 else SessionStatus.BOOKED
            self.add_session(site=site, course_id=number, patient_id=number, modality=modality, protocol=protocol,
                             day=day, chair_id=chair_id, local_start=local_start, status=status, desk_id=desk_id)
            last_day = day
            if status not in (SessionStatus.CANCELLED, SessionStatus.NO_SHOW):
                completed.append(day)  # a booked session anchors the next one, as the plan does
        else:
            ended = "finished"

        status, paused_at, completed_at, discontinued_at, reason = CourseStatus.ACTIVE, None, None, None, ""
        finished_before_today = last_day is not None and last_day < self.today and future_booked == 0
        if ended == "finished" and finished_before_today:
            ended_at = datetime.combine(last_day + timedelta(days=1), time(12), tzinfo=UTC)
            if all(phase.sessions for phase in rule.phases):
                status, completed_at = CourseStatus.COMPLETED, ended_at
            else:
                status, discontinued_at, reason = CourseStatus.DISCONTINUED, ended_at, "Stable; stopped by choice"
        elif ended == "stuck" and finished_before_today:
            status = CourseStatus.DISCONTINUED
            discontinued_at = datetime.combine(last_day + timedelta(days=1), time(12), tzinfo=UTC)
            reason = "Could not keep to the schedule"
        elif paused:
            status, paused_at = CourseStatus.PAUSED, self.now - timedelta(days=3)
        self.courses.add(number, number, protocol.pk, modality, start_date, status, desk_id, paused_at, completed_at,
                         discontinued_at, desk_id if discontinued_at else None, reason)

    def tables(self) -> Iterator[Table]:
        yield from (self.patients, self.courses, self.sessions, self.reminders, self.forms)


@contextmanager
def _plain_indexes_set_aside(tables: list[str]) -> Iterator[None]:
    """Drop the tables' plain indexes (those behind no constraint) and build them again afterwards.

    Building an index once is far quicker than updating it for every copied row; a unique index that
    backs no constraint (a partial one) checks its rows when it is built again.
    """
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
            WHERE i.indrelid = ANY(%s::regclass[])
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """, [tables])
        saved = cursor.fetchall()
        for name, _ in saved:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, definition in saved:
            cursor.execute(definition)


def generate(scale: Scale, *, now: datetime | None = None, log=print) -> Network:
    """Create the whole network in the current (empty, migrated) database and return what the cases need.

    Ends as a live system would look: the worklist as the hourly sweep leaves it, the tables analysed.
    """
    started = clock.perf_counter()
    now = (now or timezone.now()).replace(microsecond=0)
    generator = Generator(scale, now=now)
    loaded = [Patient, TreatmentCourse, Session, Reminder, RemsForm]
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Skip the audit-history and foreign-key triggers while loading; constraints still apply.
            cursor.execute("SET LOCAL session_replication_role = replica")
        sites, desk = generator.create_staff_and_sites()
        with _plain_indexes_set_aside([model._meta.db_table for model in loaded]):
            for number in range(1, scale.patients + 1):
                generator.add_patient_and_course(number, sites[(number - 1) % len(sites)], desk.pk)
                if number % 10_000 == 0:
                    log(f"  {number:,} patients, {generator.sessions.count:,} sessions")
            for table in generator.tables():
                table.flush()
            log(f"  copied in {clock.perf_counter() - started:.0f} s; building indexes...")
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
            for statement in connection.ops.sequence_reset_sql(no_style(), loaded):
                cursor.execute(statement)
        token = Token.objects.create(user=desk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"  indexed in {clock.perf_counter() - started:.0f} s; the first worklist sweep...")
    sweep.refresh_worklist(now=now)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    counts = {
        "locations": len(sites),
        "chairs": sum(len(chairs) for site in sites for chairs in site.chairs.values()),
        "patients": generator.patients.count,
        "courses": generator.courses.count,
        "active_courses": TreatmentCourse.objects.filter(status=CourseStatus.ACTIVE).count(),
        "sessions": generator.sessions.count,
        "reminders": generator.reminders.count,
        "rems_forms": generator.forms.count,
        "open_work_items": WorkItem.objects.open().count(),
    }
    return Network(scale=scale.name, today=generator.today, now=now, desk_user_id=desk.pk, token=token.key,
                   location_ids=[site.location.pk for site in sites], counts=counts,
                   seconds=clock.perf_counter() - started)


def generate_into(scale: Scale, path: Path, *, log=print) -> None:
    """``generate``, then write the network to ``path`` as JSON (for ``generate_apart``)."""
    network = generate(scale, log=log)
    path.write_text(json.dumps({**asdict(network), "today": network.today.isoformat(),
                                "now": network.now.isoformat()}))


def generate_apart(scale: Scale, *, log=print) -> Network:
    """``generate`` in a process of its own, and the network it made.

    The measuring process must look like the web and Celery workers it
    stands for, and a process that has built a network's rows does not: at
    large it has held millions of row values in Python, and after they are
    freed its heap is scattered over a gigabyte that it keeps. In a test, a
    process that had allocated and freed three million small objects ran the
    availability search 28% slower than before; the bigger the network, the
    more the generator allocates, so that read as the paths growing with the
    network.
    """
    with tempfile.TemporaryDirectory(prefix="clinic-benchmark-") as folder:
        path = Path(folder) / "network.json"
        command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "benchmark", "--scale", scale.name,
                   "--in-bench-database", "--generate-into", str(path)]
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
            for line in child.stdout:
                log(line.rstrip("\n"))
        if child.returncode:
            raise RuntimeError(f"generating the {scale.name} network failed (exit status {child.returncode})")
        saved = json.loads(path.read_text())
    return Network(**{**saved, "today": date.fromisoformat(saved["today"]),
                      "now": datetime.fromisoformat(saved["now"])})
