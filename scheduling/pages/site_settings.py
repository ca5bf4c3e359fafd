"""The manager's sites: the list, a new site, and each site's page with its settings.

A site's settings are read by the API's ``LocationSerializer`` (an IANA time zone,
a name no text to a patient may carry, a phone as dialled, capacity at least 1) and
saved by ``scheduling.booking.sites.change_location``, as ``PUT /api/locations/{id}/``
does, so the page and the API refuse the same values with the same words. Its
chairs, hours and closures have their own forms (``site_chairs``, ``site_hours``).
Managers only.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.errors import ClinicError
from clinic.roles import MANAGER, role_required
from scheduling.api.serializers import LocationSerializer
from scheduling.booking.sites import change_location, time_zone_choices
from scheduling.models import Location
from scheduling.pages import site_chairs, site_hours
from scheduling.pages.site_page import invalid_from, render_site, settings_data, settings_values, site_or_404

SITES_PER_PAGE = 25


def site_address(location: Location, done: str) -> str:
    return f"{reverse('site-detail', args=[location.pk])}?done={done}"


@require_GET
@role_required(MANAGER)
def site_list(request):
    """Every site, active first, with its chairs in service and whether it may give esketamine."""
    sites = (Location.objects.annotate(chairs_in_service=Count("chairs", filter=Q(chairs__active=True)),
                                       chairs_total=Count("chairs"))
             .order_by("-active", "name"))
    page = Paginator(sites, SITES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "scheduling/pages/site_list.html", {"page": page})


@require_http_methods(["GET", "POST"])
@role_required(MANAGER)
def site_new(request):
    """A new site: its settings first; chairs, hours and closures on its page after."""
    error = None
    if request.method == "POST":
        serializer = LocationSerializer(data=settings_data(request.POST))
        if serializer.is_valid():
            location = serializer.save()
            return redirect(site_address(location, "created"))
        error = invalid_from(serializer)
    return render(request, "scheduling/pages/site_new.html", {
        "values": settings_values(None, request.POST if error else None), "zones": time_zone_choices(),
        "error": error, "field_errors": error.fields if error else {},
    }, status=error.status if error else 200)


@require_GET
@role_required(MANAGER)
def site_detail(request, site_id: int):
    """The site's settings, chairs, opening hours and closures, each with its form."""
    return render_site(request, site_or_404(site_id), done=request.GET.get("done", ""))


@require_POST
@role_required(MANAGER)
def site_settings(request, site_id: int):
    """Save the site's settings; a refusal re-draws the page with it beside the field."""
    location = site_or_404(site_id)
    serializer = LocationSerializer(location, data=settings_data(request.POST))
    try:
        if not serializer.is_valid():
            raise invalid_from(serializer)
        change_location(location=location, changes=serializer.validated_data)
    except ClinicError as error:
        return render_site(request, site_or_404(site_id), status=error.status, error=error, acted="settings")
    return redirect(site_address(location, "settings"))


urlpatterns = [
    path("manage/sites/", site_list, name="site-list"),
    path("manage/sites/new/", site_new, name="site-new"),
    path("manage/sites/<int:site_id>/", site_detail, name="site-detail"),
    path("manage/sites/<int:site_id>/settings/", site_settings, name="site-settings"),
    *site_chairs.urlpatterns,
    *site_hours.urlpatterns,
]
