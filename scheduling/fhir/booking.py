"""Booking and cancelling through FHIR: an Appointment read into the booking service's arguments, and back.

``POST /fhir/Appointment`` and ``POST /fhir/Appointment/$book`` take an
Appointment (``$book`` also a Parameters resource whose ``appointment``
parameter holds it) naming one Slot (the chair and the start) and one
Patient, and optionally a Practitioner; they book through
``scheduling.booking.services.book_session``, the REST API's service, so every
rule (hours, the chair's modality, REMS, overlaps, the due window, prior
authorisation, the clinician's capacity) refuses with the REST API's status
and code. The REST API's two override reasons come as extensions
(``appointments.OVERRIDE_EXTENSION`` for the due window, a clinician's;
``appointments.AUTHORISATION_EXTENSION`` beyond the prior authorisation, a
clinician's or a manager's).

The course booked is the patient's open course of the treatment the chair
gives: the one named by ``supportingInformation`` (``CarePlan/{course}``) or
narrowed by ``serviceType`` or the protocol extension when the patient has
two; a paused or ended course is passed on for the service to refuse
(``course_not_active``), as the REST API does.

``PUT`` (or a JSON Patch) may change only the status: ``cancelled`` goes
through ``cancel_session`` (the reason from ``cancelationReason``) and
``noshow`` through ``mark_no_show``; any other change is a 422 not-supported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.parameters import Parameters
from pydantic import ValidationError

from patients.models import Patient
from protocols.models import TreatmentCourse
from protocols.models.courses import OPEN_STATUSES
from scheduling.booking import fast_reads
from scheduling.booking import services as booking
from scheduling.fhir import ids
from scheduling.fhir.appointments import (
    AUTHORISATION_EXTENSION,
    OVERRIDE_EXTENSION,
    PROTOCOL_EXTENSION,
    appointment,
)
from scheduling.fhir.codes import MODALITY_OF_TREATMENT, TREATMENT_SYSTEM
from scheduling.fhir.errors import FhirError
from scheduling.fhir.practitioners import clinicians
from scheduling.models import Chair, Session

# What a booking may ask for: a proposal the server books, or the booking itself.
BOOKABLE_STATUSES = ("proposed", "pending", "booked")
# Without a reason the cancellation still happens (FHIR clients cancel by status alone); the record says so.
NO_REASON_GIVEN = "No reason given (cancelled through FHIR)."
# The parts of an Appointment a change may touch; every other element must stay as it is.
CHANGEABLE = ("status", "cancelationReason", "meta", "text")
_REFERENCE = re.compile(r"^(?:.*/)?(?P<kind>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


@dataclass(frozen=True)
class BookingRequest:
    """What a FHIR booking asks for, read and checked against the database, ready for ``book_session``."""

    patient: Patient
    chair: Chair
    start: datetime
    clinician: object | None
    course_id: int | None  # named by supportingInformation (CarePlan/{course})
    modality: str | None  # asked for by serviceType
    protocol_slug: str | None  # asked for by the protocol extension
    override_reason: str
    authorisation_reason: str


def _validated(body, where: str = "Appointment") -> Appointment:
    """``body`` as an R4B Appointment, or a 400 naming the first thing the library refused."""
    if not isinstance(body, dict):
        raise FhirError.invalid("Send an Appointment resource (a JSON object).")
    kind = body.get("resourceType")
    if kind != "Appointment":
        raise FhirError.invalid(f"Expected resourceType “Appointment”, got “{kind}”.", expression=["resourceType"])
    try:
        return Appointment.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        path = ".".join(str(part) for part in first["loc"] if part != "__root__")
        raise FhirError.invalid(f"{where}: {first['msg']}" + (f" (at {path})" if path else ""),
                                expression=[f"{where}.{path}" if path else where]) from None


def appointment_in(body, *, operation: bool) -> Appointment:
    """The Appointment a booking sends: the body itself, or (``$book``) a Parameters' ``appointment``."""
    if operation and isinstance(body, dict) and body.get("resourceType") == "Parameters":
        try:
            parameters = Parameters.model_validate(body)
        except ValidationError as error:
            raise FhirError.invalid(f"Parameters: {error.errors()[0]['msg']}", expression=["Parameters"]) from None
        found = [parameter.resource for parameter in parameters.parameter or []
                 if parameter.name == "appointment" and parameter.resource is not None]
        if len(found) != 1:
            raise FhirError.invalid("$book takes one parameter “appointment” holding the Appointment to book.",
                                    expression=["Parameters.parameter"])
        return _validated(found[0].model_dump(mode="json", exclude_none=True), "Parameters.parameter.resource")
    return _validated(body)


