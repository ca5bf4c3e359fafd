"""The day sheet: one site's or one clinician's day on paper, for the floor and the phone.

One line per session that still holds its chair, in time order: the time,
chair, patient, protocol and session number, status, phone (national format)
and the ride home. The ride home is what the check-in checklist recorded
(``Session.ride_home_arranged``) and, after discharge, who drove; nothing
about it is known before the patient arrives, so the sheet says "ask at
check-in" until then. The page prints without navigation (``@media print``).
Open to every role, as the board is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import re_path
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic import dates
from clinic.phones import for_display
from clinic.roles import role_required
from scheduling.booking import selectors as booking_selectors
from scheduling.models import Location, Session
from scheduling.pages.clinician import _session_numbers

# The day in the address, as the board's ``isodate`` converter reads it (this module is imported before
# scheduling/pages/urls.py registers that converter, so it reads the day itself).
DAY = r"(?P<day>\d{4}-\d{2}-\d{2})"


@dataclass(frozen=True)
class SheetLine:
    session: Session
    number: int | None
    phase: str
    phone: str
    ride_home: str


def _day(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Http404("No such day.") from None
    if not dates.in_range(day):
        raise Http404(dates.OUT_OF_RANGE)
    return day


def _ride_home(session: Session) -> str:
    if session.driver:
        return f"Driven by {session.driver}"
    if session.ride_home_arranged:
        return "Arranged (checked in)"
    if session.ride_home_arranged is False:
        return "Not arranged"
    return "Ask at check-in"


def _lines(sessions: list[Session]) -> list[SheetLine]:
    numbers = _session_numbers(sessions)
    return [SheetLine(session=session, number=numbers[session.pk][0], phase=numbers[session.pk][1],
                      phone=for_display(session.patient.phone), ride_home=_ride_home(session))
            for session in sessions]


def _standing(queryset) -> list[Session]:
    return list(booking_selectors.sessions_for_lists(queryset.filter(chair__isnull=False).standing())
                .order_by("start", "chair__name"))


@require_GET
@role_required()
def site_day_sheet(request, location_id: str, day: str):
    """Every session at one site on its local ``day``, with a link to each clinician's own sheet."""
    day = _day(day)
    location = get_object_or_404(Location, pk=int(location_id))
    lines = _lines(_standing(Session.objects.filter(location=location, local_date=day)))
    clinicians = {line.session.clinician.pk: line.session.clinician for line in lines if line.session.clinician}
    return render(request, "scheduling/pages/day_sheet.html", {
        "title": location.name, "location": location, "day": day, "lines": lines, "per_clinician": False,
        "clinicians": sorted(clinicians.values(), key=lambda user: (user.last_name, user.first_name, user.pk)),
        "printed_at": timezone.now(),
    })


@require_GET
@role_required()
def clinician_day_sheet(request, clinician_id: str, day: str):
    """One clinician's sessions on ``day``, at every site (each at its own local time)."""
    day = _day(day)
    clinician = get_object_or_404(get_user_model(), pk=int(clinician_id))
    lines = _lines(_standing(Session.objects.filter(clinician=clinician, local_date=day)))
    sites = {line.session.location_id: line.session.location for line in lines}
    return render(request, "scheduling/pages/day_sheet.html", {
        "title": clinician.get_full_name() or clinician.get_username(), "clinician": clinician, "day": day,
        "lines": lines, "per_clinician": True, "location": next(iter(sites.values()), None),
        "several_sites": len(sites) > 1, "printed_at": timezone.now(),
    })


urlpatterns = [
    re_path(rf"^board/(?P<location_id>\d+)/{DAY}/sheet/$", site_day_sheet, name="day-sheet"),
    re_path(rf"^day-sheet/clinician/(?P<clinician_id>\d+)/{DAY}/$", clinician_day_sheet, name="clinician-day-sheet"),
]
