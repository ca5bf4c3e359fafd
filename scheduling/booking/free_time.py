"""Free chair time for a course, a week at a time: the slot grid's read.

The grid shows every start of a site's open day on its 15-minute grid, day by
day, with the chairs free there for the course. It is computed from intervals,
not by trying starts one by one: four queries load the site with its calendar,
its chairs, its clinicians and the week's standing sessions (of those chairs,
the patient and the clinicians); then, per day and chair, the times a session
may start are the open day minus what each busy interval rules out, and the
grid's starts are read off those ranges. The rules are booking's
(``services._check_slot``, ``_assign_clinician``): the chair and the patient
stay free for chair time plus turnover, a clinician of the site (or the moved
session's own) has room, the day is open and not a closure, the start is not
past, and the course has no other session that day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from clinic.errors import Invalid
from clinic.roles import CLINICIAN
from protocols import due
from protocols.models import Modality, TreatmentCourse
from scheduling.booking.rules import SiteCalendar
from scheduling.booking.selectors import due_window_for_booking, due_window_for_move, site_calendar, with_calendar
from scheduling.models import Chair, Location, Session

STEP = timedelta(minutes=15)
# Parts of the day a desk filters by, as [from, until) wall-clock times at the site.
PARTS = {"morning": (time(0), time(12)), "afternoon": (time(12), time(17)), "evening": (time(17), time.max)}

# A day's state in the grid: only an open day offers starts.
OPEN, CLOSED, COURSE_DAY, AFTER_NEXT = "open", "closed", "course_day", "after_next"

Range = tuple[datetime, datetime]  # closed [first, last] start instants


@dataclass(frozen=True)
class FreeCell:
    """One start on one day: the chairs free there, by name; the first is the one its button books."""

    start: datetime  # aware, in the site's zone
    chairs: tuple[Chair, ...]

    @property
    def chair(self) -> Chair:
        return self.chairs[0]

    @property
    def wall_clock(self) -> datetime:
        """The start as a naive wall-clock time at the site, as templates show and forms send it."""
        return self.start.replace(tzinfo=None)


@dataclass(frozen=True)
class GridDay:
    day: date
    state: str
    in_window: bool
    is_target: bool
    cells: dict[time, FreeCell] = field(default_factory=dict)  # wall-clock start -> its free chairs


@dataclass(frozen=True)
class FreeTimeWeek:
    """What the slot grid shows: one site's week of free chair time for a course."""

    course: TreatmentCourse
    moving: Session | None
    window: due.DueWindow | None
    location: Location | None
    locations: list[Location]
    chair: Chair | None  # the chair filter, None for every chair
    chairs: list[Chair]  # the site's chairs for the course's treatment
    part: str
    week_start: date
    today: date  # at the site
    days: list[GridDay]
    times: list[time]  # the grid's rows: every start of the week's open days, in the chosen part

    @property
    def rows(self) -> list[tuple[time, list[tuple[GridDay, FreeCell | None]]]]:
        """The table a template draws: each start time with, day by day, its free cell or None."""
        return [(clock, [(day, day.cells.get(clock)) for day in self.days]) for clock in self.times]

    @property
    def free_count(self) -> int:
        return sum(len(day.cells) for day in self.days)

    @property
    def previous_week(self) -> date:
        return self.week_start - timedelta(days=7)

    @property
    def next_week(self) -> date:
        return self.week_start + timedelta(days=7)


def booking_locations(course: TreatmentCourse) -> list[Location]:
    """Sites a course can be booked at, with their calendars (esketamine: REMS-certified sites only)."""
    sites = with_calendar(Location.objects.active()).order_by("name")
    if course.modality == Modality.ESKETAMINE_NASAL:
        sites = sites.filter(rems_certified=True)
    return list(sites)


