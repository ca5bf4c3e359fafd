"""No request body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is read: 413, for JSON as for forms.

Django enforces the limit only where it parses a form itself (``request.POST``);
DRF reads a JSON body straight from the stream, so without this a client
could make a worker parse any amount of JSON. The check is on the declared
``Content-Length``, before any view or middleware reads the body. The system
takes no file uploads, so the whole body counts.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse

from clinic.errors import json_error

TOO_LARGE_DETAIL = "The request body is too large."


def too_large(request) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_error("too_large", TOO_LARGE_DETAIL, 413)
    return HttpResponse(TOO_LARGE_DETAIL, status=413, content_type="text/plain; charset=utf-8")


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return too_large(request)
        return self.get_response(request)
