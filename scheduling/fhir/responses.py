"""FHIR answers: a resource (or Bundle) as ``application/fhir+json``, and every refusal as an OperationOutcome."""

from __future__ import annotations

from django.http import HttpResponse
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.resource import Resource

from scheduling.fhir.errors import FhirError

FHIR_JSON = "application/fhir+json"
CONTENT_TYPE = f"{FHIR_JSON}; charset=utf-8"
# The system of the clinic's own error codes in an OperationOutcome's ``details`` (the REST API's ``code``).
ERROR_CODE_SYSTEM = "urn:clinic:error-code"


def fhir_response(resource: Resource, *, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    """``resource`` serialised by the library (no empty elements), with FHIR's JSON content type."""
    response = HttpResponse(resource.model_dump_json(exclude_none=True), status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def operation_outcome(error: FhirError) -> OperationOutcome:
    """The OperationOutcome that says what ``error`` says: one issue, severity error."""
    issue = {"severity": "error", "code": error.code, "diagnostics": error.diagnostics}
    if error.expression:
        issue["expression"] = list(error.expression)
    if error.details_code:
        issue["details"] = {"coding": [{"system": ERROR_CODE_SYSTEM, "code": error.details_code}],
                            "text": error.details_code}
    return OperationOutcome(issue=[issue])


def outcome(error: FhirError) -> HttpResponse:
    """``error`` answered as an OperationOutcome with its status (and headers, e.g. ``WWW-Authenticate``)."""
    return fhir_response(operation_outcome(error), status=error.status, headers=error.headers)
