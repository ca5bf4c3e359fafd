"""One error hierarchy and one error format for the API and the web pages.

Services raise a ``ClinicError`` subclass with a machine-readable ``code``;
the API turns every error, ours or DRF's, into
``{"code": ..., "detail": ..., "fields": {...}}`` with the right status, so a
client mistake is never a 500.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse

from clinic.constraints import errors_for_violation

if TYPE_CHECKING:
    from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ClinicError(Exception):
    """A refusal the user can act on: a code, a plain-words detail, optional field errors."""

    status = 400
    code = "invalid"

    def __init__(self, detail: str, *, code: str | None = None, fields: dict[str, list[str]] | None = None,
                 extra: dict[str, Any] | None = None):
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.fields = fields or {}
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        body = {"code": self.code, "detail": self.detail, "fields": self.fields}
        body.update(self.extra)
        return body


class Invalid(ClinicError):
    """Input that can never be accepted as sent (400)."""

    status = 400
    code = "invalid"


class NotAllowed(ClinicError):
    """The user's role does not allow this action (403)."""

    status = 403
    code = "not_allowed"


class NotFound(ClinicError):
    status = 404
    code = "not_found"


class Conflict(ClinicError):
    """The request is well-formed but clashes with the current state (409)."""

    status = 409
    code = "conflict"


class Unavailable(ClinicError):
    """A dependency (the database) is down for a moment; the client may retry (503)."""

    status = 503
    code = "unavailable"


# Errors that mean the database cannot be reached or dropped the connection
# (Django's wrappers of psycopg's; OperationalError also covers a statement
# timeout or a deadlock, for which "try again in a moment" is right as well).
DATABASE_DOWN = (OperationalError, InterfaceError)
DATABASE_DOWN_DETAIL = "The database is not answering just now; please try again in a moment."
RETRY_AFTER_SECONDS = "5"


def _flatten(detail: Any) -> dict[str, list[str]]:
    """DRF nests errors in dicts and lists; the format promises field -> list of messages."""
    if isinstance(detail, dict):
        fields: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub_key, sub_value in _flatten(value).items():
                    fields[f"{key}.{sub_key}"] = sub_value
            elif isinstance(value, list):
                messages: list[str] = []
                for index, item in enumerate(value):
                    if isinstance(item, dict):
                        for sub_key, sub_value in _flatten(item).items():
                            fields[f"{key}.{index}.{sub_key}"] = sub_value
                    else:
                        messages.append(str(item))
                if messages:
                    fields[key] = messages
            else:
                fields[key] = [str(value)]
        return fields
    if isinstance(detail, list):
        return {"non_field_errors": [str(item) for item in detail]}
    return {"non_field_errors": [str(detail)]}


def _summary(fields: dict[str, list[str]]) -> str:
    parts = []
    for name, messages in fields.items():
        label = "" if name == "non_field_errors" else f"{name.replace('_', ' ').capitalize()}: "
        parts.append(label + " ".join(messages))
    return " ".join(parts) or "The request is not valid."


def validation_error_from_django(exc: DjangoValidationError) -> Invalid:
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    fields = {("non_field_errors" if key == "__all__" else key): list(value) for key, value in fields.items()}
    return Invalid(_summary(fields), fields=fields)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF exception handler: every error leaves in the one format."""
    # DRF imported here, not with the module: every model imports this module for its errors, and a Celery
    # worker, which serves no API, would load DRF's serializers at each start (a worker restarted after a
    # crash takes no text until it is up).
    from rest_framework import exceptions as drf
    from rest_framework.response import Response
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, ClinicError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        err = validation_error_from_django(exc)
        return Response(err.as_dict(), status=400)
    if isinstance(exc, DATABASE_DOWN):
        logger.warning("database unavailable during an API request: %s", type(exc).__name__)
        err = Unavailable(DATABASE_DOWN_DETAIL)
        return Response(err.as_dict(), status=503, headers={"Retry-After": RETRY_AFTER_SECONDS})
    if isinstance(exc, IntegrityError) and (fields := errors_for_violation(exc)) is not None:
        # A check constraint a write path did not validate first: still the client's value, still a 400
        # naming the field. Logged, because each one is a validation gap to close where the value came in.
        logger.warning("a check constraint refused a value at %s: %s", context.get("view").__class__.__name__,
                       getattr(getattr(exc.__cause__, "diag", None), "constraint_name", ""))
        err = Invalid(_summary(fields), fields=fields)
        return Response(err.as_dict(), status=400)
    if isinstance(exc, OverflowError | DataError):
        # The last line of defence: input the serializers let through but that cannot be computed with
        # (a date past the calendar's end) or stored (a number past the column's range). Each one found
        # is a validation gap to close at the serializer, so it is logged.
        logger.warning("bad input reached %s: %s: %s", context.get("view").__class__.__name__,
                       type(exc).__name__, exc)
        err = Invalid("A value in the request is out of range or cannot be stored.", code="out_of_range")
        return Response(err.as_dict(), status=400)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf.ValidationError):
        fields = _flatten(exc.detail)
        response.data = {"code": "invalid", "detail": _summary(fields), "fields": fields}
        return response
    detail = exc.detail if isinstance(exc, drf.APIException) else str(exc)
    code = exc.get_codes() if isinstance(exc, drf.APIException) else "error"
    if not isinstance(code, str):
        code = "error"
    response.data = {"code": code, "detail": str(detail), "fields": {}}
    return response


def json_error(code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail, "fields": {}}, status=status)


def handler400(request, exception=None):
    """Django's refusals of a request it cannot read (a form too large or with too many fields, a bad host).

    The API answers in its error format: 413 for a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``, 400 for the rest. Pages get Django's page.
    """
    if request.path.startswith("/api/"):
        if isinstance(exception, RequestDataTooBig):
            return json_error("too_large", "The request body is too large.", 413)
        return json_error("bad_request", "The request could not be read.", 400)
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return json_error("not_found", "Not found.", 404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    """An unexpected error: 500, except a database that cannot be reached, which is a 503.

    The database can fail before any view runs (the session, the signed-in
    user, the audit middleware), where DRF's handler never sees it; Django
    calls this handler while that exception is being handled.
    """
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        return database_unavailable(request)
    if request.path.startswith("/api/"):
        return json_error("server_error", "Something went wrong on our side; it has been logged.", 500)
    from django.views.defaults import server_error

    return server_error(request)


def database_unavailable(request) -> HttpResponse:
    """503 while the database cannot be reached: the API's error format, or a page that says so.

    The page is rendered without the request, so it needs nothing from the
    database (no signed-in user, no session).
    """
    if request.path.startswith("/api/"):
        response = json_error(Unavailable.code, DATABASE_DOWN_DETAIL, 503)
    else:
        from django.conf import settings
        from django.template.loader import render_to_string

        response = HttpResponse(render_to_string("503.html", {"clinic_name": settings.CLINIC_NAME}), status=503)
    response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def lockout_response(request, original_response=None, credentials=None):
    """django-axes lockout: the API gets the error format, the web the lockout page; both 429."""
    detail = "Too many failed sign-ins: this account is locked for a while. A manager can unlock it."
    if request.path.startswith("/api/"):
        return json_error("locked_out", detail, 429)
    from django.shortcuts import render

    return render(request, "registration/locked_out.html", status=429)