def week_of_free_time(*, course: TreatmentCourse, moving: Session | None = None, week: date | None = None,
                      location_id: int | None = None, chair_id: int | None = None, part: str = "",
                      home: Location | None = None, now: datetime | None = None) -> FreeTimeWeek:
    """The week (Monday to Sunday) of free chair time at one site for ``course``'s next session, or for
    ``moving`` (left out of every conflict, judged by its own window).

    Without ``week`` it is the week of the window's target (today's, once the target has passed). The site
    is ``location_id``, else the moved session's, else the course's last, else ``home``, else the first.
    ``Invalid`` names the filter (``location``, ``chair``, ``part``) a value does not fit.
    """
    now = now or timezone.now()
    if part and part not in PARTS:
        raise Invalid("Choose morning, afternoon or evening.", fields={"part": ["Choose a part of the day."]})
    locations = booking_locations(course)
    location = _chosen_location(course, locations, location_id=location_id, moving=moving, home=home)
    if moving is not None:
        window, next_booked = due_window_for_move(moving)
    else:
        window, next_booked = due_window_for_booking(course), None
    chairs = [] if location is None else list(
        Chair.objects.filter(Chair.serving(course.modality), location=location, active=True).order_by("name"))
    chair = None
    if chair_id is not None:
        chair = next((candidate for candidate in chairs if candidate.pk == chair_id), None)
        if chair is None:
            raise Invalid("That chair is not one of this site's chairs for the treatment.",
                          fields={"chair": ["Choose a chair from the list."]})
    today = location.local_date(now) if location else timezone.localdate(now)
    chosen = week
    if week is None:
        week = max(window.target, today) if window else today
    week_start = week - timedelta(days=week.weekday())
    shown = [chair] if chair else chairs
    grid_days, rows = _week(course=course, location=location, chairs=shown, week_start=week_start, moving=moving,
                            window=window, next_booked=next_booked, now=now)
    if (chosen is None and window is not None and window.latest >= week_start + timedelta(days=7)
            and not any(day.cells for day in grid_days if day.in_window)):
        # Nothing left in the window this week (late in the evening on its last open day, say): the grid
        # opens on the next week rather than on a week of empty cells.
        week_start += timedelta(days=7)
        grid_days, rows = _week(course=course, location=location, chairs=shown, week_start=week_start,
                                moving=moving, window=window, next_booked=next_booked, now=now)
    if part:
        since, until = PARTS[part]
        rows = {row for row in rows if since <= row < until}
        grid_days = [GridDay(day=day.day, state=day.state, in_window=day.in_window, is_target=day.is_target,
                             cells={clock: cell for clock, cell in day.cells.items() if clock in rows})
                     for day in grid_days]
    return FreeTimeWeek(course=course, moving=moving, window=window, location=location, locations=locations,
                        chair=chair, chairs=chairs, part=part, week_start=week_start, today=today, days=grid_days,
                        times=sorted(rows))


def _week(*, course: TreatmentCourse, location: Location | None, chairs: list[Chair], week_start: date,
          moving: Session | None, window: due.DueWindow | None, next_booked: date | None,
          now: datetime) -> tuple[list[GridDay], set[time]]:
    days = [week_start + timedelta(days=offset) for offset in range(7)]
    if location is None:
        return [GridDay(day=day, state=CLOSED, in_window=_in(window, day), is_target=_target(window, day))
                for day in days], set()
    return _free_days(course=course, location=location, chairs=chairs, days=days, moving=moving, window=window,
                      next_booked=next_booked, now=now)


def _chosen_location(course: TreatmentCourse, locations: list[Location], *, location_id: int | None,
                     moving: Session | None, home: Location | None) -> Location | None:
    by_id = {site.pk: site for site in locations}
    if location_id is not None:
        if location_id not in by_id:
            raise Invalid("That site does not offer this treatment.", fields={"location": ["Choose a site."]})
        return by_id[location_id]
    candidates = [moving.location_id if moving is not None else None,
                  Session.objects.filter(course=course, location__isnull=False).order_by("-start")
                  .values_list("location_id", flat=True).first() if moving is None else None,
                  home.pk if home is not None else None]
    return next((by_id[pk] for pk in candidates if pk in by_id), locations[0] if locations else None)


def _in(window: due.DueWindow | None, day: date) -> bool:
    return window is not None and window.earliest <= day <= window.latest


def _target(window: due.DueWindow | None, day: date) -> bool:
    return window is not None and window.target == day


def _free_days(*, course: TreatmentCourse, location: Location, chairs: list[Chair], days: list[date],
               moving: Session | None, window: due.DueWindow | None, next_booked: date | None,
               now: datetime) -> tuple[list[GridDay], set[time]]:
    calendar: SiteCalendar = site_calendar(location)
    duration = timedelta(minutes=course.protocol.chair_minutes)
    held = duration + timedelta(minutes=location.turnover_minutes)  # chair and patient time a start needs
    clinician_ids = _clinicians_counted(location, moving)
    span_start, span_end = location.day_bounds(days[0])[0], location.day_bounds(days[-1])[1]
    busy = (Session.objects.standing().filter(start__lt=span_end, occupied_until__gt=span_start)
            .filter(Q(chair__in=chairs) | Q(patient_id=course.patient_id) | Q(clinician_id__in=clinician_ids)))
    if moving is not None:
        busy = busy.exclude(pk=moving.pk)
    busy = (busy.values_list("chair_id", "patient_id", "clinician_id", "course_id", "local_date", "start", "end",
                         "occupied_until"))
    chair_busy: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    patient_busy: list[tuple[datetime, datetime]] = []
    clinician_busy: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    course_days: set[date] = set()
    for chair_id, patient_id, clinician_id, course_id, day, start, end, occupied in busy:
        chair_busy[chair_id].append((start, occupied))
        if patient_id == course.patient_id:
            patient_busy.append((start, occupied))
        if clinician_id in clinician_ids:
            clinician_busy[clinician_id].append((start, end))
        if course_id == course.pk:
            course_days.add(day)
    # A start is refused when [start, start + held) meets a busy chair or patient interval (start, until),
    # i.e. for every start in the open range (start - held, until).
    patient_blocks = [(start - held, until) for start, until in patient_busy]
    # ... and when every counted clinician is full somewhere in [start, start + duration).
    clinicians_full = _everyone_full([_full_regions(clinician_busy.get(pk, []), location.max_in_treatment_per_clinician)
                                      for pk in clinician_ids], duration) if clinician_ids else []
    grid_days, rows = [], set()
    for day in days:
        opening = calendar.opening(day)
        state = (CLOSED if opening is None else COURSE_DAY if day in course_days
                 else AFTER_NEXT if next_booked is not None and day >= next_booked else OPEN)
        cells: dict[time, FreeCell] = {}
        if opening is not None:
            opens, closes = opening
            starts = _grid(opens, [(opens, closes - duration)])
            rows.update(start.time() for start in starts)
            if state == OPEN:
                cells = _cells(opens, closes - duration, chairs, chair_busy, patient_blocks + clinicians_full,
                               held, now)
        grid_days.append(GridDay(day=day, state=state, in_window=_in(window, day), is_target=_target(window, day),
                                 cells=cells))
    return grid_days, rows


