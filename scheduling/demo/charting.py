"""Demo charts: recent esketamine sessions with REMS forms in every state, and live sessions today.

Runs after the session histories exist (scheduling/demo.py). Deterministic
and safe to run twice: a session that already has a dose is left alone.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from protocols.models import CourseStatus, Modality, TreatmentCourse
from scheduling.charting import rems
from scheduling.models import (
    Assessment,
    Chair,
    Dose,
    Reminder,
    ReminderState,
    RemsFormStatus,
    Session,
    SessionStatus,
    VitalSigns,
    VitalsKind,
)

RECENT_DAYS = 14


def _vitals(session, kind, at, rng, by, systolic=None):
    VitalSigns.objects.create(session=session, kind=kind, taken_at=at, recorded_by=by,
                              systolic=systolic or rng.randint(112, 136), diastolic=rng.randint(68, 86),
                              heart_rate=rng.randint(62, 88), spo2=rng.randint(95, 99))


def chart_recent_sessions(clinician) -> int:
    """Fill the charts of esketamine sessions discharged in the last two weeks, with their REMS forms.

    Most are complete (ready, or submitted when older than 8 days); one in
    five lacks its 40-minute blood pressure, so its form stays a draft.
    """
    rng = random.Random(23)
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    sessions = (Session.objects.filter(status=SessionStatus.DISCHARGED, recorded_history=False, start__gte=since,
                                       course__modality=Modality.ESKETAMINE_NASAL, dose__isnull=True)
                .select_related("course__protocol", "patient", "location").order_by("start"))
    charted = 0
    for index, session in enumerate(sessions):
        first_device = session.start + timedelta(minutes=15)
        session.checked_in_at, session.checked_in_by = session.start - timedelta(minutes=5), clinician
        session.fasted_food_2h = session.fasted_drink_30m = session.nasal_medicines_ok = True
        session.ride_home_arranged = True
        _vitals(session, VitalsKind.PRE_DOSE, session.start, rng, clinician)
        earlier = Dose.objects.filter(session__course=session.course).exists()
        Dose.objects.create(session=session, dose_mg=Decimal(84 if earlier else 56), devices=3 if earlier else 2,
                            lot_number=f"LOT-{4400 + index}", started_at=first_device, recorded_by=clinician)
        if index % 5 != 3:
            _vitals(session, VitalsKind.POST_DOSE_40, first_device + timedelta(minutes=40), rng, clinician)
        Assessment.objects.create(session=session, assessed_at=first_device + timedelta(minutes=60),
                                  sedation=rng.choice(["none", "mild"]), dissociation=rng.choice(["mild", "moderate"]),
                                  respiratory="normal", recorded_by=clinician)
        _vitals(session, VitalsKind.DISCHARGE, first_device + timedelta(minutes=118), rng, clinician)
        session.discharged_at, session.discharged_by = first_device + timedelta(minutes=125), clinician
        session.resolution_attested, session.driver = True, "Family member"
        session.could_have_left_after_minutes = rng.choice([60, 75, 90, 105])
        session.save()
        form = rems.refresh_form(session)
        if form.status == RemsFormStatus.READY and session.start < timezone.now() - timedelta(days=8):
            form.status, form.submitted_at, form.submitted_by = RemsFormStatus.SUBMITTED, timezone.now(), clinician
            form.confirmation_number = f"RPMF-{880000 + index}"
            form.submitted_content = rems.form_content(session)[0]
            form.save()
        charted += 1
    return charted


def start_live_sessions(site, clinician) -> int:
    """Put a few of today's patients at every step: waiting, observing (timer running), ready to discharge."""
    now = timezone.now()
    if Session.objects.filter(location=site, local_date=site.local_date(now),
                              status__in=[SessionStatus.CHECKED_IN, SessionStatus.IN_TREATMENT]).exists():
        return 0
    rng = random.Random(5)
    steps = [("waiting", 10), ("observing", 40), ("observing", 75), ("ready", 126)]
    courses = [course for course in site.sessions.filter(course__status=CourseStatus.ACTIVE,
                                                         course__modality=Modality.ESKETAMINE_NASAL,
                                                         course__patient__rems_enrolled_on__isnull=False)
               .values_list("course", flat=True).distinct()]
    started = 0
    for (step, minutes_ago), course in zip(steps, TreatmentCourse.objects.filter(pk__in=courses)
                                           .select_related("protocol", "patient").order_by("pk"), strict=False):
        start = now - timedelta(minutes=minutes_ago + 15)
        end = start + timedelta(minutes=course.protocol.chair_minutes)
        occupied = end + timedelta(minutes=site.turnover_minutes)
        local_day = site.local_date(start)
        taken_days = Session.objects.standing().filter(course=course, local_date=local_day)
        if taken_days.exists() or Session.objects.standing().filter(patient=course.patient).overlapping(
                start, occupied).exists():
            continue
        chair = next((chair for chair in Chair.objects.filter(location=site, serves_esketamine=True, active=True)
                      if not Session.objects.standing().filter(chair=chair).overlapping(start, occupied).exists()),
                     None)
        if chair is None:
            continue
        session = Session.objects.create(
            course=course, patient=course.patient, location=site, chair=chair, clinician=clinician, start=start,
            end=end, occupied_until=occupied, local_date=local_day, status=SessionStatus.CHECKED_IN,
            checked_in_at=start, checked_in_by=clinician, fasted_food_2h=True, fasted_drink_30m=True,
            nasal_medicines_ok=True, ride_home_arranged=True,
        )
        _vitals(session, VitalsKind.PRE_DOSE, start + timedelta(minutes=5), rng, clinician,
                systolic=146 if step == "waiting" else None)
        if step != "waiting":
            first_device = now - timedelta(minutes=minutes_ago)
            Dose.objects.create(session=session, dose_mg=Decimal(56), devices=2, lot_number="LOT-7781",
                                started_at=first_device, recorded_by=clinician)
            session.status = SessionStatus.IN_TREATMENT
            session.save(update_fields=["status"])
            if minutes_ago > 50:
                _vitals(session, VitalsKind.POST_DOSE_40, first_device + timedelta(minutes=41), rng, clinician)
        started += 1
    return started



def bring_reminders_forward(*, count: int = 3) -> int:
    """Make a few upcoming reminders due within the first minutes of `make run`, so texts visibly arrive.

    Only sessions still more than an hour away are touched, so the reminders
    pass the send-time checks; the rest keep their planned times.
    """
    now = timezone.now()
    upcoming = list(Reminder.objects.filter(state=ReminderState.PENDING, send_at__gt=now + timedelta(minutes=5),
                                            session__start__gt=now + timedelta(hours=2),
                                            session__patient__sms_consent=True)
                    .order_by("session__start").values_list("id", flat=True)[:count])
    for minutes, reminder_id in enumerate(upcoming, start=1):
        Reminder.objects.filter(pk=reminder_id).update(send_at=now + timedelta(minutes=minutes))
    return len(upcoming)
