"""The health check answers before host validation and the HTTPS redirect.

Load balancers and compose probe the container by its internal address over
plain HTTP; answering first keeps those probes out of ALLOWED_HOSTS and
SECURE_SSL_REDIRECT without loosening either for real traffic.
"""

from django.db import connection
from django.http import JsonResponse


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/health/":
            return health_response()
        return self.get_response(request)


def health_response() -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
