"""FHIR Slot: a chair's free time, searched by ``schedule`` (required), ``start``, ``status=free``.

A Slot is a start on the site's 15-minute grid (the grid booking and the
slot grid offer) at which the chair can take a whole session: the site is
open until its end, the day is not a closure, the start is not past, and
the chair has no standing session within the chair time plus the site's
turnover, which are booking's own rules (``rules.grid_starts``,
``selectors.site_calendar``, the sessions' occupied time). Its
``serviceType`` names each treatment whose chair time fits there (the
longest of that treatment's active protocols), and its ``end`` is the start
plus the shortest of them; Slots of one chair therefore overlap, one every
15 minutes. Booking a Slot still checks what a chair cannot know: the
patient, the course's due window, a clinician's room (an OperationOutcome
with the REST API's code when refused).

Only free Slots exist: the chair's busy time is its Appointments, so a
search for ``status=busy`` (or another status) is a 400 saying so. The
``start`` range defaults to today (at the site) to seven days on and may
span at most 31 days. The id ``{chair id}-{YYYYMMDDHHMM}`` (the start in
UTC) reads back to the chair and start (``ids.parse_slot_id``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Max
from django.utils import timezone
from fhir.resources.R4B.slot import Slot

from protocols.models import DEFAULT_MINUTES, Modality, Protocol
from scheduling.booking import rules
from scheduling.booking.selectors import site_calendar, with_calendar
from scheduling.fhir import ids
from scheduling.fhir import search_params as params
from scheduling.fhir.bundles import searchset
from scheduling.fhir.codes import modalities_asked, treatment_concept
from scheduling.fhir.errors import FhirError
from scheduling.fhir.locations import chair_treatments, scheduled_chairs
from scheduling.fhir.responses import fhir_response
from scheduling.fhir.views import FhirView, paging
from scheduling.models import Chair, Location, Session

DEFAULT_SPAN = timedelta(days=7)
MAX_SPAN = timedelta(days=31)
MAX_SCHEDULES = 50
SEARCH_PARAMS = ("schedule", "start", "status", "service-type")
FREE = "free"
SLOT_STATUSES = {"free", "busy", "busy-unavailable", "busy-tentative", "entered-in-error"}


@dataclass(frozen=True)
class FreeSlot:
    chair: Chair
    start: datetime  # UTC
    end: datetime
    treatments: tuple[str, ...]  # Modality values that fit from ``start``


def chair_minutes_by_treatment() -> dict[str, int]:
    """Each treatment's longest chair time among its active protocols, so a Slot offered for a treatment
    fits every protocol of it (the defaults when none is active)."""
    minutes = {modality: DEFAULT_MINUTES[modality]["chair_minutes"] for modality in Modality}
    for row in Protocol.objects.active().values("modality").annotate(longest=Max("chair_minutes")):
        minutes[row["modality"]] = row["longest"]
    return minutes


def free_slots(chairs: list[Chair], *, since: datetime, until: datetime, now: datetime | None = None,
               treatments: set[str] | None = None) -> list[FreeSlot]:
    """The free Slots of ``chairs`` (``location`` loaded) starting in [since, until), by start then chair.

    Three queries whatever the span: the protocols' chair times, the sites with their calendars, the
    chairs' standing sessions.
    """
    now = now or timezone.now()
    since = max(since, now)
    if not chairs or since >= until:
        return []
    minutes = chair_minutes_by_treatment()
    longest = timedelta(minutes=max(minutes.values()))
    sites = {site.pk: site for site in with_calendar(Location.objects.filter(pk__in={c.location_id for c in chairs}))}
    busy: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for chair_id, start, occupied in (Session.objects.standing()
                                      .filter(chair__in=chairs, start__lt=until + longest, occupied_until__gt=since)
                                      .order_by("start").values_list("chair_id", "start", "occupied_until")):
        busy[chair_id].append((start, occupied))
    slots = []
    for chair in chairs:
        offered = [modality for modality in chair_treatments(chair) if treatments is None or modality in treatments]
        if offered:
            slots += _chair_slots(chair, sites[chair.location_id], offered, minutes, busy[chair.pk], since, until)
    slots.sort(key=lambda slot: (slot.start, slot.chair.location.name, slot.chair.name, slot.chair.pk))
    return slots


def _chair_slots(chair: Chair, site: Location, offered: list[str], minutes: dict[str, int],
                 taken: list[tuple[datetime, datetime]], since: datetime, until: datetime) -> list[FreeSlot]:
    calendar = site_calendar(site)
    turnover = timedelta(minutes=site.turnover_minutes)
    durations = {modality: timedelta(minutes=minutes[modality]) for modality in offered}
    shortest = min(durations.values())
    # A chair's standing sessions never overlap (the exclusion constraint), so sorted by start they are
    # sorted by end too: the one that could meet a start is the first to end after it.
    ends = [occupied for _, occupied in taken]
    slots = []
    day, last_day = site.local_date(since), site.local_date(until)
    while day <= last_day:
        opening = calendar.opening(day)
        for local_start in rules.grid_starts(*opening, shortest) if opening else ():
            start = local_start.astimezone(UTC)
            if not since <= start < until:
                continue
            following = bisect_right(ends, start)
            next_busy = taken[following][0] if following < len(taken) else None
            fits = tuple(modality for modality, duration in durations.items()
                         if local_start + duration <= opening[1]
                         and (next_busy is None or start + duration + turnover <= next_busy))
            if fits:
                slots.append(FreeSlot(chair=chair, start=start, end=start + min(durations[m] for m in fits),
                                      treatments=fits))
        day += timedelta(days=1)
    return slots


def slot_resource(slot: FreeSlot) -> Slot:
    return Slot(id=ids.slot_id(slot.chair.pk, slot.start), schedule={"reference": f"Schedule/{slot.chair.pk}"},
                status=FREE, start=slot.start, end=slot.end,
                serviceType=[treatment_concept(modality) for modality in slot.treatments])


class SlotReadView(FhirView):
    """A Slot by id, while it is still free (a booked, past or closed time is not a Slot: 404)."""

    def get(self, request, resource_id: str):
        try:
            chair_id, start = ids.parse_slot_id(resource_id)
        except FhirError:
            raise FhirError.not_found(f"Slot/{resource_id} is not a Slot id of this server.") from None
        chair = scheduled_chairs().filter(pk=chair_id).first()
        found = [slot for slot in free_slots([chair], since=start, until=start + timedelta(minutes=1))
                 if slot.start == start] if chair is not None else []
        if not found:
            raise FhirError.not_found(f"Slot/{resource_id} is not free (booked, past, or outside the site's hours).")
        return fhir_response(slot_resource(found[0]))


class SlotSearchView(FhirView):
    def get(self, request):
        params.check_params(request, SEARCH_PARAMS)
        chairs = _chairs_asked(request)
        status = params.one(request, "status")
        for value in ([status] if status else []):
            asked = {text.strip() for text in value.split(",")}
            if not asked <= SLOT_STATUSES:
                raise FhirError.invalid(f"status: “{value}” is not a Slot status.", expression=["status"])
            if asked != {FREE}:
                raise FhirError.not_supported("Only free Slots are published (status=free): a chair's busy time "
                                              "is its Appointments.", expression=["status"])
        treatments = None
        for value in params.values(request, "service-type"):
            asked = modalities_asked(value, "service-type")
            treatments = asked if treatments is None else treatments & asked
        since, until = _span(request, chairs)
        offset, count = paging(request)
        slots = free_slots(chairs, since=since, until=until, treatments=treatments)
        page = [slot_resource(slot) for slot in slots[offset:offset + count]]
        return fhir_response(searchset(request, resources=page, total=len(slots), offset=offset, count=count))


def _chairs_asked(request) -> list[Chair]:
    """The chairs of the ``schedule`` parameter (required; a comma is OR); unknown ones match nothing."""
    asked = params.values(request, "schedule")
    if not asked:
        raise FhirError.invalid("schedule is required: the chair's Schedule, e.g. schedule=Schedule/3 "
                                "(GET Schedule lists them).", expression=["schedule"])
    wanted = None
    for value in asked:
        found = {ids.number_id(ids.parse_reference(text.strip(), "Schedule", bare=True)) for text in value.split(",")}
        found.discard(None)
        wanted = found if wanted is None else wanted & found
    if len(wanted) > MAX_SCHEDULES:
        raise FhirError.invalid(f"Ask for at most {MAX_SCHEDULES} schedules at once.", expression=["schedule"])
    return list(scheduled_chairs().filter(pk__in=wanted))


def _span(request, chairs: list[Chair]) -> tuple[datetime, datetime]:
    """[since, until) of the ``start`` values: a date without a zone is the site's (the first chair's)."""
    zone = chairs[0].location.zone if chairs else UTC
    since, until = params.date_range(request, "start", zone=zone)
    if since is None and until is None and chairs:
        # Seven days from today, on the site's calendar (a DST change makes one of them 23 or 25 hours long).
        today = timezone.now().astimezone(zone).date()
        since, until = chairs[0].location.day_bounds(today)[0], chairs[0].location.day_bounds(today + DEFAULT_SPAN)[0]
    since = since or timezone.now()
    until = until or since + DEFAULT_SPAN
    if until - since > MAX_SPAN:
        raise FhirError.invalid("start: ask for at most 31 days of Slots at once (e.g. start=ge2026-03-02&"
                                "start=lt2026-04-02).", expression=["start"])
    return since, until
