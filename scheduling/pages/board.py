"""The day board: the front desk's landing page (the session panel beside it is ``session_panel``).

The board is a CSS grid: chairs are columns, the day runs down in 5-minute
rows labelled every 15 minutes, and each session is a block spanning its
chair time plus the location's turnover (shaded). Everything is computed here
from ``booking_selectors.day_board`` in a fixed number of queries; the body polls
itself with htmx so desks see each other's bookings within half a minute, and
board.js opens today's board at "now" and keeps the desk's place as it redraws.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.errors import Invalid
from clinic.roles import role_required
from scheduling.booking import selectors as booking_selectors
from scheduling.charting.observation import ObservationState, observation_states
from scheduling.models import Location, Session, SessionStatus
from scheduling.pages import first_location_for, parse_day
from scheduling.pages import session_panel as panel
from scheduling.pages.offers_page import board_markers

ROW_MINUTES = 5  # the grid's resolution: a session starting at 09:10 sits exactly there
STEP_MINUTES = 15  # labelled rows
FIRST_ROW = 2  # row 1 holds the chair names
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
        # Freed times of the day that were offered by text: a marker each, linking to the offers page.
        "offer_markers": board_markers(location, day),
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


# The session panel's views live in session_panel; the site's addresses name them here.
session_panel = panel.session_panel
session_reschedule = panel.session_reschedule
session_cancel = panel.session_cancel
session_no_show = panel.session_no_show
