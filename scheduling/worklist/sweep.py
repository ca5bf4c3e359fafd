"""The front desk's worklist: items that open and close themselves as the facts change.

``refresh_worklist`` is the sweep (hourly from beat, and for one course after
every booking change). It derives the set of items that should be open from
the facts (the due engine's outlook of each active course, upcoming sessions,
REMS forms), compares it with the open items of the computed kinds, and in
bulk opens what is missing and closes what is no longer true. Items are never
deleted: a closed item keeps why it closed, and a fact that comes back opens
a new item. The number of queries does not depend on the number of courses.

The same sweep plans due-visit outreach texts (docs/DOMAIN.md "Reminder texts"):
at most one a week per patient; ``scheduling.messaging.outreach`` sends them.

The desk's actions (assign, snooze, resolve) are in ``services``; the list the
API and the page show is in ``selectors``.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import (
    Case,
    Q,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from clinic.collector import collector_held
from protocols import due
from protocols.models import CourseStatus, Modality
from scheduling.messaging import new_time
from scheduling.models import (
    COMPUTED_KINDS,
    URGENCY,
    Outreach,
    ReminderPolicy,
    ReminderState,
    RemsForm,
    Session,
    SessionStatus,
    WorkItem,
    WorkKind,
)
from scheduling.worklist.authorisation_items import (
    AuthorisationFact,
    authorisation_facts,
    authorisation_id_of,
    authorisation_items,
    closing_reason,
)
from scheduling.worklist.course_views import CourseView, course_views_for, day_text
from scheduling.worklist.offer_items import close_settled as close_settled_offers

# Kinds about a whole course (subject "course:<id>"); the others are about a session or a form.
COURSE_KINDS = (WorkKind.DUE_UNBOOKED, WorkKind.OVERDUE, WorkKind.LAPSED, WorkKind.NO_SHOW_REBOOK,
                WorkKind.REMS_ENROLMENT_MISSING)
# Kinds about one of a course's prior authorisations (subject "authorisation:<id>").
AUTHORISATION_KINDS = (WorkKind.AUTHORISATION_ENDING, WorkKind.AUTHORISATION_UNITS_LOW,
                       WorkKind.AUTHORISATION_PENDING, WorkKind.AUTHORISATION_DENIED)
# Outreach still waiting or on its way; one of these blocks a new one for the patient.
OPEN_OUTREACH_STATES = (ReminderState.PENDING, ReminderState.QUEUED, ReminderState.SENDING)
OUTREACH_EVERY = timedelta(days=7)
# A skipped or void outreach (caps, the course no longer due) did not reach the
# patient: planning tries again after a day instead of every hour.
OUTREACH_RETRY_AFTER = timedelta(days=1)
# Any constant, the same in every process: serialises sweeps (see ``_serialise_refreshes``).
_REFRESH_LOCK_KEY = 0x574B4C53  # "WKLS"




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
            f"Session {window.number} ({window.phase}) is due {day_text(window.earliest)} "
            f"to {day_text(window.latest)}, "
            f"target {day_text(window.target)}; nothing is booked.")))
    if timing == due.Timing.OVERDUE:
        items.append(item(WorkKind.OVERDUE, due_on=window.latest, detail=(
            f"Session {window.number} was due by {day_text(window.latest)}"
            + ("; the booking is after the window." if view.booked else "; nothing is booked."))))
    if timing == due.Timing.LAPSED:
        items.append(item(WorkKind.LAPSED, due_on=window.latest, detail=(
            f"Session {window.number} was due by {day_text(window.latest)}: the course has lapsed and needs a "
            "clinician's review before it resumes.")))
    kept = view.last_kept
    if kept and kept["status"] == SessionStatus.NO_SHOW:
        items.append(item(WorkKind.NO_SHOW_REBOOK, session_id=kept["id"],
                          due_on=window.latest if window else kept["local_date"],
                          detail=f"Did not come on {day_text(kept['local_date'])}; nothing is booked since."))
    upcoming = view.upcoming
    if upcoming and course.modality == Modality.ESKETAMINE_NASAL and not view.patient_fact("is_rems_enrolled"):
        items.append(item(WorkKind.REMS_ENROLMENT_MISSING, session_id=upcoming["id"], due_on=upcoming["local_date"],
                          detail=f"Booked for {day_text(upcoming['local_date'])} but not REMS-enrolled: "
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
                                f"REMS monitoring form for the session of {day_text(row['session__local_date'])} is "
                                f"{state} by {day_text(deadline)}."))
    return items


# --- the sweep ---------------------------------------------------------------------------------------


def _serialise_refreshes() -> None:
    # Two sweeps at once (the hourly one and a course's after a booking) could
    # each act on facts the other has already changed and flip an item back;
    # a transaction-scoped advisory lock makes the second wait for the first.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_REFRESH_LOCK_KEY])


def _authorisation_wanted(views: list[CourseView], facts: dict[int, AuthorisationFact]) -> list[Wanted]:
    by_course = {view.course.pk: view for view in views}
    wanted = []
    for item in authorisation_items(facts):
        view = by_course[item.course_id]
        wanted.append(Wanted(item.kind, item.subject, view.course.patient_id, item.course_id, item.session_id,
                             view.location.pk if view.location else None, item.due_on, item.detail))
    return wanted


def _why_closed(row: dict, views: dict[int, CourseView], facts: dict[int, AuthorisationFact]) -> str:
    """Why an open item is no longer true, in the desk's words."""
    kind, view = row["kind"], views.get(row["course_id"])
    if kind in (*COURSE_KINDS, *AUTHORISATION_KINDS) and view is None:
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
    if kind in AUTHORISATION_KINDS:
        return closing_reason(kind, facts.get(authorisation_id_of(row["subject"])))
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
               facts: dict[int, AuthorisationFact], now: datetime) -> dict[str, int]:
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
            reasons[f"resolved itself: {_why_closed(row, views, facts)}"].append(row["id"])
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


