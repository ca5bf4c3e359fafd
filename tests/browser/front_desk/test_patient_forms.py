"""The patient form at the desk: every error in one answer, consent with its method, phones as a desk types them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from patients.models import Patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE_HINT = ("Type it as you would dial it, e.g. (201) 555-0123. A number from outside the United States starts "
              "with + and its country code.")


def test_a_new_patient_form_shows_every_error_at_once_then_saves(desk, width):
    # given
    desk.get_by_test_id("nav-patients").click()
    desk.get_by_role("link", name="New patient", exact=True).click()
    expect(desk.locator("#id_phone + small")).to_have_text(PHONE_HINT)
    desk.get_by_label("First name").fill("Harper")
    desk.get_by_label("Date of birth").fill("1985-03-04")
    desk.get_by_label("Mobile phone").fill("12")
    desk.get_by_label("Consents to text messages (reminders)").check()
    desk.get_by_label("REMS patient ID").fill("REMS-7")

    # when
    desk.get_by_role("button", name="Create patient").click()

    # then: one answer names every field at once, beside each field and in the summary
    errors = {
        "last_name": "Last name is required.",
        "phone": "“12” is not a valid phone number.",
        "sms_consent_method": "Record how the patient gave consent to text messages.",
        "rems_patient_id": "REMS enrolment needs both the enrolment date and the REMS patient ID.",
    }
    for field, message in errors.items():
        expect(desk.locator(f"#id_{field}-error")).to_have_text(message)
    expect(desk.get_by_test_id("form-errors").locator("li")).to_have_count(len(errors))
    desk.screenshot(path=f"/tmp/h3-form-errors-{width}.png", full_page=True)

    # when
    desk.get_by_label("Last name").fill("Chen")
    desk.get_by_label("Mobile phone").fill("312-555-2000")
    desk.get_by_label("How consent was given").select_option(label="Signed form")
    desk.get_by_label("REMS enrolment date").fill("2026-01-05")
    desk.get_by_role("button", name="Create patient").click()

    # then: the patient page, the phone as dialled
    expect(desk).to_have_url(re.compile(r"/patients/\d+/$"))
    expect(desk.get_by_test_id("patient-phone")).to_have_text("(312) 555-2000")
    expect(desk.get_by_test_id("patient-sms-consent")).to_contain_text("(Signed form)")
    patient = Patient.objects.get(last_name="Chen")
    assert (patient.phone, patient.sms_consent_method) == ("+13125552000", "written")


def test_the_edit_form_shows_the_phone_as_dialled(desk, patient, width):
    # given
    patient.phone = "+13125552000"
    patient.save()

    # when
    desk.goto(f"/patients/{patient.pk}/")
    desk.get_by_role("link", name="Edit details").click()

    # then
    expect(desk.get_by_label("Mobile phone")).to_have_value("(312) 555-2000")
    expect(desk.get_by_label("How consent was given").locator("option[value=not_recorded]")).to_have_count(0)
    desk.screenshot(path=f"/tmp/h3-form-edit-{width}.png", full_page=True)
