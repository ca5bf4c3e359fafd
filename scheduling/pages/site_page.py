"""A site's page as it is drawn: its settings, chairs, opening hours and closures, and a refusal where it was sent.

Every form on the page posts to its own address (``site_settings``, ``site_chairs``,
``site_hours``); a refusal re-draws this page with the status the API gives (400,
403, 409), the service's words inside the form that was sent, beside the field they
name, what was typed kept, and for a 409 the booked sessions in the way, each a link
to its panel where the desk moves or cancels it. A change goes back to the page with
what changed said at the top. Dates and times are the site's own.
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from clinic.errors import ClinicError, Invalid
from clinic.phones import for_display
from scheduling.booking.sites import SessionsInTheWay, time_zone_choices
from scheduling.models import Location, OpeningHours, SessionStatus

PAGE = "scheduling/pages/site_detail.html"
WEEKDAYS = OpeningHours.Weekday.choices
# ``?done=`` -> what the page says changed.
DONE = {
    "created": "Site added. Add its chairs and opening hours below.",
    "settings": "Settings saved.",
    "chair-added": "Chair added.",
    "chair": "Chair saved.",
    "chair-out": "Chair taken out of service: it is no longer offered for booking.",
    "chair-in": "Chair back in service: it is offered for booking again.",
    "hours": "Opening hours saved.",
    "closure-added": "Closure added: the site is not offered for booking that day.",
    "closure-removed": "Closure removed: the site is open that day again.",
}
SETTINGS_FIELDS = ("name", "time_zone", "address", "phone", "turnover_minutes", "max_in_treatment_per_clinician")
SETTINGS_CHECKS = ("rems_certified", "active", "offers_enabled")


def site_or_404(site_id: int) -> Location:
    return get_object_or_404(Location, pk=site_id)


def invalid_from(serializer) -> Invalid:
    """The serializer's refusal as the page shows it: the messages beside their fields, a line above."""
    fields = {name: [str(message) for message in messages] for name, messages in serializer.errors.items()}
    return Invalid("Check the fields marked below.", fields=fields)


def settings_data(post) -> dict:
    """The settings form as ``LocationSerializer`` reads it: an unticked box is False."""
    data = {name: post.get(name, "") for name in SETTINGS_FIELDS}
    data.update({name: name in post for name in SETTINGS_CHECKS})
    return data


def settings_values(location: Location | None, post=None) -> dict:
    if post is not None:
        return settings_data(post)
    if location is None:
        return {"time_zone": "", "turnover_minutes": 15, "max_in_treatment_per_clinician": 4,
                "rems_certified": False, "active": True, "offers_enabled": True}
    values = {name: getattr(location, name) for name in (*SETTINGS_FIELDS, *SETTINGS_CHECKS)}
    values["phone"] = for_display(location.phone)
    return values


def _week(location: Location, post=None) -> list[dict]:
    hours = {row.weekday: row for row in location.hours.all()}
    rows = []
    for weekday, label in WEEKDAYS:
        if post is not None:
            opens, closes = post.get(f"opens-{weekday}", ""), post.get(f"closes-{weekday}", "")
            closed = f"closed-{weekday}" in post
        else:
            row = hours.get(weekday)
            opens = f"{row.opens:%H:%M}" if row else ""
            closes = f"{row.closes:%H:%M}" if row else ""
            closed = row is None
        rows.append({"weekday": weekday, "label": label, "opens": opens, "closes": closes, "closed": closed,
                     "key": f"hours-{weekday}"})
    return rows


def _chairs(location: Location, now) -> list:
    ahead = Q(sessions__end__gt=now) & ~Q(sessions__status__in=(
        SessionStatus.CANCELLED, SessionStatus.NO_SHOW, SessionStatus.DISCHARGED))
    chairs = list(location.chairs.annotate(ahead=Count("sessions", filter=ahead)).order_by("-active", "name"))
    for chair in chairs:
        chair.dom_id = f"chair-{chair.pk}"  # the form's ids, and its errors' (``_field_errors.html``)
    return chairs


def site_context(request, location: Location, *, error: ClinicError | None = None, acted: str = "",
                 target: int | None = None, done: str = "") -> dict:
    now = timezone.now()
    today = location.local_date(now)
    post = request.POST if acted else None
    closures = list(location.closures.filter(date__gte=today).order_by("date"))
    return {
        "location": location,
        "today": today,
        "zones": time_zone_choices(),
        "values": settings_values(location, post if acted == "settings" else None),
        "chairs": _chairs(location, now),
        # What was typed in a chair's form (not its service button, which sends no name).
        "chair_values": post if acted == "chair-add" or (acted == "chair" and "name" in post) else {},
        "week": _week(location, post if acted == "hours" else None),
        "closures": closures,
        "past_closures": location.closures.filter(date__lt=today).count(),
        "closure_values": post if acted == "closure-add" else {},
        "acted": acted,
        "target": target,
        "done": DONE.get(done, ""),
        "error": error,
        "field_errors": error.fields if error else {},
        "in_the_way": error.sessions if isinstance(error, SessionsInTheWay) else [],
        "in_the_way_more": error.total - len(error.sessions) if isinstance(error, SessionsInTheWay) else 0,
    }


def render_site(request, location: Location, *, status: int = 200, **kwargs):
    # Times on the page (a refusal's sessions) read on the site's clock.
    with timezone.override(location.zone):
        return render(request, PAGE, site_context(request, location, **kwargs), status=status)
