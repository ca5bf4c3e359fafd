"""The clinician's pages: my schedule (their landing page) and the observation board.

Both are read-only lists built in a fixed number of queries: the sessions
with everything a row shows, then one query each for completed sessions
(session numbers), latest blood pressures and open item-9 alerts. The rules
(observation time, the 40-minute checkpoint, what counts as a high BP) stay
in ``scheduling.charting.observation`` and ``scheduling.charting.services``; this module only
arranges their answers for the screen.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import F, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.errors import Invalid
from clinic.roles import CLINICIAN, MANAGER, role_required
from patients.models import OutcomeMeasure
from protocols import due
from protocols.models import Modality
from scheduling.booking import selectors as booking_selectors
from scheduling.booking.calendar_feed import feed_for, feed_url
from scheduling.charting.observation import ObservationState, observation_states
from scheduling.charting.services import bp_is_high
from scheduling.models import Location, Session, SessionStatus, VitalSigns
from scheduling.pages import error_status, first_location_for, parse_day

CLINICAL_ROLES = (CLINICIAN, MANAGER)
# Patients on the observation board: in the building and not yet sent home.
ON_THE_FLOOR = (SessionStatus.CHECKED_IN, SessionStatus.IN_TREATMENT)
ALERT_WORDS = {
    "item9": "PHQ-9 item 9 alert",
    "high_bp": "High BP",
    "low_spo2": "Low SpO2",
    "rems_enrolment_missing": "Not REMS-enrolled",
}
# My schedule shows the chosen day and this many days after it.
LOOK_AHEAD_DAYS = 6
CHECKPOINT_WORDS = {"upcoming": "Upcoming", "due": "Due now", "done": "Done", "missed": "Missed"}
STAGE_WORDS = {
    "waiting": "Checked in, not dosed",
    "dosed": "Dosed",
    "infusing": "Infusing",
    "observing": "Observing",
    "ready_to_discharge": "Ready to discharge",
    "discharged": "Discharged",
    "left": "Left before discharge",
    "none": "",
}


@dataclass
class ScheduleRow:
    session: Session
    number: int | None
    phase: str
    mine: bool
    alerts: list[str] = field(default_factory=list)


def _session_numbers(sessions: list[Session]) -> dict[int, tuple[int | None, str]]:
    """``{session id: (number in its course, phase name)}``: one query for the courses' completed sessions.

    A session's number is one more than its course's completed sessions that
    started before it (cancelled and no-shows never count); the phase is the
    due engine's answer for that number.
    """
    course_ids = {session.course_id for session in sessions}
    completed: dict[int, list[datetime]] = defaultdict(list)
    for course_id, start in (Session.objects.filter(course_id__in=course_ids, status=SessionStatus.DISCHARGED)
                             .values_list("course_id", "start")):
        completed[course_id].append(start)
    found = {}
    for session in sessions:
        course = session.course
        if session.status == SessionStatus.DISCHARGED:
            number = sum(1 for start in completed[course.pk] if start <= session.start)
        else:
            number = 1 + sum(1 for start in completed[course.pk] if start < session.start)
        rule = course.protocol.rule()
        index = due.phase_for_session(rule, number, course.restart())
        found[session.pk] = (number, rule.phases[index].name if index is not None else "past the protocol's end")
    return found


def _latest_readings(patient_ids: set[int]) -> dict[int, VitalSigns]:
    """Each patient's latest vital signs from any session: one query (PostgreSQL ``DISTINCT ON``)."""
    readings = (VitalSigns.objects.filter(session__patient_id__in=patient_ids)
                .annotate(patient_id=F("session__patient_id"))
                .order_by("session__patient_id", "-taken_at", "-id").distinct("session__patient_id"))
    return {reading.patient_id: reading for reading in readings}


def _patient_alerts(sessions: list[Session]) -> dict[int, list[str]]:
    """Alerts about the patient behind each session: open item 9, a high last BP, REMS enrolment missing."""
    patient_ids = {session.patient_id for session in sessions}
    item9 = set(OutcomeMeasure.objects.open_item9_alerts().filter(patient_id__in=patient_ids)
                .values_list("patient_id", flat=True))
    latest = _latest_readings(patient_ids)
    alerts = {}
    for session in sessions:
        found = []
        if session.patient_id in item9:
            found.append("item9")
        reading = latest.get(session.patient_id)
        if reading is not None and bp_is_high(reading, session.course.protocol):
            found.append("high_bp")
        if session.course.modality == Modality.ESKETAMINE_NASAL and not session.patient.is_rems_enrolled:
            found.append("rems_enrolment_missing")
        alerts[session.pk] = found
    return alerts


def _my_locations(user) -> list[Location]:
    mine = list(user.clinic_locations.filter(active=True).order_by("name"))
    if mine:
        return mine
    fallback = first_location_for(user)
    return [fallback] if fallback else []


