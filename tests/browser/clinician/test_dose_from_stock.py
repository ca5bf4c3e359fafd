"""The chart's dose step doses from a lot of the site's stock, and the REMS form names that lot and its expiry;
an IV dose wastes the opened vial's rest before a second clinician who signs with their own password.

At 1440 and 1024 px. Screenshots of the dose step, the REMS form and the stock pages are written to
``$BROWSER_SHOTS`` when it is set (to look at; nothing compares them).
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from clinic.roles import CLINICIAN
from scheduling.charting import rems
from scheduling.models import EntryKind, LedgerEntry
from scheduling.stock.selectors import balance
from tests.browser.clinician.chart_steps import book_started
from tests.browser.clinician.clinic_states import check_in_with_vitals
from tests.factories import ChairFactory, PatientFactory, TreatmentCourseFactory, UserFactory, standard_protocol
from tests.scheduling.stock.factories import LotFactory, product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(params=(1440, 1024), ids=lambda width: f"{width}px")
def width(request) -> int:
    return request.param


def shot(page, name: str, width: int) -> None:
    folder = os.environ.get("BROWSER_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}-{width}.png", full_page=True)


def test_the_dose_step_doses_from_the_earliest_expiring_lot_and_the_rems_form_names_it(
        nurse, width, course_today, chair, site, site_today, desk_user, clinician_user):
    # given a patient checked in with her pre-dose vitals, and three lots at the site: one expired
    session = book_started(course_today, chair, desk_user, minutes_ago=8)
    check_in_with_vitals(session, clinician_user)
    early = LotFactory(location=site, lot_number="ESK-2231", stock=12, expiry=site_today + timedelta(days=60))
    LotFactory(location=site, lot_number="ESK-4410", stock=30, expiry=site_today + timedelta(days=400))
    LotFactory(location=site, lot_number="ESK-OLD", stock=4, expiry=site_today - timedelta(days=1))
    nurse.set_viewport_size({"width": width, "height": 900})
    nurse.goto(f"/sessions/{session.pk}/chart/")
    dose = nurse.get_by_test_id("dose-form")
    lot = dose.get_by_label(re.compile(r"^Lot"))
    # then the earliest-expiring lot with stock is chosen, the later one offered, the expired one not
    expect(lot.locator("option:checked")).to_contain_text("ESK-2231")
    expect(lot.locator("option:checked")).to_contain_text("12 devices left")
    expect(lot.locator("option")).to_have_count(2)
    expect(lot).not_to_contain_text("ESK-OLD")
    shot(nurse, "dose-step", width)
    # when she records 56 mg
    dose.get_by_role("button", name="Record dose").click()
    # then the chart says the dose drew 2 devices from that lot, and the ledger has it
    expect(nurse.get_by_test_id("step-done")).to_contain_text("Dose recorded: 56 mg.")
    expect(nurse.get_by_test_id("dose-stock-dispense")).to_contain_text("2 devices from lot ESK-2231")
    assert balance(early) == 10
    entry = LedgerEntry.objects.get(kind=EntryKind.DISPENSE)
    assert (entry.lot_id, entry.quantity, entry.session_id, entry.by) == (early.pk, -2, session.pk, clinician_user)
    shot(nurse, "dose-recorded", width)

    # when the session's REMS form is opened
    form = rems.refresh_form(session)
    nurse.goto(f"/rems/{form.pk}/")
    # then it names the lot and its expiry, as the ledger has them
    expect(nurse.get_by_test_id("rems-lot")).to_have_text("ESK-2231")
    expect(nurse.get_by_test_id("rems-lot-expiry")).to_have_text(f"{early.expiry:%b} {early.expiry.day}, "
                                                                  f"{early.expiry.year}")
    shot(nurse, "rems-form", width)

    # and the stock pages show the lot's new balance and the dose in the dispensing log
    nurse.get_by_test_id("nav-stock").click()
    expect(nurse.locator("[data-testid=stock-lot-row]", has_text="ESK-2231").get_by_test_id("lot-balance")
           ).to_have_text("10 devices")
    shot(nurse, "stock-lots", width)
    nurse.goto("/stock/registers/dispensing/")
    expect(nurse.get_by_test_id("register-row")).to_have_count(1)
    expect(nurse.get_by_test_id("register-row")).to_contain_text("ESK-2231")
    shot(nurse, "dispensing-log", width)


def test_an_iv_dose_wastes_the_opened_vials_rest_before_a_witness_who_signs_with_their_own_login(
        nurse, width, site, site_today, desk_user, clinician_user):
    # given an IV patient checked in, a lot of 500 mg vials, and a second clinician on shift
    course = TreatmentCourseFactory(patient=PatientFactory(first_name="Iris"), start_date=site_today,
                                    protocol=standard_protocol("ketamine-iv-series"), created_by=desk_user)
    pump = ChairFactory(location=site, name="Infusion 1", serves_esketamine=False, has_infusion_pump=True)
    session = book_started(course, pump, desk_user, minutes_ago=8)
    check_in_with_vitals(session, clinician_user)
    vials = LotFactory(location=site, product=product("ketamine_vial", 500), lot_number="KET-0915", stock=2000)
    UserFactory(username="sam.witness", first_name="Sam", last_name="Witness", roles=[CLINICIAN],
                password="witness-browser-2026")
    nurse.set_viewport_size({"width": width, "height": 900})
    nurse.goto(f"/sessions/{session.pk}/chart/")
    dose = nurse.get_by_test_id("dose-form")
    dose.get_by_label("Weight (kg)").fill("80")
    expect(dose.get_by_label(re.compile(r"^Lot")).locator("option:checked")).to_contain_text("KET-0915")
    # when the witness types a wrong password, then the dose is refused beside it and nothing is drawn
    dose.get_by_label("Witness's username").fill("sam.witness")
    dose.get_by_label("Witness's password").fill("not-the-password")
    dose.get_by_role("button", name="Record dose").click()
    expect(nurse.locator("#dose-witness-password-error")).to_be_visible()
    expect(nurse.get_by_label("Witness's password")).to_have_value("")
    assert balance(vials) == 2000
    shot(nurse, "iv-witness-refused", width)
    # when the witness signs with their own password
    dose = nurse.get_by_test_id("dose-form")
    dose.get_by_label("Witness's password").fill("witness-browser-2026")
    dose.get_by_role("button", name="Record dose").click()
    # then 40 mg is dispensed and the vial's other 460 mg wasted, witnessed by Sam
    expect(nurse.get_by_test_id("dose-stock-dispense")).to_contain_text("40 mg from lot KET-0915")
    expect(nurse.get_by_test_id("dose-stock-waste")).to_contain_text("460 mg from lot KET-0915")
    expect(nurse.get_by_test_id("dose-stock-waste")).to_contain_text("witnessed by Sam Witness")
    assert balance(vials) == 1500
    shot(nurse, "iv-dose-recorded", width)
