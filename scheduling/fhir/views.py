"""The door every FHIR request comes through: the API's tokens and roles, FHIR JSON in and out, and every
error an OperationOutcome.

``FhirView`` is an ``APIView`` whose handlers return ``fhir_response(...)``;
whatever they raise (``FhirError``, the clinic's own ``ClinicError``, DRF's
and Django's refusals, the database's) leaves as an OperationOutcome with
the matching status, so a client's mistake is never a 500.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, HttpResponse
from rest_framework import exceptions as drf
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from clinic.errors import DATABASE_DOWN, DATABASE_DOWN_DETAIL, RETRY_AFTER_SECONDS, ClinicError
from clinic.roles import HasAnyRole
from clinic.token_auth import TokenWithRolesAuthentication
from scheduling.fhir.errors import FhirError
from scheduling.fhir.responses import FHIR_JSON, outcome

logger = logging.getLogger(__name__)

DEFAULT_COUNT = 50
MAX_COUNT = 200
# ``_format`` values that ask for what this server speaks (FHIR's JSON); anything else (XML, Turtle) is a 406.
JSON_FORMATS = frozenset({"json", "application/json", FHIR_JSON, "application/json+fhir"})


class BearerTokenAuthentication(TokenWithRolesAuthentication):
    """``Authorization: Bearer <key>``: the API's own tokens, as FHIR clients send them."""

    keyword = "Bearer"


class FhirJSONParser(JSONParser):
    media_type = FHIR_JSON


class FhirJSONRenderer(JSONRenderer):
    """Only for content negotiation (an ``Accept`` this server cannot answer is a 406); views render
    their resources themselves."""

    media_type = FHIR_JSON
    format = "fhir"


class StaffRole(HasAnyRole):
    message = "FHIR access needs a clinic role (front desk, clinician or manager); ask a manager to assign one."


def _first_message(detail) -> str:
    """The first message in a DRF error detail (a string, a list or a dict of them)."""
    while isinstance(detail, dict | list) and detail:
        detail = next(iter(detail.values())) if isinstance(detail, dict) else detail[0]
    return str(detail) if detail else "The request could not be read."


def fhir_error_for(exc: Exception) -> FhirError | None:
    """The FhirError ``exc`` stands for, or None for an exception no client caused."""
    if isinstance(exc, FhirError):
        return exc
    if isinstance(exc, ClinicError):
        return FhirError.from_clinic_error(exc)
    if isinstance(exc, Http404 | drf.NotFound):
        return FhirError.not_found("No such resource.")
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        headers = {"WWW-Authenticate": exc.auth_header} if getattr(exc, "auth_header", None) else {}
        return FhirError(401, "login", str(exc.detail), headers=headers)
    if isinstance(exc, drf.PermissionDenied | DjangoPermissionDenied):
        return FhirError(403, "forbidden", str(getattr(exc, "detail", "")) or StaffRole.message)
    if isinstance(exc, drf.MethodNotAllowed):
        return FhirError(405, "not-supported", str(exc.detail))
    if isinstance(exc, drf.NotAcceptable):
        return FhirError(406, "not-supported", "This server answers in FHIR JSON only (application/fhir+json).")
    if isinstance(exc, drf.UnsupportedMediaType):
        return FhirError(415, "not-supported", f"{exc.detail} Send application/fhir+json (a search's parameters: "
                         "application/x-www-form-urlencoded).")
    if isinstance(exc, drf.ParseError):
        return FhirError.invalid(f"The body is not valid JSON: {exc.detail}")
    if isinstance(exc, drf.ValidationError):
        return FhirError.invalid(_first_message(exc.detail), expression=list(exc.detail)
                                 if isinstance(exc.detail, dict) else None)
    if isinstance(exc, DjangoValidationError):
        return FhirError.invalid(" ".join(exc.messages))
    if isinstance(exc, drf.Throttled):
        return FhirError(429, "throttled", str(exc.detail), headers={"Retry-After": str(int(exc.wait or 1))})
    if isinstance(exc, DATABASE_DOWN):
        logger.warning("database unavailable during a FHIR request: %s", type(exc).__name__)
        return FhirError(503, "transient", DATABASE_DOWN_DETAIL, headers={"Retry-After": RETRY_AFTER_SECONDS})
    if isinstance(exc, OverflowError | DataError):
        # Input the parsers let through but that cannot be computed with or stored (a year past 9999):
        # each one is a gap in a parser, so it is logged.
        logger.warning("bad input reached a FHIR view: %s: %s", type(exc).__name__, exc)
        return FhirError.invalid("A value in the request is out of range.")
    if isinstance(exc, drf.APIException):
        return FhirError(exc.status_code, "processing", str(exc.detail))
    return None


