"""Quantities and ids are whole numbers typed as such (a float is a 400, never truncated), the append-only
ledger's endpoints answer PUT, PATCH and DELETE with 405 for the staff who use them (the front desk: 403), and
a register's dates and lot codes are never broken over lines."""

from __future__ import annotations

import pytest

from scheduling.models import EntryKind, LedgerEntry, Lot, Session
from tests.scheduling.charting.chart_steps import dosed

pytestmark = pytest.mark.django_db

NOT_WHOLE = [1.0, 2.5, "1.0", "1_000", "\u0663", True, " 2", "2e1"]


def _receipt(site, device, **counted):
    return {"location": site.pk, "product": device.pk, "lot_number": "R-1", "expiry": "2027-12-31",
            "supplier": "Janssen", "invoice_number": "INV-9", **counted}


@pytest.mark.parametrize("typed", NOT_WHOLE)
def test_a_quantity_not_typed_as_a_whole_number_is_a_400_and_nothing_is_received(manager_api, site, device, now,
                                                                                 typed):
    answers = [manager_api.post("/api/stock/receipts/", _receipt(site, device, **counted), format="json")
               for counted in ({"quantity": typed}, {"kits": typed, "kit_size": 2})]
    assert [(answer.status_code, *answer.json()["fields"]) for answer in answers] == [(400, "quantity"),
                                                                                     (400, "kits")]
    assert not Lot.objects.filter(lot_number="R-1").exists()


def test_plain_digits_are_still_a_quantity(manager_api, site, device, now):
    response = manager_api.post("/api/stock/receipts/", _receipt(site, device, quantity="4"), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["quantity"] == 4


@pytest.mark.parametrize("field", ["location", "product"])
def test_a_float_id_is_refused_not_truncated_to_another_row(manager_api, site, device, now, field):
    typed = _receipt(site, device, quantity=2)
    typed[field] += 0.5
    response = manager_api.post("/api/stock/receipts/", typed, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not LedgerEntry.objects.filter(kind=EntryKind.RECEIPT, lot__lot_number="R-1").exists()


def test_counts_waste_and_adjustments_refuse_a_float(clinician_api, manager_api, device_lot, witness, now):
    witnessed = {"reason": "Dropped", "witness": witness.pk, "witness_password": "witness-pass-1"}
    answers = {
        "count": clinician_api.post("/api/stock/counts/", {"lot": device_lot.pk, "counted_quantity": 12.0},
                                    format="json"),
        "waste": clinician_api.post("/api/stock/waste/", {"lot": device_lot.pk, "quantity": 1.0, **witnessed},
                                    format="json"),
        "adjustment": manager_api.post("/api/stock/adjustments/", {"lot": device_lot.pk + 0.5, "quantity": 1,
                                                                   **witnessed}, format="json"),
    }
    assert {kind: answer.status_code for kind, answer in answers.items()} == dict.fromkeys(answers, 400)
    assert LedgerEntry.objects.filter(lot=device_lot).exclude(kind=EntryKind.RECEIPT).count() == 0


def test_a_dose_from_a_float_lot_id_is_a_400_naming_the_lot(clinician_api, esk_session, clock, device_lot):
    response = dosed(clinician_api, esk_session, clock, dose={"dose_mg": "56", "lot": device_lot.pk + 0.5})
    assert response.status_code == 400
    assert "lot" in response.json()["fields"]
    assert not hasattr(Session.objects.get(pk=esk_session.pk), "dose")
    assert not LedgerEntry.objects.filter(kind=EntryKind.DISPENSE).exists()


def _endpoints(lot):
    lot_urls = [f"/api/stock/lots/{lot.pk}/", f"/api/stock/lots/{lot.pk}/ledger/"]
    return ["/api/stock/products/", "/api/stock/lots/", *lot_urls, "/api/stock/discrepancies/",
            "/api/stock/discrepancies/1/", "/api/stock/discrepancies/1/explain/", "/api/stock/receipts/",
            "/api/stock/waste/", "/api/stock/adjustments/", "/api/stock/counts/", "/api/stock/dispensing-log/"]


def test_nothing_in_stock_is_edited_or_deleted_through_the_api(clinician_api, manager_api, desk_api, device_lot):
    for role, api, refused in (("clinician", clinician_api, 405), ("manager", manager_api, 405),
                               ("front desk", desk_api, 403)):
        answers = {(method, url): getattr(api, method)(url, {}, format="json").status_code
                   for url in _endpoints(device_lot) for method in ("put", "patch", "delete")}
        assert set(answers.values()) == {refused}, (role, answers)


def test_a_registers_dates_and_lot_codes_are_kept_whole_on_a_narrow_screen(client, clinician, device_lot):
    # a lot code or a date broken over lines ("MID-/ESK-/A") is misread: those cells never wrap, the text ones do
    client.force_login(clinician)
    page = client.get(f"/stock/registers/balances/?lot={device_lot.pk}").content.decode()
    assert f'<td class="whole">{device_lot.lot_number}</td>' in page
    assert f'<td class="whole">{device_lot.expiry:%Y-%m-%d}</td>' in page
    assert f"<td>{device_lot.product.name}</td>" in page
    assert '<th scope="col" class="whole">Expiry</th>' in page
