"""Booking, moving, cancelling and recording sessions. Each service is one transaction.

The exclusion constraints on Session are the guarantee against double-booking;
the checks here come first only to give a precise reason. A constraint
violation that a race lets through is turned into the same 409 code.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.errors import Conflict, Invalid, NotAllowed
from clinic.roles import CLINICIAN, MANAGER, has_role
from protocols import dose_rules, due
from protocols.models import CourseStatus, Modality, TreatmentCourse
from protocols.services import complete_course_if_finished
from scheduling.booking import authorisations, fast_reads, rules
from scheduling.booking.fast_reads import CourseForBooking, SlotFacts
from scheduling.booking.selectors import CourseDates, due_window_for_booking, due_window_for_move
from scheduling.messaging import new_time, offers_planning, reminders
from scheduling.models import Chair, Location, Session, SessionStatus
from scheduling.tasks import plan_offers_on_commit, refresh_course_worklist_on_commit, text_new_time_on_commit

# Which constraint a database refusal came from -> the code the client sees.
_CONSTRAINT_CODES = {
    "no_chair_double_booking": ("chair_conflict", "That chair is already booked at that time."),
    "no_patient_double_booking": ("patient_conflict", "The patient already has a session at that time."),
    "one_session_per_course_day": ("same_day", "The course already has a session on that day."),
}


def _conflict_from_integrity_error(error: IntegrityError) -> Conflict:
    cause = getattr(error, "__cause__", None)
    constraint = getattr(getattr(cause, "diag", None), "constraint_name", None) or ""
    for name, (code, message) in _CONSTRAINT_CODES.items():
        if name == constraint or name in str(error):
            return Conflict(message, code=code)
    raise error


def check_course_bookable(course: TreatmentCourse) -> None:
    """Only an active course of a current patient can be booked (409 ``course_not_active`` / ``patient_archived``)."""
    if course.status != CourseStatus.ACTIVE:
        raise Conflict(
            f"This course is {course.get_status_display().lower()}; only an active course can be booked.",
            code="course_not_active",
        )
    if course.patient.is_archived:
        raise Conflict("The patient's record is archived.", code="patient_archived")


def _check_window(*, course: TreatmentCourse, dates: CourseDates, local_day: date, by, override_reason: str,
                  moving: Session | None = None) -> due.DueWindow:
    """Refuse a day outside the session's due window unless a clinician gives a reason; ``dates`` are the
    course's (completed, booked) dates, without ``moving`` when a session is moved."""
    if moving is None:
        window, next_booked = due_window_for_booking(course, dates=dates), None
    else:
        window, next_booked = due_window_for_move(moving, dates=dates)
    if window is None:
        raise Conflict("Every session of this course's protocol is already booked or given.", code="course_complete")
    if next_booked is not None and local_day >= next_booked:
        raise Conflict(f"Session {window.number} must stay before the next booked session "
                       f"({next_booked:%a %b %-d}); move that one first.", code="passes_next_session")
    if window.earliest <= local_day <= window.latest:
        return window
    if not override_reason:
        raise Conflict(
            f"Session {window.number} is due {window.earliest:%a %b %-d} to {window.latest:%a %b %-d} "
            f"(target {window.target:%a %b %-d}); a clinician may book outside it with a reason.",
            code="outside_due_window",
            extra={"due": {"earliest": window.earliest, "target": window.target, "latest": window.latest}},
        )
    if not has_role(by, CLINICIAN):
        raise NotAllowed("Only a clinician may book outside the due window.", code="override_needs_clinician")
    return window


