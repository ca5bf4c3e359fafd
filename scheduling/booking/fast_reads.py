"""What a booking reads before it writes, one SQL statement for each step, written by hand.

Booking is the front desk's hot path, and sixteen desks book at once. Built
with the ORM, these three reads cost a booking more Python (composing and
compiling the querysets) and more PostgreSQL planning than everything else it
does (docs/PERFORMANCE.md). Each statement here is fixed text with
parameters, and each answers with the same model instances and facts the
querysets gave, so ``services`` checks them exactly as before.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection

from clinic.roles import CLINICIAN
from clinic.rows import RowModel, literals
from patients.models import Patient
from protocols.models import Phase, Protocol, TreatmentCourse
from scheduling.models import (
    RELEASED_STATUSES,
    Chair,
    Closure,
    Location,
    OpeningHours,
    ReminderPolicy,
    Session,
    SessionStatus,
)

SESSIONS = Session._meta.db_table
# Sessions that hold their slot: the condition of the exclusion constraints and partial indexes.
STANDING = f"s.status NOT IN {literals(RELEASED_STATUSES)}"

COURSE, PATIENT, PROTOCOL, PHASE = RowModel(TreatmentCourse), RowModel(Patient), RowModel(Protocol), RowModel(Phase)
CHAIR, LOCATION, POLICY = RowModel(Chair), RowModel(Location), RowModel(ReminderPolicy)


def _user() -> RowModel:
    return RowModel.of(get_user_model())


def _fetch(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@cache
def _course_sql() -> str:
    phase_columns = PHASE.columns("ph")
    return f"""
        SELECT {COURSE.columns("c")}, {PATIENT.columns("p")}, {PROTOCOL.columns("pr")},
               ARRAY(SELECT s.local_date FROM {SESSIONS} s
                     WHERE s.course_id = c.id AND s.status = '{SessionStatus.DISCHARGED}' ORDER BY s.start),
               ARRAY(SELECT s.local_date FROM {SESSIONS} s
                     WHERE s.course_id = c.id AND {STANDING} AND s.status <> '{SessionStatus.DISCHARGED}'
                     ORDER BY s.start),
               (SELECT json_agg(json_build_array({phase_columns}) ORDER BY ph."order")
                FROM {Phase._meta.db_table} ph WHERE ph.protocol_id = c.protocol_id)
        FROM {TreatmentCourse._meta.db_table} c
        JOIN {Patient._meta.db_table} p ON p.id = c.patient_id
        JOIN {Protocol._meta.db_table} pr ON pr.id = c.protocol_id
        WHERE c.id = %(course)s"""


def course_for_booking(course_id: int) -> TreatmentCourse:
    """The course with its patient and its protocol's phases, and the dates of its sessions in start order:
    ``completed_dates`` (discharged) and ``booked_dates`` (standing, not yet discharged)."""
    rows = _fetch(_course_sql(), {"course": course_id})
    if not rows:
        raise TreatmentCourse.DoesNotExist(f"No treatment course {course_id}.")
    row = rows[0]
    course, at = COURSE.take(row, 0)
    course.patient, at = PATIENT.take(row, at)
    course.protocol, at = PROTOCOL.take(row, at)
    completed, booked, phases = row[at:]
    course.completed_dates, course.booked_dates = list(completed), list(booked)
    if isinstance(phases, str):  # json, as the driver hands it over undecoded
        phases = json.loads(phases)
    _set_prefetched(course.protocol, "phases", [PHASE.build(values) for values in phases or ()])
    return course


CHAIR_SQL = f"""
    SELECT {CHAIR.columns("ch")}, {LOCATION.columns("l")}
    FROM {Chair._meta.db_table} ch JOIN {Location._meta.db_table} l ON l.id = ch.location_id
    WHERE ch.id = %(chair)s"""


def chair_with_location(chair_id: int) -> Chair:
    """The chair with its location, as ``select_related("location")`` gives it."""
    rows = _fetch(CHAIR_SQL, {"chair": chair_id})
    if not rows:
        raise Chair.DoesNotExist(f"No chair {chair_id}.")
    chair, at = CHAIR.take(rows[0], 0)
    location, _ = LOCATION.take(rows[0], at)
    Chair.location.field.set_cached_value(chair, location)
    return chair


def _set_prefetched(instance, name: str, objects: list) -> None:
    """Make ``instance.<name>.all()`` answer ``objects`` without a query, as ``prefetch_related`` leaves it."""
    queryset = getattr(instance, name).all()
    queryset._result_cache, queryset._prefetch_done = objects, True
    instance._prefetched_objects_cache = {**getattr(instance, "_prefetched_objects_cache", {}), name: queryset}


def _hours_column(column: str) -> str:
    return (f"ARRAY(SELECT h.{column} FROM {OpeningHours._meta.db_table} h "
            f"WHERE h.location_id = l.id ORDER BY h.weekday)")


@cache
def _slot_sql() -> str:
    others = f"FROM {SESSIONS} s WHERE {STANDING} AND s.id IS DISTINCT FROM %(exclude)s"
    overlapping = "s.start < %(until)s AND s.occupied_until > %(start)s"
    return f"""
        SELECT {LOCATION.columns("l")}, {POLICY.columns("rp")},
               {_hours_column("weekday")}, {_hours_column("opens")}, {_hours_column("closes")},
               ARRAY(SELECT d.date FROM {Closure._meta.db_table} d WHERE d.location_id = l.id),
               EXISTS(SELECT 1 {others} AND s.chair_id = %(chair)s AND {overlapping}),
               EXISTS(SELECT 1 {others} AND s.patient_id = %(patient)s AND {overlapping}),
               EXISTS(SELECT 1 {others} AND s.course_id = %(course)s AND s.local_date = %(day)s)
        FROM {Location._meta.db_table} l
        LEFT JOIN {ReminderPolicy._meta.db_table} rp ON rp.location_id = l.id
        WHERE l.id = %(location)s"""


def slot_facts(*, course: TreatmentCourse, chair: Chair, start: datetime, occupied_until: datetime,
               local_day: date, exclude_session_id: int | None) -> Location:
    """The chair's location with its calendar (as ``selectors.with_calendar`` gives it) and reminder policy,
    and whether the chair, the patient or the course's day is taken over [start, occupied_until)
    (``chair_taken``, ``patient_taken``, ``day_taken``), leaving out the session being moved."""
    row = _fetch(_slot_sql(), {
        "location": chair.location_id, "chair": chair.pk, "patient": course.patient_id, "course": course.pk,
        "start": start, "until": occupied_until, "day": local_day, "exclude": exclude_session_id,
    })[0]
    location, at = LOCATION.take(row, 0)
    policy, at = POLICY.take(row, at)
    # The reverse one-to-one as select_related leaves it: a missing policy raises DoesNotExist on access.
    Location.reminder_policy.related.set_cached_value(location, policy)
    (location.calendar_weekdays, location.calendar_opens, location.calendar_closes, location.calendar_closures,
     location.chair_taken, location.patient_taken, location.day_taken) = row[at:]
    return location


@cache
def _lock_sql(*, named: bool) -> str:
    User = get_user_model()
    staff = Location.staff.through._meta.db_table
    memberships = User.groups.through._meta.db_table
    group_table = User.groups.field.related_model._meta.db_table
    candidates = "u.id = %(clinician)s" if named else f"""u.id IN (
        SELECT ls.user_id FROM {staff} ls
        JOIN {memberships} ug ON ug.user_id = ls.user_id
        JOIN {group_table} g ON g.id = ug.group_id
        WHERE ls.location_id = %(location)s AND g.name = %(role)s) AND u.is_active"""
    # In id order, on the users' rows alone.
    return f"SELECT {_user().columns('u')} FROM {User._meta.db_table} u WHERE {candidates} ORDER BY u.id FOR UPDATE"


BUSY_SQL = f"""
    SELECT s.clinician_id, s.start, s."end" FROM {SESSIONS} s
    WHERE s.clinician_id = ANY(%(clinicians)s) AND {STANDING} AND s.id IS DISTINCT FROM %(exclude)s
      AND s.start < %(end)s AND s."end" > %(start)s AND s.occupied_until > %(start)s"""


def lock_clinicians(*, location: Location, start: datetime, end: datetime, clinician,
                    exclude_session_id: int | None) -> tuple[dict[int, object], dict[int, list]]:
    """Lock (SELECT ... FOR UPDATE) the named clinician, or the site's active clinicians, then read what each
    has booked over [start, end): ``({id: user}, {id: [(start, end), ...]})``.

    Two statements, not one: under READ COMMITTED a statement reads the snapshot of its start, so a read
    in the locking statement would miss the booking whose commit it waited for, and capacity could be
    exceeded. ``occupied_until > start`` follows from ``end > start`` and lets PostgreSQL use the
    (clinician, occupied_until) index instead of reading the clinician's whole history.
    """
    rows = _fetch(_lock_sql(named=clinician is not None), {
        "clinician": clinician.pk if clinician is not None else None, "location": location.pk, "role": CLINICIAN})
    users = {user.pk: user for user in map(_user().build, rows)}
    intervals: dict[int, list] = {pk: [] for pk in users}
    if users:
        for clinician_id, other_start, other_end in _fetch(BUSY_SQL, {
                "clinicians": list(users), "start": start, "end": end, "exclude": exclude_session_id}):
            intervals[clinician_id].append((other_start, other_end))
    return users, intervals
