"""Reads of sites and sessions: calendars, session dates for the due engine, due windows, the day board."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, time

from django.contrib.auth import get_user_model
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Prefetch, QuerySet

from clinic.roles import CLINICIAN
from protocols import due
from protocols.models import TreatmentCourse
from scheduling.booking.rules import SiteCalendar
from scheduling.models import Chair, Closure, Location, OpeningHours, Session, SessionStatus

# A course's session dates as the due engine takes them: (completed, booked), each in start order.
CourseDates = tuple[tuple[date, ...], tuple[date, ...]]


def with_calendar(locations: QuerySet[Location]) -> QuerySet[Location]:
    """``locations`` with their opening hours and closures folded into their own rows, as arrays.

    ``site_calendar`` then needs no query of its own: the availability search and booking read a
    site's calendar in the same query as the site, where a prefetch would cost two more.
    """
    hours = OpeningHours.objects.filter(location=OuterRef("pk")).order_by("weekday")
    return locations.annotate(
        calendar_weekdays=ArraySubquery(hours.values("weekday")),
        calendar_opens=ArraySubquery(hours.values("opens")),
        calendar_closes=ArraySubquery(hours.values("closes")),
        calendar_closures=ArraySubquery(Closure.objects.filter(location=OuterRef("pk")).values("date")),
    )


def site_calendar(location: Location) -> SiteCalendar:
    """Opening hours and closures of ``location``.

    Uses the arrays of ``with_calendar`` when present, else prefetched ``hours``/``closures``
    (else two queries).
    """
    if hasattr(location, "calendar_weekdays"):  # annotated by with_calendar
        return calendar_of(location, weekdays=location.calendar_weekdays, opens=location.calendar_opens,
                           closes=location.calendar_closes, closures=location.calendar_closures)
    return SiteCalendar(
        zone=location.zone,
        hours={row.weekday: (row.opens, row.closes) for row in location.hours.all()},
        closures=frozenset(row.date for row in location.closures.all()),
    )


def calendar_of(location: Location, *, weekdays: Sequence[int], opens: Sequence[time], closes: Sequence[time],
                closures: Iterable[date]) -> SiteCalendar:
    """``location``'s calendar from its opening hours as parallel columns (weekday, opens, closes) and its closures."""
    return SiteCalendar(
        zone=location.zone,
        hours={weekday: (start, end) for weekday, start, end in zip(weekdays, opens, closes, strict=True)},
        closures=frozenset(closures),
    )


def clinicians_at(location: Location) -> list:
    """Active users with the clinician role on ``location``'s staff."""
    return list(
        location.staff.filter(is_active=True, groups__name=CLINICIAN).order_by("pk").distinct()
    )


def course_dates(course_id: int, *, exclude_session_id: int | None = None) -> CourseDates:
    """(completed dates, booked dates) of one course, optionally leaving one session out (a move)."""
    return session_dates_by_course([course_id], exclude_session_id=exclude_session_id)[course_id]


def session_dates_by_course(
    course_ids: Iterable[int], *, exclude_session_id: int | None = None
) -> dict[int, CourseDates]:
    """``{course id: (completed dates, booked dates)}`` for many courses in one query.

    Completed = discharged. Booked = booked, confirmed, or under way today
    (checked in / in treatment): such a session is not complete yet, but it
    holds its place in the plan.
    """
    ids = list(course_ids)
    found: dict[int, tuple[list[date], list[date]]] = {course_id: ([], []) for course_id in ids}
    rows = (Session.objects.filter(course_id__in=ids).standing().exclude(pk=exclude_session_id)
            .order_by("course_id", "start").values_list("course_id", "status", "local_date"))
    for course_id, status, day in rows:
        found[course_id][0 if status == SessionStatus.DISCHARGED else 1].append(day)
    return {course_id: (tuple(done), tuple(booked)) for course_id, (done, booked) in found.items()}


def booked_session_ids_by_course(course_ids: Iterable[int]) -> dict[int, dict[date, int]]:
    """``{course id: {local date: session id}}`` of sessions booked and not yet given."""
    found: dict[int, dict[date, int]] = defaultdict(dict)
    rows = (Session.objects.filter(course_id__in=list(course_ids)).standing()
            .exclude(status=SessionStatus.DISCHARGED).values_list("course_id", "local_date", "id"))
    for course_id, day, session_id in rows:
        found[course_id][day] = session_id
    return dict(found)


def locations_for_lists() -> QuerySet[Location]:
    return Location.objects.prefetch_related("hours", "closures")


def sessions_for_lists(queryset: QuerySet[Session] | None = None) -> QuerySet[Session]:
    """Sessions with everything a list or board shows, in a fixed number of queries."""
    queryset = queryset if queryset is not None else Session.objects.all()
    return queryset.select_related("patient", "course__protocol", "clinician", "chair", "location")


def day_board(location: Location, day: date) -> dict:
    """The chairs of ``location`` and its sessions on local ``day`` (three queries)."""
    day_start, day_end = location.day_bounds(day)
    chairs = list(Chair.objects.filter(location=location).order_by("name"))
    sessions = list(
        sessions_for_lists(Session.objects.filter(location=location, start__gte=day_start, start__lt=day_end))
        .order_by("start")
    )
    return {"location": location, "date": day, "chairs": chairs, "sessions": sessions}


def staff_user_queryset():
    User = get_user_model()
    return User.objects.filter(is_active=True).prefetch_related(
        Prefetch("clinic_locations", queryset=Location.objects.only("id", "name"))
    )


class SessionSourceForCourses:
    """The protocols app's view of sessions (see ``protocols.selectors.register_session_source``)."""

    def dates(self, course_ids: Iterable[int]) -> dict[int, CourseDates]:
        return session_dates_by_course(course_ids)

    def booked_ids(self, course_ids: Iterable[int]) -> dict[int, dict[date, int]]:
        return booked_session_ids_by_course(course_ids)


def due_window_for_booking(course: TreatmentCourse, *, dates: CourseDates | None = None) -> due.DueWindow | None:
    """The window of the session a new booking would be: the first one not yet booked.

    ``dates`` are the course's (completed, booked) dates where the caller has read them with the course
    (``fast_reads.course_for_booking``); without them they are read here (``course_dates``). Booked
    sessions are treated as if given on their dates, so the window chains from the last booking exactly
    as the plan projects it.
    """
    completed, booked = dates if dates is not None else course_dates(course.pk)
    facts = course.facts(completed=tuple(completed) + tuple(booked), booked=())
    return due.next_due(course.protocol.rule(), facts)


def due_window_for_move(session: Session, *,
                        dates: CourseDates | None = None) -> tuple[due.DueWindow | None, date | None]:
    """The window of a session being moved, and the date of the next session booked after it.

    ``dates`` are the course's (completed, booked) dates without the session being moved, where the caller
    has read them (``fast_reads.course_for_booking(..., exclude_session_id=session.pk)``); without them they
    are read here. The window chains from the sessions before it (given or booked), exactly as the plan
    projects that session, so moving session 2 of a booked series is judged by session 2's window, not by
    the next unbooked session's.
    """
    course = session.course
    completed, booked = dates if dates is not None else course_dates(course.pk, exclude_session_id=session.pk)
    before = sorted(day for day in (*completed, *booked) if day < session.local_date)
    after = sorted(day for day in (*completed, *booked) if day > session.local_date)
    window = due.next_due(course.protocol.rule(), course.facts(completed=tuple(before)))
    return window, (after[0] if after else None)
