"""What the sweep knows of a course: its due window, timing and latest session.

Read in one statement for any number of courses.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

from django.conf import settings
from django.db import connection
from django.utils import timezone

from clinic.rows import attach_related, builder, columns, literals
from patients.models import Patient
from protocols import due
from protocols.models import CourseStatus, Protocol, TreatmentCourse
from protocols.selectors import course_outlooks, shown_next_due, shown_timing
from scheduling.models import (
    RELEASED_STATUSES,
    UPCOMING_STATUSES,
    Location,
    Session,
    SessionStatus,
)


def due_soon_days() -> int:
    """How many days before a window opens an unbooked course is flagged (setting ``WORKLIST_DUE_SOON_DAYS``)."""
    return getattr(settings, "WORKLIST_DUE_SOON_DAYS", 3)


def day_text(value: date) -> str:
    return f"{value:%a %b} {value.day}"


# --- the facts ---------------------------------------------------------------------------------------


@dataclass
class CourseView:
    """One active course as the sweep sees it. Its answers are computed once each: the items, the
    reasons for closing and the outreach all ask them, for every active course."""

    course: TreatmentCourse
    today: date  # the local date at the course's location
    location: Location | None
    outlook: due.CourseOutlook
    last_kept: dict | None  # the latest session that was not cancelled (id, status, local_date)
    upcoming: dict | None  # the next booked or confirmed session (id, local_date)

    @cached_property
    def timing(self) -> str | None:
        return shown_timing(self.course, self.outlook)

    @cached_property
    def window(self) -> due.DueWindow | None:
        return shown_next_due(self.course, self.outlook)

    @cached_property
    def booked(self) -> bool:
        """The engine's view: the next session has a booking (the k-th booked date fills the k-th row)."""
        return bool(self.outlook.plan) and self.outlook.plan[0].booked is not None

    @cached_property
    def due_unbooked(self) -> bool:
        """Nothing booked and the window opens within ``due_soon_days`` (or is open and not yet past)."""
        window = self.window
        return (window is not None and not self.booked and self.timing in (due.Timing.DUE, due.Timing.ON_TRACK)
                and window.earliest <= self.today + timedelta(days=due_soon_days()))

    def patient_fact(self, name: str) -> bool:
        """``is_rems_enrolled``, ``can_receive_texts`` or ``is_archived`` of the course's patient (the sweep
        loads only the columns these read, see ``SWEEP_PATIENT_FIELDS``)."""
        return getattr(self.course.patient, name)

    @cached_property
    def wants_outreach(self) -> bool:
        """Due (or overdue) and nothing booked: the patient may be texted to call. A lapsed course waits
        for a clinician's review instead."""
        return self.due_unbooked or (self.timing == due.Timing.OVERDUE and not self.booked)


def course_location(course_id: int) -> Location | None:
    """Where the course was last expected: the location of its latest session that was not cancelled."""
    session = (Session.objects.filter(course_id=course_id).exclude(status=SessionStatus.CANCELLED)
               .select_related("location").order_by("-start", "-id").first())
    return session.location if session else None


def course_view(course: TreatmentCourse, *, now: datetime) -> CourseView:
    """One course's view (for a single send: not for sweeps)."""
    location = course_location(course.pk)
    today = location.local_date(now) if location else timezone.localdate(now)
    outlook = course_outlooks([course], today)[course.pk]
    return CourseView(course=course, today=today, location=location, outlook=outlook, last_kept=None, upcoming=None)


# What the sweep reads of a course: its facts, timing and flags.
SWEEP_COURSE_FIELDS = (
    "id", "patient_id", "protocol_id", "modality", "start_date", "status", "maintenance_frequency",
    "override_reason", "restart_after_completed", "restart_phase_index", "restart_on",
)
# And of its patient, the columns of its ``is_rems_enrolled``, ``can_receive_texts`` and ``is_archived``.
SWEEP_PATIENT_FIELDS = ("id", "rems_enrolled_on", "rems_patient_id", "sms_consent", "sms_opted_out_at", "phone",
                        "archived_at")


# A session's status as a small number, so its latest row can travel in an integer array (below).
_STATUSES = tuple(SessionStatus.values)
_EPOCH = date(2000, 1, 1)


def _latest(packed: list[int] | None, *, status: bool) -> dict | None:
    """One packed session of the sweep's query as ``{"id", ["status",] "local_date", "location_id"}``."""
    if packed is None:
        return None
    if status:
        _, session_id, code, day, location_id = packed
    else:
        _, session_id, day, location_id = packed
    found = {"id": session_id, "local_date": _EPOCH + timedelta(days=day), "location_id": location_id or None}
    if status:
        found["status"] = _STATUSES[code]
    return found


