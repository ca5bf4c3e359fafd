"""Taking a desk's last step back: a cancel put right, a booking made in error withdrawn.

Both are ordinary session changes (one transaction, the session's row locked,
recorded by the same history triggers, reminders and the course's worklist
following as for any booking change), never a way around a booking's rules:

- ``undo_cancel`` puts a cancelled session back where it was only if it could
  be booked there now, by every check a booking makes (the chair and the
  patient still free, the exclusion constraints settling any race; opening
  hours; the due window; the clinician's capacity), refusing with the
  booking's own 409 codes otherwise;
- ``undo_booking`` withdraws a session booked moments ago by mistake: it is
  cancelled "Booked in error", never a late cancel, and nothing is texted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.errors import Conflict
from scheduling.booking import authorisations, fast_reads
from scheduling.booking.services import (
    _after_booking_change,
    _assign_clinician,
    _check_slot,
    _check_window,
    _conflict_from_integrity_error,
    check_course_bookable,
)
from scheduling.models import UPCOMING_STATUSES, Session, SessionStatus

BOOKED_IN_ERROR = "Booked in error"
# How long after booking a session may be withdrawn as a mistake; later, it is an ordinary cancel with a reason.
UNDO_BOOKING_WINDOW = timedelta(minutes=30)


@transaction.atomic
def undo_cancel(session: Session, *, by, now: datetime | None = None) -> Session:
    """Put a cancelled session back on its chair at its time, as it was before the cancel.

    Refuses with 409: ``invalid_state`` (the session is not cancelled), and every code
    ``book_session`` gives (``in_the_past``, ``chair_inactive``, ``outside_hours``,
    ``chair_conflict``, ``patient_conflict``, ``same_day``, ``outside_due_window``,
    ``passes_next_session``, ``clinician_capacity``, ``course_not_active``, ``no_authorisation``,
    ``authorisation_units_used``...). A clinician's override of the due window, or a clinician's or
    manager's booking beyond the prior authorisations, given at booking still stands.

    The session gets a new revision, so its reminders are planned afresh (the
    cancel voided the old ones), and the cancel's reason, author and late flag are cleared.
    """
    now = now or timezone.now()
    locked = Session.objects.select_for_update(of=("self",)).select_related("chair__location").get(pk=session.pk)
    if locked.status != SessionStatus.CANCELLED:
        raise Conflict(f"Only a cancelled session can be put back; this one is "
                       f"{locked.get_status_display().lower()}.", code="invalid_state",
                       extra={"status": locked.status})
    facts = fast_reads.course_for_booking(locked.course_id, exclude_session_id=locked.pk)
    course = locked.course = facts.course
    check_course_bookable(course)
    chair = locked.chair
    slot = _check_slot(course=course, chair=chair, start=locked.start, end=locked.end,
                       occupied_until=locked.occupied_until, exclude_session_id=locked.pk, now=now)
    location = slot.location
    # The session is judged at its own place in the course, as a move is; an override a clinician gave
    # when it was booked is that clinician's, so it is checked as theirs.
    _check_window(course=course, dates=facts.dates, local_day=location.local_date(locked.start),
                  by=locked.override_by or by, override_reason=locked.override_reason, moving=locked)
    # The session takes a unit again; a reason given for it beyond the authorisations is checked as its giver's.
    beyond = authorisations.check_booking(course=course, covers=slot.covers, entered=slot.authorisation_entered,
                                          day=location.local_date(locked.start),
                                          by=locked.authorisation_override_by or by,
                                          reason=locked.authorisation_override_reason, now=now)
    if not beyond.reason:
        # An approval now covers it: the old reason no longer says why it is booked, as after a move back inside.
        locked.authorisation_override_reason, locked.authorisation_override_by = "", None
        locked.authorisation_override_at = None
    locked.clinician = _assign_clinician(location=location, start=locked.start, end=locked.end,
                                         clinician=locked.clinician, exclude_session_id=locked.pk)
    locked.status = SessionStatus.CONFIRMED if locked.confirmed_at else SessionStatus.BOOKED
    locked.cancel_reason, locked.cancelled_by, locked.cancelled_at, locked.late_cancel = "", None, None, False
    locked.revision += 1
    try:
        # A savepoint, so a race lost to the exclusion constraints is a clean 409, not a broken transaction.
        with transaction.atomic():
            locked.save()
    except IntegrityError as error:
        raise _conflict_from_integrity_error(error) from None
    _after_booking_change(locked, "booked", open_offers=slot.open_offers)
    return locked


@transaction.atomic
def undo_booking(session: Session, *, by, now: datetime | None = None) -> Session:
    """Withdraw a session booked in error moments ago: cancelled "Booked in error", not a late cancel, no text.

    Refuses with 409 ``invalid_state`` when the session is no longer booked or confirmed, and
    ``undo_too_late`` when it was booked more than ``UNDO_BOOKING_WINDOW`` ago (cancel it with a reason).
    """
    now = now or timezone.now()
    locked = Session.objects.select_for_update(of=("self",)).get(pk=session.pk)
    if locked.status not in UPCOMING_STATUSES:
        raise Conflict(f"A {locked.get_status_display().lower()} session cannot be withdrawn.",
                       code="invalid_state", extra={"status": locked.status})
    if now - locked.booked_at > UNDO_BOOKING_WINDOW:
        minutes = int(UNDO_BOOKING_WINDOW.total_seconds() // 60)
        raise Conflict(f"This session was booked more than {minutes} minutes ago; cancel it with a reason instead.",
                       code="undo_too_late")
    locked.cancel(by=by, reason=BOOKED_IN_ERROR, now=now)
    locked.late_cancel = False  # a booking that should never have been is not the patient's late cancel
    locked.save()
    # Reminders are voided as for any cancel; a cancel sends the patient nothing.
    _after_booking_change(locked, "cancelled")
    return locked
