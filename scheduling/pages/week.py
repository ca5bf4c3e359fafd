"""The week at a glance: days by chairs for a site, days by sites for all of them.

A site's week lays each chair's day out as a row of segments on one time axis
(``booking.week.site_week``): sessions where booked, free chair time to click
and book, closed or past time shaded. A session is moved by dragging it to
another chair and time, or from the keyboard with the move form; both go
through ``reschedule_session`` (``week_actions``). ``?clinician=<id>`` narrows
both pages to one clinician's sessions; everyone else's show only as busy.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import wraps

from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, re_path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic import dates
from clinic.errors import Invalid
from clinic.roles import role_required
from scheduling.booking import selectors as booking_selectors
from scheduling.booking import week as week_selectors
from scheduling.models import Location
from scheduling.pages import first_location_for, parse_day, week_actions

# The event that redraws the week body after a booking or a move in the side panel.
WEEK_CHANGED = week_actions.WEEK_CHANGED


# The day in the address, read here as the board's ``isodate`` converter reads it: this module is imported
# before scheduling/pages/urls.py registers that converter.
DAY = r"(?P<day>\d{4}-\d{2}-\d{2})"


def _with_day(view):
    """``day`` from the address as a date; an impossible or out-of-range date is a 404, as on the board."""

    @wraps(view)
    def wrapper(request, *args, day: str, **kwargs):
        try:
            parsed = date.fromisoformat(day)
        except ValueError:
            raise Http404("No such date.") from None
        if not dates.in_range(parsed):
            raise Http404(dates.OUT_OF_RANGE)
        return view(request, *args, day=parsed, **kwargs)

    return wrapper


def clinician_filter(request) -> int | None:
    """``?clinician=<id>``: the clinician the page is narrowed to (anything else is no filter)."""
    value = (request.GET.get("clinician") or "").strip()
    return int(value) if value.isdigit() else None


def _filter_query(clinician_id: int | None) -> str:
    return f"?clinician={clinician_id}" if clinician_id else ""


def _today_for(user, now) -> date:
    """Today where the user works (their first site), for pages of every site; the clinic's date without one."""
    home = first_location_for(user)
    return home.local_date(now) if home else timezone.localdate(now)


def _location(location_id: str) -> Location:
    return get_object_or_404(booking_selectors.locations_for_lists(), pk=int(location_id))


def _week_context(location: Location, day: date, clinician_id: int | None) -> dict:
    now = timezone.now()
    week = week_selectors.site_week(location, day, now=now, clinician_id=clinician_id)
    today = location.local_date(now)
    first, last = week.days[0].day, week.days[-1].day
    return {
        "location": location,
        "week": week,
        "day": day,
        "first_day": first,
        "last_day": last,
        "today": today,
        "is_this_week": first <= today <= last,
        "previous_week": first - timedelta(days=7),
        "next_week": first + timedelta(days=7),
        "clinician_id": clinician_id,
        "filter_query": _filter_query(clinician_id),
        "now_local": location.local(now).replace(tzinfo=None),
    }


@require_GET
@role_required()
@_with_day
def site_week(request, location_id: str, day: date):
    """One site's week: days by chairs, sessions placed by time, free chair time to book."""
    location = _location(location_id)
    clinician_id = clinician_filter(request)
    context = _week_context(location, day, clinician_id)
    context["locations"] = Location.objects.active().order_by("name").only("id", "name")
    # Every clinician, not only the site's staff list: a session may be with someone from another site.
    context["clinicians"] = week_selectors.clinicians()
    context["clinician"] = next((user for user in context["clinicians"] if user.pk == clinician_id), None)
    return render(request, "scheduling/pages/week.html", context)


@require_GET
@role_required()
@_with_day
def site_week_body(request, location_id: str, day: date):
    """The week's body alone, for htmx: polled, and redrawn after a booking or a move."""
    location = _location(location_id)
    return render(request, "scheduling/pages/_week_body.html", _week_context(location, day,
                                                                             clinician_filter(request)))


@require_GET
@role_required()
@_with_day
def all_sites_week(request, day: date):
    """Every site's week: days by sites, with sessions booked and chair hours still free."""
    clinician_id = clinician_filter(request)
    now = timezone.now()
    rows = week_selectors.sites_week(day, now=now, clinician_id=clinician_id)
    days = week_selectors.week_days(day)
    clinicians = week_selectors.clinicians()
    today = _today_for(request.user, now)
    return render(request, "scheduling/pages/week_all.html", {
        "rows": rows,
        "days": days,
        "day": day,
        "today": today,
        "is_this_week": days[0] <= today <= days[-1],
        "previous_week": days[0] - timedelta(days=7),
        "next_week": days[0] + timedelta(days=7),
        "clinicians": clinicians,
        "clinician_id": clinician_id,
        "clinician": next((user for user in clinicians if user.pk == clinician_id), None),
        "filter_query": _filter_query(clinician_id),
    })


@require_GET
@role_required()
def week_jump(request):
    """The week's date picker, site and clinician choice (a GET form): on to the chosen week."""
    try:
        day = parse_day(request.GET.get("date"), "date")
    except Invalid:
        day = None
    site = request.GET.get("location", "")
    location = Location.objects.filter(pk=int(site)).first() if site.isdigit() else None
    day = day or (location.local_date(timezone.now()) if location else _today_for(request.user, timezone.now()))
    query = _filter_query(clinician_filter(request))
    if location is None:
        return redirect(reverse("board-week-all", kwargs={"day": day}) + query)
    return redirect(reverse("board-week", kwargs={"location_id": location.pk, "day": day}) + query)


urlpatterns = [
    re_path(rf"^week/(?P<location_id>\d+)/{DAY}/$", site_week, name="board-week"),
    re_path(rf"^week/(?P<location_id>\d+)/{DAY}/body/$", site_week_body, name="board-week-body"),
    re_path(rf"^week/all/{DAY}/$", all_sites_week, name="board-week-all"),
    path("week/go/", week_jump, name="board-week-jump"),
    *week_actions.urlpatterns,
]
