"""Demo charts: the last ten days' esketamine sessions, today's sessions, and the ones under way now.

Runs after the sessions are laid out (``scheduling.demo.sessions``). Every chart is written
through the charting services, each step at the moment it happened (``now=``), so the
demo obeys the rules it shows: observation counted in real time, vitals at their moments,
devices 5 minutes apart, a prescriber on site, each dose drawn from the site's stock
(``scheduling.demo.stock``; an IV vial's rest wasted before a witness). A session under way is charted only up to
now: a patient checked in minutes ago waits with a high blood pressure, one dosed 50
minutes ago has the 40-minute check due, one has observation over and waits to be
discharged. REMS forms: submitted two days after the visit, except one per site left
waiting (due on the worklist from day 5) and a few that cannot be complete (a missed
40-minute reading, medicines not asked), which are overdue after day 7.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db.models import Q
from django.utils import timezone

from clinic.roles import PRESCRIBER
from protocols.models import Modality
from scheduling.charting import rems
from scheduling.charting import services as charting
from scheduling.charting.ending import discharge
from scheduling.demo.sessions import site_prescriber
from scheduling.demo.stock import dose_lot, dose_witness
from scheduling.models import (
    Dose,
    Reminder,
    ReminderPolicy,
    ReminderState,
    RemsForm,
    RemsFormStatus,
    Session,
    SessionStatus,
    VitalsKind,
)
from scheduling.models.rems import DUE_FROM_DAY, OVERDUE_AFTER_DAY

RECENT_DAYS = 10
NORMAL_CHECKLIST = {"fasted_food_2h": True, "fasted_drink_30m": True, "nasal_medicines_ok": True,
                    "ride_home_arranged": True}
# Complete forms are submitted two days after the visit (one per site is late: ``settle_rems_forms``).
SUBMITTED_AFTER_DAYS = 2


def make_prescriber(user) -> None:
    """Mark a demo clinician as a prescriber (a manager does this in the admin)."""
    user.groups.add(Group.objects.get(name=PRESCRIBER))


class _Chart:
    """One session's chart, written step by step while each step's moment is not after ``upto``."""

    def __init__(self, session: Session, by, rng: random.Random, upto: datetime, *, ends: bool):
        self.session, self.by, self.rng, self.upto, self.ends = session, by, rng, upto, ends

    def due(self, moment: datetime) -> bool:
        return moment <= self.upto

    def vitals(self, kind, at, systolic=None) -> None:
        charting.record_vitals(by=self.by, session=self.session, kind=kind, now=at,
                               systolic=systolic or self.rng.randint(112, 136), diastolic=self.rng.randint(68, 86),
                               heart_rate=self.rng.randint(62, 88), spo2=self.rng.randint(95, 99))

    def write(self, *, skip_40: bool = False) -> None:
        session, start = self.session, self.session.start
        charting.check_in(by=self.by, session=session, now=start - timedelta(minutes=5), **NORMAL_CHECKLIST)
        # A patient who arrived minutes ago has a high reading: the board asks a clinician to look.
        waiting = not self.ends and self.upto - start < timedelta(minutes=15)
        if not self.due(start + timedelta(minutes=5)):
            return
        self.vitals(VitalsKind.PRE_DOSE, start + timedelta(minutes=5), systolic=146 if waiting else None)
        if session.course.modality == Modality.ESKETAMINE_NASAL:
            self._esketamine(skip_40=skip_40)
        else:
            self._infusion()

    def _esketamine(self, *, skip_40: bool) -> None:
        session, first = self.session, self.session.start + timedelta(minutes=15)
        if not self.due(first):
            return
        earlier = Dose.objects.filter(session__course=session.course).exists()
        mg = 84 if earlier or session.course.protocol.slug.startswith("esketamine-mdsi") else 56
        charting.record_dose(by=self.by, session=session, dose_mg=Decimal(mg), prescriber_on_site=self.by, now=first,
                             lot=dose_lot(session, devices=mg // 28, mg=None, now=self.upto))
        for number in range(2, mg // 28 + 1):
            given = first + timedelta(minutes=5 * (number - 1))
            if self.due(given):
                charting.record_device(by=self.by, session=session, now=given)
        if not skip_40 and self.due(first + timedelta(minutes=40)):
            self.vitals(VitalsKind.POST_DOSE_40, first + timedelta(minutes=40))
        self._finish(assessed=first + timedelta(minutes=60), vitals=first + timedelta(minutes=118),
                     discharged=first + timedelta(minutes=125))

    def _infusion(self) -> None:
        session, began = self.session, self.session.start + timedelta(minutes=10)
        if not self.due(began):
            return
        weight_kg = Decimal(60 + session.patient_id % 35)
        charting.record_dose(by=self.by, session=session, weight_kg=weight_kg, mg_per_kg=Decimal("0.5"), now=began,
                             lot=dose_lot(session, devices=None, mg=int(weight_kg / 2) + 1, now=self.upto),
                             witness=dose_witness(self.by))
        if self.due(began + timedelta(minutes=40)):
            charting.end_infusion(by=self.by, session=session, now=began + timedelta(minutes=40))
            self._finish(assessed=began + timedelta(minutes=45), vitals=began + timedelta(minutes=68),
                         discharged=began + timedelta(minutes=72))

    def _finish(self, *, assessed, vitals, discharged) -> None:
        session = self.session
        if self.due(assessed):
            charting.record_assessment(by=self.by, session=session, sedation=self.rng.choice(["none", "mild"]),
                                       dissociation=self.rng.choice(["mild", "moderate"]), respiratory="normal",
                                       now=assessed)
        if self.due(vitals):
            self.vitals(VitalsKind.DISCHARGE, vitals)
        # A session still in its chair time waits for the clinician to discharge it: the board shows it ready.
        if self.ends and self.due(discharged):
            esketamine = session.course.modality == Modality.ESKETAMINE_NASAL
            discharge(by=self.by, session=session, resolution_attested=True, driver="Family member",
                      could_have_left_after_minutes=self.rng.choice([60, 75, 90, 105]) if esketamine else None,
                      now=discharged)


def chart_recent_sessions(clinician=None, *, now: datetime | None = None) -> int:
    """Chart the recent esketamine sessions, today's sessions and those under way; returns how many.

    Discharged sessions without a dose from the last ``RECENT_DAYS`` days (and
    of any treatment today) are charted as they ran; confirmed sessions whose
    start has passed (under way now) are charted up to now. ``clinician`` charts
    them all, or each site's prescriber when None. Per site, the first charted
    esketamine session more than a week old misses its 40-minute reading.
    """
    now = now or timezone.now()
    rng = random.Random(23)
    recent = Q(course__modality=Modality.ESKETAMINE_NASAL, start__gte=now - timedelta(days=RECENT_DAYS)) \
        | Q(start__gte=now - timedelta(hours=24))
    sessions = list(Session.objects.filter(recent, recorded_history=False, dose__isnull=True, start__lte=now,
                                           status__in=(SessionStatus.DISCHARGED, SessionStatus.CONFIRMED,
                                                       SessionStatus.BOOKED))
                    .select_related("course__protocol", "patient", "location").order_by("start"))
    missed_40: set[int] = set()
    charted = 0
    for session in sessions:
        ended = session.status == SessionStatus.DISCHARGED
        if ended:
            # Laid out as given; put back to its start so it is charted as it ran.
            Session.objects.filter(pk=session.pk).update(status=SessionStatus.CONFIRMED)
            session.refresh_from_db()
        elif session.end <= now:
            continue  # never left behind by the layout: a visit is given or still under way
        by = clinician or site_prescriber(session.location)
        make_prescriber(by)
        skip_40 = (ended and session.location_id not in missed_40 and session.location is not None
                   and session.course.modality == Modality.ESKETAMINE_NASAL
                   and session.local_date <= session.location.local_date(now) - timedelta(days=8))
        if skip_40:
            missed_40.add(session.location_id)
        Session.objects.filter(pk=session.pk).update(clinician=by)
        session.clinician = by
        _Chart(session, by, rng, upto=now, ends=ended).write(skip_40=skip_40)
        if ended:
            session.refresh_from_db()  # the services charted a locked copy of the row
            if session.course.modality == Modality.ESKETAMINE_NASAL:
                rems.refresh_form(session)
        charted += 1
    return charted


def settle_rems_forms(now: datetime) -> int:
    """Submit the complete REMS forms of visits three or more days old, two days after each visit.

    Except, at each site, the first complete form of a visit five to seven days
    ago: still waiting, it is due on the worklist. A form that cannot be
    completed stays a draft (overdue after day 7). Returns the number submitted.
    """
    submitted, waiting = 0, set()
    forms = (RemsForm.objects.filter(status=RemsFormStatus.READY)
             .select_related("session__location", "session__clinician").order_by("session__start"))
    for form in forms:
        session = form.session
        location = session.location
        age = (location.local_date(now) - session.local_date).days
        if DUE_FROM_DAY <= age <= OVERDUE_AFTER_DAY and location.pk not in waiting:
            waiting.add(location.pk)
            continue
        if age < SUBMITTED_AFTER_DAYS + 1:
            continue
        form.status = RemsFormStatus.SUBMITTED
        form.submitted_at = location.at(session.local_date + timedelta(days=SUBMITTED_AFTER_DAYS), time(12))
        form.submitted_by = session.clinician
        form.confirmation_number = f"RPMF-{880000 + form.pk}"
        form.submitted_content = rems.form_content(session)[0]
        form.save()
        submitted += 1
    return submitted


def bring_reminders_forward(*, now: datetime | None = None, count: int = 3) -> int:
    """Make a few upcoming reminders due within the first minutes of `make run`, so texts visibly arrive.

    Only outside quiet hours at the session's site, and only for sessions
    still more than two hours away, so the reminders pass the send-time checks;
    the rest keep their planned times.
    """
    now = now or timezone.now()
    upcoming = (Reminder.objects.filter(state=ReminderState.PENDING, send_at__gt=now + timedelta(minutes=5),
                                        session__start__gt=now + timedelta(hours=2),
                                        session__patient__sms_consent=True)
                .select_related("session__location").order_by("session__start"))
    moved = 0
    for reminder in upcoming:
        location = reminder.session.location
        if moved == count or ReminderPolicy.for_location(location).in_quiet_hours(
                location.local(now + timedelta(minutes=moved + 1)).time()):
            continue
        moved += 1
        Reminder.objects.filter(pk=reminder.pk).update(send_at=now + timedelta(minutes=moved))
    return moved
