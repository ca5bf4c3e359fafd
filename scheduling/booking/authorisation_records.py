"""Entering and updating a course's prior authorisations: the one write the pages (and the API) call.

Front desk, clinicians and managers enter and update them (docs/PERMISSIONS.md).
The model's ``clean`` gives the field errors (approved needs units and days,
days in order, decided after submitted, documents as references); a status that
may not follow the one before (``STATUS_MOVES``) and an approval overlapping
another approval of the course are wrong states (409). A change marks the
course's worklist for a refresh in the same transaction, so its items (ending,
units low, pending, denied) follow at once rather than at the hourly sweep.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction

from clinic.errors import Conflict, Invalid, NotAllowed
from clinic.roles import ALL_ROLES, has_role
from protocols.models import PriorAuthorisation, TreatmentCourse
from scheduling.tasks import refresh_course_worklist_on_commit

# What a person may set; the rest (course, who, when) the service sets.
EDITABLE_FIELDS = ("payer", "number", "status", "units_approved", "first_day", "last_day", "submitted_on",
                   "decided_on", "notes", "documents")
OVERLAP_CODE = "authorisation_overlap"
# The exclusion constraint's own words, which ``full_clean`` reports without a field.
OVERLAP_MESSAGE = next(str(constraint.violation_error_message) for constraint in PriorAuthorisation._meta.constraints
                       if constraint.name == "authorisation_no_overlapping_approvals")


def _check_role(by) -> None:
    if not has_role(by, *ALL_ROLES):
        raise NotAllowed("Only the front desk, clinicians and managers may enter prior authorisations.",
                         code="not_allowed")


def _validated(authorisation: PriorAuthorisation) -> None:
    """``full_clean`` as the API's errors: field errors 400, an overlapping approval 409 ``authorisation_overlap``."""
    try:
        authorisation.full_clean(exclude=["course", "created_by", "updated_by"])
    except ValidationError as error:
        fields = {name: [str(message) for message in messages] for name, messages in error.message_dict.items()}
        general = fields.pop(NON_FIELD_ERRORS, [])
        if fields:
            raise Invalid("Check the authorisation's fields.", fields=fields) from None
        if OVERLAP_MESSAGE in general:
            raise _overlap() from None
        raise Invalid(" ".join(general)) from None


def _overlap() -> Conflict:
    return Conflict(OVERLAP_MESSAGE, code=OVERLAP_CODE,
                    fields={"first_day": ["Overlaps another approved authorisation's days."]})


def _save(authorisation: PriorAuthorisation) -> PriorAuthorisation:
    try:
        with transaction.atomic():
            authorisation.save()
    except IntegrityError:
        # Two desks approving overlapping days at once: the exclusion constraint settles it.
        raise _overlap() from None
    refresh_course_worklist_on_commit(authorisation.course_id)
    return authorisation


@transaction.atomic
def record_authorisation(*, by, course: TreatmentCourse, values: dict[str, Any]) -> PriorAuthorisation:
    """Enter a prior authorisation of ``course`` (``values``: any of ``EDITABLE_FIELDS``; ``payer`` and
    ``submitted_on`` required).

    403 ``not_allowed`` without a staff role; 400 with field errors for what the
    model refuses; 409 ``authorisation_overlap`` when an approval's days overlap
    another approval of the course.
    """
    _check_role(by)
    authorisation = PriorAuthorisation(course=course, created_by=by, updated_by=by,
                                       **{name: value for name, value in values.items() if name in EDITABLE_FIELDS})
    _validated(authorisation)
    return _save(authorisation)


@transaction.atomic
def update_authorisation(*, by, authorisation: PriorAuthorisation, values: dict[str, Any]) -> PriorAuthorisation:
    """Change an authorisation's fields (``values``: any of ``EDITABLE_FIELDS``), under a row lock.

    The same refusals as ``record_authorisation``, and 409 ``invalid_status_move``
    (naming ``status``) when the new status may not follow the current one
    (``STATUS_MOVES``: e.g. an expired authorisation is final). The lock makes a
    second desk's change wait and be checked against the first's status.
    """
    _check_role(by)
    locked = PriorAuthorisation.objects.select_for_update().get(pk=authorisation.pk)
    previous = locked.status
    for name, value in values.items():
        if name in EDITABLE_FIELDS:
            setattr(locked, name, value)
    locked.updated_by = by
    try:
        locked.check_status_move(previous)
    except ValidationError as error:
        raise Conflict(error.message_dict["status"][0], code="invalid_status_move",
                       fields={"status": error.message_dict["status"]}) from None
    _validated(locked)
    return _save(locked)
