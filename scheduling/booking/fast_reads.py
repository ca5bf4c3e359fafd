"""What a booking reads before it writes, one SQL statement for each step, written by hand, each beside its ORM twin.

Booking is the front desk's hot path, and sixteen desks book at once. Built
with the ORM, these reads cost a booking more Python (composing and compiling
the querysets) and more PostgreSQL planning than everything else it does
(docs/PERFORMANCE.md). Each statement here is fixed text with parameters and
answers with a typed result: model instances as the querysets built them
(``clinic.rows``), and the facts beside them as fields, never as attributes
added to an instance. Each has an ORM twin, ``..._by_orm``, that says what
the statement must answer; the contract tests
(tests/scheduling/booking/test_fast_reads_contract.py) hold the two equal,
field by field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection

from clinic.roles import CLINICIAN
from clinic.rows import RowModel, attach_prefetched, attach_related, literals
from patients.models import Patient
from protocols.models import Phase, Protocol, TreatmentCourse
from scheduling.booking import authorisations
from scheduling.booking.rules import SiteCalendar
from scheduling.booking.selectors import CourseDates, calendar_of, course_dates, site_calendar, with_calendar
from scheduling.models import (
    OPEN_OFFER_STATES,
    RELEASED_STATUSES,
    Chair,
    Closure,
    Location,
    Offer,
    OpeningHours,
    ReminderPolicy,
    Session,
    SessionStatus,
)

SESSIONS = Session._meta.db_table
# Sessions that hold their slot: the condition of the exclusion constraints and partial indexes.
STANDING = f"s.status NOT IN {literals(RELEASED_STATUSES)}"
# Every session but the one being moved (none when booking).
NOT_MOVED = "s.id IS DISTINCT FROM %(exclude)s"
# Open offers of chair time the booking takes: ended in its transaction, read with the slot. The booked
# patient's own offer too: a booking by the desk ends it like the others, and a YES marks it taken afterwards.
OPEN_OFFERS = (f"ARRAY(SELECT o.id FROM {Offer._meta.db_table} o WHERE o.chair_id = %(chair)s "
               f"AND o.state IN {literals(OPEN_OFFER_STATES)} AND o.start < %(until)s AND o.\"end\" > %(start)s "
               "ORDER BY o.id)")

COURSE, PATIENT, PROTOCOL, PHASE = RowModel(TreatmentCourse), RowModel(Patient), RowModel(Protocol), RowModel(Phase)
CHAIR, LOCATION, POLICY = RowModel(Chair), RowModel(Location), RowModel(ReminderPolicy)


def _user() -> RowModel:
    return RowModel.of(get_user_model())


def _fetch(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- the course --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseForBooking:
    """A course as booking and moving check it.

    ``course`` comes with its patient and its protocol, the protocol with its phases (``rule()`` reads
    nothing more). ``completed_dates`` are the dates of its discharged sessions and ``booked_dates`` those
    of its standing sessions not yet discharged, each in start order, as ``selectors.course_dates`` gives them.
    """

    course: TreatmentCourse
    completed_dates: tuple[date, ...]
    booked_dates: tuple[date, ...]

    @property
    def dates(self) -> CourseDates:
        """(completed dates, booked dates), as the due-window selectors take them."""
        return self.completed_dates, self.booked_dates


@cache
def _course_sql() -> str:
    phase_columns = PHASE.columns("ph")
    return f"""
        SELECT {COURSE.columns("c")}, {PATIENT.columns("p")}, {PROTOCOL.columns("pr")},
               ARRAY(SELECT s.local_date FROM {SESSIONS} s
                     WHERE s.course_id = c.id AND s.status = '{SessionStatus.DISCHARGED}' AND {NOT_MOVED}
                     ORDER BY s.start),
               ARRAY(SELECT s.local_date FROM {SESSIONS} s
                     WHERE s.course_id = c.id AND {STANDING} AND s.status <> '{SessionStatus.DISCHARGED}'
                       AND {NOT_MOVED}
                     ORDER BY s.start),
               (SELECT json_agg(json_build_array({phase_columns}) ORDER BY ph."order")
                FROM {Phase._meta.db_table} ph WHERE ph.protocol_id = c.protocol_id),
               {authorisations.lock_covers_sql("c.id", "pr.requires_authorisation")}
        FROM {TreatmentCourse._meta.db_table} c
        JOIN {Patient._meta.db_table} p ON p.id = c.patient_id
        JOIN {Protocol._meta.db_table} pr ON pr.id = c.protocol_id
        WHERE c.id = %(course)s"""


def course_for_booking(course_id: int, *, exclude_session_id: int | None = None) -> CourseForBooking:
    """The course with its patient, protocol and phases, and its session dates, in one statement.

    ``exclude_session_id`` leaves the session being moved out of the dates. Raises
    ``TreatmentCourse.DoesNotExist`` for an unknown id. Where the protocol requires prior authorisation,
    the same statement locks the course's approved authorisations (``authorisations.lock_covers_sql``):
    inside a booking's transaction they stay locked until it ends, so ``slot_facts``, a later statement,
    counts their units with every earlier booking of the course in sight. Read outside one (the API reads
    the course with the request), the lock ends with the statement and the booking takes it again.
    """
    rows = _fetch(_course_sql(), {"course": course_id, "exclude": exclude_session_id})
    if not rows:
        raise TreatmentCourse.DoesNotExist(f"No treatment course {course_id}.")
    row = rows[0]
    course, at = COURSE.take(row, 0)
    patient, at = PATIENT.take(row, at)
    protocol, at = PROTOCOL.take(row, at)
    completed, booked, phases, _locked = row[at:]
    if isinstance(phases, str):  # json, as the driver hands it over undecoded
        phases = json.loads(phases)
    attach_prefetched(protocol, "phases", [PHASE.build(values) for values in phases or ()])
    attach_related(course, "patient", patient)
    attach_related(course, "protocol", protocol)
    return CourseForBooking(course=course, completed_dates=tuple(completed), booked_dates=tuple(booked))


def course_for_booking_by_orm(course_id: int, *, exclude_session_id: int | None = None) -> CourseForBooking:
    """``course_for_booking``'s ORM twin: what its statement must answer (three queries)."""
    course = (TreatmentCourse.objects.select_related("patient", "protocol").prefetch_related("protocol__phases")
              .get(pk=course_id))
    completed, booked = course_dates(course_id, exclude_session_id=exclude_session_id)
    return CourseForBooking(course=course, completed_dates=completed, booked_dates=booked)


