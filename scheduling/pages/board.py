"""The day board (the front desk's landing page) and the actions on one session: move, cancel, no-show.

The board is a CSS grid: chairs are columns, the day runs down in 5-minute
rows labelled every 15 minutes, and each session is a block spanning its
chair time plus the location's turnover (shaded). Everything is computed here
from ``booking_selectors.day_board`` in a fixed number of queries; the body polls
itself with htmx so desks see each other's bookings within half a minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinic.errors import ClinicError, Invalid
from clinic.roles import CLINICIAN, has_role, role_required
from patients.models import PatientAccess
from patients.services import record_access
from protocols import due
from scheduling.booking import selectors as booking_selectors
from scheduling.booking import services as booking
from scheduling.booking.availability import find_slots
from scheduling.charting.observation import ObservationState, observation_states
from scheduling.models import UPCOMING_STATUSES, Chair, Location, Session, SessionStatus
from scheduling.pages import (
    SLOTS_SEARCHED,
    chosen_slot,
    day_words,
    first_location_for,
    parse_day,
    safe_next,
    spread_slots,
)

ROW_MINUTES = 5  # the grid's resolution: a session starting at 09:10 sits exactly there
STEP_MINUTES = 15  # labelled rows
FIRST_ROW = 2  # row 1 holds the chair names
RESCHEDULE_DAYS = 3
RESCHEDULE_TIMES_PER_DAY = 3

# The event the board body listens for, so a move or cancel in the panel redraws it at once.
BOARD_CHANGED = "board-changed"

ALERT_WORDS = {"high_bp": "High BP", "low_spo2": "Low SpO2", "item9": "PHQ-9 item 9 alert"}


@dataclass(frozen=True)
class Block:
    """One session placed on the grid."""

    session: Session
    column: int
    row: int
    span: int
    chair_minutes: int
    turnover_minutes: int
    starts: datetime  # wall-clock time at the location
    ends: datetime
    observation: ObservationState | None
    alerts: tuple[str, ...]


@dataclass(frozen=True)
class TimeLabel:
    row: int
    clock: datetime
    on_the_hour: bool


def _floor(instant: datetime, minutes: int) -> datetime:
    """``instant`` rounded down to a multiple of ``minutes`` past its (local) hour."""
    return instant - timedelta(minutes=instant.minute % minutes, seconds=instant.second,
                               microseconds=instant.microsecond)


def _ceil(instant: datetime, minutes: int) -> datetime:
    floored = _floor(instant, minutes)
    return floored if floored == instant else floored + timedelta(minutes=minutes)


def _rows_between(start: datetime, end: datetime) -> int:
    """Whole grid rows from ``start`` to ``end``.

    In UTC, because Python subtracts two datetimes of the same zone by their
    wall clocks, which would be an hour off across a DST change.
    """
    return int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() // (ROW_MINUTES * 60))


def board_context(location: Location, day: date, now: datetime | None = None) -> dict:
    """Everything the board shows for ``location`` on local ``day``.

    Queries: chairs, sessions (with patient, course, protocol, clinician),
    and the observation state of the day's sessions; hours and closures come
    prefetched on ``location``.
    """
    now = now or timezone.now()
    board = booking_selectors.day_board(location, day)
    calendar = booking_selectors.site_calendar(location)
    opening = calendar.opening(day)
    closure = next((row for row in location.closures.all() if row.date == day), None)
    sessions = board["sessions"]
    standing = [session for session in sessions if session.is_standing and session.chair_id]
    released = [session for session in sessions if not session.is_standing]
    without_chair = [session for session in sessions if session.is_standing and not session.chair_id]
    used_chairs = {session.chair_id for session in standing}
    chairs = [chair for chair in board["chairs"] if chair.active or chair.pk in used_chairs]
    columns = {chair.pk: index + 2 for index, chair in enumerate(chairs)}

    # The grid covers the opening hours, stretched to any session booked outside them
    # (hours changed, or a closure added after booking) so nothing is hidden.
    bounds = [opening] if opening else []
    bounds += [(location.local(session.start), location.local(session.occupied_until)) for session in standing]
    grid = None
    blocks: list[Block] = []
    labels: list[TimeLabel] = []
    now_row = None
    if bounds:
        grid_start = _floor(min(start for start, _ in bounds), STEP_MINUTES)
        grid_end = _ceil(max(end for _, end in bounds), STEP_MINUTES)
        rows = _rows_between(grid_start, grid_end)
        states = observation_states(standing, now=now)
        for session in standing:
            local_start = location.local(session.start)
            state = states.get(session.pk)
            blocks.append(Block(
                session=session,
                column=columns[session.chair_id],
                row=FIRST_ROW + _rows_between(grid_start, _floor(local_start, ROW_MINUTES)),
                span=max(1, -(-int((session.occupied_until - _floor(local_start, ROW_MINUTES).astimezone(UTC))
                                   .total_seconds()) // (ROW_MINUTES * 60))),
                chair_minutes=int((session.end - session.start).total_seconds() // 60),
                turnover_minutes=int((session.occupied_until - session.end).total_seconds() // 60),
                starts=local_start.replace(tzinfo=None),
                ends=location.local(session.end).replace(tzinfo=None),
                observation=state if state and state.stage != "none" else None,
                alerts=tuple(ALERT_WORDS.get(alert, alert) for alert in (state.alerts if state else ())),
            ))
        step, grid_end_utc = grid_start.astimezone(UTC), grid_end.astimezone(UTC)
        while step < grid_end_utc:
            local_step = step.astimezone(location.zone)
            labels.append(TimeLabel(row=FIRST_ROW + _rows_between(grid_start, step), clock=local_step.replace(
                tzinfo=None), on_the_hour=local_step.minute == 0))
            step += timedelta(minutes=STEP_MINUTES)
        if grid_start <= now < grid_end:
            now_row = FIRST_ROW + _rows_between(grid_start, now)
        grid = {"rows": rows, "columns": len(chairs)}
    today = location.local_date(now)
    return {
        "location": location,
        "day": day,
        "today": today,
        "is_today": day == today,
        "opening": tuple(moment.replace(tzinfo=None) for moment in opening) if opening else None,
        "closure": closure,
        "closed": opening is None,
        "chairs": chairs,
        "grid": grid,
        "blocks": blocks,
        "labels": labels,
        "now_row": now_row,
        "now_local": location.local(now).replace(tzinfo=None),
        "released": released,
        "without_chair": without_chair,
        "standing_count": len(standing) + len(without_chair),
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "statuses": SessionStatus,
    }


def _location(location_id: int) -> Location:
    return get_object_or_404(booking_selectors.locations_for_lists(), pk=location_id)


@require_GET
@role_required()
def board_start(request):
    """The board of the user's first location, today there."""
    location = first_location_for(request.user)
    if location is None:
        return render(request, "scheduling/pages/no_locations.html")
    return redirect("board", location_id=location.pk, day=location.local_date(timezone.now()))


