"""Controlled-substance stock pages: lots per location, a lot's running balance, receiving stock.

Clinicians and managers see stock; the front desk sees none of it (403, and
no link). Only a manager receives (``services.receive`` says so again). The
counts and discrepancies are in ``stock_counts``, the registers in
``stock_registers``; their addresses are wired here.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from clinic.errors import ClinicError, Invalid
from clinic.roles import CLINICIAN, MANAGER, has_role, role_required
from scheduling.models import Location, Product, ProductKind
from scheduling.pages import stock_counts, stock_registers
from scheduling.pages.stock_filters import (
    filter_choices,
    page_of,
    query_without_page,
    read_filters,
    refuse_nul,
    typed_whole,
)
from scheduling.stock import registers
from scheduling.stock import services as stock
from scheduling.stock.selectors import balances

STOCK_ROLES = (CLINICIAN, MANAGER)
SHOW_WORDS = {"in_stock": "In stock", "expired": "Expired, still held", "all": "Every lot"}
# How a receipt may be counted, and how many of the ledger's units (devices, or mg) one of each is.
COUNTED_IN = {
    "devices": ("devices", ProductKind.ESKETAMINE_DEVICE),
    "kits_2": ("kits of 2 devices (56 mg)", ProductKind.ESKETAMINE_DEVICE),
    "kits_3": ("kits of 3 devices (84 mg)", ProductKind.ESKETAMINE_DEVICE),
    "vials": ("vials", ProductKind.KETAMINE_VIAL),
}


def stock_context(request, **extra) -> dict:
    return {"is_manager": has_role(request.user, MANAGER), **extra}


@require_GET
@role_required(*STOCK_ROLES)
def lot_list(request):
    """Lots with their balance, expiry and product, earliest expiry first; filtered by location, product, state."""
    show = request.GET.get("show") or "in_stock"
    try:
        if show not in SHOW_WORDS:
            raise Invalid("Choose what to show.", fields={"show": [f"Use one of {', '.join(SHOW_WORDS)}."]})
        form, filters = read_filters(request)
    except Invalid as error:
        return render(request, "scheduling/stock/lots.html",
                      stock_context(request, error=error, page=None, show=show, shows=SHOW_WORDS,
                                    **filter_choices(None, request.GET)), status=400)
    lots = balances(location_id=filters.location_id, product_id=filters.product_id)
    today = timezone.localdate()
    if show == "in_stock":
        lots = lots.filter(balance__gt=0)
    elif show == "expired":
        lots = lots.filter(balance__gt=0, expiry__lt=today)
    page = page_of(lots, request)
    for lot in page:
        lot.expired = lot.is_expired_on(lot.location.local_date(timezone.now()))
    return render(request, "scheduling/stock/lots.html", stock_context(
        request, page=page, show=show, shows=SHOW_WORDS, query=query_without_page(request), **filter_choices(form)))


@require_GET
@role_required(*STOCK_ROLES)
def lot_detail(request, lot_id: int):
    """One lot: what it is, where, its balance, and every entry in order with the balance after it."""
    lot = get_object_or_404(balances(), pk=lot_id)
    entries = registers.running_balances(registers.StockFilters(lot_id=lot.pk))
    page = page_of(entries, request)
    return render(request, "scheduling/stock/lot.html", stock_context(
        request, lot=lot, page=page, expired=lot.is_expired_on(lot.location.local_date(timezone.now())),
        discrepancies=list(lot.discrepancies.order_by("-opened_at"))))


def _receipt_quantity(product: Product | None, counted_in: str, number: int | None) -> int:
    """The receipt in the ledger's unit: devices (kits are 2 or 3 devices), or mg (a vial's mg times the vials)."""
    if product is None or number is None:
        return 0
    unit, kind = COUNTED_IN[counted_in]
    if kind != product.kind:
        raise Invalid(f"{product} is not received in {unit}.",
                      fields={"counted_in": ["Devices or kits for esketamine; vials for ketamine."]})
    if number < 1:
        raise Invalid("Receive at least one.", fields={"number": ["Must be 1 or more."]})
    if counted_in.startswith("kits_"):
        return stock.devices_in_kits(number, int(counted_in[-1]))
    return number * product.strength_mg if counted_in == "vials" else number


def _read_receipt(data) -> dict:
    """The receipt form's fields, every problem gathered into one 400."""
    refuse_nul(data, ("lot_number", "supplier", "invoice_number"))
    errors: dict[str, list[str]] = {}

    def chosen(model, name: str, label: str):
        value = (data.get(name) or "").strip()
        found = model.objects.filter(pk=value).first() if typed_whole(value) else None
        if found is None:
            errors[name] = [f"Choose the {label}."]
        return found

    def day(name: str):
        try:
            return date.fromisoformat((data.get(name) or "").strip())
        except ValueError:
            errors[name] = ["Enter a date (YYYY-MM-DD)."]
            return None

    location, product = chosen(Location, "location", "location"), chosen(Product, "product", "product")
    expiry, received_on = day("expiry"), day("received_on")
    counted_in = data.get("counted_in") or ""
    if counted_in not in COUNTED_IN:
        errors["counted_in"] = ["Choose how the stock is counted."]
    number = (data.get("number") or "").strip()
    if not typed_whole(number):
        errors["number"] = ["Enter a whole number."]
    if errors:
        raise Invalid("Some answers need another look.", fields=errors)
    return {"location": location, "product": product, "expiry": expiry, "received_on": received_on,
            "quantity": _receipt_quantity(product, counted_in, int(number)),
            "lot_number": data.get("lot_number", ""), "supplier": data.get("supplier", ""),
            "invoice_number": data.get("invoice_number", "")}


@require_http_methods(["GET", "POST"])
@role_required(MANAGER)
def receive(request):
    """A manager records stock received: the lot (new, or more of one held), supplier, invoice, date, quantity."""
    error = None
    if request.method == "POST":
        try:
            entry = stock.receive(by=request.user, **_read_receipt(request.POST))
        except ClinicError as refused:
            error = refused
        else:
            messages.success(request, f"Received {registers.amount(entry.quantity, entry.lot.product.unit)} into "
                                      f"lot {entry.lot.lot_number} at {entry.lot.location}.")
            return redirect(reverse("stock-lot", args=[entry.lot_id]))
    typed = request.POST if error else request.GET
    fields = error.fields if error else {}
    return render(request, "scheduling/stock/receive.html", stock_context(
        request, error=error, field_errors=fields, typed=typed,
        # The service names the ledger's quantity and kit size; the form asks for a number and what it counts.
        number_errors=fields.get("number") or fields.get("quantity") or fields.get("kits") or [],
        counted_in_errors=fields.get("counted_in") or fields.get("kit_size") or [],
        locations=Location.objects.filter(active=True).order_by("name"),
        products=Product.objects.filter(active=True).order_by("kind", "strength_mg"),
        counted_in=[(key, words) for key, (words, _kind) in COUNTED_IN.items()],
        today=timezone.localdate()), status=error.status if error else 200)


urlpatterns = [
    path("stock/", lot_list, name="stock-lots"),
    path("stock/lots/<int:lot_id>/", lot_detail, name="stock-lot"),
    path("stock/receive/", receive, name="stock-receive"),
    *stock_counts.urlpatterns,
    *stock_registers.urlpatterns,
]
