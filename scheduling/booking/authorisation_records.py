"""Entering and changing a course's prior authorisations from the scheduling side: the rules, then the worklist.

The rules are ``protocols.authorisations`` (the API's service): field errors
400, a status that may not follow the last 400 naming ``status``, an approval
overlapping another 409 ``authorisation_overlap``. What the protocols app
cannot do (it may not import scheduling) is done here, in the same
transaction: the course's worklist is marked for a refresh, so its items
(ending, units low, pending, denied) follow the change at once rather than at
the hourly sweep. Front desk, clinicians and managers may write them.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from clinic.errors import NotAllowed
from clinic.roles import ALL_ROLES, has_role
from protocols import authorisations as entering
from protocols.models import PriorAuthorisation, TreatmentCourse
from scheduling.tasks import refresh_course_worklist_on_commit


def _check_role(by) -> None:
    if not has_role(by, *ALL_ROLES):
        raise NotAllowed("Only the front desk, clinicians and managers may enter prior authorisations.",
                         code="not_allowed")


@transaction.atomic
def record_authorisation(*, by, course: TreatmentCourse, values: dict[str, Any]) -> PriorAuthorisation:
    """Enter a prior authorisation of ``course`` (``values``: ``protocols.authorisations.WRITABLE`` fields) and
    refresh the course's worklist on commit; 403 ``not_allowed`` without a staff role."""
    _check_role(by)
    authorisation = entering.enter_authorisation(by=by, course=course, **values)
    refresh_course_worklist_on_commit(course.pk)
    return authorisation


@transaction.atomic
def update_authorisation(*, by, authorisation: PriorAuthorisation, values: dict[str, Any]) -> PriorAuthorisation:
    """Change an authorisation's fields and refresh its course's worklist on commit (the rules as for
    ``protocols.authorisations.change_authorisation``); 403 ``not_allowed`` without a staff role."""
    _check_role(by)
    changed = entering.change_authorisation(by=by, authorisation=authorisation, **values)
    refresh_course_worklist_on_commit(changed.course_id)
    return changed