def _kind(reference: str) -> str | None:
    """The resource type a reference points at ("Patient" in "Patient/12" or ".../fhir/Patient/12")."""
    match = _REFERENCE.match(reference or "")
    return match.group("kind") if match else None


def _relative(reference: str) -> str:
    """``Kind/id`` of a reference, whether relative or a full URL."""
    match = _REFERENCE.match(reference or "")
    return f"{match.group('kind')}/{match.group('id')}" if match else reference


def _actor_ids(resource: Appointment, kind: str) -> list[tuple[int, str]]:
    """``(index, id)`` of each participant whose actor is a ``kind``."""
    found = []
    for index, participant in enumerate(resource.participant or []):
        reference = participant.actor.reference if participant.actor is not None else None
        if reference and _kind(reference) == kind:
            found.append((index, ids.parse_reference(reference, kind)))
    return found


def _one_row(rows, text: str, label: str, where: str):
    """The row of ``rows`` a participant's id names, or a 400 ``not-found`` naming the participant."""
    pk = ids.number_id(text)
    row = rows.filter(pk=pk).first() if pk is not None else None
    if row is None:
        raise FhirError(400, "not-found", f"{label}/{text} is not known here.", expression=[where],
                        details_code="invalid")
    return row


def read_booking(resource: Appointment) -> BookingRequest:
    """The booking ``resource`` asks for, each reference read; a 400 naming what is missing or unknown."""
    if resource.status not in BOOKABLE_STATUSES:
        raise FhirError.invalid(f"A new Appointment is booked from status proposed, pending or booked, not "
                                f"“{resource.status}”.", expression=["Appointment.status"])
    slots = resource.slot or []
    if len(slots) != 1 or not slots[0].reference:
        raise FhirError.invalid("Name the one Slot to book (slot: [{reference: Slot/{id}}]); GET /fhir/Slot "
                                "finds free ones.", expression=["Appointment.slot"])
    chair_id, start = ids.parse_slot_id(ids.parse_reference(slots[0].reference, "Slot"))
    try:
        chair = fast_reads.chair_with_location(chair_id)
    except Chair.DoesNotExist:
        raise FhirError(400, "not-found", f"{slots[0].reference} names no chair of this clinic.",
                        expression=["Appointment.slot"], details_code="invalid") from None
    if resource.start is not None and resource.start != start:
        raise FhirError.invalid("start differs from the Slot's start; send the Slot's.",
                                expression=["Appointment.start"])
    patients = _actor_ids(resource, "Patient")
    if len(patients) != 1:
        raise FhirError.invalid("Name one Patient among the participants.", expression=["Appointment.participant"])
    index, patient_id = patients[0]
    patient = _one_row(Patient.objects.all(), patient_id, "Patient", f"Appointment.participant[{index}].actor")
    practitioners = _actor_ids(resource, "Practitioner")
    if len(practitioners) > 1:
        raise FhirError.invalid("Name at most one Practitioner.", expression=["Appointment.participant"])
    clinician = None
    if practitioners:
        index, user_id = practitioners[0]
        # A Practitioner here is a clinician (``practitioners.clinicians``), and an inactive one books nothing.
        clinician = _one_row(clinicians().filter(is_active=True), user_id, "Practitioner",
                             f"Appointment.participant[{index}].actor")
    _check_locations(resource, chair)
    return BookingRequest(patient=patient, chair=chair, start=start, clinician=clinician,
                          course_id=_care_plan(resource), modality=_treatment(resource),
                          protocol_slug=_protocol(resource), override_reason=_reason(resource, OVERRIDE_EXTENSION),
                          authorisation_reason=_reason(resource, AUTHORISATION_EXTENSION))


