"""The controlled-substance registers: what each lists, in which order, with which columns (page, CSV, print).

Each register is a queryset of ledger entries (or lots, for the biennial
inventory) under one set of filters, and its columns: a heading and how to
read the cell from a row. The page and the CSV read the same columns, so the
printout and the export never disagree. Dates are the location's local dates
(an evening dose in California is on its own day); times are shown local.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import DateField, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from scheduling.models import EntryKind, LedgerEntry, Lot


class LocalDay(Func):
    """An instant's date at its location: ``timezone(zone, at)::date`` (PostgreSQL's argument order: zone first)."""

    template = "(timezone(%(expressions)s))::date"
    output_field = DateField()

    def __init__(self, zone, instant):
        super().__init__(zone, instant)


def entry_day(prefix: str = ""):
    return LocalDay(F(f"{prefix}lot__location__time_zone"), F(f"{prefix}at"))


@dataclass(frozen=True)
class StockFilters:
    """Every register's filters, each optional; ``date_from``/``date_to`` are local dates, inclusive."""

    location_id: int | None = None
    product_id: int | None = None
    lot_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    def entries(self, queryset: QuerySet[LedgerEntry]) -> QuerySet[LedgerEntry]:
        if self.location_id is not None:
            queryset = queryset.filter(lot__location_id=self.location_id)
        if self.product_id is not None:
            queryset = queryset.filter(lot__product_id=self.product_id)
        if self.lot_id is not None:
            queryset = queryset.filter(lot_id=self.lot_id)
        if self.date_from is not None or self.date_to is not None:
            queryset = queryset.annotate(local_day=entry_day())
            if self.date_from is not None:
                queryset = queryset.filter(local_day__gte=self.date_from)
            if self.date_to is not None:
                queryset = queryset.filter(local_day__lte=self.date_to)
        return queryset


def _entries(*kinds: str) -> QuerySet[LedgerEntry]:
    entries = LedgerEntry.objects.select_related("lot__product", "lot__location", "patient", "session", "by",
                                                 "witness")
    return entries.filter(kind__in=kinds) if kinds else entries


def balance_after() -> Subquery:
    """The lot's balance just after an entry: the sum of its entries up to it, (at, id) ordered.

    A correlated subquery rather than a window, so a date filter on the rows
    listed does not cut the history the balance is summed over.
    """
    upto = (LedgerEntry.objects.filter(lot_id=OuterRef("lot_id"))
            .filter(Q(at__lt=OuterRef("at")) | Q(at=OuterRef("at"), id__lte=OuterRef("id")))
            .order_by().values("lot_id").annotate(total=Sum("quantity")).values("total"))
    return Coalesce(Subquery(upto, output_field=IntegerField()), Value(0))


def dispensing_log(filters: StockFilters) -> QuerySet[LedgerEntry]:
    """Stock given at a visit or wasted after it, newest first: date, patient, session, lot, quantity, by, witness."""
    return filters.entries(_entries(EntryKind.DISPENSE, EntryKind.WASTE)).order_by("-at", "-id")


def running_balances(filters: StockFilters) -> QuerySet[LedgerEntry]:
    """Every entry of the lots, lot by lot in order, each with the lot's balance after it."""
    return (filters.entries(_entries()).annotate(balance_after=balance_after())
            .order_by("lot__location__name", "lot__product__name", "lot__lot_number", "at", "id"))


def receipts(filters: StockFilters) -> QuerySet[LedgerEntry]:
    return filters.entries(_entries(EntryKind.RECEIPT)).order_by("-at", "-id")


def waste(filters: StockFilters) -> QuerySet[LedgerEntry]:
    return filters.entries(_entries(EntryKind.WASTE)).order_by("-at", "-id")


def inventory(filters: StockFilters, on_day: date) -> QuerySet[Lot]:
    """Every lot with an entry by the end of ``on_day`` (its location's day), with its balance then.

    The biennial inventory: the balance is the sum of the lot's entries dated
    (locally) on or before ``on_day``. The date filters do not apply; the
    location, product and lot filters do.
    """
    upto = (LedgerEntry.objects.filter(lot_id=OuterRef("pk")).annotate(local_day=entry_day())
            .filter(local_day__lte=on_day).order_by().values("lot_id").annotate(total=Sum("quantity"))
            .values("total"))
    lots = Lot.objects.select_related("product", "location").annotate(
        balance_then=Subquery(upto, output_field=IntegerField())).filter(balance_then__isnull=False)
    if filters.location_id is not None:
        lots = lots.filter(location_id=filters.location_id)
    if filters.product_id is not None:
        lots = lots.filter(product_id=filters.product_id)
    if filters.lot_id is not None:
        lots = lots.filter(pk=filters.lot_id)
    return lots.order_by("location__name", "product__name", "expiry", "lot_number")


