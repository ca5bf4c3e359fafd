"""Free slots for a course: the booking screen's search.

Every fact the search needs (hours, closures, chairs, sessions of those
chairs, of the patient and of the clinicians) is loaded up front in a fixed
number of queries; the grid is then walked in memory with the same rules
booking applies (scheduling/rules.py).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import F, Q
from django.utils import timezone

from clinic.roles import CLINICIAN
from protocols import due
from protocols.models import CourseStatus, Modality, TreatmentCourse
from scheduling.booking import rules
from scheduling.booking.selectors import due_window_for_booking, site_calendar, with_calendar
from scheduling.models import Chair, Location, Session

MAX_SEARCH_DAYS = 62


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    chair: Chair
    clinician: object | None
    within_due_window: bool


def _candidate_locations(course: TreatmentCourse, location: Location | None) -> list[Location]:
    # Hours and closures come in the same query as the sites (see selectors.with_calendar).
    locations = with_calendar(Location.objects.active())
    if location is not None:
        locations = locations.filter(pk=location.pk)
    elif course.modality == Modality.ESKETAMINE_NASAL:
        locations = locations.filter(rems_certified=True)
    return list(locations)


def find_slots(*, course: TreatmentCourse, location: Location | None = None, date_from: date | None = None,
               date_to: date | None = None, limit: int = 20, now: datetime | None = None,
               window: due.DueWindow | None = None, skip_days: set[date] = frozenset()) -> list[Slot]:
    """Free slots on a 15-minute grid, target day first, then the days nearest it.

    Without dates the search covers the course's next due window. A slot is
    free when its chair, the patient and a clinician (where the location has
    clinicians on its staff) all have room, on an open day, inside hours,
    and the course has no other session that day. REMS-certified sites only
    for esketamine.
    """
    now = now or timezone.now()
    if course.status != CourseStatus.ACTIVE or course.patient.is_archived:
        # Booking would refuse it, so the search offers nothing.
        return []
    # A series passes the window of a later occurrence; a plain search uses the next unbooked session's.
    window = window or due_window_for_booking(course)
    if window is None and (date_from is None or date_to is None):
        return []
    first_day = date_from or window.earliest
    last_day = date_to or window.latest
    last_day = min(last_day, first_day + timedelta(days=MAX_SEARCH_DAYS))
    locations = _candidate_locations(course, location)
    if not locations or first_day > last_day:
        return []
    if course.modality == Modality.ESKETAMINE_NASAL:
        locations = [site for site in locations if site.rems_certified]
    chairs = list(
        Chair.objects.filter(Chair.serving(course.modality), location__in=locations, active=True)
        .select_related("location").order_by("location__name", "name")
    )
    if not chairs:
        return []

    # The sites' clinicians as users, each with the site it staffs: the slots carry them without another query.
    User = get_user_model()
    staff = (User.objects.filter(is_active=True, groups__name=CLINICIAN, clinic_locations__in=locations)
             .annotate(staff_location_id=F("clinic_locations")).distinct())
    clinicians_by_location: dict[int, list[int]] = defaultdict(list)
    clinicians = {}
    for user in staff:
        clinicians_by_location[user.staff_location_id].append(user.pk)
        clinicians[user.pk] = user
    clinician_ids = set(clinicians)

    span_start = min(site.day_bounds(first_day)[0] for site in locations)
    span_end = max(site.day_bounds(last_day)[1] for site in locations)
    busy = Session.objects.standing().filter(start__lt=span_end, occupied_until__gt=span_start).filter(
        Q(chair__in=chairs) | Q(patient_id=course.patient_id) | Q(clinician_id__in=clinician_ids)
    ).values_list("chair_id", "patient_id", "clinician_id", "course_id", "local_date", "start", "end",
                  "occupied_until")
    chair_busy: dict[int, list] = defaultdict(list)
    patient_busy: list = []
    clinician_busy: dict[int, list] = defaultdict(list)
    course_days: set[date] = set()
    for chair_id, patient_id, clinician_id, course_id, day, start, end, occupied in busy:
        if chair_id is not None:
            chair_busy[chair_id].append((start, occupied))
        if patient_id == course.patient_id:
            patient_busy.append((start, occupied))
        if clinician_id in clinician_ids:
            clinician_busy[clinician_id].append((start, end))
        if course_id == course.pk:
            course_days.add(day)

    # Sorted once, so each grid start looks only at the intervals near it (a week's search walks
    # thousands of starts against every chair's and clinician's week).
    chair_busy = {chair_id: _Intervals(spans) for chair_id, spans in chair_busy.items()}
    clinician_busy = {clinician_id: _Intervals(spans) for clinician_id, spans in clinician_busy.items()}
    patient_busy = _Intervals(patient_busy)
    no_intervals = _Intervals([])

    duration = timedelta(minutes=course.protocol.chair_minutes)
    calendars = {site.pk: site_calendar(site) for site in locations}
    chairs_by_location: dict[int, list[Chair]] = defaultdict(list)
    for chair in chairs:
        chairs_by_location[chair.location_id].append(chair)

    def in_window(day: date) -> bool:
        return window is not None and window.earliest <= day <= window.latest

    days = [first_day + timedelta(days=offset) for offset in range((last_day - first_day).days + 1)]
    target = window.target if window is not None else first_day
    days.sort(key=lambda day: (not in_window(day), abs((day - target).days), day))

    slots: list[Slot] = []
    for day in days:
        if day in course_days or day in skip_days:
            continue
        for site in locations:
            opening = calendars[site.pk].opening(day)
            if opening is None:
                continue
            turnover = timedelta(minutes=site.turnover_minutes)
            for local_start in rules.grid_starts(opening[0], opening[1], duration):
                start = local_start.astimezone(UTC)
                if start < now:
                    continue
                end, occupied = start + duration, start + duration + turnover
                if patient_busy.overlap(start, occupied):
                    continue
                clinician_id = _clinician_with_room(
                    clinicians_by_location.get(site.pk, []), clinician_busy, start, end,
                    site.max_in_treatment_per_clinician,
                )
                if clinician_id is False:
                    continue
                for chair in chairs_by_location[site.pk]:
                    if chair_busy.get(chair.pk, no_intervals).overlap(start, occupied):
                        continue
                    slots.append(Slot(start=start, end=end, chair=chair, clinician=clinician_id,
                                      within_due_window=in_window(day)))
                    if len(slots) >= limit:
                        return _with_clinicians(slots, clinicians)
    return _with_clinicians(slots, clinicians)


def _clinician_with_room(candidates: list[int], busy: dict[int, _Intervals], start: datetime, end: datetime,
                         limit: int) -> int | None | bool:
    """The least-loaded clinician with room (None when the site has no clinicians; False when all are full)."""
    if not candidates:
        return None
    loads = [(rules.peak_concurrency(busy[pk].near(start, end) if pk in busy else (), start, end), pk)
             for pk in candidates]
    load, pk = min(loads)
    return pk if load < limit else False


class _Intervals:
    """Busy intervals sorted by start, so those near a time are found by bisection, not by reading all."""

    def __init__(self, intervals: list[tuple[datetime, datetime]]) -> None:
        self.intervals = sorted(intervals)
        self.starts = [start for start, _ in self.intervals]
        self.longest = max((end - start for start, end in self.intervals), default=timedelta(0))

    def near(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Every interval that may overlap [start, end): no interval is longer than ``longest``, so one
        that ends after ``start`` began after ``start - longest``."""
        return self.intervals[bisect_right(self.starts, start - self.longest):bisect_left(self.starts, end)]

    def overlap(self, start: datetime, end: datetime) -> bool:
        return any(rules.overlaps(start, end, other_start, other_end) for other_start, other_end
                   in self.near(start, end))


def _with_clinicians(slots: list[Slot], users: dict[int, object]) -> list[Slot]:
    return [Slot(start=slot.start, end=slot.end, chair=slot.chair, clinician=users.get(slot.clinician),
                 within_due_window=slot.within_due_window) for slot in slots]