def _check_locations(resource: Appointment, chair: Chair) -> None:
    """A Location participant must be the Slot's chair or its site: the Slot says where, not the Location."""
    allowed = {ids.chair_location_id(chair.pk), ids.site_location_id(chair.location_id)}
    for index, location_id in _actor_ids(resource, "Location"):
        if location_id not in allowed:
            raise FhirError.invalid(f"Location/{location_id} is not where the Slot is ({chair}).",
                                    expression=[f"Appointment.participant[{index}].actor"])


def _care_plan(resource: Appointment) -> int | None:
    for item in resource.supportingInformation or []:
        if item.reference and _kind(item.reference) == "CarePlan":
            course_id = ids.number_id(ids.parse_reference(item.reference, "CarePlan"))
            if course_id is None:
                raise FhirError(400, "not-found", f"{item.reference} is not known here.",
                                expression=["Appointment.supportingInformation"], details_code="invalid")
            return course_id
    return None


def _treatment(resource: Appointment) -> str | None:
    for concept in resource.serviceType or []:
        for coding in concept.coding or []:
            if coding.system == TREATMENT_SYSTEM:
                if coding.code not in MODALITY_OF_TREATMENT:
                    raise FhirError.invalid(f"Unknown treatment “{coding.code}” (esketamine or ketamine-iv).",
                                            expression=["Appointment.serviceType"])
                return MODALITY_OF_TREATMENT[coding.code]
    return None


def _protocol(resource: Appointment) -> str | None:
    for extension in resource.extension or []:
        if extension.url == PROTOCOL_EXTENSION and extension.valueCoding is not None:
            return extension.valueCoding.code
    return None


def _reason(resource: Appointment, url: str) -> str:
    """The reason an extension gives (a due-window or an authorisation override), or ""."""
    for extension in resource.extension or []:
        if extension.url == url:
            return (extension.valueString or "").strip()[:2000]
    return ""


def choose_course(request: BookingRequest) -> int:
    """The id of the course to book: the patient's open course of the treatment asked for (or the chair gives).

    A course named by CarePlan must be the patient's. With no open course, the
    patient's latest course is returned for the service to refuse
    (``course_not_active``); with none at all, a 409 ``no_course``.
    """
    courses = list(TreatmentCourse.objects.filter(patient=request.patient).select_related("protocol")
                   .order_by("-start_date", "-pk"))
    if request.course_id is not None:
        named = [course for course in courses if course.pk == request.course_id]
        if not named:
            raise FhirError(400, "not-found", f"CarePlan/{request.course_id} is not a course of this patient.",
                            expression=["Appointment.supportingInformation"], details_code="invalid")
        return named[0].pk
    wanted = [course for course in courses
              if (request.modality is None or course.modality == request.modality)
              and (request.protocol_slug is None or course.protocol.slug == request.protocol_slug)]
    open_courses = [course for course in wanted if course.status in OPEN_STATUSES]
    if len(open_courses) > 1:
        # One open course per treatment: two means both treatments, and the chair may give only one.
        open_courses = [course for course in open_courses if request.chair.serves(course.modality)] or open_courses
    if len(open_courses) > 1:
        raise FhirError.invalid("The patient has an open course of each treatment; say which with serviceType "
                                f"({TREATMENT_SYSTEM}) or supportingInformation (CarePlan/{{id}}).",
                                expression=["Appointment.serviceType"])
    if open_courses:
        return open_courses[0].pk
    if wanted:
        return wanted[0].pk
    raise FhirError(409, "business-rule", "The patient has no treatment course to book; start one first.",
                    details_code="no_course")


def book_appointment(*, by, request: BookingRequest) -> Session:
    """Book what ``request`` asks for through the REST API's service; its refusals pass up unchanged."""
    course = fast_reads.course_for_booking(choose_course(request))
    return booking.book_session(by=by, course=course, chair=request.chair, start=request.start,
                                clinician=request.clinician, override_reason=request.override_reason,
                                authorisation_reason=request.authorisation_reason)


# --- changes: cancel or no-show -----------------------------------------------------------------------------


