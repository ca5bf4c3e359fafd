"""Demo staff accounts, one per role, with a password printed by ``load_demo``."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER

DEMO_PASSWORD = "clinic-demo-2026"
DEMO_USERS = (
    ("frontdesk", "Fran", "Desk", FRONT_DESK),
    ("clinician", "Dr. Cal", "Nurse", CLINICIAN),
    ("manager", "Mia", "Manager", MANAGER),
)


def create_demo_users() -> dict[str, object]:
    users = {}
    User = get_user_model()
    for username, first, last, role in DEMO_USERS:
        user, created = User.objects.get_or_create(username=username, defaults={"first_name": first, "last_name": last})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.is_staff = role == MANAGER
            user.save()
        user.groups.add(Group.objects.get(name=role))
        users[role] = user
    return users
