"""Booking by protocol: book the next session from free slots, book a whole phase, start a course.

Each page asks the services, never decides itself: the due window comes from
``due_window_for_booking``, the slots from ``find_slots``, a phase's
occurrences from ``plan_series``; a refusal is the service's ``ClinicError``,
shown in its own words with fresh slots and what the user typed kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from clinic.errors import ClinicError, Invalid
from clinic.roles import CLINICIAN, has_role, role_required
from patients.models import Patient, PatientAccess
from patients.services import record_access
from protocols import eligibility
from protocols import services as course_services
from protocols.models import Modality, Protocol, TreatmentCourse
from scheduling.booking import selectors as booking_selectors
from scheduling.booking import series
from scheduling.booking import services as booking
from scheduling.booking.availability import find_slots
from scheduling.models import Chair, Location, Session
from scheduling.pages import (
    SLOTS_SEARCHED,
    STEP,
    chosen_slot,
    day_words,
    error_status,
    first_location_for,
    local_instant,
    parse_day,
    spread_slots,
    window_words,
)

# How many of the free slots the page offers (see ``spread_slots``); "more" lists every quarter hour.
TIMES_PER_DAY = 4
DAYS_SHOWN = 3
MORE_TIMES_PER_DAY = 16
MORE_DAYS_SHOWN = 7
SEARCH_DAYS = 14  # a clinician's search from a chosen date covers two weeks
WEEKDAYS = ((0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"), (5, "Saturday"),
            (6, "Sunday"))
DEFAULT_PHASE_TIME = time(9)


def _course(course_id: int) -> TreatmentCourse:
    return get_object_or_404(TreatmentCourse.objects.for_lists(), pk=course_id)


def _access(request, patient: Patient) -> None:
    record_access(patient=patient, user=request.user, channel=PatientAccess.Channel.WEB, path=request.path)


def _booking_locations(course: TreatmentCourse) -> list[Location]:
    """Sites a course can be booked at (the service still checks; this only keeps the list short)."""
    sites = Location.objects.active().order_by("name")
    if course.modality == Modality.ESKETAMINE_NASAL:
        sites = sites.filter(rems_certified=True)
    return list(sites)


def _chairs_for(course: TreatmentCourse) -> list[Chair]:
    return list(Chair.objects.filter(Chair.serving(course.modality), active=True, location__active=True)
                .select_related("location").order_by("location__name", "name"))


# --- book next --------------------------------------------------------------------------------------


def _book_next_context(request, course: TreatmentCourse, *, error: ClinicError | None = None) -> dict:
    data = request.POST if request.method == "POST" else request.GET
    sites = _booking_locations(course)
    location = next((site for site in sites if str(site.pk) == data.get("location", "")), None)
    is_clinician = has_role(request.user, CLINICIAN)
    window = booking_selectors.due_window_for_booking(course) if course.is_open else None
    search_from = None
    if is_clinician:
        try:
            search_from = parse_day(data.get("from"), "from")
        except Invalid as bad_date:
            error = error or bad_date
    if search_from is not None:
        slots = find_slots(course=course, location=location, date_from=search_from,
                           date_to=search_from + timedelta(days=SEARCH_DAYS - 1), limit=SLOTS_SEARCHED)
    else:
        slots = find_slots(course=course, location=location, limit=SLOTS_SEARCHED) if window else []
    more = data.get("more") == "1"
    today = timezone.localdate()
    return {
        "course": course,
        "patient": course.patient,
        "window": window,
        "window_words": window_words(window) if window else "",
        "overdue": window is not None and today > window.latest,
        "slot_days": (spread_slots(slots, days=MORE_DAYS_SHOWN, per_day=MORE_TIMES_PER_DAY, spacing=STEP)
                      if more else spread_slots(slots, days=DAYS_SHOWN, per_day=TIMES_PER_DAY)),
        "more": more,
        "sites": sites,
        "location": location,
        "search_from": search_from,
        "chairs": _chairs_for(course),
        "is_clinician": is_clinician,
        "values": {"override_reason": data.get("override_reason", ""), "chair": data.get("chair", ""),
                   "start": data.get("start", "")},
        "error": error,
        "field_errors": error.fields if error else {},
    }


@require_http_methods(["GET", "POST"])
@role_required()
def book_next(request, course_id: int):
    """The next session's due window in words and its first free slots; one click books."""
    course = _course(course_id)
    _access(request, course.patient)
    if request.method == "POST":
        try:
            chair, start = chosen_slot(request.POST, default_chair=None)
            session = booking.book_session(by=request.user, course=course, chair=chair, start=start,
                                            override_reason=request.POST.get("override_reason", "").strip())
        except ClinicError as error:
            context = _book_next_context(request, course, error=error)
            return render(request, "scheduling/pages/book_next.html", context, status=error_status(error))
        local = chair.location.local(session.start)
        messages.success(request, f"Booked {course.patient.display_name} on {day_words(local.date())} at "
                                  f"{local:%H:%M} ({chair.name}, {chair.location.name}).")
        return redirect("patient-page", patient_id=course.patient_id)
    try:
        booking.check_course_bookable(course)
    except ClinicError as error:
        return render(request, "scheduling/pages/book_next.html", _book_next_context(request, course, error=error))
    return render(request, "scheduling/pages/book_next.html", _book_next_context(request, course))