def _said(resource: Appointment, key: str):
    """What element ``key`` of ``resource`` says, as a change compares it: instants as instants, participants
    as the set of who takes part (their order and display names are the client's business)."""
    if key in ("start", "end", "created"):
        return getattr(resource, key)
    if key == "participant":
        return sorted(_relative(participant.actor.reference if participant.actor else "")
                      for participant in resource.participant or [])
    value = getattr(resource, key)
    if isinstance(value, list):
        return [item.model_dump(mode="json", exclude_none=True) for item in value]
    return value.model_dump(mode="json", exclude_none=True) if hasattr(value, "model_dump") else value


def read_change(session: Session, body) -> tuple[str, str]:
    """What a PUT of ``body`` asks of ``session``: ``("cancel", reason)``, ``("no_show", "")`` or ``("none", "")``.

    Only the status may change, to cancelled or noshow; elements the client
    left out are left as they are, any other difference is a 422 not-supported.
    """
    proposed = _validated(body)
    if proposed.id is not None and proposed.id != str(session.pk):
        raise FhirError.invalid(f"The body's id ({proposed.id}) is not this Appointment's ({session.pk}).",
                                expression=["Appointment.id"])
    current = appointment(session)
    sent = set(proposed.model_dump(exclude_none=True)) - {"resourceType", "id", *CHANGEABLE}
    changed = sorted(key for key in sent if key in Appointment.model_fields and not key.endswith("__ext")
                     and _said(proposed, key) != _said(current, key))
    if changed:
        raise FhirError.not_supported(
            f"Only the status may change here (to cancelled or noshow); {', '.join(changed)} differ. Move a visit "
            "by booking the new time and cancelling this one.", status=422,
            expression=[f"Appointment.{key}" for key in changed])
    if proposed.status == current.status:
        return "none", ""
    if proposed.status == "cancelled":
        reason = proposed.cancelationReason
        text = (reason.text or next((coding.display or coding.code for coding in reason.coding or []), None)
                if reason is not None else None)
        return "cancel", (text or "").strip()[:2000] or NO_REASON_GIVEN
    if proposed.status == "noshow":
        return "no_show", ""
    raise FhirError.not_supported(f"An Appointment's status changes here only to cancelled or noshow, not "
                                  f"“{proposed.status}”.", status=422, expression=["Appointment.status"])


def change_appointment(*, by, session: Session, body) -> None:
    """Apply the change ``body`` asks for through the booking services (``cancel_session``, ``mark_no_show``)."""
    action, reason = read_change(session, body)
    if action == "cancel":
        booking.cancel_session(by=by, session=session, reason=reason)
    elif action == "no_show":
        booking.mark_no_show(by=by, session=session)


PATCHABLE_PATHS = ("/status", "/cancelationReason", "/cancelationReason/text")


def patched(current: dict, operations) -> dict:
    """``current`` with JSON Patch ``operations`` applied: add, replace and test on the status and the reason.

    A patch is a change like a PUT, so the result goes through ``read_change``;
    other paths and operations are a 422 not-supported, a malformed patch a 400.
    """
    if not isinstance(operations, list) or not operations:
        raise FhirError.invalid("Send a JSON Patch: a list of operations (RFC 6902).")
    result = dict(current)
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict) or not isinstance(operation.get("op"), str) \
                or not isinstance(operation.get("path"), str):
            raise FhirError.invalid(f"Operation {index} needs an op and a path.", expression=[f"[{index}]"])
        op, path = operation["op"], operation["path"]
        if op not in ("add", "replace", "test") or path not in PATCHABLE_PATHS:
            raise FhirError.not_supported(f"{op} {path}: a patch may only add, replace or test /status and "
                                          "/cancelationReason.", status=422, expression=[f"[{index}]"])
        if "value" not in operation:
            raise FhirError.invalid(f"Operation {index} ({op} {path}) needs a value.", expression=[f"[{index}]"])
        value = operation["value"]
        key, _, sub = path[1:].partition("/")
        parent = result.get(key) or {}
        if sub and not isinstance(parent, dict):
            raise FhirError.invalid(f"Operation {index}: /{key} is not an object, so it has no /{sub}.",
                                    expression=[f"[{index}]"])
        if op == "test":
            found = parent.get(sub) if sub else result.get(key)
            if found != value:
                raise FhirError(409, "conflict", f"test {path} failed: it is {found!r}.", details_code="test_failed")
        elif sub:
            result[key] = {**parent, sub: value}
        else:
            result[key] = value
    return result
