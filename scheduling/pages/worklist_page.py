"""The worklist page: open items by urgency, filters, and the desk's one-click actions (htmx, row by row).

The rules (who may act, what a snooze date must be, that a note is required)
live in ``scheduling.worklist`` (services for the actions, selectors for the list).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from clinic.errors import ClinicError, Invalid
from clinic.phones import for_display
from clinic.roles import ALL_ROLES, role_required
from scheduling.models import UPCOMING_STATUSES, Location, WorkItem, WorkKind
from scheduling.pages import parse_day
from scheduling.worklist import selectors as worklist_selectors
from scheduling.worklist import services as worklist_services

ITEMS_SHOWN = 200
ACTIONS = ("assign", "snooze", "resolve")
# The event the navigation badge listens for.
WORKLIST_CHANGED = "worklist-changed"


def _staff():
    return list(get_user_model().objects.filter(is_active=True, groups__name__in=ALL_ROLES).distinct()
                .order_by("first_name", "last_name", "username"))


def _filters(request) -> dict:
    kind = request.GET.get("kind", "")
    location = request.GET.get("location", "")
    assigned = request.GET.get("assigned", "")
    return {
        "kind": kind if kind in WorkKind.values else "",
        "location": location if location.isdigit() else "",
        "assigned": assigned if assigned in ("me", "none") else "",
    }


@require_GET
@role_required()
def worklist(request):
    """Open items, most urgent first, filtered by kind, location and who has them."""
    filters = _filters(request)
    items = worklist_selectors.open_items(
        kind=filters["kind"] or None,
        location_id=int(filters["location"]) if filters["location"] else None,
        assigned_to_id=request.user.pk if filters["assigned"] == "me" else None,
        unassigned=filters["assigned"] == "none",
        hidden_kinds=worklist_selectors.kinds_hidden_from(request.user),
    )
    items = _shown(list(items[:ITEMS_SHOWN]))
    return render(request, "scheduling/pages/worklist.html", {
        "items": items,
        "limited": len(items) == ITEMS_SHOWN,
        "filters": filters,
        "kinds": WorkKind.choices,
        "locations": Location.objects.active().order_by("name").only("id", "name"),
        "staff": _staff(),
    })


@require_GET
@role_required()
def worklist_count(request):
    """The navigation badge: how many items are open and not snoozed (a fixed two queries)."""
    total = sum(worklist_selectors.open_counts(hidden_kinds=worklist_selectors.kinds_hidden_from(request.user))
                .values())
    return render(request, "scheduling/pages/_worklist_count.html", {"total": total})


def _shown(items: list[WorkItem]) -> list[WorkItem]:
    """The items with what their rows show: the patient's phone as the desk dials it (national format), and
    whether the visit is still booked (so a request for a new time is answered by moving it)."""
    for item in items:
        item.phone_shown = for_display(item.patient.phone) if item.patient else ""
        item.visit_movable = item.session is not None and item.session.status in UPCOMING_STATUSES
    return items


def _item(request, item_id: int) -> WorkItem:
    items = WorkItem.objects.exclude(kind__in=worklist_selectors.kinds_hidden_from(request.user))
    return _shown([get_object_or_404(worklist_selectors.with_row_facts(items), pk=item_id)])[0]


def _apply(request, item: WorkItem, action: str) -> tuple[WorkItem, str]:
    """Run one desk action through the worklist services; returns the item and what happened in words."""
    if action == "assign":
        target = request.POST.get("user", "")
        if target == "me":
            to_user = request.user
        elif target == "":
            to_user = None
        else:
            to_user = get_user_model().objects.filter(pk=int(target), is_active=True).first() \
                if target.isdigit() else None
            if to_user is None:
                raise Invalid("Choose a member of staff.", fields={"user": ["Choose a member of staff."]})
        updated = worklist_services.assign_item(by=request.user, item=item, to_user=to_user)
        if to_user is None:
            return updated, "Unassigned."
        who = "you" if to_user == request.user else (to_user.get_full_name() or to_user.get_username())
        return updated, f"Assigned to {who}."
    if action == "snooze":
        until = parse_day(request.POST.get("until"), "until")
        if until is None:
            raise Invalid("Choose a date to snooze until.", fields={"until": ["Choose a date."]})
        updated = worklist_services.snooze_item(by=request.user, item=item, until=until)
        return updated, f"Snoozed until {until:%a %b} {until.day}."
    updated = worklist_services.resolve_item(by=request.user, item=item, note=request.POST.get("note", ""))
    return updated, "Resolved."


@require_POST
@role_required()
def worklist_action(request, item_id: int, action: str):
    """Assign, snooze or resolve one item; htmx swaps the row, a plain form goes back to the list."""
    if action not in ACTIONS:
        raise Http404("No such action.")
    item = _item(request, item_id)
    context = {"item": item, "staff": _staff(), "values": request.POST}
    status = 200
    try:
        updated, done = _apply(request, item, action)
    except ClinicError as error:
        if not request.htmx:
            messages.error(request, error.detail)
            return redirect("worklist")
        context.update(error=error, field_errors=error.fields, error_action=action)
        status = error.status
    else:
        if not request.htmx:
            about = item.patient.display_name if item.patient else item.get_kind_display()
            messages.success(request, f"{about}: {done}")
            return redirect("worklist")
        context.update(item=_item(request, updated.pk), done=done)
    response: HttpResponse = render(request, "scheduling/pages/_worklist_row.html", context, status=status)
    response["HX-Trigger"] = WORKLIST_CHANGED
    return response
