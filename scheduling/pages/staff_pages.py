"""The manager's Staff pages: who works here, in which roles and at which sites, and their sign-in.

The list filters by role, site and whether the account is active; a staff member's page changes
their details, roles, prescriber mark and sites, deactivates or reactivates the account, removes a
lost authenticator, clears a lockout and sets a new password for someone who forgot theirs. Every
change goes through ``staff_changes`` (one transaction each, recorded in the admin's log) and a
refusal re-draws the page with the reason beside what was sent: 400 for a field, 409 for a guard
(one's own manager role or account, the last manager, a clinician's booked sessions, a new
password for a deactivated account). Times read on the manager's first site's clock.
"""

from __future__ import annotations

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.errors import ClinicError
from clinic.roles import ALL_ROLES, MANAGER, PRESCRIBER, ROLE_LABELS, role_required
from scheduling.pages import first_location_for
from scheduling.pages import staff_changes as changes
from scheduling.pages.staff_forms import NewPasswordForm, NewStaffForm, StaffFilter, StaffForm

User = get_user_model()
PAGE_SIZE = 25
HISTORY_SHOWN = 20
SESSIONS_SHOWN = 10

# What each action says it did, on the staff member's page (``?done=``).
DONE = {
    "saved": "Saved.",
    "added": "Added. They can sign in with the initial password you set.",
    "deactivated": "Deactivated: the account can no longer sign in. Nothing it recorded is removed.",
    "reactivated": "Reactivated: the account can sign in again.",
    "authenticator-removed": "Authenticator removed: they sign in with the password and set up a new one.",
    "lockout-cleared": "Lockout cleared: they can sign in again.",
    "password-set": "New password set: they were signed out everywhere and sign in again with it. "
                    "Give it to them in person.",
    "password-changed": "Your new password is set: you stay signed in here; any other sign-in of yours was ended.",
}


def _staff():
    confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return (User.objects.annotate(has_authenticator=Exists(confirmed))
            .prefetch_related("groups", "clinic_locations"))


def _describe(users: list) -> None:
    """Put the list's words on each user: roles, prescriber mark, sites, lockout."""
    locked = changes.locked_out_usernames(user.username for user in users)
    for user in users:
        names = {group.name for group in user.groups.all()}
        user.role_labels = [ROLE_LABELS[role] for role in ALL_ROLES if role in names]
        user.is_prescriber_mark = PRESCRIBER in names
        user.site_names = sorted(site.name for site in user.clinic_locations.all())
        user.locked_out = user.username in locked


def _zone_context(request) -> dict:
    site = first_location_for(request.user)
    zone = site.zone if site else timezone.get_default_timezone()
    return {"zone": zone, "zone_site": site}


def _render(request, template: str, context: dict, *, status: int = 200):
    zone = _zone_context(request)
    with timezone.override(zone["zone"]):
        return render(request, template, {**context, **zone}, status=status)


