"""A site's chairs on its page: add one, rename it or change what it serves, take it out of service and back.

Read by the API's ``ChairSerializer`` (a name the site does not have yet) and
saved by ``scheduling.booking.sites``, as ``POST /api/locations/{id}/chairs/`` and
``PATCH /api/chairs/{id}/`` do: a chair with booked sessions is not taken out of
service, nor stopped from serving their treatment (409, the sessions listed).
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from clinic.errors import ClinicError
from clinic.roles import MANAGER, role_required
from scheduling.api.serializers import ChairSerializer
from scheduling.booking.sites import add_chair, change_chair
from scheduling.models import Chair
from scheduling.pages.site_page import invalid_from, render_site, site_or_404


def _kinds(post) -> dict:
    """The chair form as ``ChairSerializer`` reads it: an unticked box is False."""
    return {"name": post.get("name", ""), "serves_esketamine": "serves_esketamine" in post,
            "has_infusion_pump": "has_infusion_pump" in post}


def _back(site_id: int, done: str):
    return redirect(f"{reverse('site-detail', args=[site_id])}?done={done}#chairs")


@require_POST
@role_required(MANAGER)
def chair_add(request, site_id: int):
    location = site_or_404(site_id)
    serializer = ChairSerializer(data=_kinds(request.POST), context={"location": location})
    try:
        if not serializer.is_valid():
            raise invalid_from(serializer)
        add_chair(location=location, **serializer.validated_data)
    except ClinicError as error:
        return render_site(request, location, status=error.status, error=error, acted="chair-add")
    return _back(site_id, "chair-added")


@require_POST
@role_required(MANAGER)
def chair_change(request, site_id: int, chair_id: int):
    """Rename the chair or change what it serves."""
    return _change(request, site_id, chair_id, _kinds(request.POST), "chair")


@require_POST
@role_required(MANAGER)
def chair_service(request, site_id: int, chair_id: int):
    """Take the chair out of service (``active=0``) or put it back (``active=1``)."""
    active = request.POST.get("active") == "1"
    return _change(request, site_id, chair_id, {"active": active}, "chair-in" if active else "chair-out")


def _change(request, site_id: int, chair_id: int, data: dict, done: str):
    location = site_or_404(site_id)
    chair = get_object_or_404(Chair.objects.select_related("location"), pk=chair_id, location=location)
    serializer = ChairSerializer(chair, data=data, partial=True)
    try:
        if not serializer.is_valid():
            raise invalid_from(serializer)
        change_chair(chair=chair, changes=serializer.validated_data)
    except ClinicError as error:
        return render_site(request, location, status=error.status, error=error, acted="chair", target=chair.pk)
    return _back(site_id, done)


urlpatterns = [
    path("manage/sites/<int:site_id>/chairs/", chair_add, name="site-chair-add"),
    path("manage/sites/<int:site_id>/chairs/<int:chair_id>/", chair_change, name="site-chair-change"),
    path("manage/sites/<int:site_id>/chairs/<int:chair_id>/service/", chair_service, name="site-chair-service"),
]
