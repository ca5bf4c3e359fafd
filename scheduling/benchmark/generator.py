"""The generator of the synthetic clinic network: sites and staff, then each patient's course and sessions.

Every patient has one course on one of the four standard protocols, started on a day spread over the
history. Its sessions follow the due engine's windows (target day first, then the nearest free day in the
window) on real chair-time lanes (``layout``), so no chair, patient or course-day is ever double-booked
and the exclusion constraints accept every row. Past sessions are mostly discharged, a few cancelled or
missed and rebooked; active courses have their next one or two sessions booked, except some that are due,
overdue or lapsed, so the worklist has work. Upcoming sessions have their reminders planned by the real
policy code; esketamine sessions have REMS forms. One seeded random generator, and ids assigned here
rather than by the database: the same scale and the same ``today`` give the same rows.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER
from patients.models import Patient
from protocols import due
from protocols.models import AuthorisationStatus, CourseStatus, Modality, PriorAuthorisation, Protocol, TreatmentCourse
from scheduling.benchmark.copying import Table
from scheduling.benchmark.layout import (
    BOOKING_HORIZON_DAYS,
    FIRST_NAMES,
    LANE_STARTS,
    LAST_NAMES,
    PROTOCOL_MIX,
    SATURDAY_HOURS,
    SEED,
    TURNOVER,
    WEEKDAY_HOURS,
    ZONES,
    Site,
)
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
)


class Generator:
    """The rows of one network, built patient by patient into ``Table``s (``tables`` gives them for COPY)."""

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
        self.authorisations = Table(PriorAuthorisation, ("id", "course_id", "payer", "number", "status",
                                                         "units_approved", "first_day", "last_day", "submitted_on",
                                                         "decided_on", "created_by_id", "updated_by_id"), now)
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
        if protocol.requires_authorisation:
            # Every course a payer must approve has its approval, so bookings are checked and go through.
            self.authorisations.add(number, number, "Aetna", f"PA-{number:07d}", AuthorisationStatus.APPROVED,
                                    planned + 60, start_date, self.today + timedelta(days=365),
                                    start_date - timedelta(days=7), start_date - timedelta(days=2), desk_id, desk_id)

    def tables(self) -> Iterator[Table]:
        yield from (self.patients, self.courses, self.sessions, self.reminders, self.forms, self.authorisations)