# --- book the phase ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OccurrenceRow:
    """One proposed session of a series, as the preview shows it (wall-clock times at the chair's location)."""

    number: int
    phase: str
    starts: datetime
    ends: datetime
    earliest: date
    target: date
    latest: date
    problems: list[dict]
    alternative: dict | None  # {"starts": datetime, "chair_name": str}


def _rows_from_occurrences(occurrences: list[series.Occurrence], location: Location) -> list[OccurrenceRow]:
    rows = []
    for occurrence in occurrences:
        alternative = occurrence.alternative
        rows.append(OccurrenceRow(
            number=occurrence.number, phase=occurrence.phase,
            starts=location.local(occurrence.start).replace(tzinfo=None),
            ends=location.local(occurrence.end).replace(tzinfo=None),
            earliest=occurrence.due.earliest, target=occurrence.due.target, latest=occurrence.due.latest,
            problems=occurrence.problems,
            alternative=None if alternative is None else {
                "starts": alternative.chair.location.local(alternative.start).replace(tzinfo=None),
                "chair_name": alternative.chair.name},
        ))
    return rows


def _rows_from_conflict(error: ClinicError) -> list[OccurrenceRow]:
    """The occurrences a ``series_conflict`` lists (as the API serialises them)."""
    rows = []
    for item in error.extra.get("occurrences", []):
        alternative = item.get("alternative")
        rows.append(OccurrenceRow(
            number=item["number"], phase=item["phase"],
            starts=datetime.fromisoformat(item["start"]).replace(tzinfo=None),
            ends=datetime.fromisoformat(item["end"]).replace(tzinfo=None),
            earliest=date.fromisoformat(item["due"]["earliest"]), target=date.fromisoformat(item["due"]["target"]),
            latest=date.fromisoformat(item["due"]["latest"]), problems=item["problems"],
            alternative=None if not alternative else {
                "starts": datetime.fromisoformat(alternative["start"]).replace(tzinfo=None),
                "chair_name": alternative["chair_name"]},
        ))
    return rows


def _phase_defaults(course: TreatmentCourse, chairs: list[Chair], user) -> dict:
    """A first guess for the form: a chair where the course was last seen (or the user works), the target
    day, 09:00, and a twice-weekly rhythm where the phase is."""
    last = (Session.objects.filter(course=course, location__isnull=False).select_related("location")
            .order_by("-start").first())
    home = last.location if last else first_location_for(user)
    chair = next((chair for chair in chairs if home and chair.location_id == home.pk), chairs[0] if chairs else None)
    window = booking_selectors.due_window_for_booking(course) if course.is_open else None
    first = window.target if window else timezone.localdate()
    weekdays = {first.weekday()}
    if window is not None:
        spacing = course.protocol.rule().phases[window.phase_index].spacing
        if spacing.latest < 7:  # more than once a week: Monday-Thursday, Tuesday-Friday...
            weekdays.add((first.weekday() + 3) % 7)
    return {"first_date": first.isoformat(), "time": DEFAULT_PHASE_TIME.strftime("%H:%M"),
            "weekdays": sorted(str(day) for day in weekdays), "chair": str(chair.pk) if chair else ""}


def _phase_values(data) -> dict:
    return {"first_date": data.get("first_date", ""), "time": data.get("time", ""),
            "weekdays": data.getlist("weekdays"), "chair": data.get("chair", "")}


def _series_arguments(request, course: TreatmentCourse) -> dict:
    """The series the form describes, as ``plan_series`` / ``book_series`` arguments; ``Invalid`` names the field."""
    data = request.POST
    chair_id = data.get("chair", "")
    chair = Chair.objects.select_related("location").filter(pk=int(chair_id)).first() if chair_id.isdigit() else None
    if chair is None:
        raise Invalid("Choose a chair.", fields={"chair": ["Choose a chair."]})
    first_date = parse_day(data.get("first_date"), "first_date")
    if first_date is None:
        raise Invalid("Choose the first date.", fields={"first_date": ["Choose the first date."]})
    clock = (data.get("time") or "").strip()
    if not clock:
        raise Invalid("Choose the time.", fields={"time": ["Choose the time."]})
    try:
        weekdays = sorted({int(day) for day in data.getlist("weekdays")})
    except ValueError:
        raise Invalid("Choose weekdays from the list.", fields={"weekdays": ["Choose weekdays from the list."]}) \
            from None
    first_start = local_instant(f"{first_date.isoformat()}T{clock}", chair.location, "time")
    return {"by": request.user, "course": course, "chair": chair, "first_start": first_start, "weekdays": weekdays}


# The series services name their fields as the API does; the form's fields are finer.
_SERIES_FIELD_NAMES = {"first_start": "first_date"}