def _check_slot(*, course: TreatmentCourse, chair: Chair, start: datetime, end: datetime, occupied_until: datetime,
                exclude_session_id: int | None, now: datetime) -> SlotFacts:
    """Refuse a slot booking may not take; returns ``fast_reads.slot_facts``: the chair's location with its
    reminder policy (so planning the reminders reads no more) and the course's approved authorisations."""
    location = chair.location
    if start < now:
        raise Conflict("That time has already passed.", code="in_the_past")
    if not chair.active or not location.active:
        raise Conflict("That chair is not in service.", code="chair_inactive")
    if not chair.serves(course.modality):
        need = "an infusion pump" if course.modality == Modality.KETAMINE_IV else "esketamine dosing"
        raise Conflict(f"{chair.name} is not set up for {need}.", code="modality_mismatch")
    if course.modality == Modality.ESKETAMINE_NASAL and not location.rems_certified:
        raise Conflict(f"{location.name} is not REMS-certified for esketamine.", code="not_rems_certified")
    facts = fast_reads.slot_facts(course=course, chair=chair, start=start, occupied_until=occupied_until,
                                     local_day=location.local_date(start), exclude_session_id=exclude_session_id)
    if not facts.calendar.is_open_for(start, end):
        raise Conflict(f"{location.name} is closed for part of that time.", code="outside_hours")
    if facts.chair_taken:
        raise Conflict("That chair is already booked at that time.", code="chair_conflict")
    if facts.patient_taken:
        raise Conflict("The patient already has a session at that time.", code="patient_conflict")
    if facts.day_taken:
        raise Conflict("The course already has a session on that day.", code="same_day")
    return facts


def _assign_clinician(*, location: Location, start: datetime, end: datetime, clinician,
                      exclude_session_id: int | None):
    """Lock and check the clinician's load, or pick the least-loaded clinician with room.

    The clinician's user row is locked (SELECT ... FOR UPDATE) so two desks
    booking the same clinician at once are serialised: the count each sees
    includes the other's booking, and capacity can never be exceeded.
    """
    limit = location.max_in_treatment_per_clinician
    locked = fast_reads.lock_clinicians(location=location, start=start, end=end, clinician=clinician,
                                        exclude_session_id=exclude_session_id)
    if not locked.users:
        return None
    loads = {pk: rules.peak_concurrency(spans, start, end) for pk, spans in locked.busy.items()}
    with_room = [pk for pk in locked.busy if loads[pk] < limit]
    if not with_room:
        who = locked.users[clinician.pk].get_full_name() if clinician is not None else "Every clinician"
        raise Conflict(
            f"{who or 'The clinician'} already has {limit} patients in treatment at that time.",
            code="clinician_capacity",
        )
    return locked.users[min(with_room, key=lambda pk: (loads[pk], pk))]


def check_slot_for(*, course: TreatmentCourse, chair: Chair, start: datetime, now: datetime,
                   clinician=None, exclude_session_id: int | None = None) -> None:
    """Run every check of a booking except the due window, raising the booking's Conflict on the first refusal.

    Locks the clinicians it counts, so call it inside a transaction.
    """
    location = chair.location
    end = start + timedelta(minutes=course.protocol.chair_minutes)
    occupied_until = end + timedelta(minutes=location.turnover_minutes)
    _check_slot(course=course, chair=chair, start=start, end=end, occupied_until=occupied_until,
                exclude_session_id=exclude_session_id, now=now)
    _assign_clinician(location=location, start=start, end=end, clinician=clinician,
                      exclude_session_id=exclude_session_id)


def _lock_authorisations(course: TreatmentCourse) -> None:
    """Lock the course's approved authorisations before ``_check_slot`` counts their units, for a course read
    before the booking's transaction began (one statement, only where the protocol requires authorisation);
    ``fast_reads.course_for_booking`` inside the transaction has locked them already."""
    if authorisations.requires_check(course):
        authorisations.lock_covers(course.pk)


