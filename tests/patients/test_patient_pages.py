"""Patient pages: search as you type, create and edit with the API's own words, the duplicate question."""

from __future__ import annotations

from datetime import date

import pytest

from patients.models import Patient, PatientAccess
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def form_data(**changes) -> dict:
    """What the new-patient form sends: every select has a value, unticked boxes are absent."""
    data = {"first_name": "Kim", "last_name": "Ode", "date_of_birth": "1985-01-01", "sex": "unknown",
            "diagnosis": "mdd", "phone": "", "email": "", "sms_consent_method": "", "rems_enrolled_on": "",
            "rems_patient_id": "", "preferred_name": "", "emergency_contact_name": "",
            "emergency_contact_phone": "", "notes": ""}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def desk(client, front_desk):
    client.force_login(front_desk)
    return client


def page_field_errors(response) -> dict[str, list[str]]:
    return {name: list(messages) for name, messages in response.context["form"].errors.items()}


# -- search -------------------------------------------------------------------------------------------


def test_search_as_you_type_returns_just_the_results(desk):
    # given
    PatientFactory(first_name="Anna", last_name="Smith")
    PatientFactory(first_name="Bo", last_name="Jones")
    # when
    response = desk.get("/patients/", {"q": "ann sm"}, **HTMX)
    # then
    html = response.content.decode()
    assert "<html" not in html
    assert "Smith, Anna" in html
    assert "Jones" not in html


def test_the_list_links_to_the_patient_page_and_the_new_patient_form(desk, patient):
    html = desk.get("/patients/").content.decode()
    assert f'href="/patients/{patient.pk}/"' in html
    assert 'href="/patients/new/"' in html


