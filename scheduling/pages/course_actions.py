"""The course's actions as the page takes them, and the course's history as the page reads it.

Each action calls the same service as the API's action (``protocols/api/views.py``) and
lets in the same roles: ``pause``, ``resume`` and ``discontinue`` are ``CLINICAL_WRITE``
(clinicians and managers), ``maintenance-frequency`` and ``restart-phase`` clinicians only.
The role matrix test (tests/clinic/test_permission_matrix.py) holds both to the same line of
docs/PERMISSIONS.md. The API gives pause and resume no reason; the page asks for one,
optional, and keeps it in the course's history (the change's pghistory context), so who
paused and why reads on the page whichever way the change came.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pghistory
import pghistory.models
from django.contrib.auth import get_user_model

from clinic.errors import Invalid, NotAllowed
from clinic.roles import CLINICIAN, MANAGER, has_role
from protocols import services
from protocols.models import CourseStatus, MaintenanceFrequency, TreatmentCourse

# The API's serializers' limits (ReasonSerializer, MaintenanceFrequencySerializer): the page refuses what they refuse.
REASON_MAX = 4000
FREQUENCY_REASON_MAX = 2000
# The API's words when a role may not write (clinic.roles.roles_may), given here with the same 403.
ROLE_REFUSED = "Your role does not allow this."


@dataclass(frozen=True)
class CourseAction:
    name: str  # the address's last part, as in the API
    label: str  # the button
    roles: tuple[str, ...]
    reason_required: bool
    reason_max: int
    run: Callable[..., TreatmentCourse]
    done: str  # what the success message says changed


def _pause(*, by, course, data, reason):
    return services.pause_course(by=by, course=course)


def _resume(*, by, course, data, reason):
    return services.resume_course(by=by, course=course)


def _discontinue(*, by, course, data, reason):
    return services.discontinue_course(by=by, course=course, reason=reason)


def _frequency(*, by, course, data, reason):
    return services.set_maintenance_frequency(by=by, course=course, frequency=data.get("frequency", ""),
                                              reason=reason)


def _restart(*, by, course, data, reason):
    return services.restart_phase(by=by, course=course, reason=reason)


ACTIONS: dict[str, CourseAction] = {action.name: action for action in (
    CourseAction("pause", "Pause the course", (CLINICIAN, MANAGER), False, REASON_MAX, _pause,
                 "Paused: the course keeps its place in the protocol; resume it to book again."),
    CourseAction("resume", "Resume the course", (CLINICIAN, MANAGER), False, REASON_MAX, _resume,
                 "Resumed: the course is active again."),
    CourseAction("discontinue", "Discontinue the course", (CLINICIAN, MANAGER), True, REASON_MAX, _discontinue,
                 "Discontinued: the course has ended; its sessions stay in its history."),
    CourseAction("maintenance-frequency", "Change maintenance frequency", (CLINICIAN,), True,
                 FREQUENCY_REASON_MAX, _frequency, "Maintenance frequency changed: now {frequency}."),
    CourseAction("restart-phase", "Restart the phase", (CLINICIAN,), True, REASON_MAX, _restart,
                 "Phase restarted: the next session is due like a first session from today."),
)}


def may(user, action: str) -> bool:
    return has_role(user, *ACTIONS[action].roles)


def take(action: str, *, by, course: TreatmentCourse, data) -> TreatmentCourse:
    """Take ``action`` on ``course`` as ``by`` with the form's ``data``; raises the service's ``ClinicError``."""
    spec = ACTIONS[action]
    if not may(by, action):
        raise NotAllowed(ROLE_REFUSED, code="permission_denied")
    reason = data.get("reason", "")
    if len(reason) > spec.reason_max:
        words = f"Ensure this field has no more than {spec.reason_max} characters."
        raise Invalid(words, fields={"reason": [words]})
    # The reason rides on the change's history row, beside the user and address the middleware records.
    with pghistory.context(reason=reason.strip()):
        return spec.run(by=by, course=course, data=data, reason=reason)


def available(user, course: TreatmentCourse, *, lapsed: bool) -> list[str]:
    """The actions the user's role may take that the course's state allows now, in the page's order."""
    names = []
    if course.status == CourseStatus.ACTIVE:
        names.append("pause")
    if course.status == CourseStatus.PAUSED:
        names.append("resume")
    if course.is_open and course.protocol.has_weekly_alternative():
        names.append("maintenance-frequency")
    if course.status == CourseStatus.ACTIVE and lapsed:
        names.append("restart-phase")
    if course.is_open:
        names.append("discontinue")
    return [name for name in names if may(user, name)]


# --- the history --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    what: str
    who: str
    reason: str


_REASON_FIELDS = ("discontinued_reason", "frequency_reason", "restart_reason", "override_reason")
# A changed field -> the field that records who changed it ("": the course's insert, which has no diff).
_RECORDED_BY = (("discontinued_reason", "discontinued_by_id"), ("frequency_reason", "frequency_changed_by_id"),
                ("restart_on", "restart_by_id"), ("override_reason", "override_by_id"), ("", "created_by_id"))


def _what(label: str, diff: dict) -> list[str]:
    if label == "insert":
        return ["Course started"]
    said = []
    if "status" in diff:
        before, after = diff["status"]
        said.append("Resumed" if (before, after) == (CourseStatus.PAUSED, CourseStatus.ACTIVE)
                    else CourseStatus(after).label)
    if "maintenance_frequency" in diff:
        said.append(f"Maintenance: {MaintenanceFrequency(diff['maintenance_frequency'][1]).label.lower()}")
    elif "frequency_reason" in diff or "frequency_changed_at" in diff:
        said.append("Maintenance frequency confirmed")
    if "restart_on" in diff:
        said.append("Phase restarted after a lapse")
    if "override_findings" in diff or "override_reason" in diff:
        said.append("Eligibility override recorded")
    return said


def course_history(course: TreatmentCourse) -> list[HistoryRow]:
    """The course's changes, newest first: what changed, who (the request's user), when and why."""
    events = (pghistory.models.Events.objects.tracks(course).order_by("-pgh_created_at", "-pgh_id")
              .values("pgh_label", "pgh_created_at", "pgh_diff", "pgh_context", "pgh_data"))
    rows = []
    for event in events:
        diff, context, data = event["pgh_diff"] or {}, event["pgh_context"] or {}, event["pgh_data"] or {}
        what = _what(event["pgh_label"], diff)
        if not what:
            continue  # a bookkeeping write (updated_at alone) is no change a person made
        reason = context.get("reason") or next(
            (diff[field][1] for field in _REASON_FIELDS if field in diff and diff[field][1]), "")
        # A change made outside a request (the demo, a script) has no user in its context: the course's own
        # record of who did it (created_by, discontinued_by, ...) as the row stood after the change names them.
        user = context.get("user") or next(
            (data.get(by) for field, by in _RECORDED_BY if field in diff or (field == "" and not diff)), None)
        rows.append((event["pgh_created_at"], "; ".join(what), user, reason))
    names = {user.pk: user.get_full_name() or user.get_username()
             for user in get_user_model().objects.filter(pk__in={row[2] for row in rows if row[2]})}
    return [HistoryRow(at=at, what=what, who=names.get(user, "the system"), reason=reason)
            for at, what, user, reason in rows]
