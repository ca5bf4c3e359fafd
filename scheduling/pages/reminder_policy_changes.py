"""Changes to a site's reminder policy from the manager's page, and the policy's history.

Each change is one transaction, stored by ``messaging.policy_changes.save_reminder_policy`` (which
re-plans the site's reminders still waiting under the new policy, as the admin's save does), and is
written to the admin's log (``LogEntry``), the record the Django admin keeps of a policy changed
there, so the policy's history reads the same whichever way a change came (as the staff pages record
theirs: ``staff_changes``). The page lists it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from scheduling.messaging.policy_changes import save_reminder_policy
from scheduling.models import Location, ReminderPolicy
from scheduling.pages.reminder_policy_form import FIELD_WORDS, FIELDS, defaults, shown

HISTORY_SHOWN = 10


def _differences(before: dict, after: dict) -> list[str]:
    """What changed between two sets of values: ``daily cap 1 → 2``, ``same-day text`` (texts by name)."""
    return [FIELD_WORDS[name] if name.endswith("_template")
            else f"{FIELD_WORDS[name]} {shown(before[name])} → {shown(after[name])}"
            for name in FIELDS if before[name] != after[name]]


def _values(policy: ReminderPolicy) -> dict:
    return {name: getattr(policy, name) for name in FIELDS}


def _log(*, by, policy: ReminderPolicy, flag: int, message: str) -> None:
    LogEntry.objects.log_actions(user_id=by.pk, queryset=[policy], action_flag=flag, change_message=message,
                                 single_object=True)


@transaction.atomic
def save_policy(*, by, location: Location, values: dict) -> list[str]:
    """Store the form's cleaned ``values`` as ``location``'s policy; returns what changed, in words.

    The site's first saved policy starts from the defaults it was texting on, so
    its log says what differs from them. Two managers saving a site's first policy
    at once both end on one row (``get_or_create`` settles the insert race); the
    row lock orders their writes, each logged against what it replaced.
    """
    _, created = ReminderPolicy.objects.get_or_create(location=location)
    policy = ReminderPolicy.objects.select_for_update().get(location=location)
    before = _values(policy)
    for name in FIELDS:
        setattr(policy, name, values[name])
    save_reminder_policy(policy=policy)
    changes = _differences(before, _values(policy))
    if changes or created:
        _log(by=by, policy=policy, flag=ADDITION if created else CHANGE,
             message="; ".join(changes) if changes else "Saved the clinic defaults unchanged")
    return changes


@transaction.atomic
def restore_defaults(*, by, location: Location) -> list[str]:
    """Put ``location``'s policy back to the clinic's defaults; returns what that changed ([]: already them)."""
    policy = ReminderPolicy.objects.select_for_update().filter(location=location).first()
    if policy is None:
        return []
    before = _values(policy)
    for name, value in defaults().items():
        setattr(policy, name, value)
    save_reminder_policy(policy=policy)
    changes = _differences(before, _values(policy))
    if changes:
        _log(by=by, policy=policy, flag=CHANGE, message="Restored the clinic defaults: " + "; ".join(changes))
    return changes


@dataclass(frozen=True)
class PolicyChange:
    at: datetime
    who: str
    what: str


def policy_history(location: Location) -> list[PolicyChange]:
    """The latest changes to the site's policy, newest first, by page or admin alike."""
    try:
        policy = location.reminder_policy
    except ReminderPolicy.DoesNotExist:
        return []
    entries = (LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(ReminderPolicy),
                                       object_id=str(policy.pk))
               .select_related("user").order_by("-action_time", "-id")[:HISTORY_SHOWN])
    return [PolicyChange(at=entry.action_time, who=entry.user.get_full_name() or entry.user.get_username(),
                         what=entry.get_change_message() or "Changed") for entry in entries]