def _field_errors(error: ClinicError) -> dict[str, list[str]]:
    return {_SERIES_FIELD_NAMES.get(name, name): list(messages_) for name, messages_ in error.fields.items()}


def _book_phase_context(request, course: TreatmentCourse, *, values: dict | None = None,
                        rows: list[OccurrenceRow] | None = None, error: ClinicError | None = None) -> dict:
    window = booking_selectors.due_window_for_booking(course) if course.is_open else None
    problems = sum(1 for row in rows or () if row.problems)
    chairs = _chairs_for(course)
    return {
        "course": course,
        "patient": course.patient,
        "window": window,
        "window_words": window_words(window) if window else "",
        "chairs": chairs,
        "weekday_choices": WEEKDAYS,
        "values": values or _phase_defaults(course, chairs, request.user),
        "rows": rows,
        "problem_count": problems,
        "error": error,
        "field_errors": _field_errors(error) if error else {},
    }


@require_http_methods(["GET", "POST"])
@role_required()
def book_phase(request, course_id: int):
    """Book every remaining session of the current phase at one time on chosen weekdays: all or none."""
    course = _course(course_id)
    _access(request, course.patient)
    if request.method == "GET":
        return render(request, "scheduling/pages/book_phase.html", _book_phase_context(request, course))
    values = _phase_values(request.POST)
    try:
        arguments = _series_arguments(request, course)
        occurrences = series.book_series(**arguments)
    except ClinicError as error:
        rows = _rows_from_conflict(error) if error.code == "series_conflict" else None
        context = _book_phase_context(request, course, values=values, rows=rows, error=error)
        return render(request, "scheduling/pages/book_phase.html", context, status=error_status(error))
    location = arguments["chair"].location
    first, last = (location.local(occurrences[0].start), location.local(occurrences[-1].start))
    messages.success(request, f"Booked {len(occurrences)} sessions for {course.patient.display_name}, "
                              f"{day_words(first.date())} to {day_words(last.date())} at {first:%H:%M} "
                              f"({arguments['chair'].name}, {location.name}).")
    return redirect("patient-page", patient_id=course.patient_id)


@require_POST
@role_required()
def book_phase_preview(request, course_id: int):
    """A dry run of the series: every occurrence with its problems and the nearest free alternative."""
    course = _course(course_id)
    _access(request, course.patient)
    values = _phase_values(request.POST)
    status, rows, error = 200, None, None
    try:
        arguments = _series_arguments(request, course)
        rows = _rows_from_occurrences(series.plan_series(**arguments), arguments["chair"].location)
    except ClinicError as refusal:
        status, error = refusal.status, refusal
    context = _book_phase_context(request, course, values=values, rows=rows, error=error)
    template = "scheduling/pages/_phase_booking.html" if request.htmx else "scheduling/pages/book_phase.html"
    return render(request, template, context, status=status)


# --- start a course ---------------------------------------------------------------------------------


def _start_course_context(request, patient: Patient, *, values: dict | None = None,
                          error: ClinicError | None = None) -> dict:
    protocols = list(Protocol.objects.active().order_by("modality", "name"))
    findings = {modality: eligibility.check(modality, patient.diagnosis, patient.screening())
                for modality in Modality.values}
    return {
        "patient": patient,
        "protocols": [{"protocol": protocol, "findings": findings[protocol.modality]} for protocol in protocols],
        "is_clinician": has_role(request.user, CLINICIAN),
        "values": values or {"protocol": "", "start_date": timezone.localdate().isoformat(), "override_reason": ""},
        "error": error,
        "field_errors": error.fields if error else {},
    }


@require_http_methods(["GET", "POST"])
@role_required()
def start_course(request, patient_id: int):
    """Start a course: choose the protocol and start date; eligibility refusals appear in plain words."""
    patient = get_object_or_404(Patient, pk=patient_id)
    _access(request, patient)
    if request.method == "GET":
        return render(request, "scheduling/pages/start_course.html", _start_course_context(request, patient))
    values = {key: request.POST.get(key, "") for key in ("protocol", "start_date", "override_reason")}
    try:
        protocol = Protocol.objects.filter(pk=int(values["protocol"])).first() if values["protocol"].isdigit() \
            else None
        if protocol is None:
            raise Invalid("Choose a protocol.", fields={"protocol": ["Choose a protocol."]})
        start_date = parse_day(values["start_date"], "start_date")
        if start_date is None:
            raise Invalid("Choose the start date.", fields={"start_date": ["Choose the start date."]})
        course = course_services.start_course(by=request.user, patient=patient, protocol=protocol,
                                              start_date=start_date, override_reason=values["override_reason"])
    except ClinicError as error:
        context = _start_course_context(request, patient, values=values, error=error)
        return render(request, "scheduling/pages/start_course.html", context, status=error_status(error))
    messages.success(request, f"Started {protocol.name} for {patient.display_name} from "
                              f"{day_words(course.start_date)}. Book the first sessions below.")
    return redirect("patient-page", patient_id=patient.pk)