# --- the chair ---------------------------------------------------------------------------------------

CHAIR_SQL = f"""
    SELECT {CHAIR.columns("ch")}, {LOCATION.columns("l")}
    FROM {Chair._meta.db_table} ch JOIN {Location._meta.db_table} l ON l.id = ch.location_id
    WHERE ch.id = %(chair)s"""


def chair_with_location(chair_id: int) -> Chair:
    """The chair with its location, as ``select_related("location")`` gives it. Raises ``Chair.DoesNotExist``."""
    rows = _fetch(CHAIR_SQL, {"chair": chair_id})
    if not rows:
        raise Chair.DoesNotExist(f"No chair {chair_id}.")
    chair, at = CHAIR.take(rows[0], 0)
    location, _ = LOCATION.take(rows[0], at)
    attach_related(chair, "location", location)
    return chair


def chair_with_location_by_orm(chair_id: int) -> Chair:
    """``chair_with_location``'s ORM twin."""
    return Chair.objects.select_related("location").get(pk=chair_id)


# --- the slot ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotFacts:
    """What booking checks of a slot: the chair's site with its reminder policy (``location.reminder_policy``
    reads nothing more, and raises ``DoesNotExist`` where the site has none), the site's calendar,
    whether the chair, the patient or the course's day is already taken, and the course's approved prior
    authorisations with their units used (``authorisations.Cover``, in first-day order; counted after
    ``authorisations.lock_covers`` where the booking needs them)."""

    location: Location
    calendar: SiteCalendar
    chair_taken: bool
    patient_taken: bool
    day_taken: bool
    covers: tuple[authorisations.Cover, ...] = ()
    authorisation_entered: bool = False
    open_offers: tuple[int, ...] = ()  # ids of the open offers of this chair time


def _hours_column(column: str) -> str:
    return (f"ARRAY(SELECT h.{column} FROM {OpeningHours._meta.db_table} h "
            f"WHERE h.location_id = l.id ORDER BY h.weekday)")


@cache
def _slot_sql() -> str:
    others = f"FROM {SESSIONS} s WHERE {STANDING} AND {NOT_MOVED}"
    overlapping = "s.start < %(until)s AND s.occupied_until > %(start)s"
    return f"""
        SELECT {LOCATION.columns("l")}, {POLICY.columns("rp")},
               {_hours_column("weekday")}, {_hours_column("opens")}, {_hours_column("closes")},
               ARRAY(SELECT d.date FROM {Closure._meta.db_table} d WHERE d.location_id = l.id),
               EXISTS(SELECT 1 {others} AND s.chair_id = %(chair)s AND {overlapping}),
               EXISTS(SELECT 1 {others} AND s.patient_id = %(patient)s AND {overlapping}),
               EXISTS(SELECT 1 {others} AND s.course_id = %(course)s AND s.local_date = %(day)s),
               {authorisations.covers_sql("%(course)s", "%(exclude)s")},
               {authorisations.entered_sql("%(course)s")},
               {OPEN_OFFERS}
        FROM {Location._meta.db_table} l
        LEFT JOIN {ReminderPolicy._meta.db_table} rp ON rp.location_id = l.id
        WHERE l.id = %(location)s"""


