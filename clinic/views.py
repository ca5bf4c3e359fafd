"""Pages shared by every role."""

from django.shortcuts import redirect

from clinic.roles import FRONT_DESK, has_role, role_required


@role_required()
def home(request):
    """Send each role to the page its day starts on: the front desk to today's board."""
    if has_role(request.user, FRONT_DESK):
        return redirect("board-start")
    return redirect("patients:list")
