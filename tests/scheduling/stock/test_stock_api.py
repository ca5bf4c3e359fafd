"""The stock API: reads with balances and filters, the writes' 201s, 400s and 409s, and the front desk kept out."""

from __future__ import annotations

from datetime import date

import pytest

from scheduling.models import LedgerEntry, Lot, WorkItem, WorkKind
from scheduling.stock import services
from scheduling.stock.selectors import balance
from tests.scheduling.conftest import TUESDAY, TUESDAY_NINE, local
from tests.scheduling.stock.factories import LotFactory

pytestmark = pytest.mark.django_db

READS = ["/api/stock/products/", "/api/stock/lots/", "/api/stock/discrepancies/", "/api/stock/dispensing-log/"]
WRITES = ["/api/stock/receipts/", "/api/stock/waste/", "/api/stock/adjustments/", "/api/stock/counts/"]


def test_the_front_desk_is_refused_every_stock_endpoint(desk_api, device_lot):
    answers = {url: desk_api.get(url).status_code for url in [*READS, f"/api/stock/lots/{device_lot.pk}/"]}
    answers |= {url: desk_api.post(url, {}, format="json").status_code for url in WRITES}
    assert set(answers.values()) == {403}, answers


def test_lots_list_their_balance_and_filter_by_location_and_expiry(clinician_api, device_lot, expired_lot,
                                                                   other_site, device, clock):
    # given a lot elsewhere, and Tuesday 3 March, the day after lot OLD expired
    LotFactory(location=other_site, product=device, stock=3)
    clock.move_to(TUESDAY_NINE)
    # when
    listed = clinician_api.get(f"/api/stock/lots/?location={device_lot.location_id}").json()["results"]
    expired = clinician_api.get(f"/api/stock/lots/?location={device_lot.location_id}&expired=true").json()
    usable = clinician_api.get(f"/api/stock/lots/?location={device_lot.location_id}&expired=false").json()
    # then
    assert [(row["lot_number"], row["balance"], row["expired"]) for row in listed] == [
        ("OLD", 6, True), ("E1", 12, False)]
    assert [row["lot_number"] for row in expired["results"]] == ["OLD"]
    assert [row["lot_number"] for row in usable["results"]] == ["E1"]


def test_a_bad_filter_is_a_400_naming_it(clinician_api):
    answer = clinician_api.get("/api/stock/lots/?expired=perhaps")
    assert (answer.status_code, list(answer.json()["fields"])) == (400, ["expired"])


def test_a_lots_ledger_gives_the_running_balance(clinician_api, esk_visit, device_lot, staff_clinician):
    # given
    services.dispense(by=staff_clinician, session=esk_visit, lot=device_lot, quantity=2)
    services.dispense(by=staff_clinician, session=esk_visit, lot=device_lot, quantity=3)
    # when
    rows = clinician_api.get(f"/api/stock/lots/{device_lot.pk}/ledger/").json()["results"]
    # then
    assert [(row["kind"], row["quantity"], row["balance_after"]) for row in rows] == [
        ("receipt", 12, 12), ("dispense", -2, 10), ("dispense", -3, 7)]


def test_a_manager_receives_kits_as_devices(manager_api, site, device, now):
    answer = manager_api.post("/api/stock/receipts/", {
        "location": site.pk, "product": device.pk, "lot_number": "K-77", "expiry": "2027-05-31", "kits": 4,
        "kit_size": 3, "supplier": "Janssen", "invoice_number": "INV-9"}, format="json")
    assert answer.status_code == 201, answer.json()
    lot = Lot.objects.get(lot_number="K-77")
    assert (answer.json()["quantity"], answer.json()["received_on"], balance(lot)) == (12, "2026-03-02", 12)


def test_kits_of_a_vial_are_bad_input(manager_api, site, vial, now):
    answer = manager_api.post("/api/stock/receipts/", {
        "location": site.pk, "product": vial.pk, "lot_number": "V1", "expiry": "2027-05-31", "kits": 1,
        "kit_size": 2, "supplier": "Hikma", "invoice_number": "INV-9"}, format="json")
    assert (answer.status_code, list(answer.json()["fields"])) == (400, ["kits"])


def test_a_receipt_with_another_expiry_for_a_held_lot_is_a_409(manager_api, device_lot, now):
    answer = manager_api.post("/api/stock/receipts/", {
        "location": device_lot.location_id, "product": device_lot.product_id, "lot_number": "E1",
        "expiry": "2028-01-31", "quantity": 3, "supplier": "Janssen", "invoice_number": "INV-10"}, format="json")
    assert (answer.status_code, answer.json()["code"]) == (409, "lot_expiry_mismatch")


