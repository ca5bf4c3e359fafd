"""The front desk's worklist: items that open and close themselves as the facts change.

``refresh_worklist`` is the sweep (hourly from beat, and for one course after
every booking change). It derives the set of items that should be open from
the facts (the due engine's outlook of each active course, upcoming sessions,
REMS forms), compares it with the open items of the computed kinds, and in
bulk opens what is missing and closes what is no longer true. Items are never
deleted: a closed item keeps why it closed, and a fact that comes back opens
a new item. The number of queries does not depend on the number of courses.

The same sweep plans due-visit outreach texts (DOMAIN.md "Reminder texts"):
at most one a week per patient; ``scheduling.outreach`` sends them.

The desk's actions (assign, snooze, resolve) are services here too, each one
transaction; ``open_items`` is the list the API shows.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from clinic.collector import collector_held
from clinic.errors import Conflict, Invalid, NotAllowed
from clinic.roles import ALL_ROLES, has_role, roles_of
from clinic.rows import builder, columns, literals
from patients.models import Patient
from protocols import due
from protocols.models import CourseStatus, Modality, Protocol, TreatmentCourse
from protocols.selectors import course_outlooks, shown_next_due, shown_timing
from scheduling.models import (
    COMPUTED_KINDS,
    RELEASED_STATUSES,
    UPCOMING_STATUSES,
    URGENCY,
    Location,
    Outreach,
    ReminderPolicy,
    ReminderState,
    RemsForm,
    Session,
    SessionStatus,
    WorkItem,
    WorkKind,
)

# Kinds about a whole course (subject "course:<id>"); the others are about a session or a form.
COURSE_KINDS = (WorkKind.DUE_UNBOOKED, WorkKind.OVERDUE, WorkKind.LAPSED, WorkKind.NO_SHOW_REBOOK,
                WorkKind.REMS_ENROLMENT_MISSING)
# Outreach still waiting or on its way; one of these blocks a new one for the patient.
OPEN_OUTREACH_STATES = (ReminderState.PENDING, ReminderState.QUEUED, ReminderState.SENDING)
OUTREACH_EVERY = timedelta(days=7)
# A skipped or void outreach (caps, the course no longer due) did not reach the
# patient: planning tries again after a day instead of every hour.
OUTREACH_RETRY_AFTER = timedelta(days=1)
# Any constant, the same in every process: serialises sweeps (see ``_serialise_refreshes``).
_REFRESH_LOCK_KEY = 0x574B4C53  # "WKLS"


def due_soon_days() -> int:
    """How many days before a window opens an unbooked course is flagged (setting ``WORKLIST_DUE_SOON_DAYS``)."""
    return getattr(settings, "WORKLIST_DUE_SOON_DAYS", 3)


def _day(value: date) -> str:
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


def _swept_sql(*, some: bool) -> str:
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


def _swept_courses(ids: list[int] | None, now: datetime) -> list[tuple]:
    """Every active course (or those of ``ids``) with what the sweep needs of its sessions, in one query.

    Each is ``(course, (completed dates, booked dates), last kept, upcoming)``: the dates as
    ``selectors.session_dates_by_course`` gives them; the latest session that was not cancelled
    (``{"id", "status", "local_date", "location_id"}``); the next booked or confirmed one from ``now``
    (``{"id", "local_date", "location_id"}``); None where there is none. The course holds only
    ``SWEEP_COURSE_FIELDS``, and its patient only ``SWEEP_PATIENT_FIELDS``.
    """
    with connection.cursor() as cursor:
        cursor.execute(_swept_sql(some=ids is not None), {"now": now, "ids": ids})
        rows = cursor.fetchall()
    course_of, patient_of = builder(TreatmentCourse, SWEEP_COURSE_FIELDS), builder(Patient, SWEEP_PATIENT_FIELDS)
    width, patient_width = len(SWEEP_COURSE_FIELDS), len(SWEEP_PATIENT_FIELDS)
    swept = []
    for row in rows:
        course = course_of(row[:width])
        course._state.fields_cache["patient"] = patient_of(row[width:width + patient_width])
        done, booked, last, coming = row[width + patient_width:]
        swept.append((course, (tuple(done or ()), tuple(booked or ())), _latest(last, status=True),
                      _latest(coming, status=False)))
    return swept


def _course_views(ids: list[int] | None, now: datetime) -> list[CourseView]:
    # One query for the courses and their sessions, light course instances, and each protocol once (with
    # its phases) rather than a copy per course: building full rows, prefetching phases onto every
    # course's own protocol and reading courses and sessions apart were most of a sweep over thousands
    # of courses.
    swept = _swept_courses(ids, now)
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


@dataclass(frozen=True)
class Wanted:
    """An item that should be open."""

    kind: str
    subject: str
    patient_id: int
    course_id: int | None
    session_id: int | None
    location_id: int | None
    due_on: date | None
    detail: str


def _course_items(view: CourseView) -> list[Wanted]:
    course, window, timing = view.course, view.window, view.timing
    subject = f"course:{course.pk}"
    location_id = view.location.pk if view.location else None

    def item(kind, *, due_on, detail, session_id=None):
        return Wanted(kind, subject, course.patient_id, course.pk, session_id, location_id, due_on, detail)

    items = []
    if view.due_unbooked:
        items.append(item(WorkKind.DUE_UNBOOKED, due_on=window.earliest, detail=(
            f"Session {window.number} ({window.phase}) is due {_day(window.earliest)} to {_day(window.latest)}, "
            f"target {_day(window.target)}; nothing is booked.")))
    if timing == due.Timing.OVERDUE:
        items.append(item(WorkKind.OVERDUE, due_on=window.latest, detail=(
            f"Session {window.number} was due by {_day(window.latest)}"
            + ("; the booking is after the window." if view.booked else "; nothing is booked."))))
    if timing == due.Timing.LAPSED:
        items.append(item(WorkKind.LAPSED, due_on=window.latest, detail=(
            f"Session {window.number} was due by {_day(window.latest)}: the course has lapsed and needs a "
            "clinician's review before it resumes.")))
    kept = view.last_kept
    if kept and kept["status"] == SessionStatus.NO_SHOW:
        items.append(item(WorkKind.NO_SHOW_REBOOK, session_id=kept["id"],
                          due_on=window.latest if window else kept["local_date"],
                          detail=f"Did not come on {_day(kept['local_date'])}; nothing is booked since."))
    upcoming = view.upcoming
    if upcoming and course.modality == Modality.ESKETAMINE_NASAL and not view.patient_fact("is_rems_enrolled"):
        items.append(item(WorkKind.REMS_ENROLMENT_MISSING, session_id=upcoming["id"], due_on=upcoming["local_date"],
                          detail=f"Booked for {_day(upcoming['local_date'])} but not REMS-enrolled: "
                                 "record the enrolment before check-in."))
    return items


def _unconfirmed_tomorrow(ids: list[int] | None, now: datetime) -> list[Wanted]:
    sessions = (Session.objects.filter(status=SessionStatus.BOOKED, start__gte=now, start__lt=now + timedelta(days=3),
                                       location__isnull=False)
                .filter(**({} if ids is None else {"course_id__in": ids})).select_related("location")
                .only("id", "patient_id", "course_id", "location_id", "local_date", "start", "location__id",
                      "location__time_zone"))
    items = []
    for session in sessions:
        if session.local_date != session.location.local_date(now) + timedelta(days=1):
            continue
        items.append(Wanted(WorkKind.UNCONFIRMED_TOMORROW, f"session:{session.pk}", session.patient_id,
                            session.course_id, session.pk, session.location_id, session.local_date,
                            f"Booked for tomorrow at {session.local_start:%-I:%M %p}; the patient has not confirmed."))
    return items


def _rems_forms_due(ids: list[int] | None, now: datetime) -> list[Wanted]:
    fields = ("id", "session_id", "session__patient_id", "session__course_id", "session__location_id",
              "session__local_date")
    scope = {} if ids is None else {"session__course_id__in": ids}
    items = []
    for overdue, rows in ((False, RemsForm.objects.due(now)), (True, RemsForm.objects.overdue(now))):
        for row in rows.filter(**scope).values(*fields):
            deadline = row["session__local_date"] + timedelta(days=7)
            state = "overdue: it was due" if overdue else "due"
            items.append(Wanted(WorkKind.REMS_FORM_DUE, f"form:{row['id']}", row["session__patient_id"],
                                row["session__course_id"], row["session_id"], row["session__location_id"], deadline,
                                f"REMS monitoring form for the session of {_day(row['session__local_date'])} is "
                                f"{state} by {_day(deadline)}."))
    return items


# --- the sweep ---------------------------------------------------------------------------------------


def _serialise_refreshes() -> None:
    # Two sweeps at once (the hourly one and a course's after a booking) could
    # each act on facts the other has already changed and flip an item back;
    # a transaction-scoped advisory lock makes the second wait for the first.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_REFRESH_LOCK_KEY])


def _why_closed(row: dict, views: dict[int, CourseView]) -> str:
    """Why an open item is no longer true, in the desk's words."""
    kind, view = row["kind"], views.get(row["course_id"])
    if kind in COURSE_KINDS and view is None:
        status = row["course__status"]
        return f"the course is {CourseStatus(status).label.lower()}" if status else "the course is no longer active"
    if kind == WorkKind.UNCONFIRMED_TOMORROW:
        status = row["session__status"]
        if status is None:
            return "the session is gone"
        return {SessionStatus.CONFIRMED: "the patient confirmed", SessionStatus.CANCELLED: "the session was cancelled",
                SessionStatus.NO_SHOW: "the patient did not come",
                SessionStatus.BOOKED: "the session is no longer tomorrow"}.get(status, "the patient arrived")
    if kind == WorkKind.REMS_FORM_DUE:
        return "the form was submitted"
    if kind == WorkKind.REMS_ENROLMENT_MISSING:
        return "the patient is REMS-enrolled" if view.patient_fact("is_rems_enrolled") else "no session is booked"
    if kind == WorkKind.NO_SHOW_REBOOK:
        return "a new session was booked" if view.booked else "the missed visit was followed by another"
    timing = view.timing
    if view.booked and timing in (due.Timing.ON_TRACK, due.Timing.DUE):
        return "a session was booked"
    if timing in (due.Timing.OVERDUE, due.Timing.LAPSED):
        return f"the course is now {timing}"
    if timing == due.Timing.COMPLETED:
        return "the course is completed"
    return "the course is on track"


