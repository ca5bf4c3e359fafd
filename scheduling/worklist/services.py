"""The desk's actions on worklist items: assign, snooze, resolve; each one transaction on a locked open item."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from clinic.errors import Conflict, Invalid, NotAllowed
from clinic.roles import ALL_ROLES, has_role, roles_of
from scheduling.models import (
    WorkItem,
    WorkKind,
)
from scheduling.worklist.selectors import local_today


def _require_desk_role(by, action: str) -> None:
    if not has_role(by, *ALL_ROLES):
        raise NotAllowed(f"Only front desk, clinicians and managers may {action} worklist items.")


def _locked_open(item: WorkItem, action: str) -> WorkItem:
    locked = WorkItem.objects.select_for_update(of=("self",)).select_related("location").get(pk=item.pk)
    if locked.closed_at is not None:
        raise Conflict(f"This item is already closed, so it cannot be {action}.", code="invalid_state",
                       extra={"closed_at": locked.closed_at})
    return locked


@transaction.atomic
def assign_item(*, by, item: WorkItem, to_user) -> WorkItem:
    """Give an open item to a member of staff (``to_user=None`` takes it back).

    Refuses a user without a clinic role (400) and a closed item (409 ``invalid_state``).
    """
    _require_desk_role(by, "assign")
    if to_user is not None and not (to_user.is_active and roles_of(to_user)):
        raise Invalid("Items can only be given to active staff with a clinic role.",
                      fields={"user": ["This user has no clinic role."]})
    locked = _locked_open(item, "assigned")
    locked.assigned_to = to_user
    locked.full_clean()
    locked.save(update_fields=["assigned_to"])
    return locked


@transaction.atomic
def snooze_item(*, by, item: WorkItem, until: date) -> WorkItem:
    """Hide an open item until ``until`` (a local date at the item's location, after today).

    Refuses a date that is not in the future (400) and a closed item (409 ``invalid_state``).
    The sweep keeps a snoozed item open while its fact holds; it shows again on ``until``.
    """
    _require_desk_role(by, "snooze")
    locked = _locked_open(item, "snoozed")
    if until <= local_today(locked.location):
        raise Invalid("Snooze until a future date.", fields={"until": ["Must be after today."]})
    locked.snoozed_until = until
    locked.full_clean()
    locked.save(update_fields=["snoozed_until"])
    return locked


@transaction.atomic
def resolve_item(*, by, item: WorkItem, note: str) -> WorkItem:
    """Close an open item with a person's note (required, 400); a closed item refuses (409 ``invalid_state``).

    The sweep does not reopen a computed item a person resolved while its
    fact stays the same (same kind, subject and date).
    """
    _require_desk_role(by, "resolve")
    if item.kind == WorkKind.STOCK_DISCREPANCY:
        # The item is the discrepancy's: it closes when a manager explains the count, not with a desk note.
        raise Conflict("A stock count to explain closes when a manager explains the discrepancy.",
                       code="explain_the_discrepancy")
    note = (note or "").strip()
    if not note:
        raise Invalid("Say how the item was resolved.", fields={"note": ["A note is required."]})
    locked = _locked_open(item, "resolved")
    locked.closed_at, locked.closed_by, locked.resolution = timezone.now(), by, note
    locked.full_clean()
    locked.save(update_fields=["closed_at", "closed_by", "resolution"])
    return locked


# --- reads ----------------------------------------------------------------------------------------------