@transaction.atomic
def book_session(*, by, course: TreatmentCourse | CourseForBooking, chair: Chair, start: datetime, clinician=None,
                 override_reason: str = "", authorisation_reason: str = "", now: datetime | None = None) -> Session:
    """Book the course's next session on ``chair`` at ``start``.

    Refuses with 409 and a code: ``in_the_past``, ``modality_mismatch``,
    ``not_rems_certified``, ``outside_hours``, ``outside_due_window`` (a
    clinician may override with a reason), ``same_day``, ``chair_conflict``,
    ``patient_conflict``, ``clinician_capacity``, ``course_not_active``; where the course's protocol requires
    prior authorisation, ``no_authorisation`` or ``authorisation_units_used`` unless a clinician or a manager
    gives ``authorisation_reason`` (403 ``authorisation_override_not_allowed`` for anyone else), recorded on
    the session with who and when.
    ``course`` may be the ``CourseForBooking`` the API read with the request (``BookableCourseField``): it
    is used as it is. A course is read again with ``fast_reads.course_for_booking``, as a move reads it.
    """
    now = now or timezone.now()
    if isinstance(course, CourseForBooking):
        facts = course
        _lock_authorisations(facts.course)
    else:
        facts = fast_reads.course_for_booking(course.pk)
    course = facts.course
    check_course_bookable(course)
    location = chair.location
    end = start + timedelta(minutes=course.protocol.chair_minutes)
    occupied_until = end + timedelta(minutes=location.turnover_minutes)
    slot = _check_slot(course=course, chair=chair, start=start, end=end, occupied_until=occupied_until,
                       exclude_session_id=None, now=now)
    # The same site, loaded with its reminder policy (so planning the reminders reads no more).
    location = slot.location
    local_day = location.local_date(start)
    _check_window(course=course, dates=facts.dates, local_day=local_day, by=by, override_reason=override_reason)
    beyond = authorisations.check_booking(course=course, covers=slot.covers, entered=slot.authorisation_entered,
                                          day=local_day, by=by, reason=authorisation_reason, now=now)
    assigned = _assign_clinician(location=location, start=start, end=end, clinician=clinician,
                                 exclude_session_id=None)
    session = Session(
        course=course, patient=course.patient, location=location, chair=chair, clinician=assigned,
        start=start, end=end, occupied_until=occupied_until, local_date=location.local_date(start),
        booked_by=by, booked_at=now, override_reason=override_reason,
        override_by=by if override_reason else None, authorisation_override_reason=beyond.reason,
        authorisation_override_by=beyond.by, authorisation_override_at=beyond.at,
    )
    try:
        # No savepoint: a refusal here ends the whole booking, whose own atomic block rolls it back.
        with transaction.atomic(savepoint=False):
            session.save()
    except IntegrityError as error:
        raise _conflict_from_integrity_error(error) from None
    _after_booking_change(session, "booked", open_offers=slot.open_offers)
    return session


@transaction.atomic
def reschedule_session(*, by, session: Session, start: datetime, chair: Chair | None = None, clinician=None,
                       override_reason: str = "", authorisation_reason: str = "",
                       now: datetime | None = None) -> Session:
    """Move a booked or confirmed session to a new time (and chair), atomically.

    The old slot is released only by the same UPDATE that takes the new one,
    so a refused move leaves the session exactly where it was. Same checks and
    codes as ``book_session``; a moved session is booked again (unconfirmed). The course is read as a
    booking reads it (``fast_reads.course_for_booking``), without the session being moved. A move is checked
    against the prior authorisations for its new day (the session's own unit not counted): an override
    belongs to a day, so a move beyond them needs a new reason, and a move back inside clears the old one.
    """
    now = now or timezone.now()
    locked = Session.objects.select_for_update(of=("self",)).select_related("chair__location").get(pk=session.pk)
    if locked.status not in (SessionStatus.BOOKED, SessionStatus.CONFIRMED):
        raise Conflict(f"A {locked.get_status_display().lower()} session cannot be moved.", code="invalid_state",
                       extra={"status": locked.status})
    facts = fast_reads.course_for_booking(locked.course_id, exclude_session_id=locked.pk)
    course = locked.course = facts.course
    check_course_bookable(course)
    chair = chair or locked.chair
    location = chair.location
    end = start + timedelta(minutes=course.protocol.chair_minutes)
    occupied_until = end + timedelta(minutes=location.turnover_minutes)
    slot = _check_slot(course=course, chair=chair, start=start, end=end, occupied_until=occupied_until,
                       exclude_session_id=locked.pk, now=now)
    location = slot.location
    local_day = location.local_date(start)
    _check_window(course=course, dates=facts.dates, local_day=local_day, by=by,
                  override_reason=override_reason, moving=locked)
    beyond = authorisations.check_booking(course=course, covers=slot.covers, entered=slot.authorisation_entered,
                                          day=local_day, by=by, reason=authorisation_reason, now=now)
    assigned = _assign_clinician(location=location, start=start, end=end,
                                 clinician=clinician or locked.clinician, exclude_session_id=locked.pk)
    freed = offers_planning.freed_by(locked, now=now)
    locked.rescheduled_from = locked.start
    locked.earlier_wanted_at = None  # the move answers the wish for an earlier time
    locked.revision += 1
    locked.chair, locked.location, locked.clinician = chair, location, assigned
    locked.start, locked.end, locked.occupied_until = start, end, occupied_until
    locked.local_date = location.local_date(start)
    locked.status = SessionStatus.BOOKED
    locked.confirmed_at = None
    if override_reason:
        locked.override_reason, locked.override_by = override_reason, by
    locked.authorisation_override_reason = beyond.reason
    locked.authorisation_override_by, locked.authorisation_override_at = beyond.by, beyond.at
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as error:
        raise _conflict_from_integrity_error(error) from None
    _after_booking_change(locked, "moved", freed=freed, open_offers=slot.open_offers)
    # The patient who replied R gets one text with the new time; the desk's item is answered by the move.
    text_new_time_on_commit(locked.pk, new_time.answer_reschedule_requests(locked, by=by, now=now))
    return locked


