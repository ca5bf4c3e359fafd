"""A site's opening hours and closures on its page.

Each weekday's hours are read by the API's ``OpeningHoursSerializer`` (times of day,
opening before closing) and a closure by its ``ClosureSerializer``; both are saved by
``scheduling.booking.sites``. New hours that would leave a booked session outside
them, and a closure on a day with booked sessions, are refused (409) with the
sessions listed: closing does not cancel a session, and its patient would still be
reminded to come, so the desk moves or cancels them first (DOMAIN: sessions are
booked on real chairs at real sites, inside opening hours).
"""

from __future__ import annotations

from datetime import time

from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from clinic.errors import ClinicError, Invalid
from clinic.roles import MANAGER, role_required
from scheduling.api.serializers import ClosureSerializer, OpeningHoursSerializer
from scheduling.booking.sites import add_closure, remove_closure, set_opening_hours
from scheduling.models import Closure
from scheduling.pages.site_page import WEEKDAYS, invalid_from, render_site, site_or_404

TIME_LABELS = {"opens": "Opens", "closes": "Closes"}


def _back(site_id: int, done: str, anchor: str):
    return redirect(f"{reverse('site-detail', args=[site_id])}?done={done}#{anchor}")


def week_from(post) -> dict[int, tuple[time, time] | None]:
    """The hours form's week, each day read by ``OpeningHoursSerializer``; None for a day ticked closed.

    Raises ``Invalid`` naming each refused day as ``hours-<weekday>``.
    """
    week: dict[int, tuple[time, time] | None] = {}
    errors: dict[str, list[str]] = {}
    for weekday, _label in WEEKDAYS:
        if f"closed-{weekday}" in post:
            week[weekday] = None
            continue
        serializer = OpeningHoursSerializer(data={"weekday": weekday, "opens": post.get(f"opens-{weekday}", ""),
                                                  "closes": post.get(f"closes-{weekday}", "")})
        if serializer.is_valid():
            week[weekday] = (serializer.validated_data["opens"], serializer.validated_data["closes"])
            continue
        said = [(name, str(message)) for name, messages in serializer.errors.items() for message in messages]
        # A rule about both times (opening before closing) is said once; a time's own refusal names it.
        shared = {message for name, message in said if sum(1 for _, other in said if other == message) > 1}
        errors[f"hours-{weekday}"] = list(dict.fromkeys(
            message if message in shared else f"{TIME_LABELS.get(name, 'Hours')}: {message}"
            for name, message in said))
    if errors:
        raise Invalid("Check the days marked below: give both times, or tick Closed.", fields=errors)
    return week


@require_POST
@role_required(MANAGER)
def hours_save(request, site_id: int):
    location = site_or_404(site_id)
    try:
        set_opening_hours(location=location, week=week_from(request.POST))
    except ClinicError as error:
        return render_site(request, site_or_404(site_id), status=error.status, error=error, acted="hours")
    return _back(site_id, "hours", "hours")


@require_POST
@role_required(MANAGER)
def closure_add(request, site_id: int):
    location = site_or_404(site_id)
    serializer = ClosureSerializer(data={"date": request.POST.get("date", ""),
                                         "reason": request.POST.get("reason", "")})
    try:
        if not serializer.is_valid():
            raise invalid_from(serializer)
        add_closure(location=location, day=serializer.validated_data["date"],
                    reason=serializer.validated_data.get("reason", ""))
    except ClinicError as error:
        return render_site(request, location, status=error.status, error=error, acted="closure-add")
    return _back(site_id, "closure-added", "closures")


@require_POST
@role_required(MANAGER)
def closure_remove(request, site_id: int, closure_id: int):
    location = site_or_404(site_id)
    remove_closure(closure=get_object_or_404(Closure.objects.select_related("location"), pk=closure_id,
                                             location=location))
    return _back(site_id, "closure-removed", "closures")


urlpatterns = [
    path("manage/sites/<int:site_id>/hours/", hours_save, name="site-hours"),
    path("manage/sites/<int:site_id>/closures/", closure_add, name="site-closure-add"),
    path("manage/sites/<int:site_id>/closures/<int:closure_id>/remove/", closure_remove,
         name="site-closure-remove"),
]
