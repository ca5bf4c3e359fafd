"""The stock pages' filters (location, product, lot, dates), read from the query string, and their pages of rows."""

from __future__ import annotations

import re

from django import forms
from django.core.paginator import Paginator

from clinic.errors import Invalid
from scheduling.models import Location, Lot, Product
from scheduling.stock.registers import StockFilters

ROWS_PER_PAGE = 50
# A typed whole number: ASCII digits only ("²".isdigit() is true, and int() refuses it), at most 9 of them, so
# no count or quantity overflows the ledger's integers.
WHOLE = re.compile(r"[0-9]{1,9}")


class StockFilterForm(forms.Form):
    location = forms.ModelChoiceField(queryset=Location.objects.order_by("name"), required=False,
                                      empty_label="Every location")
    product = forms.ModelChoiceField(queryset=Product.objects.order_by("kind", "strength_mg"), required=False,
                                     empty_label="Every product")
    lot = forms.ModelChoiceField(queryset=Lot.objects.all(), required=False, empty_label="Every lot")
    date_from = forms.DateField(required=False, label="From")
    date_to = forms.DateField(required=False, label="To")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "Must be on or after the first day.")
        return cleaned


def read_filters(request) -> tuple[StockFilterForm, StockFilters]:
    """The filters the query string asks for; 400 naming each field that cannot be read."""
    form = StockFilterForm(request.GET)
    if not form.is_valid():
        raise Invalid("Some filters need another look.",
                      fields={name: [str(message) for message in messages] for name, messages in form.errors.items()})
    data = form.cleaned_data
    return form, StockFilters(
        location_id=data["location"].pk if data["location"] else None,
        product_id=data["product"].pk if data["product"] else None,
        lot_id=data["lot"].pk if data["lot"] else None,
        date_from=data["date_from"], date_to=data["date_to"],
    )


def filter_choices(form: StockFilterForm | None, typed=None) -> dict:
    """The filter bar's options and what is chosen (the lots listed are the chosen location's, when one is)."""
    chosen = form.cleaned_data if form is not None and form.is_valid() else {}
    lots = Lot.objects.select_related("product").order_by("lot_number")
    if chosen.get("location"):
        lots = lots.filter(location=chosen["location"])
    return {
        "locations": Location.objects.order_by("name"),
        "products": Product.objects.order_by("kind", "strength_mg"),
        "lots": lots,
        "chosen": chosen,
        "typed": form.data if form is not None else (typed or {}),
    }


def refuse_nul(data, names) -> None:
    """400 naming each field holding a NUL character, which PostgreSQL text cannot store."""
    found = {name: ["Remove the NUL character."] for name in names if "\x00" in (data.get(name) or "")}
    if found:
        raise Invalid("Some answers hold a character that cannot be kept.", fields=found)


def typed_whole(value: str) -> bool:
    return WHOLE.fullmatch(value or "") is not None


def page_of(rows, request):
    return Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))


def query_without_page(request) -> str:
    """The query string minus ``page`` (and ``format``), for the pager's and the CSV's links."""
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return query.urlencode()