def _reconcile(wanted: list[Wanted], ids: list[int] | None, views: dict[int, CourseView],
               now: datetime) -> dict[str, int]:
    rows = WorkItem.objects.open().filter(kind__in=COMPUTED_KINDS)
    if ids is not None:
        rows = rows.filter(course_id__in=ids)
    open_rows = {(row["kind"], row["subject"]): row for row in rows.values(
        "id", "kind", "subject", "course_id", "course__status", "session_id", "session__status", "location_id",
        "due_on", "detail", "assigned_to_id")}
    wanted_by_key = {(item.kind, item.subject): item for item in wanted}

    to_close = [row for key, row in open_rows.items() if key not in wanted_by_key]
    to_open = [item for key, item in wanted_by_key.items() if key not in open_rows]
    # Facts that moved under an open item (a new date, another location) are brought up to date in place.
    stale = []
    for key, row in open_rows.items():
        item = wanted_by_key.get(key)
        if item and (row["due_on"], row["detail"], row["location_id"], row["session_id"]) != (
                item.due_on, item.detail, item.location_id, item.session_id):
            stale.append(WorkItem(pk=row["id"], due_on=item.due_on, detail=item.detail, location_id=item.location_id,
                                  session_id=item.session_id))

    if to_open:
        # A person who resolved an item meant it: the same fact (kind, subject
        # and date) does not come back until something about it changes.
        resolved = set(WorkItem.objects.filter(
            kind__in={item.kind for item in to_open}, subject__in={item.subject for item in to_open},
            closed_by__isnull=False).values_list("kind", "subject", "due_on"))
        to_open = [item for item in to_open if (item.kind, item.subject, item.due_on) not in resolved]
    # An assignment follows the course from one kind to the next (due -> overdue -> lapsed).
    assignees = {row["subject"]: row["assigned_to_id"] for row in to_close if row["assigned_to_id"]}
    WorkItem.objects.bulk_create([
        WorkItem(kind=item.kind, subject=item.subject, urgency=URGENCY[item.kind], patient_id=item.patient_id,
                 course_id=item.course_id, session_id=item.session_id, location_id=item.location_id,
                 detail=item.detail, due_on=item.due_on, opened_at=now, assigned_to_id=assignees.get(item.subject))
        for item in to_open
    ], ignore_conflicts=True)

    if to_close:
        reasons: dict[str, list[int]] = defaultdict(list)
        for row in to_close:
            reasons[f"resolved itself: {_why_closed(row, views)}"].append(row["id"])
        WorkItem.objects.filter(pk__in=[row["id"] for row in to_close], closed_at__isnull=True).update(
            closed_at=now, resolution=Case(*(When(pk__in=pks, then=Value(text)) for text, pks in reasons.items()),
                                           default=Value("resolved itself"), output_field=TextField()))
    if stale:
        WorkItem.objects.bulk_update(stale, ["due_on", "detail", "location", "session"])
    return {"opened": len(to_open), "closed": len(to_close)}


