"""One session's panel: what the board's side panel shows and the desk's actions on it.

Move, cancel (with an in-page confirmation, board.js, and an undo), no-show,
and check-in on the session's day. Each action calls the one service the API
calls; a refusal comes back as the panel with the service's words inside the
form that was sent (``error_form``), its fields marked, what was typed kept,
whatever the status. The panel is an htmx fragment on the board and a full
page at ``sessions/<id>/`` (the patient page links to ``...#check-in``).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinic.errors import ClinicError, Conflict, Invalid
from clinic.roles import CLINICIAN, MANAGER, has_role, role_required
from patients.models import PatientAccess
from patients.services import record_access
from scheduling.booking import selectors as booking_selectors
from scheduling.booking import services as booking
from scheduling.booking import undo
from scheduling.models import UPCOMING_STATUSES, Chair, Session, SessionStatus
from scheduling.pages import chosen_slot, day_words, safe_next
from scheduling.pages.authorisations import REFUSAL_CODES, panel_authorisation
from scheduling.pages.chart_steps import CHECKLIST, STEPS

# The event the board body listens for, so a change in the panel redraws it at once.
BOARD_CHANGED = "board-changed"
CHECK_IN_ROLES, check_in_step, _ = STEPS["check-in"]  # the chart's own check-in: same fields, service and roles


def _session(session_id: int) -> Session:
    return get_object_or_404(
        booking_selectors.sessions_for_lists().select_related("chair__location", "course__patient"), pk=session_id
    )


def panel_context(request, session: Session, *, error: ClinicError | None = None, error_form: str = "",
                  done: str = "", values: dict | None = None) -> dict:
    location = session.location
    movable = session.status in UPCOMING_STATUSES
    now = timezone.now()
    chairs = []
    if movable and location is not None:
        chairs = list(Chair.objects.filter(location=location, active=True).order_by("name"))
    local_start = location.local(session.start) if location else session.start
    typed = values or {}
    can_no_show = movable and now >= session.start
    can_check_in = (movable and location is not None and location.local_date(now) == session.local_date
                    and has_role(request.user, *CHECK_IN_ROLES))
    can_undo_cancel = session.status == SessionStatus.CANCELLED and session.start > now
    # A refusal sits in the form that was sent; if that form is gone (another desk cancelled meanwhile), on top.
    shown = {"move": movable, "cancel": movable, "no-show": can_no_show, "check-in": can_check_in,
             "undo": can_undo_cancel, "earlier": movable}
    return {
        "session": session,
        "location": location,
        "movable": movable,
        "can_no_show": can_no_show,
        "late_cancel": movable and session.start - now < timedelta(hours=24),
        # Check-in is offered on the session's day at its site, to the roles the chart lets check in.
        "can_check_in": can_check_in,
        "checklist": [(name, label, typed.get(name) in ("on", "true", "1")) for name, label in CHECKLIST],
        # A cancelled session still ahead may be put back (the service re-checks the slot).
        "can_undo_cancel": can_undo_cancel,
        "chairs": chairs,
        "is_clinician": has_role(request.user, CLINICIAN),
        "error": error,
        "error_form": error_form if error and shown.get(error_form) else "",
        "field_errors": error.fields if error else {},
        "done": done,
        # What was typed wins over the session's own time and chair.
        "values": {"start": local_start.strftime("%Y-%m-%dT%H:%M"), "chair": str(session.chair_id or ""), **typed},
        "next": safe_next(request) or "",
        "board_day": session.local_date,
        **panel_authorisation(session),
        # A move refused for the prior authorisation: a clinician or a manager may go ahead with a reason.
        "authorisation_refused": error is not None and error.code in REFUSAL_CODES and error_form == "move",
        "may_override_authorisation": has_role(request.user, CLINICIAN, MANAGER),
    }


def render_panel(request, session: Session, *, status: int = 200, **kwargs) -> HttpResponse:
    template = "scheduling/pages/_session_panel.html" if request.htmx else "scheduling/pages/session.html"
    return render(request, template, panel_context(request, session, **kwargs), status=status)


def _refused(request, session: Session, error: ClinicError, form: str, values: dict | None = None) -> HttpResponse:
    """The panel again, the refusal inside ``form``, with the refusal's own status (400, 403, 409)."""
    return render_panel(request, _session(session.pk), status=error.status, error=error, error_form=form,
                        values=values)


def _after_change(request, session: Session, message: str, *, stay: bool = False) -> HttpResponse:
    """After a change: back to ``next``; in the board's panel, the panel with the news (the board redraws);
    otherwise the board of the session's day, or the session's own page when ``stay``."""
    target = safe_next(request)
    if target or not request.htmx:
        messages.success(request, message)
        destination = target or (reverse("session-panel", args=[session.pk]) if stay else
                                 reverse("board", kwargs={"location_id": session.location_id,
                                                          "day": session.local_date}))
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = destination
            return response
        return redirect(destination)
    response = render_panel(request, _session(session.pk), done=message)
    response["HX-Trigger"] = BOARD_CHANGED
    return response


def _access(request, session: Session) -> None:
    record_access(patient=session.patient, user=request.user, channel=PatientAccess.Channel.WEB, path=request.path)


