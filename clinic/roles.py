"""Roles are Django groups created by a migration; permissions follow the matrix in docs/PERMISSIONS.md.

Checks are by role, not by Django's per-model permissions, because the clinic
thinks in roles ("front desk may check in, only clinicians dose") and the
matrix must read the same in code as on paper.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from rest_framework.permissions import SAFE_METHODS, BasePermission

FRONT_DESK = "front_desk"
CLINICIAN = "clinician"
MANAGER = "manager"
ALL_ROLES = (FRONT_DESK, CLINICIAN, MANAGER)
ROLE_LABELS = {FRONT_DESK: "Front desk", CLINICIAN: "Clinician", MANAGER: "Manager"}
# Not a role but a mark on a clinician, kept by a manager in the admin (a group created by a migration of
# scheduling): the prescriber an esketamine dose names as on site (REMS, 31 Dec 2024).
PRESCRIBER = "prescriber"


def roles_of(user) -> frozenset[str]:
    """The user's roles, cached on the user object for the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_clinic_roles", None)
    if cached is None:
        cached = cache_roles(user, user.groups.values_list("name", flat=True))
    return cached


def cache_roles(user, group_names) -> frozenset[str]:
    """Keep the clinic roles among ``group_names`` on ``user`` for ``roles_of`` (read with the user, say)."""
    user._clinic_roles = frozenset(name for name in group_names if name in ALL_ROLES)
    return user._clinic_roles


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def is_prescriber(user) -> bool:
    """A clinician marked as a prescriber, active and signed-in-able."""
    return bool(user is not None and user.is_active and has_role(user, CLINICIAN)
                and user.groups.filter(name=PRESCRIBER).exists())


class HasAnyRole(BasePermission):
    """Every endpoint: a signed-in, active user who holds at least one clinic role."""

    message = "Your account has no clinic role; ask a manager to assign one."

    def has_permission(self, request, view) -> bool:
        return bool(roles_of(request.user))


def roles_may(*, read: tuple[str, ...] = ALL_ROLES, write: tuple[str, ...] = ()) -> type[BasePermission]:
    """A permission class: ``read`` roles for safe methods, ``write`` roles for the rest."""

    class RolePermission(BasePermission):
        message = "Your role does not allow this."

        def has_permission(self, request, view) -> bool:
            allowed = read if request.method in SAFE_METHODS else write
            return has_role(request.user, *allowed)

    RolePermission.__name__ = f"RolesMay_{'_'.join(read)}__{'_'.join(write)}"
    return RolePermission


def role_required(*roles: str):
    """Decorator for web views: sign in first, then hold one of ``roles`` (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                if getattr(request, "htmx", False):
                    # A background refresh after the session ended: take the whole screen to the
                    # login page (and off the patients it showed), not just the polled fragment.
                    page = request.htmx.current_url_abs_path or "/"
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = redirect_to_login(page)["Location"]
                    return response
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *(roles or ALL_ROLES)):
                raise PermissionDenied("Your role does not allow this page.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
