"""The ledger's writes: each stock rule, one test each, against real PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from clinic.errors import Invalid, NotAllowed
from clinic.roles import FRONT_DESK
from scheduling.models import EntryKind, LedgerEntry, Lot, SessionStatus
from scheduling.stock import services
from scheduling.stock.selectors import balance
from scheduling.stock.services import StockRefused
from tests.factories import LocationFactory, UserFactory
from tests.scheduling.stock.factories import LotFactory

pytestmark = pytest.mark.django_db


def _receive(by, location, product, **changes):
    arguments = {"lot_number": "NEW1", "expiry": date(2027, 6, 30), "quantity": 6, "supplier": "Janssen",
                 "invoice_number": "INV-77", "received_on": date(2026, 3, 2)}
    return services.receive(by=by, location=location, product=product, **(arguments | changes))


# --- receipts -----------------------------------------------------------------------------------------


def test_a_receipt_creates_the_lot_and_adds_its_quantity(manager, site, device, now):
    # when
    entry = _receive(manager, site, device, quantity=services.devices_in_kits(3, 3))
    # then
    lot = Lot.objects.get(location=site, product=device, lot_number="NEW1")
    assert (entry.lot, entry.kind, entry.quantity, entry.by) == (lot, EntryKind.RECEIPT, 9, manager)
    assert (balance(lot), lot.received_quantity) == (9, 9)


def test_a_second_receipt_of_the_same_lot_number_adds_to_the_lot(manager, site, device, now):
    # given
    _receive(manager, site, device, quantity=4)
    # when
    _receive(manager, site, device, quantity=2, invoice_number="INV-78")
    # then
    lot = Lot.objects.get(location=site, product=device, lot_number="NEW1")
    assert (balance(lot), lot.received_quantity, lot.entries.count()) == (6, 6, 2)


def test_a_receipt_naming_another_expiry_for_a_held_lot_is_refused(manager, site, device, now):
    _receive(manager, site, device)
    with pytest.raises(StockRefused) as refused:
        _receive(manager, site, device, expiry=date(2027, 7, 31))
    assert refused.value.code == "lot_expiry_mismatch"


def test_stock_already_expired_when_received_is_refused(manager, site, device, now):
    with pytest.raises(StockRefused) as refused:
        _receive(manager, site, device, expiry=date(2026, 3, 1))
    assert refused.value.code == "lot_expired"
    assert not Lot.objects.exists()


def test_a_receipt_dated_in_the_future_is_bad_input(manager, site, device, now):
    with pytest.raises(Invalid) as refused:
        _receive(manager, site, device, received_on=date(2026, 3, 3))
    assert "received_on" in refused.value.fields


def test_kits_hold_two_or_three_devices_only():
    assert services.devices_in_kits(2, 2) == 4
    with pytest.raises(Invalid):
        services.devices_in_kits(1, 4)


def test_only_a_manager_receives_stock(clinician, site, device, now):
    with pytest.raises(NotAllowed):
        _receive(clinician, site, device)


# --- dispensing ---------------------------------------------------------------------------------------


def test_a_dose_draws_whole_devices_for_the_session_and_its_patient(esk_visit, device_lot, staff_clinician):
    # when
    entry = services.dispense(by=staff_clinician, session=esk_visit, lot=device_lot, quantity=2)
    # then
    assert (entry.kind, entry.quantity, entry.session, entry.patient) == (
        EntryKind.DISPENSE, -2, esk_visit, esk_visit.patient)
    assert balance(device_lot) == 10


def test_a_lot_expired_before_the_session_day_is_refused(esk_visit, expired_lot, staff_clinician):
    with pytest.raises(StockRefused) as refused:
        services.dispense(by=staff_clinician, session=esk_visit, lot=expired_lot, quantity=2)
    assert refused.value.code == "lot_expired"
    assert balance(expired_lot) == 6


def test_a_lot_at_another_location_is_refused(esk_visit, other_site, device, staff_clinician):
    foreign = LotFactory(location=other_site, product=device, stock=10)
    with pytest.raises(StockRefused) as refused:
        services.dispense(by=staff_clinician, session=esk_visit, lot=foreign, quantity=2)
    assert refused.value.code == "lot_other_location"


def test_a_lot_short_of_the_dose_is_refused(esk_visit, site, device, staff_clinician):
    short = LotFactory(location=site, product=device, stock=2)
    with pytest.raises(StockRefused) as refused:
        services.dispense(by=staff_clinician, session=esk_visit, lot=short, quantity=3)
    assert (refused.value.code, refused.value.extra["balance"]) == ("lot_short", 2)
    assert balance(short) == 2


def test_an_iv_visit_is_not_given_esketamine_devices(iv_visit, device_lot, staff_clinician):
    with pytest.raises(StockRefused) as refused:
        services.dispense(by=staff_clinician, session=iv_visit, lot=device_lot, quantity=1)
    assert refused.value.code == "wrong_product"


def test_an_iv_dose_draws_mg_from_a_vial_lot(iv_visit, vial_lot, staff_clinician):
    services.dispense(by=staff_clinician, session=iv_visit, lot=vial_lot, quantity=35)
    assert balance(vial_lot) == 965


def test_a_cancelled_session_is_given_nothing(esk_visit, device_lot, staff_clinician):
    esk_visit.status = SessionStatus.CANCELLED
    with pytest.raises(StockRefused) as refused:
        services.dispense(by=staff_clinician, session=esk_visit, lot=device_lot, quantity=2)
    assert refused.value.code == "session_not_dosable"


def test_a_dose_of_no_units_is_bad_input(esk_visit, device_lot, staff_clinician):
    with pytest.raises(Invalid):
        services.dispense(by=staff_clinician, session=esk_visit, lot=device_lot, quantity=0)


# --- waste and adjustments ----------------------------------------------------------------------------


def test_witnessed_waste_takes_from_the_lot(iv_visit, vial_lot, staff_clinician, witness):
    entry = services.waste(by=staff_clinician, witness=witness, lot=vial_lot, quantity=465,
                           reason="Rest of an opened vial", session=iv_visit)
    assert (entry.kind, entry.quantity, entry.witness, entry.patient) == (
        EntryKind.WASTE, -465, witness, iv_visit.patient)
    assert balance(vial_lot) == 535


def test_the_person_recording_waste_cannot_witness_it(vial_lot, staff_clinician):
    with pytest.raises(StockRefused) as refused:
        services.waste(by=staff_clinician, witness=staff_clinician, lot=vial_lot, quantity=5, reason="Dropped")
    assert refused.value.code == "witness_is_self"


def test_a_front_desk_witness_is_refused(vial_lot, staff_clinician, now):
    desk = UserFactory(username="desk9", roles=[FRONT_DESK])
    with pytest.raises(StockRefused) as refused:
        services.waste(by=staff_clinician, witness=desk, lot=vial_lot, quantity=5, reason="Dropped")
    assert refused.value.code == "witness_not_allowed"


def test_waste_needs_a_reason(vial_lot, staff_clinician, witness):
    with pytest.raises(Invalid) as refused:
        services.waste(by=staff_clinician, witness=witness, lot=vial_lot, quantity=5, reason="  ")
    assert "reason" in refused.value.fields


def test_more_waste_than_the_lot_holds_is_refused(vial_lot, staff_clinician, witness):
    with pytest.raises(StockRefused) as refused:
        services.waste(by=staff_clinician, witness=witness, lot=vial_lot, quantity=1001, reason="Dropped")
    assert refused.value.code == "lot_short"


def test_an_adjustment_is_a_new_witnessed_entry_that_corrects_an_old_one(device_lot, manager, witness):
    # given the receipt that counted one device too many
    receipt = device_lot.entries.get()
    # when
    entry = services.adjust(by=manager, witness=witness, lot=device_lot, quantity=-1, reason="Receipt miscounted",
                            corrects=receipt)
    # then
    assert (entry.corrects, entry.quantity, balance(device_lot)) == (receipt, -1, 11)
    assert LedgerEntry.objects.get(pk=receipt.pk).quantity == 12


def test_an_adjustment_below_zero_is_refused(device_lot, manager, witness):
    with pytest.raises(StockRefused) as refused:
        services.adjust(by=manager, witness=witness, lot=device_lot, quantity=-13, reason="Lost")
    assert refused.value.code == "lot_short"


def test_an_adjustment_of_nothing_is_bad_input(device_lot, manager, witness):
    with pytest.raises(Invalid):
        services.adjust(by=manager, witness=witness, lot=device_lot, quantity=0, reason="Nothing")


def test_an_adjustment_cannot_correct_another_lots_entry(device_lot, vial_lot, manager, witness):
    with pytest.raises(Invalid) as refused:
        services.adjust(by=manager, witness=witness, lot=device_lot, quantity=1, reason="Fix",
                        corrects=vial_lot.entries.get())
    assert "corrects" in refused.value.fields


def test_only_a_manager_adjusts(device_lot, staff_clinician, witness):
    with pytest.raises(NotAllowed):
        services.adjust(by=staff_clinician, witness=witness, lot=device_lot, quantity=1, reason="Found one")


def test_a_location_elsewhere_keeps_its_own_lot_of_the_same_number(manager, site, device, now):
    elsewhere = LocationFactory(name="Uptown")
    _receive(manager, site, device)
    _receive(manager, elsewhere, device)
    assert Lot.objects.filter(lot_number="NEW1").count() == 2
