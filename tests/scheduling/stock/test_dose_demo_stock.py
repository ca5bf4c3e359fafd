"""The demo's doses draw from stock: each site stocked, every charted dose dispensed from a lot there, no balance
below zero, one expired lot and one open discrepancy on the worklist."""

from __future__ import annotations

from datetime import date, time

import pytest

from scheduling.models import Discrepancy, Dose, EntryKind, LedgerEntry, Location, WorkItem, WorkKind
from scheduling.stock.selectors import balances
from tests.scheduling.demo.conftest import demo_world, new_york

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo")]

__all__ = ["demo_world"]  # the module's fixture, shared with the demo's own tests

WEDNESDAY_TEN = new_york(date(2026, 3, 11), time(10))


def test_the_demos_doses_draw_from_each_sites_stock(demo_world):
    with demo_world.at(WEDNESDAY_TEN):
        # every site holds stock, and no lot's balance is below zero
        lots = list(balances())
        assert {lot.location.name for lot in lots} == set(Location.objects.values_list("name", flat=True))
        assert all(lot.balance >= 0 for lot in lots)
        # every charted dose was dispensed from a lot at its session's site, in date, its lot number kept
        doses = list(Dose.objects.select_related("session"))
        dispensed = {entry.dose_id: entry for entry in
                     LedgerEntry.objects.filter(kind=EntryKind.DISPENSE).select_related("lot", "session")}
        assert doses and set(dispensed) == {dose.pk for dose in doses}
        for dose in doses:
            entry = dispensed[dose.pk]
            assert entry.lot.location_id == dose.session.location_id
            assert entry.lot.expiry >= dose.session.local_date
            assert dose.lot_number == entry.lot.lot_number
        # an IV dose's vial rest is wasted before a witness
        assert LedgerEntry.objects.filter(kind=EntryKind.WASTE, witness__isnull=False).exists()
        # one lot expired and still held, one discrepancy open on the worklist
        today = WEDNESDAY_TEN.date()
        assert sum(1 for lot in lots if lot.expiry < today and lot.balance > 0) == 1
        assert Discrepancy.objects.filter(explained_at__isnull=True).count() == 1
        assert WorkItem.objects.open().filter(kind=WorkKind.STOCK_DISCREPANCY).count() == 1