@transaction.atomic
def cancel_session(*, by, session: Session, reason: str, now: datetime | None = None) -> Session:
    """Cancel a booked or confirmed session with a reason; under 24 hours before start it is a late cancel."""
    if not (reason or "").strip():
        raise Invalid("Say why the session is cancelled.", fields={"reason": ["A reason is required."]})
    locked = Session.objects.select_for_update().get(pk=session.pk)
    if locked.status not in (SessionStatus.BOOKED, SessionStatus.CONFIRMED):
        raise Conflict(f"A {locked.get_status_display().lower()} session cannot be cancelled.",
                       code="invalid_state", extra={"status": locked.status})
    locked.cancel(by=by, reason=reason.strip(), now=now)
    locked.save()
    _after_booking_change(locked, "cancelled", freed=offers_planning.freed_by(locked, now=now))
    return locked


@transaction.atomic
def mark_no_show(*, by, session: Session, now: datetime | None = None) -> Session:
    """Record that the patient did not come; only once the start time has passed."""
    now = now or timezone.now()
    locked = Session.objects.select_for_update().get(pk=session.pk)
    if locked.status not in (SessionStatus.BOOKED, SessionStatus.CONFIRMED):
        raise Conflict(f"A {locked.get_status_display().lower()} session cannot be marked as a no-show.",
                       code="invalid_state", extra={"status": locked.status})
    if now < locked.start:
        raise Conflict("A session can be marked as a no-show only after its start time.", code="not_started")
    locked.mark_no_show(now=now)
    locked.save()
    _after_booking_change(locked, "no_show")
    return locked


