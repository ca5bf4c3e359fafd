"""A session as an R4B Appointment, and the query that reads a page of them in one statement.

The mapping (docs/FHIR.md, "Appointments and booking"):

- status: booked and confirmed -> ``booked`` (a confirmed session also carries the
  ``appointment-confirmed`` extension with the moment the patient confirmed);
  checked in and in treatment -> ``arrived`` (R4's code: ``checked-in`` is R4B's only);
  discharged -> ``fulfilled``; cancelled -> ``cancelled``; no-show -> ``noshow``.
- participants, each ``accepted``: the Patient, the clinician as a Practitioner, the
  chair (``Location/chair-N``) and the site (``Location/site-N``).
- serviceType: the treatment, in the clinic's own code system (``codes.TREATMENT_SYSTEM``);
  the protocol (slug and name) and the session's number in its course in extensions.
- slot: the Slot the session holds (its chair at its start); supportingInformation: the
  course as a CarePlan; cancelationReason: the reason given; created: when it was booked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC

from django.db import connection, transaction
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from fhir.resources.R4B.appointment import Appointment, AppointmentParticipant
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.extension import Extension

from scheduling.fhir import ids
from scheduling.fhir.codes import PROTOCOL_SYSTEM, STRUCTURE_BASE, treatment_concept
from scheduling.models import Session, SessionStatus

# The protocol the session belongs to (valueCoding: PROTOCOL_SYSTEM | slug, display the protocol's name).
PROTOCOL_EXTENSION = STRUCTURE_BASE + "treatment-protocol"
# The session's number in its course, counted as the due engine counts (valuePositiveInt).
SESSION_NUMBER_EXTENSION = STRUCTURE_BASE + "session-number"
# When the patient confirmed the visit (valueDateTime); absent until they do.
CONFIRMED_EXTENSION = STRUCTURE_BASE + "appointment-confirmed"
# Sent with a booking: a clinician's reason for booking outside the due window (valueString).
OVERRIDE_EXTENSION = STRUCTURE_BASE + "due-window-override-reason"
# Sent with a booking: a clinician's or a manager's reason for booking beyond the course's prior authorisation.
AUTHORISATION_EXTENSION = STRUCTURE_BASE + "authorisation-override-reason"

STATUS = {
    SessionStatus.BOOKED: "booked",
    SessionStatus.CONFIRMED: "booked",
    SessionStatus.CHECKED_IN: "arrived",
    SessionStatus.IN_TREATMENT: "arrived",
    SessionStatus.DISCHARGED: "fulfilled",
    SessionStatus.CANCELLED: "cancelled",
    SessionStatus.NO_SHOW: "noshow",
}
# The Appointment statuses a search may ask for -> the sessions' statuses behind them.
SESSION_STATUSES = {}
for _session_status, _fhir_status in STATUS.items():
    SESSION_STATUSES.setdefault(_fhir_status, []).append(_session_status)
# Statuses FHIR defines that no session is ever in: a search for them finds nothing (not an error).
OTHER_STATUSES = ("proposed", "pending", "entered-in-error", "checked-in", "waitlist")
RELEASED = (SessionStatus.CANCELLED, SessionStatus.NO_SHOW)


# What an Appointment shows of a session, its course and its clinician (a session row has some sixty columns,
# and building them cost a day's search more than its query); the patient, chair and site are read whole, as
# the included Patient and Location resources show them.
READ_FIELDS = ("id", "course_id", "patient_id", "location_id", "chair_id", "clinician_id", "start", "end",
               "local_date", "status", "recorded_history", "booked_at", "confirmed_at", "cancel_reason",
               "course__patient_id", "course__protocol_id", "course__modality", "course__protocol__slug",
               "course__protocol__name", "course__protocol__modality", "clinician__first_name",
               "clinician__last_name", "clinician__username", "clinician__is_active", "patient", "chair",
               "location")


def appointments() -> QuerySet[Session]:
    """Sessions with everything an Appointment shows: one statement, the session number a correlated count.

    The number is one more than the course's discharged sessions that started
    before this one (``scheduling.pages.clinician`` counts the same way), read
    by the (course, start) index, so a page costs one query however long.
    """
    earlier = (Session.objects.filter(course_id=OuterRef("course_id"), status=SessionStatus.DISCHARGED,
                                      start__lt=OuterRef("start"))
               .order_by().values("course_id").annotate(count=Count("pk")).values("count"))
    return (Session.objects.select_related("patient", "course__protocol", "clinician", "chair", "location")
            .only(*READ_FIELDS)
            .annotate(discharged_before=Coalesce(Subquery(earlier, output_field=IntegerField()), Value(0))))


@contextmanager
def planned_as_written() -> Iterator[None]:
    """A transaction in which ``appointments()`` is planned in the order it names its tables.

    Every table it joins is looked up by key from the session, whose own columns carry every search parameter:
    the order written is the plan. Left to search the orders of seven tables, the planner took 3-4 ms, four times
    what running the query took (a day at a site, large scale). Inside a caller's transaction the setting lasts
    until that transaction ends, so it wraps only reads that nothing else follows in it (a search); a read before
    a change (``AppointmentView._change``) is planned as usual.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL join_collapse_limit = 1")
        yield


