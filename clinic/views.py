"""Pages shared by every role: the landing redirect and the health check."""

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect

from clinic.roles import role_required


@role_required()
def home(request):
    """Send each role to the page its day starts on."""
    return redirect("patients:list")


def health(request):
    """Liveness for load balancers and compose: the database answers a trivial query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
