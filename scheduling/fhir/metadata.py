"""``GET /fhir/metadata``: the CapabilityStatement, what this server offers; and the answer to every other address.

The statement is public (no sign-in), as FHIR clients read it before they
have a token and it says nothing about any patient; everything else needs a
staff role (``views.FhirView``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from rest_framework.permissions import AllowAny

from scheduling.fhir.bundles import base_url
from scheduling.fhir.codes import TREATMENT_SYSTEM
from scheduling.fhir.errors import FhirError
from scheduling.fhir.responses import fhir_response
from scheduling.fhir.views import FhirView

# FHIR R4: the resources are built with fhir.resources' R4B models, whose elements for these resources
# are R4's (docs/FHIR.md, "Version").
FHIR_VERSION = "4.0.1"
# Bumped when what the statement says changes.
STATEMENT_DATE = datetime(2026, 12, 6, tzinfo=UTC)
BOOK_OPERATION = "http://fhir.org/guides/argonaut-scheduling/OperationDefinition/appointment-book"
READ, SEARCH, CREATE, UPDATE = "read", "search-type", "create", "update"
# Each resource: its interactions and its search parameters (name, type, what it matches).
RESOURCES = {
    "Patient": ([READ, SEARCH], [
        ("_id", "token", "The patient's id."),
        ("identifier", "token", "The medical record number (system urn:clinic:mrn); exact, any case."),
        ("name", "string", "Family, given or preferred name: starts with, any case; :exact and :contains too."),
        ("family", "string", "Family name: starts with, any case."),
        ("given", "string", "Given name: starts with, any case."),
        ("birthdate", "date", "Date of birth, with the prefixes eq, ge, gt, le, lt (sa, eb)."),
        ("active", "token", "false: archived records only; true: current ones only."),
    ]),
    "Practitioner": ([READ, SEARCH], [
        ("_id", "token", "The clinician's id."),
        ("name", "string", "First or last name: starts with, any case; :exact and :contains too."),
        ("family", "string", "Last name: starts with, any case."),
        ("given", "string", "First name: starts with, any case."),
        ("active", "token", "true or false: the clinician's account is active."),
    ]),
    "Location": ([READ, SEARCH], [
        ("_id", "token", "site-{id} for a site, chair-{id} for a chair."),
        ("name", "string", "The site's or chair's name: starts with, any case."),
        ("partof", "reference", "The chairs of a site (Location/site-{id})."),
        ("type", "token", "si (a site) or ro (a chair), system "
                          "http://terminology.hl7.org/CodeSystem/location-physical-type."),
        ("status", "token", "active or inactive."),
    ]),
    "Schedule": ([READ, SEARCH], [
        ("_id", "token", "The chair's id."),
        ("actor", "reference", "The chair (Location/chair-{id}) or its site (Location/site-{id})."),
        ("service-type", "token", "esketamine or ketamine-iv (system " + TREATMENT_SYSTEM + ")."),
        ("active", "token", "true: every Schedule (only active chairs have one)."),
    ]),
    "Slot": ([READ, SEARCH], [
        ("schedule", "reference", "Required: the chair's Schedule (Schedule/{id})."),
        ("start", "date", "From and to (ge, gt, le, lt); by default today to 7 days on; at most 31 days."),
        ("status", "token", "free (the only status offered)."),
        ("service-type", "token", "esketamine or ketamine-iv: Slots where that treatment fits."),
    ]),
    "CarePlan": ([READ, SEARCH], [
        ("_id", "token", "The course's id."),
        ("patient", "reference", "The patient (Patient/{id})."),
        ("subject", "reference", "The same as patient."),
        ("status", "token", "active, on-hold, completed or revoked."),
        ("category", "token", "The treatment: esketamine or ketamine-iv."),
    ]),
    "Appointment": ([READ, SEARCH, CREATE, UPDATE], [
        ("_id", "token", "The session's id."),
        ("date", "date", "The start, with prefixes (ge, gt, le, lt)."),
        ("patient", "reference", "The patient (Patient/{id})."),
        ("practitioner", "reference", "The clinician (Practitioner/{id})."),
        ("location", "reference", "The site or the chair (Location/site-{id}, Location/chair-{id})."),
        ("status", "token", "booked, arrived, fulfilled, cancelled, noshow."),
    ]),
}
PAGING = [("_count", "number", "Entries per page: 50 unless asked, at most 200."),
          ("_offset", "number", "Where the page starts; the Bundle's links carry it.")]


def capability_statement(request) -> CapabilityStatement:
    """What this server offers, built with the library from ``RESOURCES``."""
    resources = []
    for kind, (interactions, params) in RESOURCES.items():
        entry = {
            "type": kind,
            "interaction": [{"code": code} for code in interactions],
            "searchParam": [{"name": name, "type": kind_of, "documentation": words}
                            for name, kind_of, words in [*params, *PAGING]],
        }
        if kind == "Appointment":
            entry["searchInclude"] = ["Appointment:patient", "Appointment:location", "Appointment:practitioner"]
            entry["operation"] = [{"name": "book", "definition": BOOK_OPERATION}]
            entry["updateCreate"] = False
        resources.append(entry)
    return CapabilityStatement(
        status="active", date=STATEMENT_DATE, kind="instance", fhirVersion=FHIR_VERSION,
        format=["application/fhir+json", "json"], publisher=settings.CLINIC_NAME,
        software={"name": "Clinic scheduling"},
        implementation={"description": "The clinic's chairs, sessions and courses as FHIR R4",
                        "url": base_url(request)},
        rest=[{
            "mode": "server",
            "documentation": "Read and search the schedule; book and cancel Appointments. Errors are "
                             "OperationOutcomes. See docs/FHIR.md.",
            "security": {
                "cors": False,
                "description": "Authorization: Bearer <API token> (POST /api/auth/token/ gives one; "
                               "'Token <key>' and a signed-in session work too). Every interaction except "
                               "metadata needs a staff role: front desk, clinician or manager.",
            },
            "resource": resources,
        }],
    )


class CapabilityStatementView(FhirView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return fhir_response(capability_statement(request))


class UnknownAddressView(FhirView):
    """Any other address under ``/fhir/``: a resource type (or operation) this server does not have."""

    def get(self, request, rest: str):
        raise FhirError.not_found(f"/fhir/{rest} is not a resource or operation of this server "
                                  "(GET /fhir/metadata lists them).")

    post = put = patch = delete = get
