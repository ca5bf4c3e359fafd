"""What goes wrong in a FHIR request: one exception, answered as an OperationOutcome (``responses.outcome``).

The issue ``code`` is FHIR's own (IssueType: ``invalid``, ``not-found``,
``forbidden``, ``login``, ``not-supported``, ``conflict``, ``business-rule``,
...); ``details_code`` carries the clinic's own code where the REST API has one
(``chair_conflict``, ``outside_due_window``), so an integration sees the same
reasons through either door.
"""

from __future__ import annotations

from clinic.errors import ClinicError

# The IssueType a refusal of the clinic's own gets, by its HTTP status.
ISSUE_TYPE_BY_STATUS = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    415: "not-supported",
    422: "business-rule",
    503: "transient",
}


class FhirError(Exception):
    """A refusal: HTTP ``status``, FHIR issue ``code``, the words (``diagnostics``), where (``expression``)."""

    def __init__(self, status: int, code: str, diagnostics: str, *, expression: list[str] | None = None,
                 details_code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.expression = expression
        self.details_code = details_code
        self.headers = headers or {}

    @classmethod
    def invalid(cls, diagnostics: str, *, expression: list[str] | None = None) -> FhirError:
        """Input that can never be read as sent (400)."""
        return cls(400, "invalid", diagnostics, expression=expression)

    @classmethod
    def not_found(cls, diagnostics: str) -> FhirError:
        return cls(404, "not-found", diagnostics)

    @classmethod
    def not_supported(cls, diagnostics: str, *, status: int = 400, expression: list[str] | None = None) -> FhirError:
        """A FHIR feature this server does not offer (a search parameter, a modifier, a format)."""
        return cls(status, "not-supported", diagnostics, expression=expression)

    @classmethod
    def from_clinic_error(cls, error: ClinicError) -> FhirError:
        """The REST API's refusal (status, code, field errors) as a FHIR one with the same status and code."""
        diagnostics = error.detail
        field_words = [f"{name}: {' '.join(map(str, words))}" for name, words in error.fields.items()]
        if field_words and diagnostics not in field_words:
            diagnostics = f"{diagnostics} ({'; '.join(field_words)})"
        if error.status == 409 and error.code not in ("conflict", "chair_conflict", "patient_conflict"):
            issue = "business-rule"  # a rule of the clinic refused it, not a clash with another write
        else:
            issue = ISSUE_TYPE_BY_STATUS.get(error.status, "processing")
        return cls(error.status, issue, diagnostics, expression=list(error.fields) or None, details_code=error.code)