@require_GET
@role_required(MANAGER)
def staff_list(request):
    """Staff, filtered by role, site and active, by name, a page at a time."""
    filters = StaffFilter(request.GET)
    chosen = filters.filters()
    users = _staff().order_by("last_name", "first_name", "username")
    if chosen["active"] != "all":
        users = users.filter(is_active=chosen["active"] == "yes")
    if chosen["role"]:
        users = users.filter(groups__name=chosen["role"])
    if chosen["site"] is not None:
        users = users.filter(clinic_locations=chosen["site"])
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    _describe(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return _render(request, "scheduling/pages/staff_list.html",
                   {"page": page, "filters": filters, "query": query.urlencode()})


@require_http_methods(["GET", "POST"])
@role_required(MANAGER)
def staff_new(request):
    """Add a staff member with an initial password the manager gives them."""
    form = NewStaffForm(request.POST or None)
    error, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            try:
                user = changes.add_staff(by=request.user, username=form.cleaned_data["username"],
                                         password=form.cleaned_data["password1"], values=form.values())
            except ClinicError as refusal:
                error, status = refusal, refusal.status
                _fields_to_form(form, refusal)
            else:
                return redirect(f"{reverse('staff-detail', args=[user.pk])}?done=added")
        else:
            status = 400
    return _render(request, "scheduling/pages/staff_new.html", {"form": form, "error": error}, status=status)


def _fields_to_form(form, error: ClinicError) -> None:
    for field, messages in error.fields.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


def _history(user) -> list[LogEntry]:
    kind = ContentType.objects.get_for_model(User)
    return list(LogEntry.objects.filter(content_type=kind, object_id=str(user.pk)).select_related("user")
                .order_by("-action_time")[:HISTORY_SHOWN])


def _detail(request, user, *, form=None, password_form=None, error: ClinicError | None = None, acted: str = "",
            status: int = 200):
    _describe([user])
    sessions = changes.booked_sessions(user)
    context = {
        "member": user,
        "form": form or StaffForm(initial=StaffForm.initial_for(user)),
        "password_form": password_form or NewPasswordForm(user),
        "is_self": user.pk == request.user.pk,
        "booked_count": sessions.count(),
        "booked": list(sessions[:SESSIONS_SHOWN]),
        "history": _history(user),
        "error": error,
        "acted": acted,
        "done": DONE.get(request.GET.get("done", ""), ""),
    }
    return _render(request, "scheduling/pages/staff_detail.html", context, status=status)


def _member(user_id: int):
    return get_object_or_404(_staff(), pk=user_id)


@require_http_methods(["GET", "POST"])
@role_required(MANAGER)
def staff_detail(request, user_id: int):
    """A staff member: details, roles, sites, sign-in; POST saves the details, roles and sites."""
    user = _member(user_id)
    if request.method == "GET":
        return _detail(request, user)
    form = StaffForm(request.POST)
    if not form.is_valid():
        return _detail(request, user, form=form, acted="save", status=400)
    try:
        changes.change_staff(by=request.user, user=user, values=form.values())
    except ClinicError as error:
        _fields_to_form(form, error)
        return _detail(request, _member(user_id), form=form, error=error, acted="save", status=error.status)
    return redirect(f"{reverse('staff-detail', args=[user.pk])}?done=saved")


def _action(name: str, done: str, run):
    @require_POST
    @role_required(MANAGER)
    def view(request, user_id: int):
        user = _member(user_id)
        try:
            run(by=request.user, user=user, data=request.POST)
        except ClinicError as error:
            return _detail(request, _member(user_id), error=error, acted=name, status=error.status)
        return redirect(f"{reverse('staff-detail', args=[user.pk])}?done={done}")

    view.__name__ = f"staff_{name.replace('-', '_')}"
    view.__doc__ = f"The staff member's page's action: {name.replace('-', ' ')}."
    return view


@require_POST
@role_required(MANAGER)
def staff_password(request, user_id: int):
    """Set a new password for a staff member; they are signed out everywhere (a manager's own: but here)."""
    user = _member(user_id)
    form = NewPasswordForm(user, request.POST)
    is_self = user.pk == request.user.pk
    try:
        changes.check_can_set_password(user)
        if not form.is_valid():
            return _detail(request, user, password_form=form, acted="password", status=400)
        changed = changes.set_password(by=request.user, user=user, password=form.cleaned_data["new_password1"],
                                       keep_session=request.session.session_key if is_self else None)
    except ClinicError as error:
        return _detail(request, _member(user_id), error=error, acted="password", status=error.status)
    if is_self:
        # Her session was made with the old password's hash: carry it over, or she is signed out too.
        update_session_auth_hash(request, changed)
    done = "password-changed" if is_self else "password-set"
    return redirect(f"{reverse('staff-detail', args=[user.pk])}?done={done}")


ACTIONS = {
    "deactivate": _action("deactivate", "deactivated", lambda *, by, user, data: changes.deactivate_staff(
        by=by, user=user, confirmed=data.get("confirm") == "1")),
    "reactivate": _action("reactivate", "reactivated",
                          lambda *, by, user, data: changes.reactivate_staff(by=by, user=user)),
    "remove-authenticator": _action("remove-authenticator", "authenticator-removed",
                                    lambda *, by, user, data: changes.remove_authenticator(by=by, user=user)),
    "clear-lockout": _action("clear-lockout", "lockout-cleared",
                             lambda *, by, user, data: changes.clear_lockout(by=by, user=user)),
}

urlpatterns = [
    path("manage/staff/", staff_list, name="staff-list"),
    path("manage/staff/new/", staff_new, name="staff-new"),
    path("manage/staff/<int:user_id>/", staff_detail, name="staff-detail"),
    *[path(f"manage/staff/<int:user_id>/{name}/", view, name=f"staff-{name}") for name, view in ACTIONS.items()],
    path("manage/staff/<int:user_id>/password/", staff_password, name="staff-password"),
]
