"""Demo charts: recent esketamine sessions with REMS forms in every state, and live sessions today.

Runs after the session histories exist (scheduling/demo.py). Deterministic
and safe to run twice: a session that already has a dose is left alone.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone

from clinic.errors import ClinicError
from clinic.roles import PRESCRIBER
from protocols.models import CourseStatus, Modality, TreatmentCourse
from scheduling.charting import rems
from scheduling.charting import services as charting
from scheduling.charting.outcomes import unacknowledged_item9_alert
from scheduling.models import (
    Chair,
    Dose,
    Reminder,
    ReminderState,
    RemsFormStatus,
    Session,
    SessionStatus,
    VitalsKind,
)

RECENT_DAYS = 14
NORMAL_CHECKLIST = {"fasted_food_2h": True, "fasted_drink_30m": True, "nasal_medicines_ok": True,
                    "ride_home_arranged": True}


def _vitals(session, kind, at, rng, by, systolic=None):
    """Vital signs charted at the bedside: entered the moment they were taken, through the service."""
    charting.record_vitals(by=by, session=session, kind=kind, now=at,
                           systolic=systolic or rng.randint(112, 136), diastolic=rng.randint(68, 86),
                           heart_rate=rng.randint(62, 88), spo2=rng.randint(95, 99))


def _dose(session, by, first_device, *, mg: int, lot: str):
    """An esketamine dose charted device by device, each at its moment, by a clinician who is a prescriber."""
    charting.record_dose(by=by, session=session, dose_mg=Decimal(mg), lot_number=lot, prescriber_on_site=by,
                         override_reason="Demo: the dose this course continues on", now=first_device)
    for number in range(2, mg // 28 + 1):
        charting.record_device(by=by, session=session, now=first_device + timedelta(minutes=5 * (number - 1)))


def _reopen(session) -> None:
    """A past session the history loader wrote as discharged, put back to its start so it is charted as it ran."""
    Session.objects.filter(pk=session.pk).update(status=SessionStatus.CONFIRMED)
    session.refresh_from_db()


def chart_recent_sessions(clinician) -> int:
    """Fill the charts of esketamine sessions discharged in the last two weeks, with their REMS forms.

    Each chart is written through the charting services, every step at the
    moment it happened (``now=``), so the demo obeys the rules it shows:
    observation counted in real time, vitals at their moments, devices 5
    minutes apart, a prescriber on site. Most are complete (ready, or
    submitted when older than 8 days); one in five lacks its 40-minute blood
    pressure, so its form stays a draft.
    """
    make_prescriber(clinician)
    rng = random.Random(23)
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    sessions = (Session.objects.filter(status=SessionStatus.DISCHARGED, recorded_history=False, start__gte=since,
                                       course__modality=Modality.ESKETAMINE_NASAL, dose__isnull=True)
                .select_related("course__protocol", "patient", "location").order_by("start"))
    charted = 0
    for index, session in enumerate(sessions):
        _reopen(session)
        first_device = session.start + timedelta(minutes=15)
        try:
            charting.check_in(by=clinician, session=session, now=session.start - timedelta(minutes=5),
                              **NORMAL_CHECKLIST)
        except ClinicError:  # not eligible that day (the demo's screening): left as the history loader wrote it
            Session.objects.filter(pk=session.pk).update(status=SessionStatus.DISCHARGED)
            continue
        _vitals(session, VitalsKind.PRE_DOSE, session.start, rng, clinician)
        earlier = Dose.objects.filter(session__course=session.course).exists()
        _dose(session, clinician, first_device, mg=84 if earlier else 56, lot=f"LOT-{4400 + index}")
        if index % 5 != 3:
            _vitals(session, VitalsKind.POST_DOSE_40, first_device + timedelta(minutes=40), rng, clinician)
        charting.record_assessment(by=clinician, session=session, sedation=rng.choice(["none", "mild"]),
                                   dissociation=rng.choice(["mild", "moderate"]), respiratory="normal",
                                   now=first_device + timedelta(minutes=60))
        _vitals(session, VitalsKind.DISCHARGE, first_device + timedelta(minutes=118), rng, clinician)
        charting.discharge(by=clinician, session=session, resolution_attested=True, driver="Family member",
                           could_have_left_after_minutes=rng.choice([60, 75, 90, 105]),
                           now=first_device + timedelta(minutes=125))
        session.refresh_from_db()  # the services charted a locked copy of the row
        form = rems.refresh_form(session)
        if form.status == RemsFormStatus.READY and session.start < timezone.now() - timedelta(days=8):
            form.status, form.submitted_at, form.submitted_by = RemsFormStatus.SUBMITTED, timezone.now(), clinician
            form.confirmation_number = f"RPMF-{880000 + index}"
            form.submitted_content = rems.form_content(session)[0]
            form.save()
        charted += 1
    return charted


def make_prescriber(user) -> None:
    """Mark the demo clinician as a prescriber (a manager does this in the admin)."""
    user.groups.add(Group.objects.get(name=PRESCRIBER))


def start_live_sessions(site, clinician) -> int:
    """Put a few of today's patients at every step: waiting, observing (timer running), ready to discharge.

    Charted through the services, each step at the moment it happened.
    """
    make_prescriber(clinician)
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
        if local_day != site.local_date(now) or unacknowledged_item9_alert(course.patient) is not None:
            continue
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
            end=end, occupied_until=occupied, local_date=local_day, status=SessionStatus.CONFIRMED,
        )
        try:
            charting.check_in(by=clinician, session=session, now=start, **NORMAL_CHECKLIST)
        except ClinicError:
            session.delete()  # not eligible today, or no REMS enrolment: the demo leaves this patient out
            continue
        _vitals(session, VitalsKind.PRE_DOSE, start + timedelta(minutes=5), rng, clinician,
                systolic=146 if step == "waiting" else None)
        if step != "waiting":
            first_device = now - timedelta(minutes=minutes_ago)
            _dose(session, clinician, first_device, mg=56, lot="LOT-7781")
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
