"""The soak's clinic: one site open all day, its patients each booked once, one reminder each due in the span.

The rows are written in bulk (10,000 bookings through ``book_session`` would take longer than the soak);
the changes made during the soak go through the real booking services (``changes.py``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from patients.models import Diagnosis, Patient
from protocols.models import AuthorisationStatus, PriorAuthorisation, TreatmentCourse
from scheduling.models import KIND_PRIORITY, Reminder, ReminderKind, ReminderState, Session, SessionStatus
from tests.factories import (
    EVERY_DAY_ALL_DAY,
    ChairFactory,
    LocationFactory,
    ReminderPolicyFactory,
    UserFactory,
    standard_protocol,
)

CHAIRS = 100
# Visits start at least this many days ahead, so a moved visit's new reminders (the day before at 17:00,
# the same day two hours before) all fall after the soak: any text to a moved visit's patient is stale.
FIRST_DAY = 3
PHONE_BASE = 6465500000
# Rows per INSERT: the history triggers make a 10,000-row statement outlast the statement timeout.
BATCH = 500


@dataclass(frozen=True)
class Due:
    """One reminder the soak made due: who it goes to and when it is due."""

    reminder_id: int
    session_id: int
    phone: str
    due: datetime
    session_start: datetime


@dataclass
class SoakClinic:
    site: object
    desk: object
    lead_minutes: int
    due: list[Due]


@transaction.atomic
def build(count: int, *, span_seconds: float, rng: random.Random, start_in: float = 5.0) -> SoakClinic:
    """``count`` booked visits, each with one same-day reminder due between ``start_in`` and ``start_in`` +
    ``span_seconds`` from now (no day-before one: one text per patient, so a number names its reminder)."""
    site = LocationFactory(name="Soak site", hours=EVERY_DAY_ALL_DAY, max_in_treatment_per_clinician=CHAIRS)
    policy = ReminderPolicyFactory(location=site, quiet_from=time(0), quiet_until=time(0), daily_cap=5, weekly_cap=10)
    chairs = [ChairFactory(location=site, name=f"Soak chair {n + 1}") for n in range(CHAIRS)]
    desk = UserFactory(username="soak-desk")
    protocol = standard_protocol("esketamine-trd")
    now = timezone.now()
    today = site.local_date(now)
    consent_at = now - timedelta(days=30)
    patients = Patient.objects.bulk_create([
        Patient(mrn=f"SOAK{n:06d}", first_name=f"Soak{n}", last_name="Patient", date_of_birth=date(1980, 1, 1),
                phone=f"+1{PHONE_BASE + n}", sms_consent=True, sms_consent_method="verbal", sms_consent_at=consent_at,
                diagnosis=Diagnosis.MDD, rems_enrolled_on=today - timedelta(days=60), rems_patient_id=f"SOAK-{n:06d}")
        for n in range(count)], batch_size=BATCH)
    starts = [site.at(today + timedelta(days=FIRST_DAY + n // CHAIRS), time(12)) for n in range(count)]
    courses = TreatmentCourse.objects.bulk_create([
        TreatmentCourse(patient=patient, protocol=protocol, modality=protocol.modality,
                        start_date=site.local_date(start), created_by=desk)
        for patient, start in zip(patients, starts, strict=True)], batch_size=BATCH)
    # Each course approved by its payer for the year ahead, so the desk's moves are booked, not refused.
    PriorAuthorisation.objects.bulk_create([
        PriorAuthorisation(course=course, payer="Soak payer", status=AuthorisationStatus.APPROVED, units_approved=36,
                           first_day=today, last_day=today + timedelta(days=365),
                           submitted_on=today - timedelta(days=30), decided_on=today - timedelta(days=20))
        for course in courses], batch_size=BATCH)
    chair_minutes, turnover = protocol.chair_minutes, site.turnover_minutes
    sessions = Session.objects.bulk_create([
        Session(course=course, patient=course.patient, location=site, chair=chairs[n % CHAIRS], start=start,
                end=start + timedelta(minutes=chair_minutes),
                occupied_until=start + timedelta(minutes=chair_minutes + turnover),
                local_date=site.local_date(start), status=SessionStatus.BOOKED, booked_by=desk)
        for n, (course, start) in enumerate(zip(courses, starts, strict=True))], batch_size=BATCH)
    first = now + timedelta(seconds=start_in)
    reminders = [Reminder(session=session, kind=ReminderKind.SAME_DAY, priority=KIND_PRIORITY[ReminderKind.SAME_DAY],
                          session_start=session.start, revision=session.revision, state=ReminderState.PENDING,
                          send_at=first + timedelta(seconds=rng.uniform(0, span_seconds)))
                 for session in sessions]
    Reminder.objects.bulk_create(reminders, batch_size=BATCH)
    # The rows took a while to write (a minute for 10,000 on a loaded machine): the span starts now, not then.
    shift = timezone.now() - now
    ids = [reminder.pk for reminder in reminders]
    for at in range(0, len(ids), BATCH):
        Reminder.objects.filter(id__in=ids[at:at + BATCH]).update(send_at=F("send_at") + shift)
    phones = {patient.pk: patient.phone for patient in patients}
    due = [Due(reminder.pk, reminder.session_id, phones[reminder.session.patient_id], reminder.send_at + shift,
               reminder.session_start)
           for reminder in reminders]
    return SoakClinic(site=site, desk=desk, lead_minutes=policy.min_lead_minutes, due=due)
