"""Writes to protocols and treatment courses. Each is one transaction and validates with ``full_clean``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.errors import Conflict, Invalid, NotAllowed
from clinic.roles import CLINICIAN, has_role
from patients.models import Patient
from protocols import due, eligibility, selectors
from protocols.models import (
    EDITABLE_WHEN_IN_USE,
    OPEN_STATUSES,
    CourseStatus,
    MaintenanceFrequency,
    Phase,
    Protocol,
    TreatmentCourse,
)

# A course may be back-dated (recording a course started elsewhere) or planned
# ahead, but a date further than this either way is almost surely a typo.
START_DATE_RANGE_DAYS = 365

_VERSION_SUFFIX = re.compile(r"-v\d+$")
_PHASE_FIELDS = (
    "name", "sessions", "earliest_days", "target_days", "target_alt_days", "latest_days",
    "weekly_earliest_days", "weekly_target_days", "weekly_latest_days",
)


# --- Protocols ---------------------------------------------------------------


def _protocol_fields() -> list[str]:
    return [field.name for field in Protocol._meta.concrete_fields if not field.primary_key]


@transaction.atomic
def update_protocol(*, by, protocol: Protocol, changes: Mapping[str, Any]) -> Protocol:
    """Change a protocol's settings.

    Refuses 409 ``protocol_in_use`` when a course follows the protocol and a
    change touches anything but its name or whether it is offered for new
    courses; raises ValidationError (400) for invalid values.
    """
    locked = Protocol.objects.select_for_update().get(pk=protocol.pk)
    editable = set(_protocol_fields()) - {"version", "previous_version", "created_at", "updated_at"}
    unknown = set(changes) - editable
    if unknown:
        raise Invalid(f"These protocol fields cannot be set: {', '.join(sorted(unknown))}.")
    changed = {name for name, value in changes.items() if getattr(locked, name) != value}
    if changed - EDITABLE_WHEN_IN_USE:
        locked.check_editable()
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.full_clean()
    locked.save()
    return locked


def check_phase_sequence(phases: Sequence[Phase]) -> None:
    """Refuse (400) an empty phase list or an open-ended phase before the last; the admin uses it too."""
    if not phases:
        raise Invalid("A protocol needs at least one phase.", fields={"phases": ["Add at least one phase."]})
    # The engine never leaves an open-ended phase, so a phase after one is unreachable.
    for phase in phases[:-1]:
        if phase.sessions is None:
            raise Invalid(
                f"Phase “{phase.name}” is open-ended, so it must be the last phase.",
                fields={"phases": ["Only the last phase may be open-ended."]},
            )


@transaction.atomic
def update_protocol_phases(*, by, protocol: Protocol, phases: Sequence[Mapping[str, Any]]) -> list[Phase]:
    """Replace a protocol's phases with ``phases`` (dicts of Phase fields, in order).

    Refuses 409 ``protocol_in_use`` when a course follows the protocol (its
    schedule is part of those courses' history); 400 when a phase is invalid,
    there are none, or an open-ended phase is not the last.
    """
    locked = Protocol.objects.select_for_update().get(pk=protocol.pk)
    locked.check_editable()
    for values in phases:
        unknown = set(values) - set(_PHASE_FIELDS)
        if unknown:
            raise Invalid(f"These phase fields cannot be set: {', '.join(sorted(unknown))}.")
    new_phases = [Phase(protocol=locked, order=order, **values) for order, values in enumerate(phases, start=1)]
    check_phase_sequence(new_phases)
    # Any error below leaves the transaction, so the old phases come back.
    locked.phases.all().delete()
    for phase in new_phases:
        phase.full_clean()
        phase.save()
    return new_phases


@transaction.atomic
def delete_protocol(*, by, protocol: Protocol) -> None:
    """Delete a protocol no course has ever followed; refuses 409 ``protocol_in_use`` otherwise."""
    locked = Protocol.objects.select_for_update().get(pk=protocol.pk)
    locked.check_editable()
    locked.delete()


def _next_version_slug(protocol: Protocol) -> tuple[str, int]:
    base = _VERSION_SUFFIX.sub("", protocol.slug)
    version = protocol.version + 1
    while Protocol.objects.filter(slug=f"{base}-v{version}").exists():
        version += 1
    return f"{base}-v{version}", version


@transaction.atomic
def copy_protocol_as_new_version(*, by, protocol: Protocol) -> Protocol:
    """Copy a protocol and its phases as its next version, for managers to edit instead.

    The copy gets the slug ``<slug>-v<n>`` (the first free n above the
    original's version), that version number, a link to the original, and
    starts inactive so no course starts on it before the manager has edited
    it; the original is left untouched.
    """
    original = Protocol.objects.select_for_update().get(pk=protocol.pk)
    slug, version = _next_version_slug(original)
    values = {
        name: getattr(original, name)
        for name in _protocol_fields()
        if name not in {"slug", "version", "previous_version", "active", "created_at", "updated_at"}
    }
    copy = Protocol(**values, slug=slug, version=version, previous_version=original, active=False)
    copy.allowed_doses_mg = list(original.allowed_doses_mg)
    copy.full_clean()
    copy.save()
    for phase in original.phases.all():
        Phase.objects.create(
            protocol=copy, order=phase.order, **{name: getattr(phase, name) for name in _PHASE_FIELDS}
        )
    return copy


# --- Courses -----------------------------------------------------------------


def _reasons(findings: Sequence[eligibility.Finding]) -> list[dict[str, Any]]:
    return [{"code": f.code, "message": f.message, "overridable": f.overridable} for f in findings]


def _open_course(patient: Patient, modality: str) -> TreatmentCourse | None:
    return TreatmentCourse.objects.open().filter(patient=patient, modality=modality).first()


def _course_exists(existing_id: int | None) -> Conflict:
    return Conflict(
        "The patient already has an open (active or paused) course of this treatment; "
        "complete or discontinue it before starting another.",
        code="course_exists",
        extra={"course": existing_id},
    )


@transaction.atomic
def start_course(
    *, by, patient: Patient, protocol: Protocol, start_date: date, override_reason: str = ""
) -> TreatmentCourse:
    """Start a patient's course on a protocol, checking eligibility (docs/DOMAIN.md "Eligibility").

    Refuses, in this order: an inactive protocol (400, field ``protocol``); a
    start date more than a year away either way (400, field ``start_date``); an
    override reason from anyone but a clinician (403 ``override_needs_clinician``);
    an archived patient (409 ``patient_archived``); a second open course of the
    same modality (409 ``course_exists``); any hard stop (409 ``not_eligible``,
    listing every finding); findings that need an override when no reason is
    given (409 ``override_required``, listing them); a reason when nothing
    needs overriding (400, field ``override_reason``). A clinician's override is
    stored with the finding codes it covers.
    """
    override_reason = (override_reason or "").strip()
    if not protocol.active:
        raise Invalid(
            f"“{protocol}” is no longer offered for new courses.",
            fields={"protocol": ["This protocol is inactive; choose its current version."]},
        )
    today = timezone.localdate()
    if abs((start_date - today).days) > START_DATE_RANGE_DAYS:
        raise Invalid(
            "The start date must be within a year of today.",
            fields={"start_date": ["The start date must be within a year of today."]},
        )
    if override_reason and not has_role(by, CLINICIAN):
        raise NotAllowed(
            "Only a clinician may override an eligibility finding.", code="override_needs_clinician"
        )

    # Lock the patient so two desks starting courses for them at once queue up
    # and the second sees the first's course (the unique index is the backstop).
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if patient.is_archived:
        raise Conflict("This patient's record is archived; restore it before starting a course.",
                       code="patient_archived")
    existing = _open_course(patient, protocol.modality)
    if existing is not None:
        raise _course_exists(existing.pk)

    findings = eligibility.check(protocol.modality, patient.diagnosis, patient.screening())
    if eligibility.hard_stops(findings):
        raise Conflict(
            "The patient cannot start this treatment: " + " ".join(f.message for f in eligibility.hard_stops(findings)),
            code="not_eligible",
            extra={"reasons": _reasons(findings)},
        )
    overridable = eligibility.needs_override(findings)
    if overridable and not override_reason:
        raise Conflict(
            "A clinician's override with a reason is needed: " + " ".join(f.message for f in overridable),
            code="override_required",
            extra={"reasons": _reasons(overridable)},
        )
    if override_reason and not overridable:
        raise Invalid(
            "There is nothing to override: the patient meets every eligibility rule for this treatment.",
            fields={"override_reason": ["Nothing to override; leave this empty."]},
        )

    course = TreatmentCourse(
        patient=patient,
        protocol=protocol,
        modality=protocol.modality,
        start_date=start_date,
        created_by=by,
        override_reason=override_reason,
        override_by=by if override_reason else None,
        override_findings=[finding.code for finding in overridable],
    )
    # The partial unique index is checked by the database below, not here.
    course.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            course.save()
    except IntegrityError as exc:
        if "one_open_course_per_modality" in str(exc):
            raise _course_exists(None) from exc
        raise
    return course


def _locked(course: TreatmentCourse) -> TreatmentCourse:
    return TreatmentCourse.objects.select_related("protocol", "patient").select_for_update(of=("self",)).get(
        pk=course.pk
    )


def _save(course: TreatmentCourse) -> TreatmentCourse:
    course.full_clean(validate_constraints=False)
    course.save()
    return course


@transaction.atomic
def pause_course(*, by, course: TreatmentCourse) -> TreatmentCourse:
    """Put an active course on hold; 409 ``invalid_state`` for any other status."""
    locked = _locked(course)
    locked.pause()
    return _save(locked)


@transaction.atomic
def resume_course(*, by, course: TreatmentCourse) -> TreatmentCourse:
    """Make a paused course active again; 409 ``invalid_state`` for any other status.

    A course that lapsed while paused shows as lapsed and needs a clinician to
    restart its phase.
    """
    locked = _locked(course)
    locked.resume()
    return _save(locked)


@transaction.atomic
def discontinue_course(*, by, course: TreatmentCourse, reason: str) -> TreatmentCourse:
    """End an active or paused course early; the reason is required (400), an ended course refuses (409)."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Say why the course is discontinued.", fields={"reason": ["A reason is required."]})
    locked = _locked(course)
    locked.discontinue(by=by, reason=reason)
    return _save(locked)


@transaction.atomic
def set_maintenance_frequency(*, by, course: TreatmentCourse, frequency: str, reason: str) -> TreatmentCourse:
    """Switch an open course between the protocol's maintenance spacing and weekly: a clinician's decision.

    Clinicians only (403 ``frequency_needs_clinician``); the reason is required
    (400) and recorded with who and when; 400 for an unknown frequency; 409
    ``no_weekly_option`` when the protocol has no weekly alternative; 409
    ``invalid_state`` for an ended course.
    """
    if not has_role(by, CLINICIAN):
        raise NotAllowed("Only a clinician may change how often maintenance sessions are given.",
                         code="frequency_needs_clinician")
    errors: dict[str, list[str]] = {}
    if frequency not in MaintenanceFrequency.values:
        errors["frequency"] = [f"Choose one of: {', '.join(MaintenanceFrequency.values)}."]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = ["Say why the maintenance frequency changes."]
    if errors:
        raise Invalid("Unknown maintenance frequency." if "frequency" in errors
                      else "Say why the maintenance frequency changes.", fields=errors)
    locked = _locked(course)
    locked.require_status(*OPEN_STATUSES, action="changed")
    if not locked.protocol.has_weekly_alternative():
        raise Conflict(
            f"“{locked.protocol}” has no weekly maintenance option.", code="no_weekly_option"
        )
    locked.maintenance_frequency = frequency
    locked.frequency_changed_at, locked.frequency_changed_by, locked.frequency_reason = timezone.now(), by, reason
    return _save(locked)


@transaction.atomic
def restart_phase(*, by, course: TreatmentCourse, reason: str) -> TreatmentCourse:
    """Restart a lapsed course's current phase after a clinician's review.

    Clinicians only (403 ``restart_needs_clinician``); the reason is required
    (400); only an active course (409 ``invalid_state``) whose timing is lapsed
    (409 ``not_lapsed``). Records the completed-session count, the current
    phase and today, so the next session is due like a first session from today
    and the phase needs its full session count again.
    """
    if not has_role(by, CLINICIAN):
        raise NotAllowed("Only a clinician may restart a phase after a lapse.", code="restart_needs_clinician")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Say why the phase is restarted.", fields={"reason": ["A reason is required."]})
    locked = _locked(course)
    locked.require_status(CourseStatus.ACTIVE, action="restarted")
    today = timezone.localdate()
    outlook = selectors.course_outlook(locked, today)
    if outlook.timing != due.Timing.LAPSED:
        raise Conflict(
            "Only a lapsed course (well past its latest due day) needs its phase restarted.",
            code="not_lapsed",
            extra={"timing": outlook.timing},
        )
    locked.restart_after_completed = outlook.sessions_completed
    locked.restart_phase_index = outlook.phase_index
    locked.restart_on = today
    locked.restart_by = by
    locked.restart_reason = reason
    return _save(locked)


@transaction.atomic
def complete_course_if_finished(*, course: TreatmentCourse, today: date | None = None) -> bool:
    """Mark an open course completed when its finite protocol has every session completed.

    Called by scheduling after a session is completed. Returns True when the
    course was completed by this call; an open-ended protocol never completes.
    """
    locked = _locked(course)
    if not locked.is_open:
        return False
    if selectors.course_outlook(locked, today or timezone.localdate()).timing != due.Timing.COMPLETED:
        return False
    locked.complete()
    _save(locked)
    return True
