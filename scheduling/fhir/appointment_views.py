"""FHIR Appointments: read, search (with ``_include``), book (``POST``, ``$book``), cancel (``PUT``, ``PATCH``).

A search is one query for the page (``appointments.appointments()``: the
session with its patient, course, protocol, clinician, chair and site, the
session number a correlated count, the total a window count); the resources an
``_include`` adds are built from the rows already read, so a page costs the
same queries however many appointments it holds. Every answer that shows a
patient's appointments is logged in the access log, one INSERT for the page."""

from __future__ import annotations

import json

from django.db import transaction
from django.db.models import Count, Window
from django.http import HttpResponse
from rest_framework.parsers import JSONParser

from scheduling.fhir import ids
from scheduling.fhir.access import log_patient_reads
from scheduling.fhir.appointment_includes import included_json
from scheduling.fhir.appointment_search import includes, search_filter
from scheduling.fhir.appointments import appointment, appointments, checked_json, planned_as_written
from scheduling.fhir.booking import appointment_in, book_appointment, change_appointment, patched, read_booking
from scheduling.fhir.bundles import base_url, searchset
from scheduling.fhir.errors import FhirError
from scheduling.fhir.responses import CONTENT_TYPE, fhir_response
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
        with planned_as_written():
            # The page and the number of every match in one statement; a page past the end counts apart.
            page = list(matching.annotate(total=Window(Count("pk"))).order_by("start", "pk")[offset:offset + count])
            if page:
                total = page[0].total
            else:
                total = 0 if offset == 0 and count > 0 else matching.count()
        log_patient_reads(request, [session.patient_id for session in page])
        return _searchset(request, page, included_json(page, kinds), total=total, offset=offset, count=count)

    def post(self, request):
        return _book(request, operation=False)


class BookView(FhirView):
    """``POST /fhir/Appointment/$book``: an Appointment, or Parameters holding one as ``appointment``."""

    def post(self, request, operation: str):
        return _book(request, operation=True)


def _searchset(request, page: list[Session], included: list[dict], *, total: int, offset: int,
               count: int) -> HttpResponse:
    """The searchset as ``bundles.searchset`` writes it, with the Appointments written from their checked JSON.

    The Bundle's own elements (total, links) are the library's; each entry's
    resource is validated by the library (``appointments.checked_json``) and
    written as that JSON, which is what the library's serialiser writes for it
    (tests/scheduling/fhir/test_appointment_json.py), at a fraction of its cost; so are the included
    resources (``appointment_includes.included_json``).
    """
    bundle = searchset(request, resources=[], total=total, offset=offset, count=count).model_dump(
        mode="json", exclude_none=True)
    base = base_url(request)
    entries = [{"fullUrl": f"{base}/Appointment/{session.pk}", "resource": checked_json(session),
                "search": {"mode": "match"}} for session in page]
    entries += [{"fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}", "resource": resource,
                 "search": {"mode": "include"}} for resource in included]
    if entries:
        bundle["entry"] = entries
    return HttpResponse(json.dumps(bundle, separators=(",", ":"), ensure_ascii=False), content_type=CONTENT_TYPE)


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
