"""Counting stock at a location, and the discrepancies a count opens until a manager explains them.

The count is blind: the form shows each lot but not the ledger's balance, so
what is entered is what was found, not what was expected. Every count is
recorded (``services.count``); one that differs opens a discrepancy and a
worklist item. Clinicians and managers count; only a manager explains, with a
note on DEA Form 106 when the difference is a loss.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.errors import ClinicError, Invalid
from clinic.roles import CLINICIAN, MANAGER, has_role, role_required
from scheduling.models import Discrepancy, Location
from scheduling.pages.stock_filters import refuse_nul, typed_whole
from scheduling.stock import services as stock
from scheduling.stock.registers import amount
from scheduling.stock.selectors import balances

STOCK_ROLES = (CLINICIAN, MANAGER)
DISCREPANCIES_PER_PAGE = 50


def _lots_to_count(location: Location) -> list:
    """The lots held at ``location``: any with stock on the ledger, and any in date (a lot found where none is kept)."""
    today = location.local_date(timezone.now())
    return [lot for lot in balances(location_id=location.pk) if lot.balance != 0 or lot.expiry >= today]


def _read_counts(data, lots) -> dict:
    """``{lot: counted}`` for every lot whose field is filled; 400 naming each field that is not a count."""
    counted, errors = {}, {}
    for lot in lots:
        value = (data.get(f"counted_{lot.pk}") or "").strip()
        if not value:
            continue
        if not typed_whole(value):
            errors[f"counted_{lot.pk}"] = ["A whole number, 0 or more."]
            continue
        counted[lot] = int(value)
    if errors:
        raise Invalid("Some counts need another look.", fields=errors)
    if not counted:
        raise Invalid("Enter the quantity found for at least one lot.", fields={"counts": ["Nothing counted."]})
    return counted


@require_http_methods(["GET", "POST"])
@role_required(*STOCK_ROLES)
def count_stock(request):
    """The count of one location (``?location=``): the quantity found per lot; a difference opens a discrepancy."""
    locations = Location.objects.filter(active=True).order_by("name")
    chosen = request.GET.get("location") or request.POST.get("location") or ""
    location = locations.filter(pk=chosen).first() if typed_whole(chosen) else None
    if location is None and len(locations) == 1:
        location = locations[0]
    lots = _lots_to_count(location) if location is not None else []
    error = None
    if request.method == "POST":
        try:
            if location is None:
                raise Invalid("Choose the location counted.", fields={"location": ["Choose a location."]})
            counted = _read_counts(request.POST, lots)
            with transaction.atomic():
                opened = [found for _entry, found in (stock.count(by=request.user, lot=lot, counted_quantity=number)
                                                     for lot, number in counted.items()) if found is not None]
        except ClinicError as refused:
            error = refused
        else:
            words = f"Counted {len(counted)} lot{'s' if len(counted) != 1 else ''} at {location}: "
            if opened:
                messages.warning(request, words + f"{len(opened)} differ from the ledger; each is a discrepancy a "
                                                  "manager explains.")
                return redirect(reverse("stock-discrepancies") + f"?location={location.pk}")
            messages.success(request, words + "every count agrees with the ledger.")
            return redirect(reverse("stock-lots") + f"?location={location.pk}")
    return render(request, "scheduling/stock/count.html", {
        "locations": locations, "location": location, "lots": lots, "error": error,
        "field_errors": error.fields if error else {}, "typed": request.POST if error else {},
    }, status=error.status if error else 200)


def _discrepancies(location_id):
    found = Discrepancy.objects.select_related("lot__product", "lot__location", "count_entry__by", "explained_by")
    if location_id is not None:
        found = found.filter(lot__location_id=location_id)
    # Open ones first (a manager's to explain), oldest first among them; then the explained, newest first.
    open_ones = list(found.filter(explained_at__isnull=True).order_by("opened_at", "id"))
    explained = list(found.filter(explained_at__isnull=False).order_by("-explained_at", "-id")[:DISCREPANCIES_PER_PAGE])
    return open_ones, explained


def _words(discrepancy: Discrepancy) -> str:
    unit = discrepancy.lot.product.unit
    return (f"counted {amount(discrepancy.counted, unit)}, the ledger said {amount(discrepancy.expected, unit)} "
            f"({discrepancy.difference:+d})")


def _list_context(request, *, error=None, error_for=None, typed=None) -> dict:
    chosen = request.GET.get("location") or ""
    location_id = int(chosen) if typed_whole(chosen) else None
    open_ones, explained = _discrepancies(location_id)
    for discrepancy in open_ones + explained:
        discrepancy.words = _words(discrepancy)
    return {"open_ones": open_ones, "explained": explained, "locations": Location.objects.order_by("name"),
            "location_id": location_id, "is_manager": has_role(request.user, MANAGER), "error": error,
            "error_for": error_for, "field_errors": error.fields if error else {}, "typed": typed or {}}


@require_GET
@role_required(*STOCK_ROLES)
def discrepancy_list(request):
    """Every count that differed from the ledger: open ones first, with the manager's explain form."""
    return render(request, "scheduling/stock/discrepancies.html", _list_context(request))


@require_POST
@role_required(MANAGER)
def explain_discrepancy(request, discrepancy_id: int):
    """A manager explains a discrepancy; a loss needs a note on DEA Form 106 (filed, or why none is needed)."""
    discrepancy = get_object_or_404(Discrepancy, pk=discrepancy_id)
    try:
        refuse_nul(request.POST, ("explanation", "dea106_note"))
        stock.explain(by=request.user, discrepancy=discrepancy, explanation=request.POST.get("explanation", ""),
                      loss_reported_dea106=request.POST.get("loss_reported_dea106") in ("on", "true", "1"),
                      dea106_note=request.POST.get("dea106_note", ""))
    except ClinicError as refused:
        return render(request, "scheduling/stock/discrepancies.html",
                      _list_context(request, error=refused, error_for=discrepancy.pk, typed=request.POST),
                      status=refused.status)
    messages.success(request, f"Discrepancy in lot {discrepancy.lot.lot_number} explained.")
    return redirect(reverse("stock-discrepancies"))


urlpatterns = [
    path("stock/count/", count_stock, name="stock-count"),
    path("stock/discrepancies/", discrepancy_list, name="stock-discrepancies"),
    path("stock/discrepancies/<int:discrepancy_id>/explain/", explain_discrepancy, name="stock-explain"),
]