def next_allowed_send(policy: ReminderPolicy, zone, now: datetime) -> datetime:
    """``now`` when it is outside the site's quiet hours, else the moment they end (local wall time)."""
    local = now.astimezone(zone)
    if not policy.in_quiet_hours(local.time()):
        return now
    ends = datetime.combine(local.date(), policy.quiet_until, tzinfo=zone)
    if ends <= local:
        ends = datetime.combine(local.date() + timedelta(days=1), policy.quiet_until, tzinfo=zone)
    return ends


def recent_outreach(now: datetime) -> Q:
    """Outreach that blocks another for the same patient: open, sent (or maybe sent) within a week, or
    refused within a day."""
    return (Q(state__in=OPEN_OUTREACH_STATES)
            | Q(state__in=(ReminderState.SENT, ReminderState.UNKNOWN, ReminderState.FAILED),
                last_at__gte=now - OUTREACH_EVERY)
            | Q(state__in=(ReminderState.SKIPPED, ReminderState.VOID), last_at__gte=now - OUTREACH_RETRY_AFTER))


def _plan_outreach(views: list[CourseView], now: datetime) -> int:
    """Plan a due-visit text for each due, unbooked course's patient who may be texted, at most once a week.

    A course that was never seen at a location has no time zone, policy or
    quiet hours to go by, so the desk calls instead (its item is on the list).
    """
    candidates: dict[int, CourseView] = {}
    for view in views:
        if view.wants_outreach and view.location is not None and view.patient_fact("can_receive_texts") \
                and not view.patient_fact("is_archived"):
            candidates.setdefault(view.course.patient_id, view)
    if not candidates:
        return 0
    blocked = set(Outreach.objects.filter(patient_id__in=list(candidates))
                  .annotate(last_at=Coalesce("sent_at", "provider_called_at", "claimed_at", "created_at"))
                  .filter(recent_outreach(now)).values_list("patient_id", flat=True))
    rows = []
    for patient_id, view in candidates.items():
        if patient_id in blocked:
            continue
        policy = ReminderPolicy.for_location(view.location)
        rows.append(Outreach(patient_id=patient_id, course_id=view.course.pk, created_at=now,
                             send_at=next_allowed_send(policy, view.location.zone, now)))
    # The partial unique constraint (one open outreach per course) settles a race.
    Outreach.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def refresh_worklist(*, course_ids: list[int] | None = None, now: datetime | None = None) -> dict[str, int]:
    """Open and close the computed worklist items of every active course (or of ``course_ids``).

    Set-based, with a fixed number of queries whatever the number of courses.
    Opens ``due_unbooked``, ``overdue``, ``lapsed``, ``no_show_rebook``,
    ``rems_enrolment_missing``, ``rems_form_due`` and ``unconfirmed_tomorrow``
    items that are missing; closes those no longer true ("resolved itself:
    <why>"); never deletes. Plans due-visit outreach texts. Returns the counts
    ``{"opened", "closed", "outreach"}``.
    """
    now = now or timezone.now()
    ids = None if course_ids is None else sorted({int(pk) for pk in course_ids})
    # The full sweep runs in a Celery worker and builds a view of every active course; a course's own
    # refresh runs in a web request beside other threads and builds one.
    with collector_held() if ids is None else nullcontext(), transaction.atomic():
        _serialise_refreshes()
        views = _course_views(ids, now)
        wanted = [item for view in views for item in _course_items(view)]
        wanted += _unconfirmed_tomorrow(ids, now)
        wanted += _rems_forms_due(ids, now)
        counts = _reconcile(wanted, ids, {view.course.pk: view for view in views}, now)
        counts["outreach"] = _plan_outreach(views, now)
    return counts


