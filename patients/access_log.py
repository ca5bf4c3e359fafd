"""The access log page for managers: who opened which patient's record, when and how, and who opened many.

The filters (patient by id or by name or MRN, user, channel, from and to) are
read by ``access_filters`` as the API reads them, and kept in the address, so
a filtered log can be shared and the back button returns to it. Days and times
are on the manager's site's clock (``access_filters.manager_zone``), each time
with the zone's abbreviation. At the top, the users who opened more different
records in a short time than care needs (``selectors.unusual_access``), over
the last ``selectors.UNUSUAL_ACCESS_LOOKBACK``.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from clinic.errors import Invalid
from clinic.roles import ALL_ROLES, MANAGER, role_required
from patients import selectors
from patients.access_filters import FIELDS, manager_zone, read_access_query
from patients.models import Patient, PatientAccess

ENTRIES_PER_PAGE = 50


@require_GET
@role_required(MANAGER)
def access_log_page(request):
    """The log newest first, a page at a time; a filter that cannot be read is a 400 with its message."""
    zone = manager_zone(request.user)
    now = timezone.now()
    typed = {field: request.GET.get(field, "") for field in FIELDS}
    context = {"typed": typed, "zone_name": getattr(zone, "key", str(zone)), "channels": PatientAccess.Channel.choices,
               "flags": _flags(now, zone), "lookback_days": selectors.UNUSUAL_ACCESS_LOOKBACK.days,
               "unusual_records": settings.UNUSUAL_ACCESS_RECORDS,
               "unusual_minutes": settings.UNUSUAL_ACCESS_MINUTES}
    status = 200
    context["errors"] = {}
    try:
        query = read_access_query(request.GET, zone=zone, instants=False)
    except Invalid as error:
        query, status = None, 400
        context.update(errors=error.fields, error_detail=error.detail)
    if query is not None:
        entries = selectors.access_log(**query.selector_arguments())
        context.update(query=query, page=Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page")))
    context["chosen_patient"] = query.patient if query else _patient_kept(typed["patient"], context["errors"])
    context["staff"] = _staff(selected=query.user if query else None)
    with timezone.override(zone):
        return render(request, "patients/access_log.html", context, status=status)


def _patient_kept(typed: str, errors: dict) -> Patient | None:
    """On a refused filter, the patient a link chose, when that part was fine: kept on the redrawn form."""
    if "patient" in errors or not typed.isdigit():
        return None
    return Patient.objects.filter(pk=int(typed)).first()


def _staff(*, selected) -> list:
    """Everyone who holds a clinic role, and the user the filter names (whose role may have gone)."""
    wanted = Q(groups__name__in=ALL_ROLES)
    if selected is not None:
        wanted |= Q(pk=selected.pk)
    return list(get_user_model().objects.filter(wanted).distinct().order_by("last_name", "first_name", "username"))


def _flags(now: datetime, zone: tzinfo) -> list[dict]:
    """Each unusual-access flag with the address of that user's entries over the days of its window."""
    flags = []
    for flag in selectors.unusual_access(since=now - selectors.UNUSUAL_ACCESS_LOOKBACK, now=now):
        first_day: date = flag.first_at.astimezone(zone).date()
        last_day: date = flag.last_at.astimezone(zone).date()
        params = {"user": flag.user.pk, "from": first_day.isoformat(), "to": last_day.isoformat()}
        flags.append({"flag": flag, "href": f"{reverse('patients:access-log')}?{urlencode(params)}",
                      "same_day": first_day == last_day})
    return flags