@pytest.mark.parametrize("path", ["/patients/", "/patients/new/", "/patients/{id}/edit/"])
def test_patient_pages_send_anonymous_visitors_to_the_login_page(client, patient, path):
    response = client.get(path.format(id=patient.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# -- create -------------------------------------------------------------------------------------------


def test_creating_a_patient_opens_their_page(desk, front_desk):
    # when
    response = desk.post("/patients/new/", form_data(phone="(415) 555-0142", sms_consent="on",
                                                     sms_consent_method="verbal"))
    # then
    patient = Patient.objects.get(last_name="Ode")
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient.pk}/"
    assert (patient.phone, patient.sms_consent, patient.created_by) == ("+14155550142", True, front_desk)
    assert patient.mrn.startswith("MRN")


@pytest.mark.parametrize("changes", [
    {"first_name": "", "last_name": " "},
    {"date_of_birth": "2099-01-01"},
    {"date_of_birth": "2015-06-01"},
    {"phone": "12"},
    {"sms_consent": "on"},
    {"rems_enrolled_on": "2026-01-05"},
    {"emergency_contact_phone": "not a phone"},
], ids=["names", "future-birth", "too-young", "bad-phone", "consent-without-phone", "rems-half", "emergency-phone"])
def test_the_form_shows_the_same_field_errors_as_the_api(desk, desk_api, changes):
    # given
    data = form_data(**changes)
    api_body = {key: value for key, value in data.items() if value != ""} | {
        key: True for key, value in changes.items() if value == "on"}
    for blank in ("first_name", "last_name"):
        if blank in changes:
            api_body[blank] = changes[blank]
    # when
    page = desk.post("/patients/new/", data)
    api = desk_api.post("/api/patients/", api_body, format="json")
    # then
    assert page.status_code == api.status_code == 400
    assert page_field_errors(page) == api.json()["fields"]
    assert not Patient.objects.exists()


def test_a_field_error_is_shown_beside_its_field_and_in_the_summary(desk):
    # when
    response = desk.post("/patients/new/", form_data(first_name=""))
    # then
    html = response.content.decode()
    assert '<span class="field-error" id="id_first_name-error">First name is required.</span>' in html
    assert '<a href="#id_first_name">First name: First name is required.</a>' in html
    assert 'value="Ode"' in html  # what was typed stays


def test_a_possible_duplicate_shows_the_match_and_a_confirm_button(desk):
    # given
    existing = PatientFactory(first_name="Kim", last_name="Ode", date_of_birth=date(1985, 1, 1))
    # when
    response = desk.post("/patients/new/", form_data(first_name="kim"))
    # then
    html = response.content.decode()
    assert response.status_code == 409
    assert "A patient with this name and date of birth already exists." in html
    assert f'href="/patients/{existing.pk}/"' in html and existing.mrn in html
    assert ('<button type="submit" form="patient-form" name="confirm_new" value="1" id="confirm-new-patient">'
            in html)
    assert "This is a different person — create anyway" in html
    assert Patient.objects.count() == 1


def test_confirming_a_different_person_creates_the_record(desk):
    # given
    PatientFactory(first_name="Kim", last_name="Ode", date_of_birth=date(1985, 1, 1))
    # when
    response = desk.post("/patients/new/", form_data(confirm_new="1"))
    # then
    assert response.status_code == 302
    assert Patient.objects.filter(last_name="Ode").count() == 2


def test_html_in_a_patients_name_is_escaped(desk):
    # given
    created = desk.post("/patients/new/", form_data(first_name="<script>alert(1)</script>"))
    patient = Patient.objects.get(last_name="Ode")
    # when
    pages = [desk.get(created["Location"]), desk.get("/patients/", {"q": "ode"}),
             desk.get(f"/patients/{patient.pk}/edit/")]
    # then
    for response in pages:
        assert response.status_code == 200
        assert b"<script>alert(1)" not in response.content
        assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content


# -- edit ---------------------------------------------------------------------------------------------


def test_the_edit_form_shows_the_current_values(desk):
    # given
    patient = PatientFactory(first_name="Lee", notes="Prefers mornings")
    # when
    html = desk.get(f"/patients/{patient.pk}/edit/").content.decode()
    # then
    assert 'value="Lee"' in html
    assert "Prefers mornings</textarea>" in html
    assert 'value="1980-05-17"' in html


def test_editing_saves_through_the_service_and_returns_to_the_patient(desk, front_desk):
    # given
    patient = PatientFactory(first_name="Lee")
    data = form_data(first_name="Lee", last_name=patient.last_name, date_of_birth="1980-05-17",
                     phone=patient.phone, sms_consent="on", sms_consent_method="verbal",
                     rems_enrolled_on="2026-01-05", rems_patient_id=patient.rems_patient_id, notes="Needs a ride")
    # when
    response = desk.post(f"/patients/{patient.pk}/edit/", data)
    # then
    patient.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient.pk}/"
    assert patient.notes == "Needs a ride"


def test_an_invalid_edit_shows_the_apis_words_and_changes_nothing(desk):
    # given
    patient = PatientFactory(first_name="Lee")
    # when
    response = desk.post(f"/patients/{patient.pk}/edit/", form_data(first_name="Lee", phone="12"))
    # then
    patient.refresh_from_db()
    assert response.status_code == 400
    assert page_field_errors(response) == {"phone": ["“12” is not a valid phone number."]}
    assert patient.phone != "12"


def test_an_archived_record_cannot_be_edited(desk, front_desk):
    # given
    patient = PatientFactory(first_name="Lee")
    patient.archive(by=front_desk)
    # when
    response = desk.post(f"/patients/{patient.pk}/edit/", form_data(first_name="Leo"))
    # then
    patient.refresh_from_db()
    assert response.status_code == 409
    assert "This patient&#x27;s record is archived and cannot be changed." in response.content.decode()
    assert patient.first_name == "Lee"


def test_opening_the_edit_form_logs_a_read(desk, patient, front_desk):
    desk.get(f"/patients/{patient.pk}/edit/")
    assert PatientAccess.objects.filter(patient=patient, user=front_desk, channel="web").count() == 1


def test_the_patient_detail_name_reaches_the_full_patient_page(desk, patient):
    # given
    from django.urls import reverse

    # when
    response = desk.get(reverse("patients:detail", args=[patient.pk]))
    # then
    assert reverse("patients:detail", args=[patient.pk]) == reverse("patient-page", args=[patient.pk])
    assert 'id="courses-heading"' in response.content.decode()
