"""FHIR Appointments: read, search (with ``_include``), book (``POST``, ``$book``), cancel (``PUT``, ``PATCH``).

Reads and searches are one query for the page (``appointments.appointments()``:
the session with its patient, course, protocol, clinician, chair and site,
the session number a correlated count) and one for the total; the resources
an ``_include`` adds are built from the rows already read, so a page costs
the same however many appointments it holds. Every answer that shows a
patient's appointments is logged in the access log, one INSERT for the page.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Window
from rest_framework.parsers import JSONParser

from scheduling.fhir import ids
from scheduling.fhir.access import log_patient_reads
from scheduling.fhir.appointment_includes import included_resources
from scheduling.fhir.appointment_search import includes, search_filter
from scheduling.fhir.appointments import appointment, appointments
from scheduling.fhir.booking import appointment_in, book_appointment, change_appointment, patched, read_booking
from scheduling.fhir.bundles import base_url, searchset
from scheduling.fhir.errors import FhirError
from scheduling.fhir.responses import fhir_response
from scheduling.fhir.views import FhirView, paging
from scheduling.models import Session


class JSONPatchParser(JSONParser):
    media_type = "application/json-patch+json"


def _one(request, pk: str) -> Session:
    """The session behind ``Appointment/{pk}``, read as a search reads it, or a 404."""
    session = appointments().filter(pk=ids.read_id(pk, "Appointment")).first()
    if session is None:
        raise FhirError.not_found(f"Appointment/{pk} is not known here.")
    return session


def _answer(request, session: Session, *, status: int = 200, headers: dict | None = None):
    log_patient_reads(request, [session.patient_id])
    return fhir_response(appointment(session), status=status, headers=headers)


class AppointmentsView(FhirView):
    """``GET /fhir/Appointment``: search; ``POST /fhir/Appointment``: book an Appointment naming a Slot."""

    def get(self, request):
        offset, count = paging(request)
        kinds = includes(request)
        matching = appointments().filter(search_filter(request))
        # The page and the number of every match in one statement; a page past the end counts apart.
        page = list(matching.annotate(total=Window(Count("pk"))).order_by("start", "pk")[offset:offset + count])
        if page:
            total = page[0].total
        else:
            total = 0 if offset == 0 and count > 0 else matching.count()
        included = included_resources(page, kinds)
        log_patient_reads(request, [session.patient_id for session in page])
        bundle = searchset(request, resources=[appointment(session) for session in page], total=total,
                           offset=offset, count=count, included=included)
        return fhir_response(bundle)

    def post(self, request):
        return _book(request, operation=False)


class BookView(FhirView):
    """``POST /fhir/Appointment/$book``: an Appointment, or Parameters holding one as ``appointment``."""

    def post(self, request, operation: str):
        return _book(request, operation=True)


def _book(request, *, operation: bool):
    wanted = read_booking(appointment_in(request.data, operation=operation))
    session = book_appointment(by=request.user, request=wanted)
    booked = appointments().get(pk=session.pk)
    location = f"{base_url(request)}/Appointment/{session.pk}"
    return _answer(request, booked, status=201, headers={"Location": location})


class AppointmentView(FhirView):
    """``GET``, ``PUT`` and ``PATCH /fhir/Appointment/{id}``: read, cancel or mark a no-show."""

    parser_classes = [*FhirView.parser_classes, JSONPatchParser]

    def get(self, request, pk: str):
        return _answer(request, _one(request, pk))

    def put(self, request, pk: str):
        return self._change(request, pk, lambda session: request.data)

    def patch(self, request, pk: str):
        if request.content_type.split(";")[0].strip() != JSONPatchParser.media_type:
            raise FhirError(415, "not-supported", "PATCH takes a JSON Patch (Content-Type: "
                            "application/json-patch+json) on /status and /cancelationReason.")
        operations = request.data
        return self._change(request, pk, lambda session: patched(
            appointment(session).model_dump(mode="json", exclude_none=True), operations))

    def _change(self, request, pk: str, body_for):
        with transaction.atomic():
            session = _one(request, pk)
            change_appointment(by=request.user, session=session, body=body_for(session))
        return _answer(request, _one(request, pk))
