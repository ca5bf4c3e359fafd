"""The patient page: contact and consent, eligibility and REMS, courses with their plan, sessions, texts.

It is served by scheduling because it shows courses and sessions, and the
patients app may not import either. ``patients:detail`` names the same
address, so links from the patients app land here.

The page is drawn at the patient's home location (``home_location``): every
date on it (consent, opt-out, courses, measures, "today") is that location's,
never UTC's. The same home is the one the patients app's forms count "today"
in, through ``patients.services.on_home_zone``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from django.apps import apps
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.roles import role_required
from patients.models import Patient, PatientAccess
from patients.services import record_access
from protocols import due, eligibility
from protocols.models import CourseStatus, Modality, TreatmentCourse
from protocols.selectors import course_flags, course_outlooks, course_plan, shown_next_due, shown_timing
from scheduling.booking import selectors as booking_selectors
from scheduling.charting.timing import EARLIEST_ARRIVAL
from scheduling.models import Location, Session, SessionStatus
from scheduling.pages import first_location_for, next_due_words

MESSAGES_SHOWN = 50
COMPLETED_SHOWN_IN_TIMELINE = 4
# Sessions still ahead of the patient (or under way today); the rest is history.
ONGOING_STATUSES = (SessionStatus.BOOKED, SessionStatus.CONFIRMED, SessionStatus.CHECKED_IN,
                    SessionStatus.IN_TREATMENT)

TIMING_WORDS = {
    due.Timing.ON_TRACK: "On track",
    due.Timing.DUE: "Due and not booked",
    due.Timing.OVERDUE: "Overdue",
    due.Timing.LAPSED: "Lapsed: needs a clinician's review",
    due.Timing.COMPLETED: "Completed",
}
FLAG_WORDS = {
    "override_on_file": "Started on a clinician's eligibility override.",
    "rems_enrolment_missing": "Not REMS-enrolled: record the enrolment before check-in.",
    "needs_clinician_review": "Lapsed: a clinician must review the course before it resumes.",
    "phase_restarted": "A clinician restarted a phase after a lapse.",
    "patient_archived": "The patient's record is archived.",
}
PLAN_STATUS_WORDS = {"booked": "Booked", "due": "Due now", "overdue": "Overdue", "projected": "Projected"}


@dataclass
class CourseCard:
    course: TreatmentCourse
    timing: str | None
    timing_words: str
    next_due_words: str
    flags: list[str]
    completed: list[tuple[int, Session]]  # (number, session): the latest few, oldest first
    completed_count: int
    plan: list[dict]


def _course_cards(courses: list[TreatmentCourse], sessions: list[Session], today: date) -> list[CourseCard]:
    outlooks = course_outlooks(courses, today)
    by_session_id = {session.pk: session for session in sessions}
    cards = []
    for course in courses:
        outlook = outlooks[course.pk]
        timing = shown_timing(course, outlook)
        window = shown_next_due(course, outlook)
        completed = sorted((s for s in sessions if s.course_id == course.pk and s.status == SessionStatus.DISCHARGED),
                           key=lambda s: s.start)
        plan = course_plan(course, today) if course.is_open else []
        for row in plan:
            row["session_obj"] = by_session_id.get(row["session"])
            row["status_words"] = PLAN_STATUS_WORDS.get(row["status"], row["status"])
        cards.append(CourseCard(
            course=course,
            timing=timing,
            timing_words=TIMING_WORDS.get(timing, "") if timing else course.get_status_display(),
            next_due_words=next_due_words(window, outlook.plan),
            flags=[FLAG_WORDS.get(flag, flag) for flag in course_flags(course, outlook)],
            completed=[(index, session) for index, session in enumerate(completed, start=1)
                       ][-COMPLETED_SHOWN_IN_TIMELINE:],
            completed_count=len(completed),
            plan=plan,
        ))
    return cards


def _eligibility(patient: Patient) -> list[dict]:
    """The eligibility findings for each treatment, in the rules' own words."""
    return [
        {"modality": label, "findings": eligibility.check(modality, patient.diagnosis, patient.screening())}
        for modality, label in Modality.choices
    ]


def _text_messages(patient: Patient):
    """The patient's texts, newest first (none when the messaging model is not installed)."""
    try:
        model = apps.get_model("scheduling", "TextMessage")
    except LookupError:
        return []
    return list(model.objects.filter(patient=patient).select_related("session__location")
                .order_by("-at", "-id")[:MESSAGES_SHOWN])


def home_location(patient_id: int | None, user) -> Location | None:
    """Where the patient is treated: the location of their latest session, else the desk's first location."""
    if patient_id is not None:
        latest = (Session.objects.filter(patient_id=patient_id, location__isnull=False)
                  .select_related("location").order_by("-start", "-id").first())
        if latest is not None:
            return latest.location
    if user is None or not user.is_authenticated:
        return Location.objects.active().order_by("name").first()
    return first_location_for(user)


def home_zone(patient_id: int | None, user) -> tzinfo | None:
    location = home_location(patient_id, user)
    return location.zone if location else None



def _can_check_in_now(session: Session, now: datetime) -> bool:
    """A session the desk can check in now: booked or confirmed, today at its location, arrival not too early
    (``charting.services.check_in``'s own rules; the check-in form in the session panel gives any refusal)."""
    return (session.status in (SessionStatus.BOOKED, SessionStatus.CONFIRMED) and session.location is not None
            and session.location.local_date(now) == session.local_date
            and now >= session.start - EARLIEST_ARRIVAL)


@require_GET
@role_required()
def patient_page(request, patient_id: int):
    """Everything the desk needs about one patient, with the buttons to book."""
    patient = get_object_or_404(Patient, pk=patient_id)
    record_access(patient=patient, user=request.user, channel=PatientAccess.Channel.WEB, path=request.path)
    now = timezone.now()
    sessions = list(booking_selectors.sessions_for_lists(Session.objects.filter(patient=patient))
                    .order_by("start", "id"))
    home: Location | None = next((s.location for s in reversed(sessions) if s.location), None) \
        or first_location_for(request.user)
    today = home.local_date(now) if home else timezone.localdate(now)
    courses = list(TreatmentCourse.objects.filter(patient=patient).for_lists())
    # Open courses first (active before paused), then ended ones, newest first within each.
    order = {CourseStatus.ACTIVE: 0, CourseStatus.PAUSED: 1}
    courses.sort(key=lambda course: (order.get(course.status, 2), -course.start_date.toordinal(), -course.pk))
    findings = patient.findings_in_words()
    upcoming = [s for s in sessions if s.status in ONGOING_STATUSES]
    # Drawn in the home's zone: Django's date filter and the outcomes' measure dates read the current zone.
    with timezone.override(home.zone if home else timezone.get_default_timezone()):
        return render(request, "scheduling/pages/patient.html", {
            "patient": patient,
            "findings": findings,
            "eligibility": _eligibility(patient),
            "cards": _course_cards(courses, sessions, today),
            "upcoming": upcoming,
            "check_in_ids": {s.pk for s in upcoming if _can_check_in_now(s, now)},
            "past": [s for s in reversed(sessions) if s.status not in ONGOING_STATUSES],
            "text_messages": _text_messages(patient),
            "home": home,
            "today": today,
        })
