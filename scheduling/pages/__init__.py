"""The front desk's web pages: the day board, the patient page, booking by protocol, the worklist.

Views here parse what the browser sent, call one service or selector, and
render. Every refusal is a ``ClinicError`` from a service, shown with the
same words the API gives (``error.detail``) and, where the error names a
field, beside that field. Times are shown and read as wall-clock time at the
session's location.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.shortcuts import get_object_or_404
from django.urls import register_converter
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from clinic import dates
from clinic.errors import ClinicError, Invalid
from patients.models import Patient, PatientAccess
from patients.services import record_access
from protocols import due
from protocols.models import TreatmentCourse
from scheduling.booking.availability import Slot
from scheduling.models import Chair, Location, Session

# ``find_slots`` returns every free chair at every 15-minute start; pages offer a spread of them
# instead (one chair per start time, a few times a day set apart, a few days), so the search is
# asked for many and the spread picked here.
SLOTS_SEARCHED = 3000
STEP = timedelta(minutes=15)
TIME_SPACING = timedelta(minutes=90)


def local_instant(text: str, location: Location, field: str) -> datetime:
    """An aware instant from a form value: ``YYYY-MM-DDTHH:MM`` is wall-clock time at ``location``."""
    return dates.parse_instant(text, location.zone, field)


def parse_day(text: str | None, field: str) -> date | None:
    """A date from a form value (``YYYY-MM-DD``), None when empty (``clinic.dates.parse_day``)."""
    return dates.parse_day(text, field)


def safe_next(request) -> str | None:
    """The ``next`` address of the request when it points back into this site, else None."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return target
    return None


def day_words(day: date, *, weekday: bool = True) -> str:
    """``Tue Mar 3`` (or ``Mar 3``): how dates read on every page and in the services' messages."""
    return f"{day:%a %b} {day.day}" if weekday else f"{day:%b} {day.day}"


def window_words(window: due.DueWindow) -> str:
    """A due window in plain words: ``Session 3 due Tue Mar 12 – Fri Mar 15, target Wed Mar 13``."""
    return f"Session {window.number} due {_due_span(window)}"


def _due_span(window: due.DueWindow) -> str:
    if window.earliest == window.latest:
        span = day_words(window.earliest)
    else:
        span = f"{day_words(window.earliest)} – {day_words(window.latest)}"
    return f"{span}, target {day_words(window.target)}"


def next_due_words(window: due.DueWindow | None, plan) -> str:
    """The next due window in words, saying so when that session is already booked (``plan``: the outlook's rows).

    The due engine's next window is the next session not yet given, so a booked one is still "due" to it;
    staff reading "Session 1 due" beside session 1's booking took it for a visit left to book.
    """
    if window is None:
        return ""
    booked = next((row.booked for row in plan if row.number == window.number and row.booked), None)
    if booked is None:
        return window_words(window)
    return f"Session {window.number} booked for {day_words(booked)} (due {_due_span(window)})"


def error_status(error: ClinicError) -> int:
    """The HTTP status a page answers a refusal with: the same as the API's."""
    return error.status


def local_today(location: Location | None, now: datetime | None = None) -> date:
    """Today at ``location`` (the clinic's zone, ``settings.TIME_ZONE``, where no location applies): a desk
    in New York at 23:30 is still on today's date, though UTC is on tomorrow's."""
    now = now or timezone.now()
    return location.local_date(now) if location is not None else timezone.localdate(now)


def first_location_for(user) -> Location | None:
    """The user's first active location by name, or the first active location when they are on no staff list."""
    return (user.clinic_locations.filter(active=True).order_by("name").first()
            or Location.objects.active().order_by("name").first())


def chosen_slot(data, *, default_chair: Chair | None) -> tuple[Chair, datetime]:
    """The chair and start a booking form names: a slot button's ``chair|start``, else ``chair`` and ``start``.

    Raises ``Invalid`` naming the field (``slot``, ``chair`` or ``start``) when
    the chair is unknown or the time cannot be read.
    """
    slot = data.get("slot")
    if slot:
        chair_id, _, start_text = slot.partition("|")
        chair = _chair(chair_id, "slot")
        return chair, local_instant(start_text, chair.location, "slot")
    chair = _chair(data.get("chair"), "chair") if data.get("chair") else default_chair
    if chair is None:
        raise Invalid("Choose a chair.", fields={"chair": ["Choose a chair."]})
    return chair, local_instant(data.get("start", ""), chair.location, "start")


def course_or_404(course_id: int) -> TreatmentCourse:
    """A course with its patient, protocol and phases (one query and a prefetch), or a 404."""
    return get_object_or_404(TreatmentCourse.objects.for_lists(), pk=course_id)


def record_patient_access(request, patient: Patient) -> None:
    """Log that the signed-in user opened a page about ``patient`` (the access log)."""
    record_access(patient=patient, user=request.user, channel=PatientAccess.Channel.WEB, path=request.path)


def chairs_for(course: TreatmentCourse) -> list[Chair]:
    """Active chairs at active sites that serve the course's treatment, by site and name."""
    return list(Chair.objects.filter(Chair.serving(course.modality), active=True, location__active=True)
                .select_related("location").order_by("location__name", "name"))


def home_location(patient: Patient, user) -> Location | None:
    """Where a patient's dates are read: the site of their latest session, else the user's first site."""
    last = (Session.objects.filter(patient=patient, location__isnull=False).select_related("location")
            .order_by("-start").first())
    return last.location if last else first_location_for(user)


def _chair(value, field: str) -> Chair:
    try:
        return Chair.objects.select_related("location").get(pk=int(value))
    except (TypeError, ValueError, Chair.DoesNotExist):
        raise Invalid("That chair does not exist.", fields={field: ["Choose a chair from the list."]}) from None


@dataclass(frozen=True)
class SlotDay:
    day: date
    slots: list[tuple[Slot, datetime]]  # each slot with its wall-clock start at its location


def spread_slots(slots: list[Slot], *, days: int, per_day: int, spacing: timedelta = TIME_SPACING) -> list[SlotDay]:
    """A spread of free slots for buttons, grouped by day, days in date order.

    The first ``days`` days in the search's own order (nearest the target
    first); on each, one chair per location and start time, starts at least
    ``spacing`` apart, at most ``per_day`` of them.
    """
    by_day: dict[date, list] = defaultdict(list)
    for slot in slots:
        local = slot.chair.location.local(slot.start).replace(tzinfo=None)
        by_day[local.date()].append((slot, local))
    groups = []
    for day in sorted(list(by_day)[:days]):
        rows = sorted(by_day[day], key=lambda row: (row[1], row[0].chair.location.name, row[0].chair.name))
        picked, last_by_site = [], {}
        for slot, local in rows:
            previous = last_by_site.get(slot.chair.location_id)
            if previous is not None and local - previous < max(spacing, STEP):
                continue
            picked.append((slot, local))
            last_by_site[slot.chair.location_id] = local
        groups.append(SlotDay(day=day, slots=picked[:per_day]))
    return groups


class IsoDateConverter:
    """``YYYY-MM-DD`` in the path, a ``date`` in the view; an impossible or out-of-range date is a 404."""

    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value: str) -> date:
        day = date.fromisoformat(value)
        if not dates.in_range(day):  # a board at 9999-12-31 would have no next day to link to
            raise ValueError(dates.OUT_OF_RANGE)
        return day

    def to_url(self, value: date | str) -> str:
        return value.isoformat() if isinstance(value, date) else value


register_converter(IsoDateConverter, "isodate")