def _clinicians_counted(location: Location, moving: Session | None) -> list[int]:
    """Whose room a booking checks: the moved session's clinician, else the site's active clinicians."""
    if moving is not None and moving.clinician_id is not None:
        return [moving.clinician_id]
    return list(get_user_model().objects.filter(is_active=True, groups__name=CLINICIAN, clinic_locations=location)
                .values_list("pk", flat=True).distinct())


def _cells(opens: datetime, last_start: datetime, chairs: list[Chair], chair_busy: dict, shared_blocks: list,
           held: timedelta, now: datetime) -> dict[time, FreeCell]:
    """Each grid start of one open day with the chairs free there."""
    first = max(opens, now)
    if first > last_start:
        return {}
    open_range = _subtract([(first, last_start)], shared_blocks)
    free: dict[time, list[Chair]] = defaultdict(list)
    starts_at: dict[time, datetime] = {}
    for chair in chairs:
        blocks = [(start - held, until) for start, until in chair_busy.get(chair.pk, ())]
        for start in _grid(opens, _subtract(open_range, blocks)):
            free[start.time()].append(chair)
            starts_at[start.time()] = start
    return {clock: FreeCell(start=starts_at[clock], chairs=tuple(free[clock])) for clock in sorted(free)}


def _subtract(ranges: list[Range], blocks: Iterable[tuple[datetime, datetime]]) -> list[Range]:
    """Closed ranges of starts minus open intervals (lo, hi): a start at either end is still allowed."""
    for lo, hi in sorted(blocks):
        kept = []
        for first, last in ranges:
            if hi <= first or lo >= last:
                kept.append((first, last))
                continue
            if first <= lo:
                kept.append((first, lo))
            if hi <= last:
                kept.append((hi, last))
        ranges = kept
    return ranges


def _grid(opens: datetime, ranges: list[Range]) -> list[datetime]:
    """The starts on the 15-minute grid from opening that fall inside ``ranges``."""
    starts = []
    for first, last in ranges:
        steps = -((opens - first) // STEP)  # the first grid step at or after ``first``
        start = opens + steps * STEP
        while start <= last:
            starts.append(start)
            start += STEP
    return starts


def _full_regions(intervals: list[tuple[datetime, datetime]], limit: int) -> list[tuple[datetime, datetime]]:
    """Where a clinician has ``limit`` or more patients in treatment at once (``rules.peak_concurrency``'s
    reading: back to back is not overlap)."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals],
                    key=lambda event: (event[0], event[1]))
    regions, current, since = [], 0, None
    for instant, change in events:
        current += change
        if current >= limit and since is None:
            since = instant
        elif current < limit and since is not None:
            if instant > since:
                regions.append((since, instant))
            since = None
    return regions


def _everyone_full(regions_by_clinician: list[list[tuple[datetime, datetime]]],
                   duration: timedelta) -> list[tuple[datetime, datetime]]:
    """Open intervals of starts at which no counted clinician has room: a clinician is full for a start
    whose treatment [start, start + duration) meets one of their full regions, i.e. start in
    (region start - duration, region end); no one has room where all of those meet."""
    common: list[tuple[datetime, datetime]] | None = None
    for regions in regions_by_clinician:
        blocked = [(start - duration, end) for start, end in regions]
        if common is None:
            common = blocked
            continue
        common = [(max(lo, other_lo), min(hi, other_hi)) for lo, hi in common for other_lo, other_hi in blocked
                  if max(lo, other_lo) < min(hi, other_hi)]
    return common or []