# --- the desk's actions -------------------------------------------------------------------------------


def _require_desk_role(by, action: str) -> None:
    if not has_role(by, *ALL_ROLES):
        raise NotAllowed(f"Only front desk, clinicians and managers may {action} worklist items.")


def _locked_open(item: WorkItem, action: str) -> WorkItem:
    locked = WorkItem.objects.select_for_update(of=("self",)).select_related("location").get(pk=item.pk)
    if locked.closed_at is not None:
        raise Conflict(f"This item is already closed, so it cannot be {action}.", code="invalid_state",
                       extra={"closed_at": locked.closed_at})
    return locked


def local_today(location: Location | None, now: datetime | None = None) -> date:
    """Today at ``location`` (the server's date where an item has no location)."""
    now = now or timezone.now()
    return location.local_date(now) if location else timezone.localdate(now)


@transaction.atomic
def assign_item(*, by, item: WorkItem, to_user) -> WorkItem:
    """Give an open item to a member of staff (``to_user=None`` takes it back).

    Refuses a user without a clinic role (400) and a closed item (409 ``invalid_state``).
    """
    _require_desk_role(by, "assign")
    if to_user is not None and not (to_user.is_active and roles_of(to_user)):
        raise Invalid("Items can only be given to active staff with a clinic role.",
                      fields={"user": ["This user has no clinic role."]})
    locked = _locked_open(item, "assigned")
    locked.assigned_to = to_user
    locked.full_clean()
    locked.save(update_fields=["assigned_to"])
    return locked


