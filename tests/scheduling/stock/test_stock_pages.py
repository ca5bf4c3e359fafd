"""The stock pages: the dose form's lots, the registers to the unit (page and CSV), receiving, counting, explaining.

The clock stands at ``esk_session``'s start, Tuesday 3 March 2026 09:00 at Midtown (``site``, New York);
``device_lot`` is lot E1 of 12 devices received then; ``witness`` confirms with ``witness-pass-1``.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from scheduling.models import Discrepancy, EntryKind, LedgerEntry, Lot, WorkItem, WorkKind
from scheduling.stock import services as stock
from scheduling.stock.selectors import balance
from tests.scheduling.conftest import TUESDAY_NINE
from tests.scheduling.stock.factories import LotFactory, product

pytestmark = pytest.mark.django_db

CHECKLIST = {"fasted_food_2h": "on", "fasted_drink_30m": "on", "nasal_medicines_ok": "on", "ride_home_arranged": "on"}
NORMAL = {"kind": "pre_dose", "systolic": "122", "diastolic": "78", "heart_rate": "72", "spo2": "98"}


@pytest.fixture
def chart(client, staff_clinician, clock):
    """Dr Ortiz's browser at the chart, on Tuesday at 09:05 with the patient checked in and pre-dose vitals taken."""
    def open_chart(session):
        clock.move_to(TUESDAY_NINE + timedelta(minutes=5))
        client.force_login(staff_clinician)
        for step, body in (("check-in", CHECKLIST), ("vitals", NORMAL)):
            assert client.post(f"/sessions/{session.pk}/chart/{step}/", body).status_code == 302
        return lambda body: client.post(f"/sessions/{session.pk}/chart/dose/", body)
    return open_chart


@pytest.fixture
def dispensed(esk_session, device_lot, staff_clinician):
    """2 devices of lot E1 dispensed for ``esk_session`` on Tuesday at 09:10."""
    return stock.dispense(by=staff_clinician, session=esk_session, lot=device_lot, quantity=2,
                          now=TUESDAY_NINE + timedelta(minutes=10))


# --- the dose step on the chart -------------------------------------------------------------------------


def test_the_dose_form_offers_the_sites_lots_in_date_earliest_expiry_chosen(client, chart, esk_session, site,
                                                                           other_site, device_lot, expired_lot,
                                                                           vial_lot):
    # given a later-expiring lot here, and a lot at another site
    later = LotFactory(location=site, lot_number="E2", stock=6, expiry=device_lot.expiry + timedelta(days=90))
    LotFactory(location=other_site, lot_number="WEST-1", stock=6)
    chart(esk_session)
    # when
    content = client.get(f"/sessions/{esk_session.pk}/chart/").content.decode()
    # then E1 (earliest expiry) is chosen, E2 offered; expired, foreign and vial lots are not
    assert f'<option value="{device_lot.pk}" selected>E1 · exp.' in content
    assert f'<option value="{later.pk}">E2' in content
    assert "OLD" not in content and "WEST-1" not in content and ">K1 " not in content


def test_a_dose_from_the_chart_draws_from_the_chosen_lot(client, chart, esk_session, device_lot):
    dose = chart(esk_session)
    assert dose({"dose_mg": "56", "lot": device_lot.pk}).status_code == 302
    assert balance(device_lot) == 10
    content = client.get(f"/sessions/{esk_session.pk}/chart/").content.decode()
    assert 'data-testid="dose-stock-dispense">2 devices from lot E1' in content


def test_an_expired_lot_posted_to_the_chart_is_refused_beside_the_lot(chart, esk_session, expired_lot):
    response = chart(esk_session)({"dose_mg": "56", "lot": expired_lot.pk})
    content = response.content.decode()
    assert response.status_code == 409
    assert 'data-code="lot_expired"' in content and 'id="dose-lot-error"' in content
    assert balance(expired_lot) == 6


def test_an_iv_dose_on_the_chart_wastes_the_vials_rest_before_the_witness(client, chart, iv_session, vial_lot,
                                                                         witness):
    response = chart(iv_session)({"weight_kg": "80", "mg_per_kg": "0.5", "lot": vial_lot.pk,
                                  "witness_username": "witness", "witness_password": "witness-pass-1"})
    assert response.status_code == 302
    waste = LedgerEntry.objects.get(lot=vial_lot, kind=EntryKind.WASTE)
    assert (waste.quantity, waste.witness) == (-460, witness)


def test_a_wrong_witness_password_on_the_chart_is_refused_and_not_shown_again(chart, iv_session, vial_lot, witness):
    response = chart(iv_session)({"weight_kg": "80", "mg_per_kg": "0.5", "lot": vial_lot.pk,
                                  "witness_username": "witness", "witness_password": "guess-1"})
    content = response.content.decode()
    assert response.status_code == 400
    assert 'id="dose-witness-password-error"' in content and "guess-1" not in content
    assert balance(vial_lot) == 1000


