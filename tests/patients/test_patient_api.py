from __future__ import annotations

from datetime import date, timedelta

import pytest

from patients.models import Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

VALID = {
    "first_name": "Dana",
    "last_name": "Whitfield",
    "date_of_birth": "1979-03-02",
    "phone": "(415) 555-2671",
    "sms_consent": True,
    "sms_consent_method": "verbal",
    "diagnosis": "mdd",
}


def test_it_creates_a_patient_with_a_generated_mrn_and_e164_phone(desk_api):
    # when
    response = desk_api.post("/api/patients/", VALID, format="json")
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["mrn"].startswith("MRN")
    assert body["phone"] == "+14155552671"
    assert body["sms_consent_at"] is not None
    assert Patient.objects.get(id=body["id"]).created_by.username == "desk"


def test_it_keeps_a_given_mrn(desk_api):
    response = desk_api.post("/api/patients/", {**VALID, "mrn": "EXT-42"}, format="json")
    assert response.status_code == 201
    assert response.json()["mrn"] == "EXT-42"


def test_two_patients_get_different_generated_mrns(desk_api):
    first = desk_api.post("/api/patients/", VALID, format="json").json()
    second = desk_api.post("/api/patients/", {**VALID, "first_name": "Other"}, format="json").json()
    assert first["mrn"] != second["mrn"]


def test_it_reads_a_patient(desk_api, patient):
    response = desk_api.get(f"/api/patients/{patient.id}/")
    assert response.status_code == 200
    assert response.json()["mrn"] == patient.mrn
    assert response.json()["is_rems_enrolled"] is True


def test_it_updates_a_patient(clinician_api, patient):
    response = clinician_api.patch(f"/api/patients/{patient.id}/", {"diagnosis": "bipolar", "phone": "+442071838750"},
                                   format="json")
    assert response.status_code == 200, response.json()
    patient.refresh_from_db()
    assert patient.diagnosis == "bipolar"
    assert patient.phone == "+442071838750"


def test_opt_out_state_cannot_be_written_through_the_api(desk_api, patient):
    desk_api.patch(f"/api/patients/{patient.id}/", {"sms_opted_out_at": "2026-01-01T00:00:00Z"}, format="json")
    patient.refresh_from_db()
    assert patient.sms_opted_out_at is None


def test_delete_archives_instead_of_deleting(desk_api, patient):
    # when
    response = desk_api.delete(f"/api/patients/{patient.id}/")
    # then
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.archived_at is not None
    assert patient.archived_by.username == "desk"


def test_an_archived_patient_leaves_the_list_but_can_be_listed_on_request(desk_api, patient):
    desk_api.delete(f"/api/patients/{patient.id}/")
    assert desk_api.get("/api/patients/").json()["count"] == 0
    assert desk_api.get("/api/patients/?archived=true").json()["count"] == 1


def test_an_archived_patient_cannot_be_changed(desk_api, patient):
    desk_api.delete(f"/api/patients/{patient.id}/")
    response = desk_api.patch(f"/api/patients/{patient.id}/", {"notes": "x"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "archived"


@pytest.mark.parametrize(
    "query, expected",
    [("whit", {"Whitfield"}), ("dana whit", {"Whitfield"}), ("MRN-X1", {"Xu"}), ("mrn-x", {"Xu"}),
     ("5552671", {"Whitfield"}), ("nobody", set())],
)
def test_it_searches_by_name_mrn_or_phone(desk_api, query, expected):
    # given
    PatientFactory(first_name="Dana", last_name="Whitfield", phone="+14155552671")
    PatientFactory(first_name="Li", last_name="Xu", mrn="MRN-X1", phone="+12125552000")
    PatientFactory(first_name="Ana", last_name="Brook", phone="+13125552111")
    # when
    results = desk_api.get("/api/patients/", {"q": query}).json()["results"]
    # then
    assert {row["last_name"] for row in results} == expected


def test_the_list_is_paginated(desk_api):
    PatientFactory.create_batch(30)
    body = desk_api.get("/api/patients/").json()
    assert body["count"] == 30
    assert len(body["results"]) == 25
    assert body["next"] is not None
    assert len(desk_api.get("/api/patients/?page_size=500").json()["results"]) == 30


def test_a_page_past_the_end_is_a_404_with_the_error_format(desk_api):
    response = desk_api.get("/api/patients/?page=99")
    assert response.status_code == 404
    assert set(response.json()) == {"code", "detail", "fields"}


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"date_of_birth": (date.today() + timedelta(days=1)).isoformat()}, "date_of_birth", "future"),
        ({"date_of_birth": (date.today() - timedelta(days=365 * 17)).isoformat()}, "date_of_birth", "18"),
        ({"phone": "12345"}, "phone", "not a"),
        ({"first_name": ""}, "first_name", "required"),
        ({"last_name": "   "}, "last_name", "required"),
        ({"date_of_birth": "17/05/1980"}, "date_of_birth", "format"),
        ({"diagnosis": "flu"}, "diagnosis", "valid choice"),
        ({"rems_patient_id": "REMS-1"}, "rems_patient_id", "both"),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(desk_api, change, field, message):
    # when
    response = desk_api.post("/api/patients/", {**VALID, **change}, format="json")
    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["fields"]
    assert message in " ".join(body["fields"][field])
    assert Patient.objects.count() == 0


def test_a_missing_name_is_a_400(desk_api):
    payload = {key: value for key, value in VALID.items() if key != "last_name"}
    response = desk_api.post("/api/patients/", payload, format="json")
    assert response.status_code == 400
    assert "last_name" in response.json()["fields"]


def test_a_malformed_body_is_a_400_not_a_500(desk_api):
    response = desk_api.generic("POST", "/api/patients/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_a_failed_update_keeps_what_was_saved(desk_api, patient):
    before = patient.phone
    response = desk_api.patch(f"/api/patients/{patient.id}/", {"phone": "nope", "notes": "new"}, format="json")
    assert response.status_code == 400
    patient.refresh_from_db()
    assert patient.phone == before
    assert patient.notes == ""


# --- duplicates -------------------------------------------------------------------------------


def test_same_name_and_birth_date_is_a_409_possible_duplicate(desk_api):
    # given
    existing = PatientFactory(first_name="Dana", last_name="Whitfield", date_of_birth=date(1979, 3, 2))
    # when
    response = desk_api.post("/api/patients/", {**VALID, "first_name": "dana", "last_name": "WHITFIELD"},
                             format="json")
    # then
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "possible_duplicate"
    assert body["matches"][0]["id"] == existing.id
    assert Patient.objects.count() == 1


def test_confirm_new_creates_the_second_patient(desk_api):
    PatientFactory(first_name="Dana", last_name="Whitfield", date_of_birth=date(1979, 3, 2))
    response = desk_api.post("/api/patients/", {**VALID, "confirm_new": True}, format="json")
    assert response.status_code == 201
    assert Patient.objects.count() == 2


def test_a_blank_name_gives_one_clear_message(desk_api):
    response = desk_api.post("/api/patients/", {**VALID, "first_name": ""}, format="json")
    assert response.json()["fields"]["first_name"] == ["First name is required."]
