"""The stock ledger's reads: balances, the lot to suggest for a dose, the dispensing log, running balances.

A balance is never stored: it is the sum of the lot's entries, read in SQL
(a correlated subquery per lot, a window sum along a lot's ledger).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import (
    DateField,
    DateTimeField,
    F,
    Func,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from scheduling.models import PRODUCT_KIND_FOR_MODALITY, Discrepancy, EntryKind, LedgerEntry, Location, Lot, Session
from scheduling.stock.registers import StockFilters

# What the dispensing log lists: stock that left a lot for or at a patient's visit, or was destroyed.
LOG_KINDS = (EntryKind.DISPENSE, EntryKind.WASTE)


def balance(lot: Lot) -> int:
    """The lot's balance now: the sum of its entries (0 for a lot with none)."""
    return LedgerEntry.objects.filter(lot_id=lot.pk).aggregate(total=Coalesce(Sum("quantity"), 0))["total"]


def _balance_subquery() -> Subquery:
    totals = (LedgerEntry.objects.filter(lot=OuterRef("pk")).order_by().values("lot")
              .annotate(total=Sum("quantity")).values("total"))
    return Coalesce(Subquery(totals, output_field=IntegerField()), Value(0))


def balances(location_id: int | None = None, product_id: int | None = None) -> QuerySet[Lot]:
    """Lots (with product and location) annotated with ``balance``, earliest expiry first."""
    lots = Lot.objects.select_related("product", "location").annotate(balance=_balance_subquery())
    if location_id is not None:
        lots = lots.filter(location_id=location_id)
    if product_id is not None:
        lots = lots.filter(product_id=product_id)
    return lots.order_by("expiry", "lot_number", "id")


def _local_today() -> Cast:
    """Today at the lot's location, in SQL (``now`` is Python's, so a test's clock holds)."""
    local = Func(F("location__time_zone"), Value(timezone.now()), function="timezone", output_field=DateTimeField())
    return Cast(local, DateField())


def lots(*, location_id: int | None = None, product_id: int | None = None, expired: bool | None = None,
         in_stock: bool | None = None) -> QuerySet[Lot]:
    """Lots with ``balance``, filtered: ``expired`` past expiry at their location today, ``in_stock`` above 0."""
    found = balances(location_id=location_id, product_id=product_id)
    if expired is not None:
        found = found.annotate(today=_local_today())
        found = found.filter(expiry__lt=F("today")) if expired else found.filter(expiry__gte=F("today"))
    if in_stock is not None:
        found = found.filter(balance__gt=0) if in_stock else found.filter(balance__lte=0)
    return found


def discrepancies(*, location_id: int | None = None, lot_id: int | None = None,
                  is_open: bool | None = None) -> QuerySet[Discrepancy]:
    """Discrepancies, newest first, with their lot, product and location."""
    found = Discrepancy.objects.select_related("lot__product", "lot__location", "count_entry")
    if location_id is not None:
        found = found.filter(lot__location_id=location_id)
    if lot_id is not None:
        found = found.filter(lot_id=lot_id)
    if is_open is not None:
        found = found.filter(explained_at__isnull=is_open)
    return found.order_by("-opened_at", "-id")


def usable_lots(location: Location, product_kind: str, on_day: date, at_least: int = 1) -> QuerySet[Lot]:
    """Lots at ``location`` of ``product_kind``, not expired on ``on_day``, with ``at_least``; soonest expiry first."""
    return (balances(location_id=location.pk).filter(product__kind=product_kind, expiry__gte=on_day,
                                                     balance__gte=at_least))


def suggested_lot(location: Location, product_kind: str, on_day: date, at_least: int = 1) -> Lot | None:
    """The lot a dose should use first: the earliest-expiring one, not expired, with stock (``at_least``)."""
    return usable_lots(location, product_kind, on_day, at_least).first()


def lots_for_dose(session: Session) -> list[Lot]:
    """The lots a session's dose may draw from: at its location, its protocol's product, usable on its day."""
    kind = PRODUCT_KIND_FOR_MODALITY.get(session.course.protocol.modality)
    if session.location_id is None or kind is None:
        return []
    return list(usable_lots(session.location, kind, session.local_date))


@dataclass(frozen=True)
class LogFilters:
    """The dispensing log's filters: each one optional; dates are the location's local dates, inclusive."""

    location_id: int | None = None
    product_id: int | None = None
    lot_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    kind: str | None = None


def dispensing_log(filters: LogFilters | None = None) -> QuerySet[LedgerEntry]:
    """Dispensed and wasted stock, newest first, with what the log shows (patient, session, lot, by, witness).

    A date is the entry's date in its location's time zone, so an evening dose in California is on its own day.
    """
    filters = filters or LogFilters()
    entries = (LedgerEntry.objects.filter(kind__in=[filters.kind] if filters.kind else LOG_KINDS)
               .select_related("lot__product", "lot__location", "patient", "session", "by", "witness"))
    # The same filters, read the same way (local dates in each entry's own zone), as the registers' pages.
    entries = StockFilters(location_id=filters.location_id, product_id=filters.product_id, lot_id=filters.lot_id,
                           date_from=filters.date_from, date_to=filters.date_to).entries(entries)
    return entries.order_by("-at", "-id")


def ledger_with_balance(lot: Lot) -> QuerySet[LedgerEntry]:
    """The lot's entries in order, each annotated with ``balance_after``: the running sum, computed in SQL."""
    return (LedgerEntry.objects.filter(lot_id=lot.pk).select_related("by", "witness", "patient", "session")
            .annotate(balance_after=Window(Sum("quantity"), order_by=[F("at").asc(), F("id").asc()]))
            .order_by("at", "id"))


def running_balance(lot: Lot) -> list[tuple[LedgerEntry, int]]:
    """The lot's ledger as ``(entry, balance after it)`` pairs, oldest first."""
    return [(entry, entry.balance_after) for entry in ledger_with_balance(lot)]