def fhir_exception_handler(exc: Exception, context: dict) -> HttpResponse | None:
    """DRF's exception handler for FHIR views: an OperationOutcome, or None (a bug: Django's 500)."""
    error = fhir_error_for(exc)
    return None if error is None else outcome(error)


class FhirView(APIView):
    """Base of every FHIR view: who may call (any staff role), what it reads, how it fails."""

    authentication_classes = [BearerTokenAuthentication, TokenWithRolesAuthentication, SessionAuthentication]
    permission_classes = [StaffRole]
    parser_classes = [FhirJSONParser, JSONParser]
    renderer_classes = [FhirJSONRenderer, JSONRenderer]
    # FHIR describes itself (GET /fhir/metadata); the REST API's OpenAPI schema leaves these views out.
    schema = None

    def get_exception_handler(self):
        return fhir_exception_handler

    def initial(self, request, *args, **kwargs):
        asked = request.query_params.get("_format")
        if asked is not None and asked.split(";")[0].strip().lower() not in JSON_FORMATS:
            raise FhirError(406, "not-supported", f"_format “{asked}” is not offered: this server speaks FHIR JSON "
                            "(_format=json or application/fhir+json).", expression=["_format"])
        super().initial(request, *args, **kwargs)

    def perform_content_negotiation(self, request, force=False):
        # An explicit JSON ``_format`` wins over the ``Accept`` header, as FHIR says it should.
        if request.query_params.get("_format") is not None:
            return self.renderer_classes[0](), FHIR_JSON
        return super().perform_content_negotiation(request, force)


def posted_search(search_view: type[FhirView]) -> type[FhirView]:
    """The view of ``[type]/_search``: ``search_view``'s search, its parameters also sent as a form body
    (``POST``, FHIR's way to keep them out of the address); a body of another type is a 415."""

    class PostedSearch(search_view):
        parser_classes = [FormParser]

        def post(self, request, *args, **kwargs):
            merged = request._request.GET.copy()
            for name, sent in request.data.lists():
                for value in sent:
                    merged.appendlist(name, value)
            request._request.GET = merged  # what ``request.query_params`` reads
            return self.get(request, *args, **kwargs)

    PostedSearch.__name__ = PostedSearch.__qualname__ = f"Posted{search_view.__name__}"
    return PostedSearch


def paging(request) -> tuple[int, int]:
    """``(offset, count)`` from ``_offset`` and ``_count`` (default 50, at most 200; 0 with ``_summary=count``);
    a bad value is a 400."""
    count = _non_negative(request, "_count", DEFAULT_COUNT)
    offset = _non_negative(request, "_offset", 0)
    summary = request.query_params.get("_summary")
    if summary not in (None, "false", "count"):
        raise FhirError.not_supported("_summary: only count (the total alone) and false are offered.",
                                      expression=["_summary"])
    return offset, 0 if summary == "count" else min(count, MAX_COUNT)


def _non_negative(request, name: str, default: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise FhirError.invalid(f"{name} must be a whole number, 0 or more (got “{text}”).", expression=[name])
    return int(text)
