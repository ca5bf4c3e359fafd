"""Pages shared by every role."""

from django.shortcuts import redirect

from clinic.roles import role_required


@role_required()
def home(request):
    """Send each role to the page its day starts on."""
    return redirect("patients:list")
