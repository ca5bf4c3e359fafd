"""The worklist as the desk reads it: open items, their counts, and which are visible today."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from django.db.models import (
    Count,
    Q,
    QuerySet,
)
from django.utils import timezone

from clinic.roles import CLINICIAN, MANAGER, has_role
from scheduling.models import (
    Location,
    WorkItem,
    WorkKind,
)

# Kinds about no patient that only clinicians and managers see: the controlled-substance stock's.
STOCK_KINDS = (WorkKind.STOCK_DISCREPANCY,)


def kinds_hidden_from(user) -> tuple[str, ...]:
    """The kinds ``user`` does not see: the front desk sees nothing of the stock."""
    return () if has_role(user, CLINICIAN, MANAGER) else STOCK_KINDS


def local_today(location: Location | None, now: datetime | None = None) -> date:
    """Today at ``location`` (the server's date where an item has no location)."""
    now = now or timezone.now()
    return location.local_date(now) if location else timezone.localdate(now)


def visible_condition(now: datetime | None = None) -> Q:
    """Not snoozed past today, where today is each item's own location's date (one query for the zones)."""
    now = now or timezone.now()
    condition = Q(snoozed_until__isnull=True) | Q(location__isnull=True, snoozed_until__lte=timezone.localdate(now))
    by_day: dict[date, list[int]] = defaultdict(list)
    for location in Location.objects.only("pk", "time_zone"):
        by_day[location.local_date(now)].append(location.pk)
    for today, location_ids in by_day.items():
        condition |= Q(location_id__in=location_ids, snoozed_until__lte=today)
    return condition


def open_items(*, kind: str | None = None, location_id: int | None = None, assigned_to_id: int | None = None,
               unassigned: bool = False, include_snoozed: bool = False, now: datetime | None = None,
               hidden_kinds: tuple[str, ...] = ()) -> QuerySet[WorkItem]:
    """Open items, most urgent first (urgency, then due date), with everything the list shows loaded.

    Snoozed items are left out until their date unless ``include_snoozed``.
    A fixed number of queries whatever the number of items.
    """
    items = WorkItem.objects.open().exclude(kind__in=hidden_kinds)
    if not include_snoozed:
        items = items.filter(visible_condition(now))
    if kind:
        items = items.filter(kind=kind)
    if location_id:
        items = items.filter(location_id=location_id)
    if assigned_to_id:
        items = items.filter(assigned_to_id=assigned_to_id)
    if unassigned:
        items = items.filter(assigned_to__isnull=True)
    return with_row_facts(items).order_by("urgency", "due_on", "opened_at", "id")


def with_row_facts(items: QuerySet[WorkItem]) -> QuerySet[WorkItem]:
    """``items`` with what a row shows loaded: patient, course, the visit and its site, the assignee."""
    return items.select_related("patient", "course__protocol", "session__location", "session__chair", "location",
                                "assigned_to")


def open_counts(*, now: datetime | None = None, hidden_kinds: tuple[str, ...] = ()) -> dict[str, int]:
    """Open, visible items by kind (every kind present, zero when none), for the navigation badge."""
    counts = dict.fromkeys(WorkKind.values, 0)
    rows = (WorkItem.objects.open().exclude(kind__in=hidden_kinds).filter(visible_condition(now)).order_by()
            .values("kind")
            .annotate(n=Count("id")).values_list("kind", "n"))
    counts.update(dict(rows))
    return counts