def outreach_due(view: CourseView) -> bool:
    """Whether the course's patient may be texted to book: the next visit is due or overdue and not booked.

    Due means the window has opened: its earliest day is today or before, on the local date of the
    course's location. The worklist's "due soon" item (the window opens within ``due_soon_days``) is for
    the desk only; a text waits until the visit is due. A lapsed course waits for a clinician instead.
    """
    window = view.window
    return view.wants_outreach and window is not None and window.earliest <= view.today


def recent_outreach(now: datetime) -> Q:
    """Outreach that blocks another for the same patient: open, sent (or maybe sent) within a week, or
    refused within a day."""
    return (Q(state__in=OPEN_OUTREACH_STATES)
            | Q(state__in=(ReminderState.SENT, ReminderState.UNKNOWN, ReminderState.FAILED),
                last_at__gte=now - OUTREACH_EVERY)
            | Q(state__in=(ReminderState.SKIPPED, ReminderState.VOID), last_at__gte=now - OUTREACH_RETRY_AFTER))


def _plan_outreach(views: list[CourseView], now: datetime) -> int:
    """Plan a due-visit text for each due, unbooked course's patient who may be texted, at most once a week.

    Never before the visit is due (``outreach_due``): not while its window has yet to open.

    A course that was never seen at a location has no time zone, policy or
    quiet hours to go by, so the desk calls instead (its item is on the list).
    """
    candidates: dict[int, CourseView] = {}
    for view in views:
        if outreach_due(view) and view.location is not None and view.patient_fact("can_receive_texts") \
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
    ``rems_enrolment_missing``, ``rems_form_due``, ``unconfirmed_tomorrow`` and
    the four prior-authorisation kinds (``authorisation_items``) that are
    missing; closes those no longer true ("resolved itself: <why>"); never
    deletes. Plans due-visit outreach texts. Closes the
    patients' requests for a new time answered by a new booking and texts
    them the new time, and the desk's "Offer taken" items with nothing left
    to call about (``offer_items.close_settled``). Returns the counts
    ``{"opened", "closed", "outreach", "answered"}``.
    """
    now = now or timezone.now()
    ids = None if course_ids is None else sorted({int(pk) for pk in course_ids})
    # The full sweep runs in a Celery worker and builds a view of every active course; a course's own
    # refresh runs in a web request beside other threads and builds one.
    with collector_held() if ids is None else nullcontext(), transaction.atomic():
        _serialise_refreshes()
        views = course_views_for(ids, now)
        wanted = [item for view in views for item in _course_items(view)]
        wanted += _unconfirmed_tomorrow(ids, now)
        wanted += _rems_forms_due(ids, now)
        facts = authorisation_facts(views, now)
        wanted += _authorisation_wanted(views, facts)
        counts = _reconcile(wanted, ids, {view.course.pk: view for view in views}, facts, now)
        counts["outreach"] = _plan_outreach(views, now)
        # A patient's R answered by cancelling the visit and booking another (a move answers it itself).
        answered = new_time.answer_rebooked_requests(course_ids=ids, now=now)
        # A taken offer's item with nothing left to call about (the visit cancelled, moved or over).
        counts["closed"] += close_settled_offers(course_ids=ids, now=now)
    # Committed: the patient is texted the new time (at most once per request, ``new_time.send_new_time``).
    new_time.send_new_times(answered)
    counts["answered"] = len(answered)
    return counts