def slot_facts(*, course: TreatmentCourse, chair: Chair, start: datetime, occupied_until: datetime,
               local_day: date, exclude_session_id: int | None) -> SlotFacts:
    """The facts of booking ``course`` on ``chair`` over [start, occupied_until) on ``local_day``, in one
    statement, leaving out the session being moved (``exclude_session_id``)."""
    row = _fetch(_slot_sql(), {
        "location": chair.location_id, "chair": chair.pk, "patient": course.patient_id, "course": course.pk,
        "start": start, "until": occupied_until, "day": local_day, "exclude": exclude_session_id,
    })[0]
    location, at = LOCATION.take(row, 0)
    policy, at = POLICY.take(row, at)
    attach_related(location, "reminder_policy", policy)
    weekdays, opens, closes, closures, chair_taken, patient_taken, day_taken, covers, entered, offers = row[at:]
    if isinstance(covers, str):  # json, as the driver hands it over undecoded
        covers = json.loads(covers)
    return SlotFacts(location=location,
                     calendar=calendar_of(location, weekdays=weekdays, opens=opens, closes=closes, closures=closures),
                     chair_taken=chair_taken, patient_taken=patient_taken, day_taken=day_taken,
                     covers=authorisations.covers_from_json(covers), authorisation_entered=entered,
                     open_offers=tuple(offers))


def slot_facts_by_orm(*, course: TreatmentCourse, chair: Chair, start: datetime, occupied_until: datetime,
                      local_day: date, exclude_session_id: int | None) -> SlotFacts:
    """``slot_facts``'s ORM twin (seven queries)."""
    location = with_calendar(Location.objects.select_related("reminder_policy")).get(pk=chair.location_id)
    others = Session.objects.standing().exclude(pk=exclude_session_id)
    overlapping = others.overlapping(start, occupied_until)
    return SlotFacts(location=location, calendar=site_calendar(location),
                     chair_taken=overlapping.filter(chair_id=chair.pk).exists(),
                     patient_taken=overlapping.filter(patient_id=course.patient_id).exists(),
                     day_taken=others.filter(course_id=course.pk, local_date=local_day).exists(),
                     covers=authorisations.covers_by_orm(course.pk, exclude_session_id=exclude_session_id),
                     authorisation_entered=authorisations.entered_by_orm(course.pk),
                     open_offers=tuple(Offer.objects.filter(
                         chair_id=chair.pk, state__in=OPEN_OFFER_STATES, start__lt=occupied_until, end__gt=start)
                         .order_by("pk").values_list("pk", flat=True)))


# --- the clinicians ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LockedClinicians:
    """The clinicians a booking may assign, locked, and what each has booked over the new session's time.

    ``users`` is ``{id: user}`` in id order; ``busy`` is ``{id: ((start, end), ...)}`` for every one of
    them, the sessions in start order (none: an empty tuple).
    """

    users: dict[int, AbstractBaseUser]
    busy: dict[int, tuple[tuple[datetime, datetime], ...]]


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
    WHERE s.clinician_id = ANY(%(clinicians)s) AND {STANDING} AND {NOT_MOVED}
      AND s.start < %(end)s AND s."end" > %(start)s AND s.occupied_until > %(start)s"""


def _busy(users: dict, rows) -> dict[int, tuple[tuple[datetime, datetime], ...]]:
    found: dict[int, list] = {pk: [] for pk in users}
    for clinician_id, other_start, other_end in rows:
        found[clinician_id].append((other_start, other_end))
    return {pk: tuple(sorted(spans)) for pk, spans in found.items()}


def lock_clinicians(*, location: Location, start: datetime, end: datetime, clinician,
                    exclude_session_id: int | None) -> LockedClinicians:
    """Lock (SELECT ... FOR UPDATE) the named clinician, or the site's active clinicians, then read what each
    has booked over [start, end), leaving out the session being moved.

    Two statements, not one: under READ COMMITTED a statement reads the snapshot of its start, so a read
    in the locking statement would miss the booking whose commit it waited for, and capacity could be
    exceeded. ``occupied_until > start`` follows from ``end > start`` and lets PostgreSQL use the
    (clinician, occupied_until) index instead of reading the clinician's whole history.
    """
    rows = _fetch(_lock_sql(named=clinician is not None), {
        "clinician": clinician.pk if clinician is not None else None, "location": location.pk, "role": CLINICIAN})
    users = {user.pk: user for user in map(_user().build, rows)}
    if not users:
        return LockedClinicians(users={}, busy={})
    busy = _fetch(BUSY_SQL, {"clinicians": list(users), "start": start, "end": end, "exclude": exclude_session_id})
    return LockedClinicians(users=users, busy=_busy(users, busy))


def lock_clinicians_by_orm(*, location: Location, start: datetime, end: datetime, clinician,
                           exclude_session_id: int | None) -> LockedClinicians:
    """``lock_clinicians``'s ORM twin (its lock too: call it inside a transaction)."""
    User = get_user_model()
    if clinician is not None:
        candidates = User.objects.filter(pk=clinician.pk)
    else:
        staff = location.staff.filter(groups__name=CLINICIAN).values("pk")
        candidates = User.objects.filter(pk__in=staff, is_active=True)
    users = {user.pk: user for user in candidates.order_by("pk").select_for_update()}
    busy = (Session.objects.standing().exclude(pk=exclude_session_id)
            .filter(clinician_id__in=list(users), start__lt=end, end__gt=start)
            .values_list("clinician_id", "start", "end"))
    return LockedClinicians(users=users, busy=_busy(users, busy))
