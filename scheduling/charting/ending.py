"""How a session ends: a discharge once observation is over, or the patient leaving before it.

Both end the session ``discharged``: the dose was given, so it counts for the
protocol wherever completed sessions are counted, and the esketamine REMS form
is required either way. A patient who left is told apart by ``left_at``
(with when, why and how, and with whom) and has no ``discharged_at``.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from clinic.errors import Conflict, Invalid
from protocols.models import Modality
from protocols.services import complete_course_if_finished
from scheduling.charting import rems, timing
from scheduling.charting.guards import locked, require_clinician, require_state
from scheduling.charting.observation import observation_ends
from scheduling.models import LeftBeforeDischarge, Session, SessionStatus, VitalsKind
from scheduling.tasks import refresh_course_worklist_on_commit

COULD_HAVE_LEFT_LIMIT = 600


def _minutes_until(ends: datetime, moment: datetime) -> int:
    seconds = (ends - moment).total_seconds()
    return int(seconds // 60) + (1 if seconds % 60 else 0)


def _refuse_before_observation_ends(session: Session, ends: datetime, *, charted: datetime, now: datetime) -> None:
    """409 ``observation_not_complete`` while the real time or the charted discharge time is before ``ends``."""
    minutes = session.course.protocol.observation_minutes
    until = timing.hh_mm(ends, session.location)
    if now < ends:
        left = _minutes_until(ends, now)
        detail = (f"Observation is not complete: {minutes} minutes are required; "
                  f"{left} minute{'s' if left != 1 else ''} left (until {until}).")
    elif charted < ends:
        left = 0
        detail = (f"Observation is not complete at the discharge time charted "
                  f"({timing.hh_mm(charted, session.location)}): {minutes} minutes are required, until {until}.")
    else:
        return
    raise Conflict(detail, code="observation_not_complete",
                   extra={"observation_ends_at": ends.isoformat(), "minutes_left": left})


def _close(session: Session) -> None:
    session.status = SessionStatus.DISCHARGED
    session.save()
    if session.course.modality == Modality.ESKETAMINE_NASAL:
        rems.refresh_form(session)
    complete_course_if_finished(course=session.course)
    refresh_course_worklist_on_commit(session.course_id)


@transaction.atomic
def discharge(*, by, session: Session, resolution_attested: bool, driver: str,
              could_have_left_after_minutes: int | None = None, discharged_at: datetime | None = None,
              late_reason: str = "", now: datetime | None = None) -> Session:
    """Discharge the patient once observation is over, counted in real time. There is no override.

    Refused (409 ``observation_not_complete``) while either the charted
    discharge time or the real time (now) is before the end of observation,
    which is counted from the charted first device (IV: infusion end) and
    never sooner than from the moment that was entered
    (``observation.observation_ends``). ``discharged_at`` is never in the
    future (no allowance for clocks) and, more than 15 minutes before now, is
    a late entry that needs ``late_reason``. Requires discharge vital signs
    taken within 15 minutes before the discharge, the clinician's attestation
    that sedation, dissociation and breathing have resolved, who drives the
    patient home, and for esketamine the REMS "could have left after" minutes.
    Creates the REMS form (esketamine) and completes a finished course.
    """
    now = now or timezone.now()
    require_clinician(by, "discharge a patient")
    session = locked(session)
    require_state(session, SessionStatus.IN_TREATMENT, action="discharged")
    dose = session.dose
    ends = observation_ends(session, dose)
    if ends is None:
        raise Conflict("Record the end of the infusion first: recovery is counted from it.",
                       code="infusion_not_ended")
    when = timing.charted(discharged_at, field="discharged_at", now=now, late_reason=late_reason,
                          not_before=dose.started_at, not_before_label="dosing")
    _refuse_before_observation_ends(session, ends, charted=when.at, now=now)
    errors: dict[str, list[str]] = {}
    if not resolution_attested:
        errors["resolution_attested"] = ["Confirm that sedation, dissociation and breathing have resolved."]
    if not (driver or "").strip():
        errors["driver"] = ["Say who drives the patient home."]
    if session.course.modality == Modality.ESKETAMINE_NASAL:
        if could_have_left_after_minutes is None:
            errors["could_have_left_after_minutes"] = ["The REMS form asks this: answer in minutes."]
        elif not 0 <= could_have_left_after_minutes <= COULD_HAVE_LEFT_LIMIT:
            errors["could_have_left_after_minutes"] = [f"Must be 0 to {COULD_HAVE_LEFT_LIMIT} minutes."]
    if errors:
        raise Invalid("Discharge needs a few more answers.", fields=errors)
    if not session.vitals.filter(kind=VitalsKind.DISCHARGE, taken_at__gte=when.at - timing.DISCHARGE_VITALS_WITHIN,
                                 taken_at__lte=when.at).exists():
        raise Conflict("Record discharge vital signs taken within 15 minutes before the discharge first.",
                       code="discharge_vitals_missing")
    session.discharged_at, session.discharged_by = when.at, by
    session.discharge_entered_at, session.discharge_late_reason = when.entered_at, when.late_reason
    session.resolution_attested = True
    session.driver = driver.strip()
    session.could_have_left_after_minutes = could_have_left_after_minutes
    _close(session)
    return session


@transaction.atomic
def leave_before_discharge(*, by, session: Session, kind: str, reason: str, left_with: str,
                           left_at: datetime | None = None, late_reason: str = "",
                           now: datetime | None = None) -> Session:
    """Record a dosed patient leaving before discharge: against advice, or transferred to emergency care.

    A clinician records when (a charted time: never before dosing, a late
    entry needs ``late_reason``), why, and how and with whom. The session
    ends ``discharged`` with ``left_at`` and no ``discharged_at``: the dose
    counts for the protocol, and the esketamine REMS form is still required
    (an emergency transfer lists its serious adverse event as missing until
    one is recorded).
    """
    now = now or timezone.now()
    require_clinician(by, "record a patient leaving before discharge")
    session = locked(session)
    require_state(session, SessionStatus.IN_TREATMENT, action="recorded as leaving before discharge")
    errors: dict[str, list[str]] = {}
    if kind not in LeftBeforeDischarge.values:
        errors["kind"] = [f"Use one of {', '.join(LeftBeforeDischarge.values)}."]
    if not (reason or "").strip():
        errors["reason"] = ["Say why the patient left."]
    if not (left_with or "").strip():
        errors["left_with"] = ["Say how the patient left, and with whom."]
    if errors:
        raise Invalid("Leaving before discharge needs when, why and how.", fields=errors)
    when = timing.charted(left_at, field="left_at", now=now, late_reason=late_reason,
                          not_before=session.dose.started_at, not_before_label="dosing")
    session.left_at, session.left_entered_at, session.left_late_reason = when.at, when.entered_at, when.late_reason
    session.left_kind, session.left_reason, session.left_with = kind, reason.strip(), left_with.strip()
    session.left_recorded_by = by
    _close(session)
    return session
