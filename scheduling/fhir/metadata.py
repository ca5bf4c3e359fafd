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

from scheduling.fhir import appointment_search, care_plans, locations, patients, practitioners, slots
from scheduling.fhir.bundles import base_url
from scheduling.fhir.codes import TREATMENT_SYSTEM
from scheduling.fhir.errors import FhirError
from scheduling.fhir.responses import fhir_response
from scheduling.fhir.views import FhirView

# FHIR R4: the resources are built with fhir.resources' R4B models, whose elements for these resources
# are R4's (docs/FHIR.md, "Version").
FHIR_VERSION = "4.0.1"
# Bumped when what the statement says changes.
STATEMENT_DATE = datetime(2026, 12, 6, 13, 0, tzinfo=UTC)
READ, SEARCH, CREATE, UPDATE, PATCH = "read", "search-type", "create", "update", "patch"
# The search each resource answers, by the list of parameters it takes (the list its view checks what a
# client sends against): the statement is built from these lists, so it names no parameter a search
# refuses and leaves out none it takes. ``name:exact`` and ``name:contains`` are modifiers of ``name``.
SEARCHES = {
    "Patient": patients.SEARCH_PARAMS,
    "Practitioner": practitioners.SEARCH_PARAMS,
    "Location": locations.LOCATION_PARAMS,
    "Schedule": locations.SCHEDULE_PARAMS,
    "Slot": slots.SEARCH_PARAMS,
    "CarePlan": care_plans.SEARCH_PARAMS,
    "Appointment": appointment_search.SEARCH_PARAMS,
}
INTERACTIONS = {kind: [READ, SEARCH] for kind in SEARCHES} | {"Appointment": [READ, SEARCH, CREATE, UPDATE, PATCH]}
INTERACTION_WORDS = {
    SEARCH: "GET [base]/{kind}?parameters, or POST [base]/{kind}/_search with them as a form body "
            "(application/x-www-form-urlencoded).",
    CREATE: "Book: an Appointment naming a free Slot and a Patient, through the same booking rules as the "
            "API (201 with Location; a taken Slot or a broken rule is an OperationOutcome with the API's code).",
    UPDATE: "Cancel (status cancelled, with cancelationReason) or mark a no-show (status noshow); nothing "
            "else of an Appointment changes here.",
    PATCH: "A JSON Patch (application/json-patch+json) that adds, replaces or tests /status and "
           "/cancelationReason: the same changes as update.",
}
# Each parameter a search takes: its FHIR type and what it matches. A name a search takes that is missing
# here stops the statement being built (the test reads every search).
PARAMETER_WORDS = {
    "Patient": {
        "_id": ("token", "The patient's id."),
        "identifier": ("token", "The medical record number (system urn:clinic:mrn); exact, any case."),
        "name": ("string", "Family, given or preferred name: starts with, any case; :exact and :contains too."),
        "family": ("string", "Family name: starts with, any case; :exact and :contains too."),
        "given": ("string", "Given or preferred name: starts with, any case; :exact and :contains too."),
        "birthdate": ("date", "Date of birth, with the prefixes eq, ge, gt, le, lt (sa, eb)."),
        "active": ("token", "false: archived records only; true: current ones only."),
    },
    "Practitioner": {
        "_id": ("token", "The clinician's id."),
        "name": ("string", "First or last name: starts with, any case; :exact and :contains too."),
        "family": ("string", "Last name: starts with, any case; :exact and :contains too."),
        "given": ("string", "First name: starts with, any case; :exact and :contains too."),
        "active": ("token", "true or false: the clinician's account is active."),
    },
    "Location": {
        "_id": ("token", "site-{id} for a site, chair-{id} for a chair."),
        "name": ("string", "The site's or chair's name: starts with, any case; :exact and :contains too."),
        "partof": ("reference", "The chairs of a site (Location/site-{id})."),
        "type": ("token", "si (a site) or ro (a chair), system "
                          "http://terminology.hl7.org/CodeSystem/location-physical-type."),
        "status": ("token", "active or inactive."),
    },
    "Schedule": {
        "_id": ("token", "The chair's id."),
        "actor": ("reference", "The chair (Location/chair-{id}) or its site (Location/site-{id})."),
        "service-type": ("token", "esketamine or ketamine-iv (system " + TREATMENT_SYSTEM + ")."),
        "active": ("token", "true: every Schedule (only active chairs have one)."),
    },
    "Slot": {
        "schedule": ("reference", "Required: the chair's Schedule (Schedule/{id})."),
        "start": ("date", "From and to (ge, gt, le, lt); by default today to 7 days on; at most 31 days."),
        "status": ("token", "free (the only status offered)."),
        "service-type": ("token", "esketamine or ketamine-iv: Slots where that treatment fits."),
    },
    "CarePlan": {
        "_id": ("token", "The course's id."),
        "patient": ("reference", "The patient (Patient/{id})."),
        "subject": ("reference", "The same as patient."),
        "status": ("token", "active, on-hold, completed or revoked."),
        "category": ("token", "The treatment: esketamine or ketamine-iv."),
    },
    "Appointment": {
        "_id": ("token", "The session's id; a comma is an OR."),
        "date": ("date", "A day (month, year) is the session's day at its own site; a value with a time "
                         "compares the start instant. Prefixes eq, ge, gt, le, lt (sa, eb); two make a range."),
        "patient": ("reference", "The patient (Patient/{id})."),
        "practitioner": ("reference", "The clinician (Practitioner/{id})."),
        "location": ("reference", "The site or the chair (Location/site-{id}, Location/chair-{id})."),
        "actor": ("reference", "Any participant: a Patient, a Practitioner or a Location (site or chair)."),
        "status": ("token", "booked, arrived, fulfilled, cancelled, noshow."),
        "service-type": ("token", "esketamine or ketamine-iv (system " + TREATMENT_SYSTEM + ")."),
    },
}
# Parameters every search takes besides its own (``search_params.COMMON``, less the general ``_format``
# and ``_pretty`` that every interaction takes and ``rest.documentation`` names).
RESULT_PARAMETERS = {
    "_count": ("number", "Entries per page: 50 unless asked, at most 200."),
    "_offset": ("number", "Where the page starts; the Bundle's links carry it."),
    "_summary": ("token", "count: the total alone; false: the default."),
    "_total": ("token", "Accepted and ignored: the total is always counted exactly."),
}
GENERAL_PARAMETERS = ("_format", "_pretty")
# ``_include`` is not a search parameter in the statement: its values are ``searchInclude``.
INCLUDE = "_include"
BOOK = "book"
BOOK_DEFINITION_ID = "appointment-book"
BOOK_DEFINITION_URL = "https://clinic.example/fhir/OperationDefinition/appointment-book"


