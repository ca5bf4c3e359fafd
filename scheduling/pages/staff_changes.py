"""Staff as the manager's Staff page changes them: add, change roles and sites, deactivate, sign-in repairs.

Each change is one transaction and is written to the admin's log (``LogEntry``), the record the
Django admin kept of the same changes, so a user's history reads the same whichever way it came
(the staff page shows it too). Users are never deleted: sessions, charts and REMS forms name them.

The clinic always keeps an active manager: a manager may not take away their own manager role
or deactivate themselves, and no change leaves the clinic without an active manager. Changes and
deactivations take a lock on the manager group's row first, so two managers demoting each other
at the same moment cannot both succeed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session as WebSession
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from clinic.errors import Conflict, Invalid
from clinic.roles import ALL_ROLES, CLINICIAN, MANAGER, PRESCRIBER, ROLE_LABELS
from scheduling.models import Location, Session

User = get_user_model()


@dataclass(frozen=True)
class StaffValues:
    """What the staff forms give: names, email, clinic roles, the prescriber mark, sites."""

    first_name: str
    last_name: str
    email: str
    roles: frozenset[str]
    prescriber: bool
    sites: frozenset[int]


def _log(*, by, user, flag: int, message: str) -> None:
    LogEntry.objects.log_actions(user_id=by.pk, queryset=[user], action_flag=flag, change_message=message,
                                 single_object=True)


def _groups(names: Iterable[str]) -> list[Group]:
    return list(Group.objects.filter(name__in=list(names)))


def _check_prescriber(values: StaffValues) -> None:
    if values.prescriber and CLINICIAN not in values.roles:
        words = "Only a clinician can be marked as a prescriber."
        raise Invalid(words, fields={"prescriber": [words]})


def _lock_managers() -> None:
    """Serialise every change that could take a manager away (see the module's docstring).

    Taken first, before the staff member's own row: a change writes a log row that points at the
    manager making it, so a change that locked its staff member first could wait on a manager
    another change has locked, while that change waits here (a deadlock, two managers demoting each
    other at once).
    """
    Group.objects.select_for_update().get(name=MANAGER)


def _other_active_managers(user) -> int:
    return User.objects.filter(is_active=True, groups__name=MANAGER).exclude(pk=user.pk).distinct().count()


def _last_manager() -> Conflict:
    return Conflict("The clinic must keep at least one active manager: make someone else a manager first.",
                    code="last_manager")


def role_words(roles: Iterable[str]) -> str:
    return ", ".join(ROLE_LABELS[role] for role in ALL_ROLES if role in roles) or "no role"


def _site_words(site_ids: Iterable[int]) -> str:
    names = Location.objects.filter(pk__in=list(site_ids)).order_by("name").values_list("name", flat=True)
    return ", ".join(names) or "no site"


@transaction.atomic
def add_staff(*, by, username: str, password: str, values: StaffValues):
    """Create a staff account with its roles, prescriber mark and sites; the password was validated by the form.

    Refuses 400 ``prescriber`` for a prescriber who is not a clinician, and 409
    ``username_taken`` when the name was taken meanwhile (any case: axes and
    colleagues read usernames without case).
    """
    _check_prescriber(values)
    if User.objects.filter(username__iexact=username).exists():
        words = f"“{username}” is already a username here."
        raise Conflict(words, code="username_taken", fields={"username": [words]})
    user = User(username=username, first_name=values.first_name, last_name=values.last_name, email=values.email)
    user.set_password(password)
    user.save()
    user.groups.set(_groups([*values.roles, *([PRESCRIBER] if values.prescriber else [])]))
    user.clinic_locations.set(Location.objects.filter(pk__in=values.sites))
    prescriber = ", prescriber" if values.prescriber else ""
    _log(by=by, user=user, flag=ADDITION,
         message=f"Added as {role_words(values.roles)}{prescriber}; sites: {_site_words(values.sites)}.")
    return user


@transaction.atomic
def change_staff(*, by, user, values: StaffValues):
    """Change a staff member's names, email, roles, prescriber mark and sites.

    Refuses 400 for no role or a prescriber who is not a clinician; 409
    ``own_manager_role`` when a manager takes away their own manager role;
    409 ``last_manager`` when the change would leave no active manager.
    """
    if not values.roles:
        words = "Choose at least one role (to take every role away, deactivate the account)."
        raise Invalid(words, fields={"roles": [words]})
    _check_prescriber(values)
    _lock_managers()
    locked = User.objects.select_for_update().get(pk=user.pk)
    before_roles = set(locked.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))
    before_prescriber = locked.groups.filter(name=PRESCRIBER).exists()
    before_sites = set(locked.clinic_locations.values_list("pk", flat=True))
    if MANAGER in before_roles and MANAGER not in values.roles:
        if locked.pk == by.pk:
            raise Conflict("You cannot take away your own manager role: ask another manager to do it.",
                           code="own_manager_role", fields={"roles": ["You cannot take away your own manager role."]})
        if locked.is_active and not _other_active_managers(locked):
            raise _last_manager()
    said = []
    for name in ("first_name", "last_name", "email"):
        if getattr(locked, name) != getattr(values, name):
            setattr(locked, name, getattr(values, name))
            said.append(f"{name.replace('_', ' ')} changed")
    locked.save(update_fields=["first_name", "last_name", "email"])
    if before_roles != set(values.roles):
        said.append(f"roles: {role_words(before_roles)} → {role_words(values.roles)}")
    if before_prescriber != values.prescriber:
        said.append("marked as a prescriber" if values.prescriber else "no longer a prescriber")
    locked.groups.set(_groups([*values.roles, *([PRESCRIBER] if values.prescriber else [])]))
    if before_sites != set(values.sites):
        said.append(f"sites: {_site_words(before_sites)} → {_site_words(values.sites)}")
        locked.clinic_locations.set(Location.objects.filter(pk__in=values.sites))
    if said:
        text = "; ".join(said)
        _log(by=by, user=locked, flag=CHANGE, message=f"{text[0].upper()}{text[1:]}.")
    return locked


def booked_sessions(user):
    """The sessions booked from now on with ``user`` as their clinician, soonest first."""
    return (Session.objects.filter(clinician=user, start__gte=timezone.now()).upcoming()
            .select_related("patient", "location").order_by("start"))


@transaction.atomic
def deactivate_staff(*, by, user, confirmed: bool = False):
    """Stop an account from signing in (its sessions, tokens and history stay; it is never deleted).

    Refuses 409 ``own_account`` for the manager's own account, 409
    ``last_manager`` for the last active manager, and 409
    ``clinician_has_booked_sessions`` (with ``sessions``, their count) while
    sessions are booked with the clinician and the manager has not confirmed:
    those visits stay booked and need another clinician, so the manager
    deactivates knowingly.
    """
    _lock_managers()
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.pk == by.pk:
        raise Conflict("You cannot deactivate your own account: ask another manager to do it.", code="own_account")
    if not locked.is_active:
        raise Conflict("This account is already deactivated.", code="already_inactive")
    if locked.groups.filter(name=MANAGER).exists() and not _other_active_managers(locked):
        raise _last_manager()
    count = booked_sessions(locked).count()
    if count and not confirmed:
        name = locked.get_full_name() or locked.username
        raise Conflict(
            f"{name} is the clinician of {count} booked session{'s' if count != 1 else ''} from now on. "
            f"Those visits stay booked with {name} as their clinician until each is given another clinician. "
            "Deactivate anyway?",
            code="clinician_has_booked_sessions", extra={"sessions": count},
        )
    locked.is_active = False
    locked.save(update_fields=["is_active"])
    kept = f" ({count} booked session{'s' if count != 1 else ''} still name them)" if count else ""
    _log(by=by, user=locked, flag=CHANGE, message=f"Deactivated{kept}.")
    return locked


@transaction.atomic
def reactivate_staff(*, by, user):
    """Let a deactivated account sign in again with its roles as they were."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.is_active:
        raise Conflict("This account is already active.", code="already_active")
    locked.is_active = True
    locked.save(update_fields=["is_active"])
    _log(by=by, user=locked, flag=CHANGE, message="Reactivated.")
    return locked


@transaction.atomic
def remove_authenticator(*, by, user) -> None:
    """Remove a lost authenticator, so its owner signs in with the password and sets up a new one.

    Refuses 409 ``no_authenticator`` when there is none. A role that must use
    two-factor (``TOTP_REQUIRED_ROLES``) is sent to set one up at the next sign-in.
    """
    devices = TOTPDevice.objects.filter(user=user)
    if not devices.filter(confirmed=True).exists():
        raise Conflict("There is no authenticator to remove: two-factor sign-in is not set up.",
                       code="no_authenticator")
    devices.delete()
    _log(by=by, user=user, flag=CHANGE, message="Authenticator removed (two-factor sign-in to set up again).")


def locked_out_usernames(usernames: Iterable[str]) -> set[str]:
    """Those of ``usernames`` django-axes locks out now: failures within the cool-off reach the limit."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    rows = (AccessAttempt.objects.filter(username__in=list(usernames), attempt_time__gte=since)
            .values("username").annotate(failures=Sum("failures_since_start")))
    return {row["username"] for row in rows if row["failures"] >= settings.AXES_FAILURE_LIMIT}


@transaction.atomic
def clear_lockout(*, by, user) -> None:
    """End a lockout after repeated failed sign-ins now, rather than at the end of the cool-off.

    Refuses 409 ``not_locked_out`` when the account is not locked out.
    """
    if user.username not in locked_out_usernames([user.username]):
        raise Conflict("This account is not locked out.", code="not_locked_out")
    axes_reset(username=user.username)
    _log(by=by, user=user, flag=CHANGE, message="Sign-in lockout cleared.")


def _web_sessions_of(user) -> list[str]:
    """The keys of ``user``'s live web sessions.

    Sessions are rows of Django's session table (the ``db`` engine) and say whose they are only
    inside their encoded data, so the live ones are read and decoded: few, since a session ends
    after ``SESSION_IDLE_MINUTES`` idle and dead rows are cleared nightly.
    """
    live = WebSession.objects.filter(expire_date__gt=timezone.now())
    return [row.session_key for row in live.iterator()
            if row.get_decoded().get("_auth_user_id") == str(user.pk)]


def check_can_set_password(user) -> None:
    """Refuse 409 ``account_inactive`` for a deactivated account: no password lets it sign in until reactivated."""
    if not user.is_active:
        raise Conflict("This account is deactivated: reactivate it first, then set a new password.",
                       code="account_inactive")


@transaction.atomic
def set_password(*, by, user, password: str, keep_session: str | None = None):
    """Give a staff member a new password (validated by the form) and sign them out everywhere.

    Every web session of theirs ends, except ``keep_session`` (a manager setting her own password
    stays signed in where she did it), their API token is revoked (a client signs in again for a
    new one), and a lockout after failed sign-ins is cleared. The log says what was done, never
    the password. Refuses 409 ``account_inactive`` for a deactivated account.
    """
    locked = User.objects.select_for_update().get(pk=user.pk)
    check_can_set_password(locked)
    locked.set_password(password)
    locked.save(update_fields=["password"])
    ended = [key for key in _web_sessions_of(locked) if key != keep_session]
    WebSession.objects.filter(session_key__in=ended).delete()
    tokens, _ = Token.objects.filter(user=locked).delete()
    was_locked_out = locked.username in locked_out_usernames([locked.username])
    axes_reset(username=locked.username)
    said = ["New password set" if locked.pk != by.pk else "Own password changed"]
    if ended:
        said.append(f"signed out of {len(ended)} web session{'s' if len(ended) != 1 else ''}")
    if tokens:
        said.append("API token revoked")
    if was_locked_out:
        said.append("sign-in lockout cleared")
    _log(by=by, user=locked, flag=CHANGE, message="; ".join(said) + ".")
    return locked
