"""Entering and changing a course's prior authorisations: each write one transaction, every rule checked.

The rules (docs/DOMAIN.md "Prior authorisation"): an approved authorisation has
its units (at least 1) and its first and last day, in order; a decision comes on
or after the request; the status moves only as ``STATUS_MOVES`` allows; two
approved authorisations of a course never cover the same day (409
``authorisation_overlap``). Nothing is deleted: an entry made in error is
corrected, and every version stays in the authorisation's history.
"""

from __future__ import annotations

import copy

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.errors import Conflict, Invalid
from protocols.models import AuthorisationStatus, PriorAuthorisation, TreatmentCourse

# What a desk may write; the course is chosen at entry and never changes.
WRITABLE = ("payer", "number", "status", "units_approved", "first_day", "last_day", "submitted_on", "decided_on",
            "notes", "documents")
OVERLAP = "authorisation_no_overlapping_approvals"


def _overlapping(authorisation: PriorAuthorisation) -> PriorAuthorisation | None:
    """Another approved authorisation of the course covering one of this approved one's days, or None."""
    if authorisation.status != AuthorisationStatus.APPROVED:
        return None
    return (PriorAuthorisation.objects.filter(course_id=authorisation.course_id).approved()
            .filter(first_day__lte=authorisation.last_day, last_day__gte=authorisation.first_day)
            .exclude(pk=authorisation.pk).first())


def _validate_and_save(authorisation: PriorAuthorisation) -> PriorAuthorisation:
    try:
        authorisation.full_clean(exclude=["course", "created_by", "updated_by"], validate_constraints=False)
    except ValidationError as error:
        raise Invalid("The authorisation cannot be saved as it is.", fields=error.message_dict) from None
    other = _overlapping(authorisation)
    if other is not None:
        name = f"{other.payer} {other.number}".strip()
        raise Conflict(f"The approved authorisation {name} already covers {other.dates_words()}; two approved "
                       "authorisations of a course cannot cover the same day. Change its dates, or mark it "
                       "expired, first.", code="authorisation_overlap", extra={"authorisation": other.pk})
    try:
        # A savepoint: a race lost to the exclusion constraint is a clean 409.
        with transaction.atomic():
            authorisation.save()
    except IntegrityError as error:
        if OVERLAP in str(error):
            raise Conflict("Another approved authorisation of this course now covers some of these days.",
                           code="authorisation_overlap") from None
        raise
    return authorisation


def _lock_course(course_id: int) -> None:
    # NO KEY UPDATE: a booking holds the authorisations' rows and then inserts a session, which takes KEY SHARE
    # on the course; a full UPDATE lock here would wait on it while it waits on us.
    list(TreatmentCourse.objects.select_for_update(no_key=True).filter(pk=course_id).values_list("pk", flat=True))


@transaction.atomic
def enter_authorisation(*, by, course: TreatmentCourse, **fields) -> PriorAuthorisation:
    """Enter an authorisation of ``course`` (any status; pending by default).

    400 with field errors for what the rules refuse, 409 ``authorisation_overlap``.
    """
    unknown = set(fields) - set(WRITABLE)
    if unknown:
        raise Invalid(f"These fields cannot be set: {', '.join(sorted(unknown))}.")
    # The course's row is locked so two desks entering overlapping approvals at once are checked one by one.
    _lock_course(course.pk)
    authorisation = PriorAuthorisation(course=course, created_by=by, updated_by=by, **fields)
    authorisation.date_status_move(None, timezone.localdate())
    return _validate_and_save(authorisation)


@transaction.atomic
def change_authorisation(*, by, authorisation: PriorAuthorisation, **changes) -> PriorAuthorisation:
    """Change an authorisation's fields (the payer's answer, new dates or units, notes, documents).

    The status moves only as ``STATUS_MOVES`` allows (400 naming ``status``); a new status dates itself where
    its days were left as they were (``PriorAuthorisation.date_status_move``); the other rules as for
    ``enter_authorisation``.
    """
    unknown = set(changes) - set(WRITABLE)
    if unknown:
        raise Invalid(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    _lock_course(authorisation.course_id)
    locked = PriorAuthorisation.objects.select_for_update().get(pk=authorisation.pk)
    before = copy.copy(locked)
    previous = locked.status
    for name, value in changes.items():
        setattr(locked, name, value)
    try:
        locked.check_status_move(previous)
    except ValidationError as error:
        raise Invalid("The authorisation cannot move to that status.", fields=error.message_dict) from None
    locked.date_status_move(before, timezone.localdate())
    locked.updated_by = by
    return _validate_and_save(locked)
