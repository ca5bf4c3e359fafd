from django.conf import settings

from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER, roles_of


def clinic(request):
    """Clinic identity and the signed-in user's roles, for the base layout's navigation."""
    roles = roles_of(getattr(request, "user", None))
    return {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "user_roles": roles,
        "is_front_desk": FRONT_DESK in roles,
        "is_clinician": CLINICIAN in roles,
        "is_manager": MANAGER in roles,
    }