@transaction.atomic
def record_past_session(*, by, course: TreatmentCourse, day: date, location: Location | None = None,
                        dose_mg=None, notes: str = "") -> Session:
    """Record a session given before the course was entered into the system, as completed history.

    It has no chair and needs no REMS form; it counts toward the protocol so the
    due engine continues from where the patient really is. Rules (docs/DOMAIN.md
    "Rules that have no way around them"):

    - clinicians and managers only (403 ``history_needs_clinician``): it moves a course on;
    - a past day, on or after the course's start, and before the course's first
      session booked in the system (400 naming ``date``): history is what came before;
    - never on a day that already has a session of the course, in any status,
      a no-show or a cancelled visit included (409 ``same_day``);
    - a dose is checked as any dose: an esketamine dose must be a protocol dose, the
      first one the protocol's first dose and 84 mg only after 56 mg, each counted
      in date order with the course's other doses (400 naming ``dose_mg``).

    A finished course is completed, and the course's worklist follows on commit.
    """
    if not has_role(by, CLINICIAN, MANAGER):
        raise NotAllowed("Only a clinician or a manager may record a course's earlier sessions.",
                         code="history_needs_clinician")
    course = TreatmentCourse.objects.select_for_update(of=("self",)).select_related("protocol").get(pk=course.pk)
    if not course.is_open and course.status != CourseStatus.COMPLETED:
        raise Conflict("History can only be added to an open or completed course.", code="course_not_active")
    today = timezone.localdate()
    if day >= today:
        raise Invalid("Recorded history must be before today.", fields={"date": ["Must be a past date."]})
    if day < course.start_date:
        raise Invalid("Recorded history cannot be before the course started.",
                      fields={"date": ["Must be on or after the course's start date."]})
    sessions = list(Session.objects.filter(course=course).values("local_date", "recorded_history",
                                                                 "recorded_dose_mg", "status"))
    booked_days = [row["local_date"] for row in sessions if not row["recorded_history"]]
    if booked_days and day >= min(booked_days):
        first = min(booked_days)
        raise Invalid(f"Recorded history must be before the course's first session booked here ({first:%d %b %Y}).",
                      fields={"date": [f"Must be before {first.isoformat()}."]})
    if any(row["local_date"] == day for row in sessions):
        raise Conflict("The course already has a session on that day.", code="same_day")
    if dose_mg is not None:
        _check_recorded_dose(course=course, day=day, dose_mg=Decimal(dose_mg), sessions=sessions)
    zone = location.zone if location else timezone.get_default_timezone()
    start = datetime.combine(day, time(12), tzinfo=zone)
    end = start + timedelta(minutes=course.protocol.chair_minutes)
    session = Session(
        course=course, patient_id=course.patient_id, location=location, chair=None, start=start, end=end,
        occupied_until=end, local_date=day, status=SessionStatus.DISCHARGED, recorded_history=True,
        recorded_dose_mg=dose_mg, notes=notes, booked_by=by,
    )
    try:
        with transaction.atomic():
            session.save()
    except IntegrityError as error:
        raise _conflict_from_integrity_error(error) from None
    complete_course_if_finished(course=course)
    refresh_course_worklist_on_commit(course.pk)
    return session


def _check_recorded_dose(*, course: TreatmentCourse, day: date, dose_mg: Decimal, sessions: list[dict]) -> None:
    """A recorded dose follows the protocol's dose rules as a dose charted in the chair would."""
    if dose_mg <= 0:
        raise Invalid("A dose is more than 0 mg.", fields={"dose_mg": ["Must be more than 0 mg."]})
    protocol = course.protocol
    if protocol.modality != Modality.ESKETAMINE_NASAL:
        return
    earlier = [row["recorded_dose_mg"] for row in sorted(sessions, key=lambda row: row["local_date"])
               if row["local_date"] < day and row["recorded_dose_mg"] is not None]
    problems = dose_rules.esketamine_dose_problems(
        dose_mg=dose_mg, first_dose_mg=protocol.first_dose_mg, allowed_doses_mg=protocol.allowed_doses_mg,
        requires_prior_56_for_84=protocol.requires_prior_56_for_84, previous_doses_mg=earlier)
    if problems:
        raise Invalid(" ".join(problems), fields={"dose_mg": list(problems)})


def _after_booking_change(session: Session, change: str, *, freed: offers_planning.FreedTime | None = None,
                          open_offers: tuple[int, ...] = ()) -> None:
    """Reminders follow the booking in the same transaction; the course's worklist items follow on commit.

    Chair time taken ends every open offer of it at once (``open_offers``, read with the slot's facts,
    so a booking costs no statement more when there are none); chair time freed (a cancel or a move far
    enough ahead) is offered to patients who could use it once the change commits (docs/OFFERS.md).
    """
    reminders.booking_changed(session, change=change)
    refresh_course_worklist_on_commit(session.course_id)
    if open_offers:
        offers_planning.void_offers_of_booking(session, open_offers)
    if freed is not None:
        # Kept in this transaction, so a planning task lost with the broker is caught up by beat.
        offers_planning.keep_freed(freed)
        plan_offers_on_commit(freed)
