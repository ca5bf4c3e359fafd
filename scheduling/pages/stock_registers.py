"""The registers as pages, CSV (``?format=csv`` or ``.csv``) and print: the five registers.

A page lists 50 rows at a time; the CSV holds every row the filters choose.
Both read the register's own columns (``scheduling.stock.registers``).
"""

from __future__ import annotations

import csv
from datetime import date

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.errors import Invalid
from clinic.roles import CLINICIAN, MANAGER, role_required
from scheduling.pages.stock_filters import filter_choices, page_of, query_without_page, read_filters
from scheduling.stock.registers import REGISTERS, Register

STOCK_ROLES = (CLINICIAN, MANAGER)
# A spreadsheet runs a cell that starts with one of these as a formula: a patient's name must stay text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _register(slug: str) -> Register:
    if slug not in REGISTERS:
        raise Http404("No such register.")
    return REGISTERS[slug]


def _inventory_day(request) -> date:
    value = (request.GET.get("on") or "").strip()
    if not value:
        return timezone.localdate()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid("Choose the inventory's day.", fields={"on": ["Enter a date (YYYY-MM-DD)."]}) from None


def _rows(register: Register, request):
    _form, filters = read_filters(request)
    if register.slug == "inventory":
        return register.rows(filters, _inventory_day(request))
    return register.rows(filters)


def _safe(value) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv(register: Register, rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{register.slug}-{timezone.localdate():%Y-%m-%d}.csv"'
    writer = csv.writer(response)
    writer.writerow([column.heading for column in register.columns])
    for row in rows.iterator(chunk_size=500):
        writer.writerow([_safe(column.cell(row)) for column in register.columns])
    return response


@require_GET
@role_required(*STOCK_ROLES)
def register_page(request, slug: str, as_csv: bool = False):
    """One register, filtered by location, product, lot and dates; a page of 50 rows, or every row as CSV."""
    register = _register(slug)
    try:
        rows = _rows(register, request)
    except Invalid as error:
        return render(request, "scheduling/stock/register.html", {
            "register": register, "registers": REGISTERS.values(), "error": error, "field_errors": error.fields,
            "page": None, "on": request.GET.get("on", ""), **filter_choices(None, request.GET)}, status=400)
    if as_csv or request.GET.get("format") == "csv":
        return _csv(register, rows)
    page = page_of(rows, request)
    table = [[(column.cell(row), column.css) for column in register.columns] for row in page]
    form, _filters = read_filters(request)
    return render(request, "scheduling/stock/register.html", {
        "register": register, "registers": REGISTERS.values(), "page": page, "table": table,
        "query": query_without_page(request), "on": request.GET.get("on") or f"{timezone.localdate():%Y-%m-%d}",
        **filter_choices(form)})


@require_GET
@role_required(*STOCK_ROLES)
def register_csv(request, slug: str):
    return register_page(request, slug, as_csv=True)


urlpatterns = [
    path("stock/registers/<slug:slug>/", register_page, name="stock-register"),
    path("stock/registers/<slug:slug>.csv", register_csv, name="stock-register-csv"),
]
