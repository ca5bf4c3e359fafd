"""The manager's home: the clinic's sites, staff, protocols, texts and audit, as pages of the system.

(Being built: the sections arrive with their pages.)
"""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from clinic.roles import MANAGER, role_required


@require_GET
@role_required(MANAGER)
def manager_home(request):
    return render(request, "scheduling/pages/manager_home.html", {})


urlpatterns = [
    path("manage/", manager_home, name="manager-home"),
]
