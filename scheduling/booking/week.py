"""Reads of a week: one site's days by chairs, every site's days with counts, and the courses due on a day.

Times are wall-clock minutes of the site's day (0-1440), in 5-minute units, so a
page can lay a day out as a row of segments (sessions, free chair time, closed
time) whose widths add up to the same axis on every row of the week. Each read
is a fixed number of queries whatever the number of sessions or days.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model

from clinic.roles import CLINICIAN
from protocols import due
from protocols.models import CourseStatus, Modality, TreatmentCourse
from scheduling.booking.rules import SiteCalendar
from scheduling.booking.selectors import (
    due_window_for_booking,
    session_dates_by_course,
    sessions_for_lists,
    site_calendar,
    with_calendar,
)
from scheduling.models import UPCOMING_STATUSES, Chair, Location, Session

UNIT = 5  # minutes: the week's resolution, as the day board's
DAY_MINUTES = 24 * 60
DEFAULT_AXIS = (8 * 60, 18 * 60)  # a week with no opening at all still draws a working day


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_days(day: date) -> list[date]:
    """Monday to Sunday of ``day``'s week."""
    monday = monday_of(day)
    return [monday + timedelta(days=offset) for offset in range(7)]


def _minute(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _floor(minute: int, step: int = UNIT) -> int:
    return minute - minute % step


def _ceil(minute: int, step: int = UNIT) -> int:
    return -(-minute // step) * step


@dataclass(frozen=True)
class Segment:
    """A stretch of one chair's day: ``kind`` is session, busy (another clinician's session while filtered),
    free, past (free but gone) or closed; ``start``/``end`` are wall-clock minutes of the day."""

    kind: str
    start: int
    end: int
    session: Session | None = None
    movable: bool = False  # a booked or confirmed session still to come: it may be dragged

    @property
    def units(self) -> int:
        return max(1, (self.end - self.start) // UNIT)

    @property
    def minutes(self) -> int:
        return self.end - self.start

    @property
    def start_clock(self) -> str:
        return _clock(self.start)

    @property
    def end_clock(self) -> str:
        return _clock(self.end)

    @property
    def turnover_units(self) -> int:
        """The session's turnover at the end of its segment, in units (shaded, as on the day board)."""
        if self.session is None:
            return 0
        turnover = int((self.session.occupied_until - self.session.end).total_seconds() // 60)
        return min(self.units - 1, turnover // UNIT)

    @property
    def main_units(self) -> int:
        return self.units - self.turnover_units


@dataclass
class ChairDay:
    chair: Chair
    segments: list[Segment] = field(default_factory=list)

    @property
    def free_minutes(self) -> int:
        return sum(segment.minutes for segment in self.segments if segment.kind == "free")


@dataclass
class WeekDay:
    day: date
    opening: tuple[int, int] | None  # wall-clock minutes, None when closed
    closure_reason: str | None  # a closure's reason ("" for none given); None when not a closure
    is_today: bool
    is_past: bool
    chairs: list[ChairDay]
    booked: int  # standing sessions shown (the clinician's only, when filtered)

    @property
    def free_minutes(self) -> int:
        return sum(row.free_minutes for row in self.chairs)

    @property
    def free_hours(self) -> float:
        return round(self.free_minutes / 60, 1)

    @property
    def opening_words(self) -> str:
        return f"{_clock(self.opening[0])}–{_clock(self.opening[1])}" if self.opening else ""


@dataclass
class SiteWeek:
    location: Location
    days: list[WeekDay]
    axis: tuple[int, int]  # wall-clock minutes every row spans
    chairs: list[Chair]

    @property
    def units(self) -> int:
        return (self.axis[1] - self.axis[0]) // UNIT

    @property
    def hours(self) -> list[str]:
        """The axis's hours, one every 12 units, labelled (``08:00``) every hour up to a 12-hour day and every
        other hour beyond, so the labels still fit at 1024 pixels beside the side panel (else "")."""
        every = 1 if self.axis[1] - self.axis[0] <= 12 * 60 else 2
        return [_clock(minute) if (minute // 60) % every == 0 else ""
                for minute in range(self.axis[0], self.axis[1], 60)]


def _opening_minutes(calendar: SiteCalendar, day: date) -> tuple[int, int] | None:
    opening = calendar.opening(day)
    if opening is None:
        return None
    return _floor(_minute(opening[0])), _ceil(_minute(opening[1])) or DAY_MINUTES


def _session_minutes(location: Location, session: Session) -> tuple[int, int]:
    """The wall-clock minutes a session holds its chair (its time plus turnover), cut at midnight."""
    start = location.local(session.start)
    end = location.local(session.occupied_until)
    end_minute = _minute(end) if end.date() == start.date() else DAY_MINUTES
    return _floor(_minute(start)), max(_floor(_minute(start)) + UNIT, _ceil(end_minute))


def _axis(openings: list[tuple[int, int] | None], spans: list[tuple[int, int]]) -> tuple[int, int]:
    """From the hour before the earliest opening or session to the hour after the latest."""
    bounds = [opening for opening in openings if opening] + spans
    if not bounds:
        return DEFAULT_AXIS
    return _floor(min(start for start, _ in bounds), 60), min(DAY_MINUTES, _ceil(max(end for _, end in bounds), 60))


def _chair_day(chair: Chair, sessions: list[tuple[int, int, Session]], *, axis: tuple[int, int],
               opening: tuple[int, int] | None, past_until: int, clinician_id: int | None,
               now: datetime) -> ChairDay:
    """One chair's day as segments covering ``axis``: sessions where booked, else free, past or closed."""

    def kind_at(minute: int) -> str:
        if opening is None or not chair.active or not opening[0] <= minute < opening[1]:
            return "closed"
        return "past" if minute < past_until else "free"

    segments: list[Segment] = []
    cursor = axis[0]

    def fill(until: int) -> None:
        nonlocal cursor
        while cursor < until:  # one segment per run of the same kind
            kind = kind_at(cursor)
            end = cursor + UNIT
            while end < until and kind_at(end) == kind:
                end += UNIT
            segments.append(Segment(kind, cursor, end))
            cursor = end

    for start, end, session in sorted(sessions, key=lambda row: row[0]):
        start = max(start, cursor)  # two sessions never overlap on a chair; 5-minute rounding might
        if end <= start:
            continue
        fill(start)
        shown = clinician_id is None or session.clinician_id == clinician_id
        movable = shown and session.status in UPCOMING_STATUSES and session.start > now
        segments.append(Segment("session" if shown else "busy", start, end, session, movable))
        cursor = end
    fill(axis[1])
    return ChairDay(chair=chair, segments=segments)


def site_week(location: Location, day: date, *, now: datetime, clinician_id: int | None = None) -> SiteWeek:
    """``location``'s week around ``day``: each day's opening and each chair's sessions and free time.

    Two queries: the chairs, and the week's standing sessions (with patient,
    course, protocol, clinician); hours and closures come with ``location``
    (``locations_for_lists``: the closures' reasons are shown). With ``clinician_id``, other
    clinicians' sessions are shown only as busy chair time.
    """
    days = week_days(day)
    calendar = site_calendar(location)
    closures = {row.date: row.reason for row in location.closures.all()}
    sessions = list(sessions_for_lists(Session.objects.filter(location=location, local_date__range=(days[0], days[-1]))
                                       .standing().exclude(chair=None)).order_by("start"))
    used = {session.chair_id for session in sessions}
    chairs = [chair for chair in Chair.objects.filter(location=location).order_by("name")
              if chair.active or chair.pk in used]
    by_day: dict[date, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    spans = []
    for session in sessions:
        start, end = _session_minutes(location, session)
        by_day[session.local_date][session.chair_id].append((start, end, session))
        spans.append((start, end))
    openings = {one: _opening_minutes(calendar, one) for one in days}
    axis = _axis(list(openings.values()), spans)
    today, local_now = location.local_date(now), location.local(now)
    week = []
    for one in days:
        past_until = DAY_MINUTES if one < today else (_ceil(_minute(local_now)) if one == today else 0)
        rows = [_chair_day(chair, by_day[one][chair.pk], axis=axis, opening=openings[one], past_until=past_until,
                           clinician_id=clinician_id, now=now) for chair in chairs]
        shown = sum(1 for row in rows for segment in row.segments if segment.kind == "session")
        week.append(WeekDay(day=one, opening=openings[one],
                            closure_reason=closures.get(one) if one in calendar.closures else None,
                            is_today=one == today, is_past=one < today, chairs=rows, booked=shown))
    return SiteWeek(location=location, days=week, axis=axis, chairs=chairs)


# --- every site -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteDay:
    day: date
    open: bool
    booked: int
    free_minutes: int

    @property
    def free_hours(self) -> float:
        return round(self.free_minutes / 60, 1)


@dataclass
class SiteRow:
    location: Location
    days: list[SiteDay]


def sites_week(day: date, *, now: datetime, clinician_id: int | None = None) -> list[SiteRow]:
    """Every active site's week around ``day``: per day, booked sessions and free chair time still to come.

    Three queries: the sites with their calendars, the chairs in service, the
    week's standing sessions (as plain values). Free time is counted on chairs
    in service, within opening hours, from now on.
    """
    days = week_days(day)
    locations = list(with_calendar(Location.objects.active()).order_by("name"))
    chairs: dict[int, list[int]] = defaultdict(list)
    for chair_id, location_id in (Chair.objects.filter(location__in=locations, active=True)
                                  .values_list("id", "location_id")):
        chairs[location_id].append(chair_id)
    # A day's dates differ a little between zones; the local_date column is each session's own site's.
    rows = (Session.objects.filter(location__in=locations, local_date__range=(days[0], days[-1])).standing()
            .exclude(chair=None).values_list("location_id", "chair_id", "local_date", "start", "occupied_until",
                                             "clinician_id"))
    held: dict[tuple[int, date], list[tuple[int, datetime, datetime, int | None]]] = defaultdict(list)
    for location_id, chair_id, local_date, start, until, clinician in rows:
        held[(location_id, local_date)].append((chair_id, start, until, clinician))
    found = []
    for location in locations:
        calendar = site_calendar(location)
        site_days = []
        for one in days:
            sessions = held[(location.pk, one)]
            booked = sum(1 for *_, clinician in sessions if clinician_id is None or clinician == clinician_id)
            opening = calendar.opening(one)
            free = 0
            if opening is not None:
                start = max(opening[0], now)
                for chair_id in chairs[location.pk]:
                    if start >= opening[1]:
                        break
                    taken = sum(max(0.0, (min(until, opening[1]) - max(begin, start)).total_seconds())
                                for chair, begin, until, _ in sessions if chair == chair_id)
                    free += int(((opening[1] - start).total_seconds() - taken) // 60)
            site_days.append(SiteDay(day=one, open=opening is not None, booked=booked, free_minutes=free))
        found.append(SiteRow(location=location, days=site_days))
    return found


# --- who is due ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueCourse:
    course: TreatmentCourse
    window: due.DueWindow


def courses_due_on(day: date, *, chair: Chair) -> list[DueCourse]:
    """Active courses whose next session could be booked on ``chair`` on ``day``: due that day, of a
    treatment the chair (and its site) can give, with no session that day already.

    Three queries whatever the number of courses: the courses with patient and
    protocol, the protocols' phases, and every course's session dates.
    """
    courses = TreatmentCourse.objects.for_lists().filter(status=CourseStatus.ACTIVE, patient__archived_at=None)
    modalities = [modality for modality in Modality.values if chair.serves(modality)]
    if not chair.location.rems_certified:
        modalities = [modality for modality in modalities if modality != Modality.ESKETAMINE_NASAL]
    courses = list(courses.filter(modality__in=modalities))
    dates = session_dates_by_course(course.pk for course in courses)
    found = []
    for course in courses:
        completed, booked = dates[course.pk]
        if day in completed or day in booked:
            continue
        window = due_window_for_booking(course, dates=(completed, booked))
        if window is not None and window.earliest <= day <= window.latest:
            found.append(DueCourse(course=course, window=window))
    found.sort(key=lambda row: (abs((row.window.target - day).days), row.course.patient.last_name,
                                row.course.patient.first_name, row.course.pk))
    return found


def clinicians() -> list:
    """Active users with the clinician role, by name: the choices of the week's clinician filter."""
    return list(get_user_model().objects.filter(is_active=True, groups__name=CLINICIAN).distinct()
                .order_by("last_name", "first_name", "pk"))