# --- who sees stock -----------------------------------------------------------------------------------------


def test_the_front_desk_sees_nothing_of_stock(client, front_desk, clinician, device_lot):
    client.force_login(front_desk)
    assert client.get("/stock/").status_code == 403
    assert client.get("/stock/registers/dispensing.csv").status_code == 403
    assert 'href="/stock/"' not in client.get("/patients/").content.decode()
    client.force_login(clinician)
    assert 'href="/stock/"' in client.get("/patients/").content.decode()


def test_the_lots_page_lists_each_lot_with_its_balance(client, clinician, dispensed, device_lot):
    client.force_login(clinician)
    content = client.get(f"/stock/?location={device_lot.location_id}").content.decode()
    assert f'<a href="/stock/lots/{device_lot.pk}/">E1</a>' in content
    assert 'data-testid="lot-balance">10 devices' in content


def test_a_lots_page_shows_its_running_balance(client, clinician, dispensed, device_lot):
    client.force_login(clinician)
    content = client.get(f"/stock/lots/{device_lot.pk}/").content.decode()
    assert [cell for cell in content.split('data-testid="balance-after">')[1:]][0].startswith("12<")
    assert content.split('data-testid="balance-after">')[2].startswith("10<")


# --- the registers --------------------------------------------------------------------------------------------