def _reference(kind: str, pk, display: str | None) -> dict:
    reference = {"reference": f"{kind}/{pk}"}
    if display:
        reference["display"] = display
    return reference


def _participants(session: Session) -> list[dict]:
    actors = [_reference("Patient", session.patient_id, session.patient.display_name)]
    if session.clinician_id is not None:
        clinician = session.clinician
        actors.append(_reference("Practitioner", clinician.pk, clinician.get_full_name() or clinician.get_username()))
    if session.chair_id is not None:
        actors.append(_reference("Location", ids.chair_location_id(session.chair_id), session.chair.name))
    if session.location_id is not None:
        actors.append(_reference("Location", ids.site_location_id(session.location_id), session.location.name))
    return [{"actor": actor, "required": "required", "status": "accepted"} for actor in actors]


def session_number(session: Session) -> int | None:
    """The session's number in its course, or None for one that was cancelled or missed (it never counts)."""
    if session.status in RELEASED:
        return None
    earlier = getattr(session, "discharged_before", None)
    if earlier is None:
        earlier = Session.objects.filter(course_id=session.course_id, status=SessionStatus.DISCHARGED,
                                         start__lt=session.start).count()
    return earlier + 1


def instant(moment) -> str:
    """A moment as FHIR JSON writes an instant, the way the library serialises one (UTC, ``Z``)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def appointment_json(session: Session) -> dict:
    """``session`` as an Appointment in FHIR JSON (read from ``appointments()``, so nothing more is queried).

    Not yet checked: ``appointment`` and ``checked_json`` pass it through the library.
    """
    protocol = session.course.protocol
    extensions = [{"url": PROTOCOL_EXTENSION,
                   "valueCoding": {"system": PROTOCOL_SYSTEM, "code": protocol.slug, "display": protocol.name}}]
    number = session_number(session)
    if number is not None:
        extensions.append({"url": SESSION_NUMBER_EXTENSION, "valuePositiveInt": number})
    if session.confirmed_at is not None and session.status == SessionStatus.CONFIRMED:
        extensions.append({"url": CONFIRMED_EXTENSION, "valueDateTime": instant(session.confirmed_at)})
    resource = {
        "resourceType": "Appointment",
        "id": str(session.pk),
        "extension": extensions,
        "status": STATUS[session.status],
        "serviceType": [treatment_concept(protocol.modality)],
        "description": f"{protocol.name}, session {number}" if number else protocol.name,
        "start": instant(session.start),
        "end": instant(session.end),
        "minutesDuration": max(1, round((session.end - session.start).total_seconds() / 60)),
        "created": instant(session.booked_at),
        "participant": _participants(session),
        "supportingInformation": [_reference("CarePlan", session.course_id, protocol.name)],
    }
    if session.chair_id is not None and not session.recorded_history:
        resource["slot"] = [{"reference": f"Slot/{ids.slot_id(session.chair_id, session.start)}"}]
    if session.status == SessionStatus.CANCELLED and session.cancel_reason:
        resource["cancelationReason"] = {"text": session.cancel_reason}
    return resource


def appointment(session: Session) -> Appointment:
    """``session`` as an R4B Appointment, built and validated by the library."""
    return Appointment.model_validate(appointment_json(session))


def checked_json(session: Session) -> dict:
    """``appointment_json(session)``, validated by the library: what a search writes as it is.

    The library's serialiser walks every element in Python and cost a day's
    search more than everything else; the JSON it writes from the validated
    resource is this dict (tests/scheduling/fhir/test_appointment_json.py holds
    the two equal), so a search writes the dict and the library only checks it.
    """
    resource = appointment_json(session)
    Appointment.model_validate({key: [_checked_element(key, item) for item in value]
                                if key in REPEATED_ELEMENTS else value for key, value in resource.items()})
    return resource


# The elements a day's Appointments repeat (the site, the chair and the clinician as participants, the treatment,
# the protocol, the session's number): the library checks each distinct one once, by its content, and the
# Appointment around them every time; an element checked already is handed to the Appointment as the library's own
# instance, which it takes as it is. An element that differs in anything is another key, checked afresh. The key is
# the element's repr: the builders above write each kind of element with its keys in one order.
REPEATED_ELEMENTS = {"participant": AppointmentParticipant, "serviceType": CodeableConcept, "extension": Extension}
CHECKED_ELEMENTS_KEPT = 4096
_checked_elements: dict[tuple[str, str], object] = {}


def _checked_element(key: str, element: dict):
    content = (key, repr(element))
    checked = _checked_elements.get(content)
    if checked is None:
        checked = REPEATED_ELEMENTS[key].model_validate(element)
        if len(_checked_elements) >= CHECKED_ELEMENTS_KEPT:
            _checked_elements.clear()  # a day's elements fill it again within a page or two
        _checked_elements[content] = checked
    return checked