def swept_sql(*, some: bool) -> str:
    # Written in SQL and shaped like the sweep's raw-SQL floor: courses joined to their sessions, grouped
    # by course alone, then joined to the course and patient rows. Built with the ORM it grouped by every
    # selected expression and cost twice the floor.
    # The latest session, and the next upcoming one, are each the max (min) of an integer array that
    # starts with the sort key (start in microseconds, then id) and carries the columns after it: a plain
    # aggregate, where an ordered one sorts every course's sessions again.
    status_code = " ".join(f"WHEN '{value}' THEN {code}" for code, value in enumerate(_STATUSES))
    key = "(extract(epoch FROM s.start) * 1000000)::bigint, s.id"
    day = f"s.local_date - DATE '{_EPOCH.isoformat()}'"
    discharged = f"'{SessionStatus.DISCHARGED}'"
    return f"""
        SELECT {columns("c", SWEEP_COURSE_FIELDS)}, {columns("p", SWEEP_PATIENT_FIELDS)},
               f.done, f.booked, f.last, f.coming
        FROM (
            SELECT c.id,
                   array_agg(s.local_date ORDER BY s.start) FILTER (WHERE s.status = {discharged}) AS done,
                   array_agg(s.local_date ORDER BY s.start)
                       FILTER (WHERE s.status NOT IN {literals(RELEASED_STATUSES)} AND s.status <> {discharged})
                       AS booked,
                   max(ARRAY[{key}, CASE s.status {status_code} END, {day}, coalesce(s.location_id, 0)])
                       FILTER (WHERE s.id IS NOT NULL) AS last,
                   min(ARRAY[{key}, {day}, coalesce(s.location_id, 0)])
                       FILTER (WHERE s.status IN {literals(UPCOMING_STATUSES)} AND s.start >= %(now)s) AS coming
            FROM {TreatmentCourse._meta.db_table} c
            LEFT JOIN {Session._meta.db_table} s ON s.course_id = c.id AND s.status <> '{SessionStatus.CANCELLED}'
            WHERE c.status = '{CourseStatus.ACTIVE}' {"AND c.id = ANY(%(ids)s)" if some else ""}
            GROUP BY c.id
        ) f
        JOIN {TreatmentCourse._meta.db_table} c ON c.id = f.id
        JOIN {Patient._meta.db_table} p ON p.id = c.patient_id
        ORDER BY c.id"""


def swept_courses(ids: list[int] | None, now: datetime) -> list[tuple]:
    """Every active course (or those of ``ids``) with what the sweep needs of its sessions, in one query.

    Each is ``(course, (completed dates, booked dates), last kept, upcoming)``: the dates as
    ``selectors.session_dates_by_course`` gives them; the latest session that was not cancelled
    (``{"id", "status", "local_date", "location_id"}``); the next booked or confirmed one from ``now``
    (``{"id", "local_date", "location_id"}``); None where there is none. The course holds only
    ``SWEEP_COURSE_FIELDS``, and its patient only ``SWEEP_PATIENT_FIELDS``.
    """
    with connection.cursor() as cursor:
        cursor.execute(swept_sql(some=ids is not None), {"now": now, "ids": ids})
        rows = cursor.fetchall()
    course_of, patient_of = builder(TreatmentCourse, SWEEP_COURSE_FIELDS), builder(Patient, SWEEP_PATIENT_FIELDS)
    width, patient_width = len(SWEEP_COURSE_FIELDS), len(SWEEP_PATIENT_FIELDS)
    swept = []
    for row in rows:
        course = course_of(row[:width])
        attach_related(course, "patient", patient_of(row[width:width + patient_width]))
        done, booked, last, coming = row[width + patient_width:]
        swept.append((course, (tuple(done or ()), tuple(booked or ())), _latest(last, status=True),
                      _latest(coming, status=False)))
    return swept


def course_views_for(ids: list[int] | None, now: datetime) -> list[CourseView]:
    # One query for the courses and their sessions, light course instances, and each protocol once (with
    # its phases) rather than a copy per course: building full rows, prefetching phases onto every
    # course's own protocol and reading courses and sessions apart were most of a sweep over thousands
    # of courses.
    swept = swept_courses(ids, now)
    if not swept:
        return []
    protocols = Protocol.objects.with_phases().in_bulk({course.protocol_id for course, *_ in swept})
    location_ids = {last["location_id"] for _, _, last, _ in swept if last and last["location_id"]}
    locations = {location.pk: location
                 for location in Location.objects.filter(pk__in=location_ids).select_related("reminder_policy")}
    # The engine needs each course's own local "today"; courses are batched per
    # date (one, or two around midnight).
    by_day: dict[date, list] = defaultdict(list)
    local_today = {location.pk: location.local_date(now) for location in locations.values()}
    default_today = timezone.localdate(now)
    dates = {}
    for entry in swept:
        course, course_dates, last, _ = entry
        dates[course.pk] = course_dates
        location_id = last["location_id"] if last else None
        by_day[local_today.get(location_id, default_today)].append(entry)
    views = []
    for today, group in by_day.items():
        # Only the next session of each plan: the items need no more.
        outlooks = course_outlooks([course for course, *_ in group], today, dates=dates, plan_rows=1,
                                   protocols=protocols)
        views.extend(CourseView(course=course, today=today, outlook=outlooks[course.pk], last_kept=last,
                                upcoming=upcoming,
                                location=locations.get(last["location_id"]) if last and last["location_id"] else None)
                     for course, _, last, upcoming in group)
    return views