@require_GET
@role_required()
def board_jump(request, location_id: int):
    """The date picker and location switcher (a GET form): on to the chosen day's board."""
    chosen = request.GET.get("location", "")
    location = get_object_or_404(Location, pk=int(chosen) if chosen.isdigit() else location_id)
    try:
        day = parse_day(request.GET.get("date"), "date")
    except Invalid:
        day = None
    return redirect("board", location_id=location.pk, day=day or location.local_date(timezone.now()))


@require_GET
@role_required()
def board(request, location_id: int, day: date):
    """The day board: chairs as columns, sessions as blocks, refreshed by htmx every 20 seconds."""
    location = _location(location_id)
    context = board_context(location, day)
    context["locations"] = Location.objects.active().order_by("name").only("id", "name")
    return render(request, "scheduling/pages/board.html", context)


@require_GET
@role_required()
def board_body(request, location_id: int, day: date):
    """The board's body alone, for htmx polling."""
    location = _location(location_id)
    return render(request, "scheduling/pages/_board_body.html", board_context(location, day))


# --- one session: the panel that opens from a board block or the patient page -----------------------


def _session(session_id: int) -> Session:
    return get_object_or_404(
        booking_selectors.sessions_for_lists().select_related("chair__location", "course__patient"), pk=session_id
    )