def _session_words(session: Session) -> str:
    local = session.location.local(session.start)
    return f"{day_words(local.date())} at {local:%H:%M} ({session.chair.name}, {session.location.name})"


@require_GET
@role_required()
def session_panel(request, session_id: int):
    """A session's details and actions (htmx fills the board's side panel; a full page otherwise)."""
    session = _session(session_id)
    _access(request, session)
    return render_panel(request, session)


@require_POST
@role_required()
def session_reschedule(request, session_id: int):
    """Move a session to a picked slot, or to a typed start and chair; a refusal re-renders with fresh slots."""
    session = _session(session_id)
    _access(request, session)
    values = {"start": request.POST.get("start", ""), "chair": request.POST.get("chair", ""),
              "override_reason": request.POST.get("override_reason", ""),
              "authorisation_reason": request.POST.get("authorisation_reason", "")}
    try:
        chair, start = chosen_slot(request.POST, default_chair=session.chair)
        moved = booking.reschedule_session(by=request.user, session=session, start=start, chair=chair,
                                            override_reason=values["override_reason"].strip(),
                                            authorisation_reason=values["authorisation_reason"].strip())
    except ClinicError as error:
        return _refused(request, session, error, "move", values)
    return _after_change(request, moved, f"Moved {session.patient.display_name}'s session to "
                                         f"{_session_words(_session(moved.pk))}.")


@require_POST
@role_required()
def session_cancel(request, session_id: int):
    """Cancel with a reason (the service refuses a blank one with the API's words); the panel then offers Undo."""
    session = _session(session_id)
    _access(request, session)
    reason = request.POST.get("reason", "")
    try:
        cancelled = booking.cancel_session(by=request.user, session=session, reason=reason)
    except ClinicError as error:
        return _refused(request, session, error, "cancel", {"reason": reason})
    late = " It was a late cancel (under 24 hours' notice)." if cancelled.late_cancel else ""
    return _after_change(request, cancelled, f"Cancelled {session.patient.display_name}'s session of "
                                             f"{_session_words(session)}.{late}")


@require_POST
@role_required()
def session_undo_cancel(request, session_id: int):
    """Put a cancelled session back where it was, if a booking could still go there (``undo.undo_cancel``)."""
    session = _session(session_id)
    _access(request, session)
    try:
        restored = undo.undo_cancel(session, by=request.user)
    except ClinicError as error:
        return _refused(request, session, error, "undo")
    return _after_change(request, restored, f"Put {session.patient.display_name}'s session back: "
                                            f"{_session_words(session)}.")


@require_POST
@role_required()
def session_no_show(request, session_id: int):
    """Record that the patient did not come (only after the start time)."""
    session = _session(session_id)
    _access(request, session)
    try:
        missed = booking.mark_no_show(by=request.user, session=session)
    except ClinicError as error:
        return _refused(request, session, error, "no-show")
    return _after_change(request, missed, f"Recorded that {session.patient.display_name} did not come on "
                                          f"{_session_words(session)}.")


@require_POST
@role_required()
def session_check_in(request, session_id: int):
    """Check the patient in with the chart's checklist, through the chart's own step (same service, same rules)."""
    if not has_role(request.user, *CHECK_IN_ROLES):
        raise PermissionDenied("Your role does not allow checking in.")
    session = _session(session_id)
    _access(request, session)
    try:
        check_in_step(request, session)
    except ClinicError as error:
        return _refused(request, session, error, "check-in", request.POST.dict())
    return _after_change(request, session, f"{session.patient.display_name} is checked in.", stay=True)


@require_POST
@role_required()
def session_earlier_wanted(request, session_id: int):
    """Mark (``wanted=yes``) or unmark (``wanted=no``) the patient as wanting an earlier time than this booking.

    The flag lets the patient be offered freed chair time before this session (docs/OFFERS.md). The form says
    which way it goes, so a second click or a stale panel cannot flip it back.
    """
    session = _session(session_id)
    _access(request, session)
    wanted = request.POST.get("wanted", "")
    if wanted not in ("yes", "no"):
        return _refused(request, session, Invalid("Say whether the patient wants an earlier time.",
                                                  fields={"wanted": ["Choose yes or no."]}), "earlier")
    # Conditional on the booking still being upcoming: a session cancelled meanwhile keeps no request.
    # Marking again keeps the first time asked: the oldest request goes first among equals.
    since = (session.earlier_wanted_at or timezone.now()) if wanted == "yes" else None
    changed = Session.objects.filter(pk=session.pk, status__in=UPCOMING_STATUSES).update(earlier_wanted_at=since)
    if not changed:
        return _refused(request, session, Conflict("Only an upcoming booking can ask for an earlier time.",
                                                   code="session_not_upcoming"), "earlier")
    words = "wants an earlier time" if wanted == "yes" else "no longer wants an earlier time"
    return _after_change(request, session, f"{session.patient.display_name} {words}.", stay=True)


urlpatterns = [
    path("sessions/<int:session_id>/earlier-wanted/", session_earlier_wanted, name="session-earlier-wanted"),
    path("sessions/<int:session_id>/check-in/", session_check_in, name="session-check-in"),
    path("sessions/<int:session_id>/undo-cancel/", session_undo_cancel, name="session-undo-cancel"),
]