def test_waste_is_confirmed_by_the_witness_password(clinician_api, vial_lot, witness, now):
    answer = clinician_api.post("/api/stock/waste/", {
        "lot": vial_lot.pk, "quantity": 40, "reason": "Vial dropped", "witness": witness.pk,
        "witness_password": "witness-pass-1"}, format="json")
    assert answer.status_code == 201, answer.json()
    assert (answer.json()["witness"], balance(vial_lot)) == (witness.pk, 960)


def test_a_wrong_witness_password_records_nothing(clinician_api, vial_lot, witness, now):
    answer = clinician_api.post("/api/stock/waste/", {
        "lot": vial_lot.pk, "quantity": 40, "reason": "Vial dropped", "witness": witness.pk,
        "witness_password": "guess"}, format="json")
    assert (answer.status_code, answer.json()["code"], list(answer.json()["fields"])) == (
        400, "witness_not_confirmed", ["witness_password"])
    assert balance(vial_lot) == 1000


def test_witnessing_ones_own_waste_is_a_409(clinician_api, clinician, vial_lot, now):
    answer = clinician_api.post("/api/stock/waste/", {
        "lot": vial_lot.pk, "quantity": 40, "reason": "Vial dropped", "witness": clinician.pk,
        "witness_password": "correct-horse-battery"}, format="json")
    assert (answer.status_code, answer.json()["code"]) == (409, "witness_is_self")


def test_a_manager_adjusts_with_a_witness(manager_api, device_lot, witness, now):
    answer = manager_api.post("/api/stock/adjustments/", {
        "lot": device_lot.pk, "quantity": -1, "reason": "Damaged device", "witness": witness.pk,
        "witness_password": "witness-pass-1", "corrects": device_lot.entries.get().pk}, format="json")
    assert answer.status_code == 201, answer.json()
    assert balance(device_lot) == 11


def test_an_adjustment_below_zero_is_a_409(manager_api, device_lot, witness, now):
    answer = manager_api.post("/api/stock/adjustments/", {
        "lot": device_lot.pk, "quantity": -20, "reason": "Lost", "witness": witness.pk,
        "witness_password": "witness-pass-1"}, format="json")
    assert (answer.status_code, answer.json()["code"]) == (409, "lot_short")


def test_an_enormous_quantity_is_a_400_not_an_overflow(manager_api, device_lot, witness, now):
    answer = manager_api.post("/api/stock/adjustments/", {
        "lot": device_lot.pk, "quantity": 2**40, "reason": "Typo", "witness": witness.pk,
        "witness_password": "witness-pass-1"}, format="json")
    assert (answer.status_code, list(answer.json()["fields"])) == (400, ["quantity"])


def test_a_count_that_differs_opens_a_discrepancy_a_manager_explains(clinician_api, manager_api, device_lot, now):
    # when a clinician counts 10 of the 12 devices
    counted = clinician_api.post("/api/stock/counts/", {"lot": device_lot.pk, "counted_quantity": 10},
                                 format="json")
    # then
    assert counted.status_code == 201, counted.json()
    discrepancy = counted.json()["discrepancy"]
    assert (discrepancy["expected"], discrepancy["counted"], discrepancy["difference"]) == (12, 10, -2)
    item = WorkItem.objects.open().get(kind=WorkKind.STOCK_DISCREPANCY)
    assert "DEA Form 106" in item.detail
    # when a manager explains it without the Form 106 note, then with it
    url = f"/api/stock/discrepancies/{discrepancy['id']}/explain/"
    missing = manager_api.post(url, {"explanation": "Two devices broken in the drawer"}, format="json")
    explained = manager_api.post(url, {"explanation": "Two devices broken in the drawer",
                                       "dea106_note": "Breakage, not theft: no Form 106 needed"}, format="json")
    again = manager_api.post(url, {"explanation": "Again", "dea106_note": "Again"}, format="json")
    # then
    assert (missing.status_code, list(missing.json()["fields"])) == (400, ["dea106_note"])
    assert explained.status_code == 200 and explained.json()["is_open"] is False
    assert (again.status_code, again.json()["code"]) == (409, "already_explained")
    item.refresh_from_db()
    assert item.closed_at is not None


def test_a_count_that_agrees_opens_nothing(clinician_api, device_lot, now):
    answer = clinician_api.post("/api/stock/counts/", {"lot": device_lot.pk, "counted_quantity": 12}, format="json")
    assert (answer.status_code, answer.json()["discrepancy"]) == (201, None)
    assert not WorkItem.objects.filter(kind=WorkKind.STOCK_DISCREPANCY).exists()