def _panel_context(request, session: Session, *, error: ClinicError | None = None, done: str = "",
                   values: dict | None = None) -> dict:
    location = session.location
    movable = session.status in UPCOMING_STATUSES
    slots = []
    chairs = []
    if movable and location is not None:
        window = _window_of(session)
        if window is not None:
            slots = spread_slots(find_slots(course=session.course, location=location, window=window,
                                            limit=SLOTS_SEARCHED),
                                 days=RESCHEDULE_DAYS, per_day=RESCHEDULE_TIMES_PER_DAY)
        chairs = list(Chair.objects.filter(location=location, active=True).order_by("name"))
    now = timezone.now()
    local_start = location.local(session.start) if location else session.start
    return {
        "session": session,
        "location": location,
        "movable": movable,
        "can_no_show": movable and now >= session.start,
        "late_cancel": movable and session.start - now < timedelta(hours=24),
        "slots": slots,
        "chairs": chairs,
        "is_clinician": has_role(request.user, CLINICIAN),
        "error": error,
        "field_errors": error.fields if error else {},
        "done": done,
        # What was typed wins over the session's own time and chair.
        "values": {"start": local_start.strftime("%Y-%m-%dT%H:%M"), "chair": str(session.chair_id or ""),
                   **(values or {})},
        "next": safe_next(request) or "",
        "board_day": session.local_date,
    }


def _window_of(session: Session) -> due.DueWindow | None:
    """The due window of the session's own place in its course: the one a move is judged by."""
    return booking_selectors.due_window_for_move(session)[0]


def _render_panel(request, session: Session, *, status: int = 200, **kwargs) -> HttpResponse:
    template = "scheduling/pages/_session_panel.html" if request.htmx else "scheduling/pages/session.html"
    response = render(request, template, _panel_context(request, session, **kwargs), status=status)
    return response


def _after_change(request, session: Session, message: str) -> HttpResponse:
    """Where to go after a move, cancel or no-show: back to ``next``, or the panel with the news."""
    target = safe_next(request)
    if target or not request.htmx:
        messages.success(request, message)
        destination = target or reverse("board", kwargs={"location_id": session.location_id,
                                                           "day": session.local_date})
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = destination
            return response
        return redirect(destination)
    response = _render_panel(request, _session(session.pk), done=message)
    response["HX-Trigger"] = BOARD_CHANGED
    return response


def _access(request, session: Session) -> None:
    record_access(patient=session.patient, user=request.user, channel=PatientAccess.Channel.WEB, path=request.path)


@require_GET
@role_required()
def session_panel(request, session_id: int):
    """A session's details and actions (htmx fills the board's side panel; a full page otherwise)."""
    session = _session(session_id)
    _access(request, session)
    return _render_panel(request, session)


def _session_words(session: Session) -> str:
    local = session.location.local(session.start)
    return f"{day_words(local.date())} at {local:%H:%M} ({session.chair.name}, {session.location.name})"


@require_POST
@role_required()
def session_reschedule(request, session_id: int):
    """Move a session to a picked slot, or to a typed start and chair; a refusal re-renders with fresh slots."""
    session = _session(session_id)
    _access(request, session)
    values = {"start": request.POST.get("start", ""), "chair": request.POST.get("chair", ""),
              "override_reason": request.POST.get("override_reason", "")}
    try:
        chair, start = chosen_slot(request.POST, default_chair=session.chair)
        moved = booking.reschedule_session(by=request.user, session=session, start=start, chair=chair,
                                            override_reason=values["override_reason"].strip())
    except ClinicError as error:
        return _render_panel(request, session, status=error.status, error=error, values=values)
    return _after_change(request, moved, f"Moved {session.patient.display_name}'s session to "
                                         f"{_session_words(_session(moved.pk))}.")


@require_POST
@role_required()
def session_cancel(request, session_id: int):
    """Cancel with a reason (the service refuses a blank one with the API's words)."""
    session = _session(session_id)
    _access(request, session)
    reason = request.POST.get("reason", "")
    try:
        cancelled = booking.cancel_session(by=request.user, session=session, reason=reason)
    except ClinicError as error:
        return _render_panel(request, session, status=error.status, error=error, values={"reason": reason})
    late = " It was a late cancel (under 24 hours' notice)." if cancelled.late_cancel else ""
    return _after_change(request, cancelled, f"Cancelled {session.patient.display_name}'s session of "
                                             f"{_session_words(session)}.{late}")


@require_POST
@role_required()
def session_no_show(request, session_id: int):
    """Record that the patient did not come (only after the start time)."""
    session = _session(session_id)
    _access(request, session)
    try:
        missed = booking.mark_no_show(by=request.user, session=session)
    except ClinicError as error:
        return _render_panel(request, session, status=error.status, error=error)
    return _after_change(request, missed, f"Recorded that {session.patient.display_name} did not come on "
                                          f"{_session_words(session)}.")