def search_parameter_names(kind: str) -> list[str]:
    """The parameters the search of ``kind`` takes, without modifiers, ``_include`` or the result ones."""
    names = []
    for taken in SEARCHES[kind]:
        name = taken.split(":")[0]
        if name != INCLUDE and name not in names:
            names.append(name)
    return names


def _search_params(kind: str) -> list[dict]:
    words = PARAMETER_WORDS[kind]
    listed = [(name, *words[name]) for name in search_parameter_names(kind)]
    listed += [(name, *RESULT_PARAMETERS[name]) for name in RESULT_PARAMETERS]
    return [{"name": name, "type": type_, "documentation": text} for name, type_, text in listed]


def book_definition() -> dict:
    """``$book`` as this server takes it: an OperationDefinition, contained in the statement (no IG's
    ``$book`` takes its Appointment the way this one does)."""
    return {
        "resourceType": "OperationDefinition", "id": BOOK_DEFINITION_ID, "url": BOOK_DEFINITION_URL,
        "name": "BookAppointment", "title": "Book an Appointment", "status": "active", "kind": "operation",
        "code": BOOK, "resource": ["Appointment"], "system": False, "type": True, "instance": False,
        "affectsState": True,
        "description": "Books the Appointment sent, as POST [base]/Appointment does: a free Slot and a Patient, "
                       "through the booking rules; 201 with the Appointment booked, or an OperationOutcome.",
        "parameter": [
            {"name": "appointment", "use": "in", "min": 1, "max": "1", "type": "Appointment",
             "documentation": "The Appointment to book (the body may also be the Appointment itself)."},
            {"name": "return", "use": "out", "min": 1, "max": "1", "type": "Appointment",
             "documentation": "The Appointment booked."},
        ],
    }


def _resource(kind: str) -> dict:
    entry = {
        "type": kind,
        "interaction": [{"code": code, "documentation": INTERACTION_WORDS[code].format(kind=kind)}
                        if code in INTERACTION_WORDS else {"code": code} for code in INTERACTIONS[kind]],
        "searchParam": _search_params(kind),
    }
    if INCLUDE in SEARCHES[kind]:
        entry["searchInclude"] = list(appointment_search.INCLUDES)
    if kind == "Appointment":
        entry["operation"] = [{"name": BOOK, "definition": f"#{BOOK_DEFINITION_ID}",
                               "documentation": "POST [base]/Appointment/$book: an Appointment, or Parameters "
                                                "holding one as appointment."}]
        entry["updateCreate"] = False
        entry["conditionalCreate"] = entry["conditionalUpdate"] = False
    return entry


def capability_statement(request) -> CapabilityStatement:
    """What this server offers, built with the library from the searches' own parameter lists."""
    return CapabilityStatement(
        status="active", date=STATEMENT_DATE, kind="instance", fhirVersion=FHIR_VERSION,
        format=["application/fhir+json", "json"], publisher=settings.CLINIC_NAME,
        software={"name": "Clinic scheduling"},
        implementation={"description": "The clinic's chairs, sessions and courses as FHIR R4",
                        "url": base_url(request)},
        contained=[book_definition()],
        rest=[{
            "mode": "server",
            "documentation": "Read and search the schedule; book and cancel Appointments. Errors are "
                             "OperationOutcomes. Every interaction also takes _format=json and _pretty. "
                             "See docs/FHIR.md.",
            "security": {
                "cors": False,
                "description": "Authorization: Bearer <API token> (POST /api/auth/token/ gives one; "
                               "'Token <key>' and a signed-in session work too). Every interaction except "
                               "metadata needs a staff role: front desk, clinician or manager.",
            },
            "resource": [_resource(kind) for kind in SEARCHES],
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
