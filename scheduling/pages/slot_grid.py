"""The slot grid: free chair time for a course's due window, time by day, for booking and moving.

``GET /slot-grid/?course=<id>`` answers the grid (an htmx partial, or a page of
its own whose free cells book the course's next session). With ``session`` the
grid is for moving that session: it is left out of every conflict and its own
due window is shown. ``week`` (any date in the week), ``location``, ``chair`` and
``part`` (morning, afternoon, evening) choose what is shown (``compact=1`` keeps
the table to a scrolling box, for a side panel); the grid's own
controls send them as ``grid_location``, ``grid_chair`` and ``grid_part`` so that,
inside another page's POST form, they never collide with that form's fields.

Each free cell is a ``<button type="submit" name="slot" value="<chair>|<start>">``,
so the grid works inside any form whose view reads ``pages.chosen_slot``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from clinic.errors import ClinicError, Invalid
from clinic.roles import CLINICIAN, has_role, role_required
from protocols.models import TreatmentCourse
from scheduling.booking import services as booking
from scheduling.booking.free_time import PARTS, week_of_free_time
from scheduling.models import Session
from scheduling.pages import first_location_for, parse_day

PART_CHOICES = (("", "Whole day"), ("morning", "Morning (before 12:00)"), ("afternoon", "Afternoon (12:00-17:00)"),
                ("evening", "Evening (from 17:00)"))


def _number(value: str | None, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise Invalid(f"“{value}” is not a {field} of the list.", fields={field: ["Choose from the list."]}) from None


def _param(data, name: str) -> str:
    """A filter's value: the grid's own control (``grid_<name>``) wins over the address's ``<name>``."""
    return data.get(f"grid_{name}", data.get(name, "")) or ""


def grid_context(request, *, course: TreatmentCourse, moving: Session | None = None, data=None) -> dict:
    """The grid's template context for the filters in ``data`` (the request's GET by default; a page that
    re-renders after a POST passes its POST, where the grid's own ``grid_*`` fields came back); a refusal
    comes back as ``error`` beside the filter it names, with the grid of the default week and site."""
    data = request.GET if data is None else data
    error = None
    try:
        booking.check_course_bookable(course)
        arguments = {"week": parse_day(_param(data, "week"), "week"),
                     "location_id": _number(_param(data, "location"), "location"),
                     "chair_id": _number(_param(data, "chair"), "chair"),
                     "part": _param(data, "part")}
        grid = week_of_free_time(course=course, moving=moving, home=first_location_for(request.user), **arguments)
    except ClinicError as refusal:
        error = refusal
        grid = week_of_free_time(course=course, moving=moving, home=first_location_for(request.user))
    compact = data.get("compact") == "1"
    fixed = {"course": course.pk, **({"session": moving.pk} if moving is not None else {}),
             **({"compact": "1"} if compact else {})}
    address = reverse("slot-grid")

    def week_url(day) -> str:
        return f"{address}?{urlencode({**fixed, 'week': day.isoformat()})}"

    target = grid.window.target if grid.window else None
    return {
        "grid": grid,
        "compact": compact,
        "grid_error": error,
        "grid_errors": error.fields if error else {},
        "can_override": has_role(request.user, CLINICIAN),
        "part_choices": PART_CHOICES,
        "this_week_url": week_url(grid.week_start),
        "previous_week_url": week_url(grid.previous_week),
        "next_week_url": week_url(grid.next_week),
        "target_week_url": week_url(target) if target and not 0 <= (target - grid.week_start).days < 7 else "",
        "form_action": (reverse("session-reschedule", args=[moving.pk]) if moving is not None
                        else reverse("book-next", args=[course.pk])),
    }


@require_GET
@role_required()
def slot_grid(request):
    """The slot grid for ``course`` (and ``session``, when moving it): a partial for htmx, else a page."""
    try:
        course_id = _number(request.GET.get("course"), "course")
        session_id = _number(request.GET.get("session"), "session")
        if course_id is None:
            raise Invalid("Say which course the grid is for.", fields={"course": ["A course is required."]})
    except Invalid as error:
        return render(request, "scheduling/pages/_error.html", {"error": error}, status=error.status)
    course = get_object_or_404(TreatmentCourse.objects.for_lists(), pk=course_id)
    moving = None
    if session_id is not None:
        moving = get_object_or_404(Session.objects.select_related("location", "chair"), pk=session_id,
                                   course=course)
    context = grid_context(request, course=course, moving=moving)
    status = context["grid_error"].status if context["grid_error"] else 200
    template = "scheduling/pages/_slot_grid.html" if request.htmx else "scheduling/pages/slot_grid.html"
    return render(request, template, context, status=status)


urlpatterns = [path("slot-grid/", slot_grid, name="slot-grid")]

__all__ = ["PARTS", "grid_context", "slot_grid", "urlpatterns"]
