"""Counts, discrepancies and their worklist item; the reads a dose and the registers rely on."""

from __future__ import annotations

from datetime import date

import pytest

from clinic.errors import Invalid, NotAllowed
from scheduling.models import EntryKind, WorkItem, WorkKind
from scheduling.stock import selectors, services
from tests.scheduling.stock.factories import LotFactory

pytestmark = pytest.mark.django_db


def test_a_count_moves_no_stock_and_a_matching_one_opens_nothing(device_lot, clinician, now):
    entry, discrepancy = services.count(by=clinician, lot=device_lot, counted_quantity=12)
    assert (entry.kind, entry.quantity, entry.counted_quantity, discrepancy) == (EntryKind.COUNT, 0, 12, None)
    assert selectors.balance(device_lot) == 12


def test_a_short_count_opens_a_loss_and_a_worklist_item_at_the_location(device_lot, clinician, now):
    # when
    _, discrepancy = services.count(by=clinician, lot=device_lot, counted_quantity=9)
    # then
    assert (discrepancy.expected, discrepancy.counted, discrepancy.difference, discrepancy.is_loss) == (12, 9, -3, True)
    item = WorkItem.objects.open().get(kind=WorkKind.STOCK_DISCREPANCY)
    assert (item.subject, item.location, item.patient) == (f"discrepancy:{discrepancy.pk}", device_lot.location, None)
    assert "counted 9 devices, the ledger says 12 devices (-3)" in item.detail
    assert "DEA Form 106" in item.detail


def test_a_surplus_is_explained_without_a_form_106(device_lot, clinician, manager, now):
    # given
    _, discrepancy = services.count(by=clinician, lot=device_lot, counted_quantity=13)
    # when a Form 106 is claimed for it, then when it is explained plainly
    with pytest.raises(Invalid) as refused:
        services.explain(by=manager, discrepancy=discrepancy, explanation="Receipt under-counted",
                         loss_reported_dea106=True)
    explained = services.explain(by=manager, discrepancy=discrepancy, explanation="Receipt under-counted",
                                 loss_reported_dea106=False)
    # then
    assert "loss_reported_dea106" in refused.value.fields
    assert "DEA Form 106" not in WorkItem.objects.get(subject=f"discrepancy:{discrepancy.pk}").detail
    assert (explained.explained_by, explained.is_open) == (manager, False)


def test_a_loss_explained_records_the_form_106_and_closes_the_item(device_lot, clinician, manager, now):
    _, discrepancy = services.count(by=clinician, lot=device_lot, counted_quantity=10)
    explained = services.explain(by=manager, discrepancy=discrepancy, explanation="Two devices missing",
                                 loss_reported_dea106=True, dea106_note="Filed 2 March, ref 106-7781")
    item = WorkItem.objects.get(subject=f"discrepancy:{discrepancy.pk}")
    assert (explained.loss_reported_dea106, explained.dea106_note) == (True, "Filed 2 March, ref 106-7781")
    assert (item.closed_by, item.resolution) == (manager, "Two devices missing")


def test_an_explanation_is_required(device_lot, clinician, manager, now):
    _, discrepancy = services.count(by=clinician, lot=device_lot, counted_quantity=13)
    with pytest.raises(Invalid) as refused:
        services.explain(by=manager, discrepancy=discrepancy, explanation=" ", loss_reported_dea106=False)
    assert "explanation" in refused.value.fields


def test_only_a_manager_explains(device_lot, clinician, now):
    _, discrepancy = services.count(by=clinician, lot=device_lot, counted_quantity=13)
    with pytest.raises(NotAllowed):
        services.explain(by=clinician, discrepancy=discrepancy, explanation="Miscount", loss_reported_dea106=False)


def test_a_front_desk_count_is_not_allowed(device_lot, front_desk, now):
    with pytest.raises(NotAllowed):
        services.count(by=front_desk, lot=device_lot, counted_quantity=12)


def test_the_suggested_lot_is_the_earliest_expiring_usable_one_with_stock(site, device, expired_lot, now):
    # given an empty lot expiring first, the one to suggest, and a later one
    LotFactory(location=site, product=device, lot_number="EMPTY", stock=0, expiry=date(2026, 4, 30))
    soon = LotFactory(location=site, product=device, lot_number="SOON", stock=2, expiry=date(2026, 6, 30))
    LotFactory(location=site, product=device, lot_number="LATER", stock=30, expiry=date(2027, 6, 30))
    # then: on Tuesday (OLD expired the day before)
    assert selectors.suggested_lot(site, device.kind, date(2026, 3, 3)) == soon
    assert selectors.suggested_lot(site, device.kind, date(2026, 3, 3), at_least=3).lot_number == "LATER"


def test_lots_for_a_dose_are_at_its_location_of_its_product(esk_visit, device_lot, vial_lot, expired_lot, other_site,
                                                            device):
    LotFactory(location=other_site, product=device, stock=5)
    assert [(lot.lot_number, lot.balance) for lot in selectors.lots_for_dose(esk_visit)] == [("E1", 12)]


def test_the_running_balance_follows_every_entry(esk_visit, device_lot, staff_clinician, manager, witness):
    services.dispense(by=staff_clinician, session=esk_visit, lot=device_lot, quantity=3)
    services.adjust(by=manager, witness=witness, lot=device_lot, quantity=1, reason="Found in the fridge")
    services.count(by=staff_clinician, lot=device_lot, counted_quantity=10)
    assert [(entry.kind, after) for entry, after in selectors.running_balance(device_lot)] == [
        ("receipt", 12), ("dispense", 9), ("adjustment", 10), ("count", 10)]
