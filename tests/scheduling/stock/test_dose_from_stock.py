"""The dose step draws from stock: esketamine devices in one entry, IV mg with the opened vial's rest wasted
before a witness who confirms with their own login; expired, foreign, short and wrong-product lots refused.

``esk_session`` and ``iv_session`` start Tuesday 3 March 2026 09:00 at Midtown; ``device_lot`` (E1, 12 devices),
``vial_lot`` (K1, 1,000 mg of 500 mg vials), ``expired_lot`` and ``witness`` are in this folder's conftest.
"""

from __future__ import annotations

import pytest

from scheduling.models import EntryKind, LedgerEntry, Session
from scheduling.stock.selectors import balance
from tests.scheduling.charting.chart_steps import dosed
from tests.scheduling.stock.factories import LotFactory, product

pytestmark = pytest.mark.django_db

WITNESS = {"witness_username": "witness", "witness_password": "witness-pass-1"}
IV_80_KG = {"weight_kg": "80", "mg_per_kg": "0.50"}  # 40 mg: one 500 mg vial opened, 460 mg left in it


def test_an_esketamine_dose_draws_its_devices_from_the_chosen_lot_in_one_entry(clinician_api, esk_session, clock,
                                                                                device_lot):
    # when 84 mg (3 devices) is dosed from lot E1
    response = dosed(clinician_api, esk_session, clock, dose={"dose_mg": "84", "lot": device_lot.pk,
                                                              "override_reason": "Continuing 84 mg"})
    # then one dispense entry of 3 devices names the dose, the session and the patient
    assert response.status_code == 201, response.json()
    entry = LedgerEntry.objects.get(lot=device_lot, kind=EntryKind.DISPENSE)
    session = Session.objects.get(pk=esk_session.pk)
    assert (entry.quantity, entry.session_id, entry.patient_id, entry.dose_id) == (-3, session.pk,
                                                                                  session.patient_id, session.dose.pk)
    assert balance(device_lot) == 9
    assert session.dose.lot_number == "E1"
    drawn = response.json()["dose"]["stock_entries"]
    assert [(row["kind"], row["lot_number"], row["quantity"]) for row in drawn] == [("dispense", "E1", -3)]


def test_an_iv_dose_draws_its_mg_and_wastes_the_rest_of_the_vial_before_the_witness(clinician_api, iv_session,
                                                                                   clock, vial_lot, witness):
    response = dosed(clinician_api, iv_session, clock, dose={**IV_80_KG, "lot": vial_lot.pk, **WITNESS})
    assert response.status_code == 201, response.json()
    entries = {entry.kind: entry for entry in LedgerEntry.objects.filter(lot=vial_lot).exclude(kind="receipt")}
    assert entries[EntryKind.DISPENSE].quantity == -40
    assert (entries[EntryKind.WASTE].quantity, entries[EntryKind.WASTE].witness) == (-460, witness)
    assert entries[EntryKind.WASTE].session_id == iv_session.pk
    assert balance(vial_lot) == 500


def test_an_iv_dose_that_uses_up_its_vials_wastes_nothing_and_needs_no_witness(clinician_api, iv_session, clock, site):
    # given 100 mg vials, and a dose of exactly 100 mg (100 kg at 1.00 mg/kg)
    lot = LotFactory(location=site, product=product("ketamine_vial", 100), lot_number="K100", stock=300)
    response = dosed(clinician_api, iv_session, clock, dose={"weight_kg": "100", "mg_per_kg": "1.00", "lot": lot.pk,
                                                             "witness_username": "", "override_reason": "Ordered"})
    assert response.status_code == 201, response.json()
    assert list(LedgerEntry.objects.filter(lot=lot).values_list("kind", "quantity").order_by("id")) == [
        ("receipt", 300), ("dispense", -100)]


def test_a_vial_rest_without_a_witness_is_refused_at_the_witness_field(clinician_api, iv_session, clock, vial_lot):
    response = dosed(clinician_api, iv_session, clock, dose={**IV_80_KG, "lot": vial_lot.pk, "witness_username": ""})
    assert response.status_code == 400
    assert response.json()["code"] == "witness_required"
    assert "witness_username" in response.json()["fields"]
    assert balance(vial_lot) == 1000 and not hasattr(Session.objects.get(pk=iv_session.pk), "dose")


def test_the_clinician_dosing_cannot_witness_their_own_waste(clinician_api, clinician, iv_session, clock, vial_lot):
    response = dosed(clinician_api, iv_session, clock, dose={
        **IV_80_KG, "lot": vial_lot.pk, "witness_username": clinician.username,
        "witness_password": "correct-horse-battery"})
    assert response.status_code == 409
    assert response.json()["code"] == "witness_is_self"
    assert balance(vial_lot) == 1000


def test_a_wrong_witness_password_is_refused_and_nothing_is_drawn(clinician_api, iv_session, clock, vial_lot,
                                                                 witness):
    response = dosed(clinician_api, iv_session, clock, dose={**IV_80_KG, "lot": vial_lot.pk,
                                                             "witness_username": "witness",
                                                             "witness_password": "not-it"})
    assert response.status_code == 400
    assert response.json()["code"] == "witness_not_confirmed"
    assert "witness_password" in response.json()["fields"]
    assert "not-it" not in response.content.decode()
    assert balance(vial_lot) == 1000 and not LedgerEntry.objects.filter(kind=EntryKind.DISPENSE).exists()


@pytest.mark.parametrize("which, code", [
    ("expired", "lot_expired"),
    ("foreign", "lot_other_location"),
    ("short", "lot_short"),
    ("vial", "wrong_product"),
])
def test_a_lot_the_dose_cannot_draw_from_is_a_409_beside_the_lot(clinician_api, esk_session, clock, expired_lot,
                                                                  other_site, vial_lot, site, which, code):
    lots = {"expired": expired_lot, "foreign": LotFactory(location=other_site, lot_number="WEST-1", stock=12),
            "short": LotFactory(location=site, lot_number="LAST-1", stock=1), "vial": vial_lot}
    response = dosed(clinician_api, esk_session, clock, dose={"dose_mg": "56", "lot": lots[which].pk})
    assert response.status_code == 409
    assert response.json()["code"] == code
    assert "lot" in response.json()["fields"]
    assert not hasattr(Session.objects.get(pk=esk_session.pk), "dose")
    assert not LedgerEntry.objects.filter(kind=EntryKind.DISPENSE).exists()


def test_a_lot_that_does_not_exist_is_a_400_naming_the_lot(clinician_api, esk_session, clock):
    response = dosed(clinician_api, esk_session, clock, dose={"dose_mg": "56", "lot": 999999})
    assert response.status_code == 400
    assert "lot" in response.json()["fields"]