def test_a_clinician_does_not_explain_discrepancies(clinician_api, device_lot, clinician, now):
    _, discrepancy = services.count(by=clinician, lot=device_lot, counted_quantity=13)
    answer = clinician_api.post(f"/api/stock/discrepancies/{discrepancy.pk}/explain/", {"explanation": "x"},
                                format="json")
    assert answer.status_code == 403


def test_the_dispensing_log_filters_by_local_date_and_lot(clinician_api, esk_visit, device_lot, site, device,
                                                          staff_clinician):
    # given a dose at 21:00 on Tuesday in New York (Wednesday in UTC), and one from another lot on Wednesday
    other = LotFactory(location=site, product=device, stock=4)
    services.dispense(by=staff_clinician, session=esk_visit, lot=device_lot, quantity=2,
                      now=local(site, TUESDAY, 21))
    services.dispense(by=staff_clinician, session=esk_visit, lot=other, quantity=3,
                      now=local(site, date(2026, 3, 4), 10))
    # when
    on_tuesday = clinician_api.get("/api/stock/dispensing-log/?date_from=2026-03-03&date_to=2026-03-03").json()
    from_wednesday = clinician_api.get("/api/stock/dispensing-log/?date_from=2026-03-04").json()
    of_lot = clinician_api.get(f"/api/stock/dispensing-log/?lot={other.pk}").json()
    # then
    assert [(row["lot_number"], row["quantity"], row["patient"]) for row in on_tuesday["results"]] == [
        ("E1", -2, esk_visit.patient_id)]
    assert [row["quantity"] for row in from_wednesday["results"]] == [-3]
    assert [row["lot"] for row in of_lot["results"]] == [other.pk]


def test_dates_in_the_wrong_order_are_a_400(clinician_api):
    answer = clinician_api.get("/api/stock/dispensing-log/?date_from=2026-03-04&date_to=2026-03-01")
    assert (answer.status_code, list(answer.json()["fields"])) == (400, ["date_to"])


def test_vials_received_are_counted_in_mg(manager_api, site, vial, now):
    answer = manager_api.post("/api/stock/receipts/", {
        "location": site.pk, "product": vial.pk, "lot_number": "V8", "expiry": "2027-05-31", "vials": 3,
        "supplier": "Hikma", "invoice_number": "INV-12"}, format="json")
    assert (answer.status_code, answer.json()["quantity"]) == (201, 1500)


def test_a_receipt_counted_two_ways_at_once_is_bad_input(manager_api, site, vial, now):
    answer = manager_api.post("/api/stock/receipts/", {
        "location": site.pk, "product": vial.pk, "lot_number": "V8", "expiry": "2027-05-31", "vials": 3,
        "quantity": 1500, "supplier": "Hikma", "invoice_number": "INV-12"}, format="json")
    assert (answer.status_code, list(answer.json()["fields"])) == (400, ["quantity"])


def test_the_receipt_entry_it_answers_is_in_the_ledger(manager_api, site, vial, now):
    answer = manager_api.post("/api/stock/receipts/", {
        "location": site.pk, "product": vial.pk, "lot_number": "V9", "expiry": "2027-05-31", "quantity": 2500,
        "supplier": "Hikma", "invoice_number": "INV-11", "received_on": str(date(2026, 3, 1))}, format="json")
    assert LedgerEntry.objects.get(pk=answer.json()["id"]).quantity == 2500


def test_lists_read_in_a_fixed_number_of_queries(clinician_api, esk_visit, site, device, staff_clinician,
                                                 witness, django_assert_max_num_queries):
    # given five lots, each with a dose and a witnessed waste
    for _ in range(5):
        lot = LotFactory(location=site, product=device, stock=6)
        services.dispense(by=staff_clinician, session=esk_visit, lot=lot, quantity=2)
        services.waste(by=staff_clinician, witness=witness, lot=lot, quantity=1, reason="Dropped")
    # then: the user and roles, the count, the page, whatever the rows
    with django_assert_max_num_queries(4):
        assert len(clinician_api.get("/api/stock/lots/").json()["results"]) == 5
    with django_assert_max_num_queries(4):
        assert len(clinician_api.get("/api/stock/dispensing-log/").json()["results"]) == 10
    with django_assert_max_num_queries(5):
        assert len(clinician_api.get(f"/api/stock/lots/{lot.pk}/ledger/").json()["results"]) == 3