# --- the columns -------------------------------------------------------------------------------------------


def local_time(entry: LedgerEntry) -> str:
    return f"{entry.lot.location.local(entry.at):%Y-%m-%d %H:%M}"


def person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def patient_name(entry: LedgerEntry) -> str:
    patient = entry.patient
    return f"{patient.last_name}, {patient.first_name} ({patient.mrn})" if patient is not None else ""


def amount(quantity: int, unit: str) -> str:
    return f"{quantity} {unit}{'s' if unit == 'device' and abs(quantity) != 1 else ''}"


@dataclass(frozen=True)
class Column:
    heading: str
    cell: Callable[[object], object]
    numeric: bool = False
    # A date, a time or a code read whole: broken over lines ("MID-/ESK-/A") it is misread on a narrow screen.
    whole: bool = False

    @property
    def css(self) -> str:
        return "num" if self.numeric else "whole" if self.whole else ""


LOT_COLUMNS = [
    Column("Location", lambda row: row.lot.location.name),
    Column("Product", lambda row: row.lot.product.name),
    Column("Lot", lambda row: row.lot.lot_number, whole=True),
    Column("Expiry", lambda row: f"{row.lot.expiry:%Y-%m-%d}", whole=True),
]


@dataclass(frozen=True)
class Register:
    """A register: its address's name, title, what it says, its rows and their columns."""

    slug: str
    title: str
    about: str
    rows: Callable
    columns: list[Column] = field(default_factory=list)


REGISTERS = {
    register.slug: register for register in (
        Register("dispensing", "Dispensing log",
                 "Every dose drawn from stock and every rest of a vial wasted, newest first.", dispensing_log, [
                     Column("Date and time", local_time, whole=True),
                     Column("What", lambda row: row.get_kind_display()),
                     Column("Patient", patient_name),
                     Column("Session", lambda row: row.session_id or "", whole=True), *LOT_COLUMNS,
                     Column("Quantity", lambda row: -row.quantity, numeric=True),
                     Column("Unit", lambda row: row.lot.product.unit),
                     Column("By", lambda row: person(row.by)), Column("Witness", lambda row: person(row.witness)),
                 ]),
        Register("balances", "Running balance per lot",
                 "Every entry of each lot in order, with the lot's balance after it.", running_balances, [
                     *LOT_COLUMNS, Column("Date and time", local_time, whole=True),
                     Column("Entry", lambda row: row.get_kind_display()),
                     Column("Quantity", lambda row: row.quantity, numeric=True),
                     Column("Counted", lambda row: "" if row.counted_quantity is None else row.counted_quantity,
                            numeric=True),
                     Column("Balance after", lambda row: row.balance_after, numeric=True),
                     Column("Unit", lambda row: row.lot.product.unit),
                     Column("By", lambda row: person(row.by)), Column("Witness", lambda row: person(row.witness)),
                     Column("Patient", patient_name), Column("Reason", lambda row: row.reason),
                 ]),
        Register("receipts", "Receipts", "Stock received from suppliers, newest first.", receipts, [
            Column("Received on", lambda row: f"{row.received_on:%Y-%m-%d}" if row.received_on else "", whole=True),
            Column("Recorded", local_time, whole=True), *LOT_COLUMNS,
            Column("Quantity", lambda row: row.quantity, numeric=True),
            Column("Unit", lambda row: row.lot.product.unit),
            Column("Supplier", lambda row: row.supplier), Column("Invoice", lambda row: row.invoice_number),
            Column("Received by", lambda row: person(row.by)),
        ]),
        Register("waste", "Waste", "Stock destroyed or left unused, each before a witness, newest first.", waste, [
            Column("Date and time", local_time, whole=True), *LOT_COLUMNS,
            Column("Quantity", lambda row: -row.quantity, numeric=True),
            Column("Unit", lambda row: row.lot.product.unit), Column("Reason", lambda row: row.reason),
            Column("Patient", patient_name), Column("By", lambda row: person(row.by)),
            Column("Witness", lambda row: person(row.witness)),
        ]),
        Register("inventory", "Biennial inventory",
                 "Every lot's balance at the end of the chosen day (the location's day).", inventory, [
                     Column("Location", lambda row: row.location.name),
                     Column("Product", lambda row: row.product.name), Column("Lot", lambda row: row.lot_number),
                     Column("Expiry", lambda row: f"{row.expiry:%Y-%m-%d}"),
                     Column("Balance", lambda row: row.balance_then, numeric=True),
                     Column("Unit", lambda row: row.product.unit),
                 ]),
    )
}
