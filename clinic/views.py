"""Pages shared by every role."""

from django.shortcuts import redirect

from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER, has_role, role_required


@role_required()
def home(request):
    """Send each role to the page its day starts on: the front desk to today's board, clinicians to their
    schedule, managers to the clinic's sites, staff and settings."""
    if has_role(request.user, FRONT_DESK):
        return redirect("board-start")
    if has_role(request.user, CLINICIAN):
        return redirect("my-schedule")
    if has_role(request.user, MANAGER):
        return redirect("manager-home")
    return redirect("patients:list")
