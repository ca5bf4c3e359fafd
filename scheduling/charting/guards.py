"""What every charting step checks first: the session row locked, its state, the clinician."""

from __future__ import annotations

from clinic.errors import Conflict, NotAllowed
from clinic.roles import CLINICIAN, has_role
from scheduling.models import Session


def locked(session: Session) -> Session:
    """The session again, its row locked for this transaction, so two screens cannot interleave two steps."""
    return (Session.objects.select_for_update(of=("self",))
            .select_related("course__protocol", "patient", "location").get(pk=session.pk))


def require_state(session: Session, *allowed: str, action: str) -> None:
    """409 ``invalid_state`` naming the current state unless the session is in one of ``allowed``."""
    if session.status not in allowed:
        raise Conflict(f"This session is {session.get_status_display().lower()}, so it cannot be {action}.",
                       code="invalid_state", extra={"status": session.status})


def require_clinician(by, action: str) -> None:
    if not has_role(by, CLINICIAN):
        raise NotAllowed(f"Only a clinician may {action}.", code="clinician_only")
