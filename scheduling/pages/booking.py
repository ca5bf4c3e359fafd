"""Booking by protocol: book the next session from free slots or the slot grid, start a course.

Each page asks the services, never decides itself: the due window comes from
``due_window_for_booking``, the first slots from ``find_slots``, the week's free
chair time from ``free_time.week_of_free_time`` (the slot grid); a refusal is the
service's ``ClinicError``, shown in its own words with fresh slots and what the
user typed kept. A booking is confirmed in words with an Undo for a short while
(``undo.undo_booking``). Booking a whole phase is in ``phase_booking``.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods

from clinic.errors import ClinicError, Invalid
from clinic.roles import CLINICIAN, MANAGER, has_role, role_required
from patients.models import Patient
from protocols import eligibility
from protocols import services as course_services
from protocols.models import Modality, Protocol, TreatmentCourse
from scheduling.booking import selectors as booking_selectors
from scheduling.booking import services as booking
from scheduling.booking import undo
from scheduling.booking.availability import find_slots
from scheduling.models import Location, Session
from scheduling.pages import (
    SLOTS_SEARCHED,
    chairs_for,
    chosen_slot,
    course_or_404,
    day_words,
    error_status,
    home_location,
    local_today,
    parse_day,
    record_patient_access,
    spread_slots,
    window_words,
)
from scheduling.pages.authorisations import booking_context
from scheduling.pages.phase_booking import book_phase, book_phase_preview
from scheduling.pages.slot_grid import grid_context

# How many of the free slots the page offers first (see ``spread_slots``); the slot grid shows the rest.
TIMES_PER_DAY = 4
DAYS_SHOWN = 3
SEARCH_DAYS = 14  # a clinician's search from a chosen date covers two weeks

__all__ = ["book_next", "book_phase", "book_phase_preview", "start_course"]


def _booking_locations(course: TreatmentCourse) -> list[Location]:
    """Sites a course can be booked at (the service still checks; this only keeps the list short)."""
    sites = Location.objects.active().order_by("name")
    if course.modality == Modality.ESKETAMINE_NASAL:
        sites = sites.filter(rems_certified=True)
    return list(sites)


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
    today = local_today(location or home_location(course.patient, request.user))
    return {
        "course": course,
        "patient": course.patient,
        "window": window,
        "window_words": window_words(window) if window else "",
        "overdue": window is not None and today > window.latest,
        "today": today,
        "slot_days": spread_slots(slots, days=DAYS_SHOWN, per_day=TIMES_PER_DAY),
        "sites": sites,
        "location": location,
        "search_from": search_from,
        "chairs": chairs_for(course),
        "is_clinician": is_clinician,
        "values": {"override_reason": data.get("override_reason", ""), "chair": data.get("chair", ""),
                   "start": data.get("start", ""), "authorisation_reason": data.get("authorisation_reason", "")},
        # A booking beyond the prior authorisation goes ahead with a clinician's or a manager's reason.
        "may_override_authorisation": has_role(request.user, CLINICIAN, MANAGER),
        **booking_context(course, today, error),
        "error": error,
        "field_errors": error.fields if error else {},
        # The slot grid, inside the booking form: its free cells are slot buttons like the first slots.
        **(grid_context(request, course=course, data=data) if window else {"grid": None}),
    }


def _render_book_next(request, course: TreatmentCourse, *, error: ClinicError | None = None, status: int = 200):
    return render(request, "scheduling/pages/book_next.html", _book_next_context(request, course, error=error),
                  status=status)


def _booked_words(course: TreatmentCourse, session: Session) -> str:
    local = session.location.local(session.start)
    return (f"{course.patient.display_name} on {day_words(local.date())} at {local:%H:%M} "
            f"({session.chair.name}, {session.location.name})")


def _confirmation(request, course: TreatmentCourse, session: Session):
    """What was booked, in words, with an Undo button that withdraws it (for ``UNDO_BOOKING_WINDOW``)."""
    minutes = int(undo.UNDO_BOOKING_WINDOW.total_seconds() // 60)
    return format_html(
        '<span data-testid="booked-words">Booked {}.</span> '
        '<form method="post" action="{}" class="inline-form undo-form" data-testid="undo-booking-form">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<input type="hidden" name="undo" value="{}">'
        '<button type="submit" class="secondary" data-testid="undo-booking">Undo</button>'
        '<span class="muted">(booked in error? Undo withdraws it, for {} minutes)</span></form>',
        _booked_words(course, session), reverse("book-next", args=[course.pk]), get_token(request), session.pk,
        minutes)


def _undo_booking(request, course: TreatmentCourse):
    """Withdraw a session of this course booked moments ago; back to this page to book another time."""
    session_id = request.POST.get("undo", "")
    session = get_object_or_404(Session.objects.select_related("location", "chair"),
                                pk=int(session_id) if session_id.isdigit() else 0, course=course)
    try:
        undo.undo_booking(session, by=request.user)
    except ClinicError as error:
        return _render_book_next(request, course, error=error, status=error_status(error))
    messages.success(request, f"Undone: the booking of {_booked_words(course, session)} is withdrawn. "
                              "Choose another time below.")
    return redirect("book-next", course_id=course.pk)


@require_http_methods(["GET", "POST"])
@role_required()
def book_next(request, course_id: int):
    """The next session's due window in words, its first free slots and the week's slot grid; one click books."""
    course = course_or_404(course_id)
    record_patient_access(request, course.patient)
    if request.method == "POST":
        if "undo" in request.POST:
            return _undo_booking(request, course)
        try:
            chair, start = chosen_slot(request.POST, default_chair=None)
            session = booking.book_session(by=request.user, course=course, chair=chair, start=start,
                                            override_reason=request.POST.get("override_reason", "").strip(),
                                            authorisation_reason=request.POST.get("authorisation_reason", "").strip())
        except ClinicError as error:
            return _render_book_next(request, course, error=error, status=error_status(error))
        session.chair, session.location = chair, chair.location
        messages.success(request, _confirmation(request, course, session))
        return redirect("patient-page", patient_id=course.patient_id)
    try:
        booking.check_course_bookable(course)
    except ClinicError as error:
        return _render_book_next(request, course, error=error)
    return _render_book_next(request, course)


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
        # Today where the patient is seen (else where the user works), not in UTC: at 23:30 in New York the
        # course starts today, not tomorrow.
        "values": values or {"protocol": "", "override_reason": "",
                             "start_date": local_today(home_location(patient, request.user)).isoformat()},
        "error": error,
        "field_errors": error.fields if error else {},
    }


@require_http_methods(["GET", "POST"])
@role_required()
def start_course(request, patient_id: int):
    """Start a course: choose the protocol and start date; eligibility refusals appear in plain words."""
    patient = get_object_or_404(Patient, pk=patient_id)
    record_patient_access(request, patient)
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

