"""The patient form and API: every error at once, consent with its method, phones as typed, today at home."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from patients import services
from patients.models import Patient
from tests.factories import PatientFactory
from tests.patients.test_patient_pages import form_data, page_field_errors

pytestmark = pytest.mark.django_db

LATE_IN_NEW_YORK = datetime(2026, 3, 3, 4, 30, tzinfo=UTC)  # Mon 2 March 23:30 in New York, Tue 3 March in UTC


@pytest.fixture
def desk(client, front_desk):
    client.force_login(front_desk)
    return client


# -- every error at once ------------------------------------------------------------------------------


def test_the_form_shows_what_it_cannot_read_and_what_the_rules_refuse_together(desk):
    # when: a date the form cannot read, a phone the rules refuse, consent with no method, half a REMS enrolment
    response = desk.post("/patients/new/", form_data(date_of_birth="17/05/1980", phone="12", sms_consent="on",
                                                     rems_patient_id="REMS-1"))

    # then
    assert response.status_code == 400
    assert page_field_errors(response) == {
        "date_of_birth": ["Enter a valid date."],
        "phone": ["“12” is not a valid phone number."],
        "sms_consent_method": ["Record how the patient gave consent to text messages."],
        "rems_patient_id": ["REMS enrolment needs both the enrolment date and the REMS patient ID."],
    }
    assert not Patient.objects.exists()


def test_the_api_answers_every_error_at_once_too(desk_api):
    # when
    response = desk_api.post("/api/patients/", {"first_name": "Kim", "last_name": "", "date_of_birth": "17/05/1980",
                                                "diagnosis": "flu", "phone": "12", "sms_consent": True},
                             format="json")

    # then
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"last_name", "date_of_birth", "diagnosis", "phone",
                                              "sms_consent_method"}


def test_an_edit_shows_every_error_at_once(desk, patient):
    # when
    response = desk.post(f"/patients/{patient.pk}/edit/", form_data(date_of_birth="", phone="12",
                                                                    emergency_contact_phone="nope"))

    # then
    assert response.status_code == 400
    assert set(page_field_errors(response)) == {"date_of_birth", "phone", "emergency_contact_phone"}


# -- consent needs its method -------------------------------------------------------------------------


def test_consent_is_saved_with_the_method_it_was_given_by(desk):
    response = desk.post("/patients/new/", form_data(phone="(312) 555-2000", sms_consent="on",
                                                     sms_consent_method="written"))
    assert response.status_code == 302
    patient = Patient.objects.get(last_name="Ode")
    assert (patient.sms_consent, patient.sms_consent_method) == (True, "written")


def test_the_api_refuses_consent_without_a_method(desk_api, patient):
    # given
    patient.sms_consent, patient.sms_consent_method = False, ""
    patient.save()

    # when
    response = desk_api.patch(f"/api/patients/{patient.pk}/", {"sms_consent": True}, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "sms_consent_method": ["Record how the patient gave consent to text messages."]}


def test_the_database_refuses_consent_without_a_method(patient):
    with pytest.raises(IntegrityError, match="patient_consent_has_method"), transaction.atomic():
        Patient.objects.filter(pk=patient.pk).update(sms_consent=True, sms_consent_method="")


def test_consents_recorded_before_the_rule_are_kept_and_marked_not_recorded(patient):
    # given: a consent from before the rule (the check lifted for this test's transaction only)
    with connection.cursor() as cursor:  # the row's deferred foreign-key checks run first, or ALTER TABLE refuses
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE patients_patient DROP CONSTRAINT patient_consent_has_method")
    Patient.objects.filter(pk=patient.pk).update(sms_consent=True, sms_consent_method="")
    migration = __import__("patients.migrations.0007_consent_has_a_method", fromlist=["mark"])

    # when
    migration.mark_consents_without_a_method(apps, None)

    # then
    patient.refresh_from_db()
    assert (patient.sms_consent, patient.sms_consent_method) == (True, "not_recorded")
    assert patient.can_receive_texts
    with connection.cursor() as cursor:  # every row passes the check again
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE patients_patient ADD CONSTRAINT patient_consent_has_method "
                       "CHECK (NOT sms_consent OR sms_consent_method <> '')")


def test_a_consent_marked_not_recorded_stays_editable_but_is_never_chosen_anew(desk, front_desk):
    # given
    legacy = PatientFactory(sms_consent_method="not_recorded")
    other = PatientFactory()

    # when
    kept = services.field_errors(values={"notes": "Prefers mornings"}, patient=legacy, by=front_desk)
    chosen = services.field_errors(values={"sms_consent_method": "not_recorded"}, patient=other, by=front_desk)
    new_form = desk.get("/patients/new/").content.decode()
    legacy_form = desk.get(f"/patients/{legacy.pk}/edit/").content.decode()

    # then
    assert kept == {}
    assert chosen == {"sms_consent_method": ["Choose how the patient gave consent."]}
    assert 'value="not_recorded"' not in new_form
    assert 'value="not_recorded" selected' in legacy_form


# -- phones -------------------------------------------------------------------------------------------


def test_the_phone_hint_says_what_a_desk_may_type(desk):
    html = desk.get("/patients/new/").content.decode()
    assert "E.164" not in html
    assert ("Type it as you would dial it, e.g. (201) 555-0123. A number from outside the United States starts "
            "with + and its country code.") in html


def test_the_edit_form_shows_phones_as_dialled_and_saves_them_unchanged(desk, patient):
    # given
    patient.phone, patient.emergency_contact_phone = "+13125552000", "+442071838750"
    patient.save()

    # when
    html = desk.get(f"/patients/{patient.pk}/edit/").content.decode()

    # then
    assert 'value="(312) 555-2000"' in html
    assert 'value="+44 20 7183 8750"' in html
    assert "+13125552000" not in html
    response = desk.post(f"/patients/{patient.pk}/edit/", form_data(
        first_name=patient.first_name, last_name=patient.last_name, date_of_birth="1980-05-17",
        phone="(312) 555-2000", emergency_contact_phone="+44 20 7183 8750", sms_consent="on",
        sms_consent_method="verbal", rems_enrolled_on="2026-01-05", rems_patient_id=patient.rems_patient_id))
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.phone, patient.emergency_contact_phone) == ("+13125552000", "+442071838750")


# -- today at the patient's home ----------------------------------------------------------------------


def test_late_at_night_a_birth_date_of_tomorrow_in_utc_is_still_the_future_at_the_site(clock, site, front_desk):
    # given: 23:30 on Monday in New York, already Tuesday in UTC
    clock.move_to(LATE_IN_NEW_YORK)
    assert timezone.localdate() == date(2026, 3, 3)
    values = {"first_name": "Kim", "last_name": "Ode", "date_of_birth": date(1985, 1, 1),
              "rems_enrolled_on": date(2026, 3, 3), "rems_patient_id": "REMS-9"}

    # when
    errors = services.field_errors(values=values, by=front_desk)

    # then
    assert errors == {"rems_enrolled_on": ["The REMS enrolment date cannot be in the future."]}
    assert services.field_errors(values={**values, "rems_enrolled_on": date(2026, 3, 2)}, by=front_desk) == {}


def test_the_forms_date_pickers_stop_at_today_at_the_site(clock, site, client, front_desk):
    clock.move_to(LATE_IN_NEW_YORK)
    client.force_login(front_desk)
    html = client.get("/patients/new/").content.decode()
    assert 'max="2026-03-02"' in html
    assert 'max="2026-03-03"' not in html
