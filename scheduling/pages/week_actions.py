"""The week's side panel: book on free chair time, and move a session (dragged, or from the keyboard).

Both answer into the panel beside the week (htmx) or as a page of their own:
a refusal is the service's ``ClinicError`` in its own words, beside the field
it names, with the status the API gives (400, 409) and what was typed kept; the
week itself is never replaced. A success says what was done and fires
``week-changed`` so the week body redraws.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from clinic.errors import ClinicError, Invalid
from clinic.roles import CLINICIAN, has_role, role_required
from patients.models import PatientAccess
from patients.services import record_access
from protocols.models import TreatmentCourse
from scheduling.booking import selectors as booking_selectors
from scheduling.booking import services as booking
from scheduling.booking import week as week_selectors
from scheduling.models import UPCOMING_STATUSES, Chair, Location, Session
from scheduling.pages import chosen_slot, day_words, local_instant, parse_day, window_words

WEEK_CHANGED = "week-changed"


def _access(request, patient) -> None:
    record_access(patient=patient, user=request.user, channel=PatientAccess.Channel.WEB, path=request.path)


def _chairs(location: Location) -> list[Chair]:
    return list(Chair.objects.filter(location=location, active=True).select_related("location").order_by("name"))


def _render(request, template: str, context: dict, *, status: int = 200) -> HttpResponse:
    """The panel alone for htmx, else the panel on a page of its own (no script needed)."""
    context = {**context, "panel_template": template, "is_clinician": has_role(request.user, CLINICIAN)}
    page = template if request.htmx else "scheduling/pages/week_panel.html"
    return render(request, page, context, status=status)


def _done(request, location: Location, day, message: str, template: str, context: dict) -> HttpResponse:
    """After a booking or a move: the panel with the news and the week redrawn, or back to the week page."""
    if not request.htmx:
        messages.success(request, message)
        return redirect("board-week", location_id=location.pk, day=day)
    response = _render(request, template, {**context, "done": message})
    response["HX-Trigger"] = WEEK_CHANGED
    return response


def _when(location: Location, start: datetime, chair: Chair) -> str:
    local = location.local(start)
    return f"{day_words(local.date())} at {local:%H:%M} ({chair.name}, {location.name})"


# --- book on free chair time ------------------------------------------------------------------------

BOOK_TEMPLATE = "scheduling/pages/_week_book.html"


def _book_context(location: Location, values: dict, *, error: ClinicError | None = None) -> dict:
    """The booking form for ``values`` (chair, start): the patients due that day on that chair."""
    chairs = _chairs(location)
    chair = next((chair for chair in chairs if str(chair.pk) == values.get("chair")), None)
    due_courses, start = [], None
    try:
        start = local_instant(values.get("start", ""), location, "start") if values.get("start") else None
    except Invalid as bad:
        error = error or bad
    if chair is not None and start is not None:
        due_courses = week_selectors.courses_due_on(location.local_date(start), chair=chair)
    return {
        "location": location,
        "chairs": chairs,
        "chair": chair,
        "start": location.local(start).replace(tzinfo=None) if start else None,
        "due_courses": [(row, window_words(row.window)) for row in due_courses],
        "clinicians": booking_selectors.clinicians_at(location),
        "values": values,
        "error": error,
        "field_errors": error.fields if error else {},
    }


def _chosen_course(data) -> TreatmentCourse:
    value = data.get("course", "")
    course = TreatmentCourse.objects.filter(pk=int(value)).first() if value.isdigit() else None
    if course is None:
        raise Invalid("Choose the patient to book.", fields={"course": ["Choose a patient from the list."]})
    return course


def _chosen_clinician(data):
    value = data.get("clinician", "")
    return get_user_model().objects.filter(pk=int(value)).first() if value.isdigit() else None


@require_http_methods(["GET", "POST"])
@role_required()
def week_book(request, location_id: int):
    """Book on free chair time: the form for a chair and start (GET), the booking itself (POST)."""
    location = get_object_or_404(Location, pk=location_id)
    data = request.POST if request.method == "POST" else request.GET
    values = {key: data.get(key, "") for key in ("chair", "start", "course", "clinician", "override_reason")}
    if request.method == "GET":
        context = _book_context(location, values)
        return _render(request, BOOK_TEMPLATE, context, status=context["error"].status if context["error"] else 200)
    try:
        course = _chosen_course(request.POST)
        _access(request, course.patient)
        chair, start = chosen_slot(request.POST, default_chair=None)
        session = booking.book_session(by=request.user, course=course, chair=chair, start=start,
                                        clinician=_chosen_clinician(request.POST),
                                        override_reason=values["override_reason"].strip())
    except ClinicError as error:
        return _render(request, BOOK_TEMPLATE, _book_context(location, values, error=error), status=error.status)
    message = f"Booked {course.patient.display_name} on {_when(chair.location, session.start, chair)}."
    context = _book_context(location, {**values, "course": ""})
    return _done(request, location, session.local_date, message, BOOK_TEMPLATE, {**context, "booked": session})


# --- move a session ----------------------------------------------------------------------------------

MOVE_TEMPLATE = "scheduling/pages/_week_move.html"


def _session(session_id: int) -> Session:
    """A session on a chair (history recorded on adoption has none, and no place on the week)."""
    return get_object_or_404(booking_selectors.sessions_for_lists().select_related("chair__location"), pk=session_id,
                             chair__isnull=False)


def _move_context(session: Session, values: dict | None = None, *, error: ClinicError | None = None) -> dict:
    location = session.location
    local = location.local(session.start)
    return {
        "session": session,
        "location": location,
        "starts": local.replace(tzinfo=None),
        "ends": location.local(session.end).replace(tzinfo=None),
        "movable": session.status in UPCOMING_STATUSES and session.start > timezone.now(),
        "chairs": _chairs(location),
        "values": {"day": local.date().isoformat(), "time": f"{local:%H:%M}", "chair": str(session.chair_id or ""),
                   "override_reason": "", **(values or {})},
        "error": error,
        "field_errors": error.fields if error else {},
    }


def _move_target(data, session: Session) -> tuple[Chair, datetime]:
    """Where to: a drop sends ``chair`` and ``start``; the keyboard form ``chair``, ``day`` and ``time``."""
    if data.get("start"):
        return chosen_slot(data, default_chair=session.chair)
    day = parse_day(data.get("day"), "day")
    if day is None:
        raise Invalid("Choose the day.", fields={"day": ["Choose the day."]})
    clock = (data.get("time") or "").strip()
    if not clock:
        raise Invalid("Choose the time.", fields={"time": ["Choose the time."]})
    chair, start = chosen_slot({"chair": data.get("chair", ""), "start": f"{day.isoformat()}T{clock}"},
                               default_chair=session.chair)
    return chair, start


# The form shows day and time apart; a refusal of the typed start belongs beside the time.
_MOVE_FIELDS = {"start": "time"}


@require_http_methods(["GET", "POST"])
@role_required()
def week_move(request, session_id: int):
    """A session's details and the move form (GET); the move, from the form or a drop (POST)."""
    session = _session(session_id)
    _access(request, session.patient)
    if request.method == "GET":
        return _render(request, MOVE_TEMPLATE, _move_context(session))
    values = {key: request.POST.get(key, "") for key in ("day", "time", "chair", "override_reason")}
    if request.POST.get("start"):
        day, _, clock = request.POST["start"].partition("T")
        values.update(day=day, time=clock)
    try:
        chair, start = _move_target(request.POST, session)
        moved = booking.reschedule_session(by=request.user, session=session, start=start, chair=chair,
                                            override_reason=values["override_reason"].strip())
    except ClinicError as error:
        error.fields = {_MOVE_FIELDS.get(name, name): words for name, words in error.fields.items()}
        return _render(request, MOVE_TEMPLATE, _move_context(session, values, error=error), status=error.status)
    moved = _session(moved.pk)
    message = f"Moved {session.patient.display_name}'s session to {_when(moved.location, moved.start, moved.chair)}."
    return _done(request, moved.location, moved.local_date, message, MOVE_TEMPLATE, _move_context(moved))


urlpatterns = [
    path("week/<int:location_id>/book/", week_book, name="board-week-book"),
    path("week/sessions/<int:session_id>/move/", week_move, name="board-week-move"),
]