def schedule_context(user, now: datetime | None = None, day: date | None = None) -> dict:
    """The sessions of ``day`` (today by default) and the six days after it, for ``user`` and their locations.

    Seven days from the chosen one rather than "through Sunday": on a Saturday
    evening the next working days are what a clinician looks for. Dates are the
    local date of the user's first location. Queries: the user's locations, the
    sessions (with patient, course, protocol and its phases, chair, location,
    clinician), completed sessions of their courses, latest readings, open
    item-9 alerts.
    """
    now = now or timezone.now()
    locations = _my_locations(user)
    zone_site = locations[0] if locations else None
    today = zone_site.local_date(now) if zone_site else timezone.localdate(now)
    day = day or today
    last_day = day + timedelta(days=LOOK_AHEAD_DAYS)
    sessions = list(
        booking_selectors.sessions_for_lists(Session.objects.filter(
            Q(clinician=user) | Q(location__in=locations), local_date__gte=day, local_date__lte=last_day,
        ).exclude(status__in=(SessionStatus.CANCELLED, SessionStatus.NO_SHOW)))
        .prefetch_related("course__protocol__phases").order_by("start", "id")
    )
    numbers = _session_numbers(sessions)
    alerts = _patient_alerts(sessions)
    rows = [ScheduleRow(session=s, number=numbers[s.pk][0], phase=numbers[s.pk][1], mine=s.clinician_id == user.pk,
                        alerts=[ALERT_WORDS[a] for a in alerts[s.pk]]) for s in sessions]
    days: dict[date, list[ScheduleRow]] = defaultdict(list)
    for row in rows:
        if row.session.local_date > day:
            days[row.session.local_date].append(row)
    return {
        "day": day,
        "today": today,
        "is_today": day == today,
        "last_day": last_day,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "previous_week": day - timedelta(days=7),
        "next_week": day + timedelta(days=7),
        "home": zone_site,
        "locations": locations,
        "day_rows": [row for row in rows if row.session.local_date == day],
        "later_days": sorted(days.items()),
        "mine_on_day": sum(1 for row in rows if row.mine and row.session.local_date == day),
    }


@require_GET
@role_required(*CLINICAL_ROLES)
def my_schedule(request):
    """The clinician's landing page: a day (``?day=YYYY-MM-DD``, today by default) and the week after it.

    A malformed or out-of-range day is a 400 showing today, with the reason beside the date picker.
    """
    status, error = 200, None
    try:
        day = parse_day(request.GET.get("day"), "day")
    except Invalid as refused:
        status, day, error = error_status(refused), None, refused
    context = schedule_context(request.user, day=day)
    context["feed_url"] = feed_url(request, feed_for(request.user))
    if error is not None:
        context["day_error"] = error.detail
        context["typed_day"] = request.GET.get("day", "")
    return render(request, "scheduling/clinician/schedule.html", context, status=status)


# --- observation board -------------------------------------------------------------------------------


@dataclass
class FloorRow:
    session: Session
    state: ObservationState
    stage_words: str
    checkpoint_words: str
    alerts: list[str]


def observation_context(location: Location, now: datetime | None = None) -> dict:
    """Everyone checked in or in treatment at ``location`` today, with their live observation state.

    Queries: the sessions (with patient, course, protocol, chair, clinician)
    and ``observation_states`` (doses, vitals, item-9 alerts).
    """
    now = now or timezone.now()
    today = location.local_date(now)
    sessions = list(booking_selectors.sessions_for_lists(
        Session.objects.filter(location=location, local_date=today, status__in=ON_THE_FLOOR)).order_by("start", "id"))
    states = observation_states(sessions, now=now)
    rows = []
    for session in sessions:
        state = states[session.pk]
        rows.append(FloorRow(session=session, state=state, stage_words=STAGE_WORDS.get(state.stage, state.stage),
                             checkpoint_words=CHECKPOINT_WORDS.get(state.bp_checkpoint or "", ""),
                             alerts=[ALERT_WORDS.get(alert, alert) for alert in state.alerts]))
    # Whoever can go home first, then whoever is closest to it; those not yet dosed last.
    rows.sort(key=lambda row: (not row.state.ready_to_discharge, row.state.minutes_left is None,
                               row.state.minutes_left or 0, row.session.start))
    return {"location": location, "today": today, "rows": rows, "now": now,
            "now_local": location.local(now).replace(tzinfo=None)}


def _location(location_id: int) -> Location:
    return get_object_or_404(Location, pk=location_id)


@require_GET
@role_required(*CLINICAL_ROLES)
def observation_start(request):
    """The observation board of the user's first location."""
    location = first_location_for(request.user)
    if location is None:
        return render(request, "scheduling/pages/no_locations.html")
    return redirect("observation", location_id=location.pk)


@require_GET
@role_required(*CLINICAL_ROLES)
def observation_board(request, location_id: int):
    """Patients on the floor with countdowns; the body polls itself every 5 seconds."""
    context = observation_context(_location(location_id))
    context["locations"] = Location.objects.active().order_by("name").only("id", "name")
    return render(request, "scheduling/clinician/observation.html", context)


@require_GET
@role_required(*CLINICAL_ROLES)
def observation_body(request, location_id: int):
    """The observation board's body alone, for htmx polling."""
    return render(request, "scheduling/clinician/_observation_body.html",
                  observation_context(_location(location_id)))