def _csv_rows(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_dispensing_log_lists_a_dose_to_the_unit_as_page_and_csv(client, clinician, dispensed, esk_session,
                                                                    staff_clinician):
    client.force_login(clinician)
    page = client.get("/stock/registers/dispensing/").content.decode()
    assert page.count('data-testid="register-row"') == 1
    rows = _csv_rows(client.get("/stock/registers/dispensing/?format=csv"))
    patient = esk_session.patient
    assert rows == [{
        "Date and time": "2026-03-03 09:10", "What": "Dispensed",
        "Patient": f"{patient.last_name}, {patient.first_name} ({patient.mrn})", "Session": str(esk_session.pk),
        "Location": "Midtown", "Product": "Esketamine 28 mg nasal device", "Lot": "E1", "Expiry": "2027-12-31",
        "Quantity": "2", "Unit": "device", "By": staff_clinician.get_full_name(), "Witness": "",
    }]
    assert _csv_rows(client.get("/stock/registers/dispensing.csv")) == rows


def test_the_registers_filter_by_local_dates(client, clinician, dispensed):
    client.force_login(clinician)
    assert len(_csv_rows(client.get("/stock/registers/dispensing.csv?date_from=2026-03-03&date_to=2026-03-03"))) == 1
    assert _csv_rows(client.get("/stock/registers/dispensing.csv?date_from=2026-03-04")) == []


def test_running_balances_receipts_and_the_inventory_agree_to_the_unit(client, clinician, dispensed, device_lot):
    client.force_login(clinician)
    balances = _csv_rows(client.get(f"/stock/registers/balances.csv?lot={device_lot.pk}"))
    assert [(row["Entry"], row["Quantity"], row["Balance after"]) for row in balances] == [
        ("Receipt", "12", "12"), ("Dispensed", "-2", "10")]
    receipts = _csv_rows(client.get("/stock/registers/receipts.csv"))
    assert [(row["Lot"], row["Quantity"], row["Supplier"]) for row in receipts] == [("E1", "12", "Janssen")]
    # the inventory: nothing held on Monday (E1 came on Tuesday morning), 10 at the end of Tuesday
    assert _csv_rows(client.get("/stock/registers/inventory.csv?on=2026-03-02")) == []
    tuesday = _csv_rows(client.get("/stock/registers/inventory.csv?on=2026-03-03"))
    assert [(row["Lot"], row["Balance"], row["Unit"]) for row in tuesday] == [("E1", "10", "device")]


def test_the_waste_register_names_the_witness(client, clinician, staff_clinician, witness, vial_lot):
    stock.waste(by=staff_clinician, witness=witness, lot=vial_lot, quantity=460, reason="Rest of a vial")
    client.force_login(clinician)
    rows = _csv_rows(client.get("/stock/registers/waste.csv"))
    assert [(row["Quantity"], row["Unit"], row["Witness"]) for row in rows] == [("460", "mg",
                                                                                witness.get_full_name())]


def test_a_csv_cell_a_spreadsheet_would_run_stays_text(client, clinician, dispensed, esk_session):
    patient = esk_session.patient
    patient.last_name = "=HYPERLINK(1)"
    patient.save()
    client.force_login(clinician)
    assert _csv_rows(client.get("/stock/registers/dispensing.csv"))[0]["Patient"].startswith("'=HYPERLINK")


def test_a_filter_that_cannot_be_read_is_a_400_naming_it(client, clinician):
    client.force_login(clinician)
    response = client.get("/stock/registers/dispensing/?date_from=2026-03-05&date_to=2026-03-01&location=x")
    content = response.content.decode()
    assert response.status_code == 400
    assert 'id="filter-to-error"' in content and 'id="filter-location-error"' in content


# --- receiving, counting, explaining ----------------------------------------------------------------------------


def test_a_manager_receives_kits_as_devices(client, manager, site):
    client.force_login(manager)
    response = client.post("/stock/receive/", {
        "location": site.pk, "product": product().pk, "lot_number": "NEW-1", "expiry": "2027-06-30",
        "number": "3", "counted_in": "kits_2", "supplier": "Janssen", "invoice_number": "INV-9",
        "received_on": "2026-03-02"})
    assert response.status_code == 302
    lot = Lot.objects.get(lot_number="NEW-1")
    assert balance(lot) == 6


def test_a_clinician_does_not_receive_stock(client, clinician):
    client.force_login(clinician)
    assert client.get("/stock/receive/").status_code == 403


def test_a_count_that_differs_opens_a_discrepancy_a_manager_explains_with_a_dea_106_note(client, clinician, manager,
                                                                                        device_lot):
    # when a clinician counts 11 of E1's 12 devices
    client.force_login(clinician)
    response = client.post(f"/stock/count/?location={device_lot.location_id}", {f"counted_{device_lot.pk}": "11"})
    assert response.status_code == 302 and response["Location"].startswith("/stock/discrepancies/")
    discrepancy = Discrepancy.objects.get(lot=device_lot)
    assert (discrepancy.expected, discrepancy.counted, discrepancy.difference) == (12, 11, -1)
    assert WorkItem.objects.open().filter(kind=WorkKind.STOCK_DISCREPANCY).count() == 1
    # then a manager's explanation of the loss without a DEA Form 106 note is refused beside the note
    client.force_login(manager)
    assert 'data-testid="dea106"' in client.get("/stock/discrepancies/").content.decode()
    refused = client.post(f"/stock/discrepancies/{discrepancy.pk}/explain/", {"explanation": "Dropped, broken"})
    assert refused.status_code == 400 and f'id="dea106-note-{discrepancy.pk}-error"' in refused.content.decode()
    explained = client.post(f"/stock/discrepancies/{discrepancy.pk}/explain/", {
        "explanation": "Dropped, broken", "dea106_note": "Breakage witnessed; not a theft: no Form 106"})
    assert explained.status_code == 302
    assert WorkItem.objects.open().filter(kind=WorkKind.STOCK_DISCREPANCY).count() == 0


def test_a_count_that_is_not_a_number_is_refused_beside_the_lot(client, clinician, device_lot):
    client.force_login(clinician)
    response = client.post(f"/stock/count/?location={device_lot.location_id}", {f"counted_{device_lot.pk}": "-3"})
    assert response.status_code == 400
    assert f'id="count-{device_lot.pk}-error"' in response.content.decode()
    assert not Discrepancy.objects.exists()


def test_the_registers_and_lots_read_in_a_fixed_number_of_queries(client, clinician, esk_session, device_lot,
                                                                   staff_clinician, django_assert_max_num_queries):
    # given a dozen doses from the lot, and more lots at the site
    for minute in range(12):
        stock.dispense(by=staff_clinician, session=esk_session, lot=device_lot, quantity=1,
                       now=TUESDAY_NINE + timedelta(minutes=minute))
    for number in range(5):
        LotFactory(location=device_lot.location, lot_number=f"MORE-{number}", stock=3)
    client.force_login(clinician)
    # then each page reads in the same few queries, however many rows it lists
    for address in ("/stock/", f"/stock/lots/{device_lot.pk}/", "/stock/registers/dispensing/",
                    "/stock/registers/balances/", "/stock/registers/inventory/", "/stock/registers/receipts/"):
        with django_assert_max_num_queries(14):
            assert client.get(address).status_code == 200


@pytest.mark.parametrize("typed", ["²", "1e3", "9" * 12, "\x00"], ids=repr)
def test_a_count_or_receipt_typed_wrong_is_a_400_never_a_500(client, manager, device_lot, typed):
    client.force_login(manager)
    counted = client.post(f"/stock/count/?location={device_lot.location_id}", {f"counted_{device_lot.pk}": typed})
    received = client.post("/stock/receive/", {"location": device_lot.location_id, "product": product().pk,
                                               "lot_number": f"N{typed}", "expiry": "2027-06-30", "number": typed,
                                               "counted_in": "devices", "supplier": "Janssen",
                                               "invoice_number": "INV-1", "received_on": "2026-03-03"})
    assert (counted.status_code, received.status_code) == (400, 400)
    assert balance(device_lot) == 12


def test_a_witness_login_holding_a_nul_is_refused_on_the_chart(chart, iv_session, vial_lot, witness):
    response = chart(iv_session)({"weight_kg": "80", "mg_per_kg": "0.5", "lot": vial_lot.pk,
                                  "witness_username": "wit\x00ness", "witness_password": "witness-pass-1"})
    assert response.status_code == 400
    assert balance(vial_lot) == 1000