@transaction.atomic
def snooze_item(*, by, item: WorkItem, until: date) -> WorkItem:
    """Hide an open item until ``until`` (a local date at the item's location, after today).

    Refuses a date that is not in the future (400) and a closed item (409 ``invalid_state``).
    The sweep keeps a snoozed item open while its fact holds; it shows again on ``until``.
    """
    _require_desk_role(by, "snooze")
    locked = _locked_open(item, "snoozed")
    if until <= local_today(locked.location):
        raise Invalid("Snooze until a future date.", fields={"until": ["Must be after today."]})
    locked.snoozed_until = until
    locked.full_clean()
    locked.save(update_fields=["snoozed_until"])
    return locked


@transaction.atomic
def resolve_item(*, by, item: WorkItem, note: str) -> WorkItem:
    """Close an open item with a person's note (required, 400); a closed item refuses (409 ``invalid_state``).

    The sweep does not reopen a computed item a person resolved while its
    fact stays the same (same kind, subject and date).
    """
    _require_desk_role(by, "resolve")
    note = (note or "").strip()
    if not note:
        raise Invalid("Say how the item was resolved.", fields={"note": ["A note is required."]})
    locked = _locked_open(item, "resolved")
    locked.closed_at, locked.closed_by, locked.resolution = timezone.now(), by, note
    locked.full_clean()
    locked.save(update_fields=["closed_at", "closed_by", "resolution"])
    return locked


# --- reads ----------------------------------------------------------------------------------------------


def visible_condition(now: datetime | None = None) -> Q:
    """Not snoozed past today, where today is each item's own location's date (one query for the zones)."""
    now = now or timezone.now()
    condition = Q(snoozed_until__isnull=True) | Q(location__isnull=True, snoozed_until__lte=timezone.localdate(now))
    by_day: dict[date, list[int]] = defaultdict(list)
    for location in Location.objects.only("pk", "time_zone"):
        by_day[location.local_date(now)].append(location.pk)
    for today, location_ids in by_day.items():
        condition |= Q(location_id__in=location_ids, snoozed_until__lte=today)
    return condition


def open_items(*, kind: str | None = None, location_id: int | None = None, assigned_to_id: int | None = None,
               unassigned: bool = False, include_snoozed: bool = False, now: datetime | None = None
               ) -> QuerySet[WorkItem]:
    """Open items, most urgent first (urgency, then due date), with everything the list shows loaded.

    Snoozed items are left out until their date unless ``include_snoozed``.
    A fixed number of queries whatever the number of items.
    """
    items = WorkItem.objects.open()
    if not include_snoozed:
        items = items.filter(visible_condition(now))
    if kind:
        items = items.filter(kind=kind)
    if location_id:
        items = items.filter(location_id=location_id)
    if assigned_to_id:
        items = items.filter(assigned_to_id=assigned_to_id)
    if unassigned:
        items = items.filter(assigned_to__isnull=True)
    return (items.select_related("patient", "course__protocol", "session", "location", "assigned_to")
            .order_by("urgency", "due_on", "opened_at", "id"))


def open_counts(*, now: datetime | None = None) -> dict[str, int]:
    """Open, visible items by kind (every kind present, zero when none), for the navigation badge."""
    counts = dict.fromkeys(WorkKind.values, 0)
    rows = (WorkItem.objects.open().filter(visible_condition(now)).order_by().values("kind")
            .annotate(n=Count("id")).values_list("kind", "n"))
    counts.update(dict(rows))
    return counts
