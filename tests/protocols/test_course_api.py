"""Starting a course through the API: input checks, one open course per modality, eligibility."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from protocols import services
from protocols.models import CourseStatus, TreatmentCourse
from tests.factories import PatientFactory, TreatmentCourseFactory, standard_protocol

pytestmark = pytest.mark.django_db

ESKETAMINE_HARD_STOPS = [
    "aneurysmal_vascular_disease",
    "arteriovenous_malformation",
    "intracerebral_hemorrhage_history",
    "ketamine_hypersensitivity",
]
IV_OVERRIDE_CASES = [
    "uncontrolled_hypertension",
    "psychosis_or_mania_history",
    "active_substance_use",
    "pregnant",
    "breastfeeding",
    "raised_intracranial_pressure",
    "uncontrolled_seizures",
]


def start(api, patient, protocol="esketamine-trd", **extra):
    body = {"patient": patient.id, "protocol": protocol, "start_date": timezone.localdate().isoformat(), **extra}
    return api.post("/api/courses/", body, format="json")


def reason_codes(response):
    return [reason["code"] for reason in response.json()["reasons"]]


def test_a_new_course_is_due_from_its_start_date_to_a_week_later(desk_api, patient):
    # given
    today = timezone.localdate()
    # when
    response = start(desk_api, patient)
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["next_due"] == {
        "number": 1, "phase": "Induction", "earliest": today.isoformat(), "target": today.isoformat(),
        "latest": (today + timedelta(days=7)).isoformat(),
    }
    assert (body["status"], body["sessions_completed"], body["phase"], body["timing"]) == (
        "active", 0, "Induction", "due")
    assert (body["protocol"], body["modality"], body["flags"]) == ("esketamine-trd", "esketamine_nasal", [])
    course = TreatmentCourse.objects.get(pk=body["id"])
    assert course.created_by.username == "desk"


def test_a_course_may_be_started_with_the_protocols_id(desk_api, patient):
    response = start(desk_api, patient, protocol=standard_protocol("ketamine-iv-weekly").id)
    assert response.status_code == 201, response.json()
    assert response.json()["protocol"] == "ketamine-iv-weekly"


def test_an_unknown_protocol_is_a_field_error(desk_api, patient):
    response = start(desk_api, patient, protocol="esketamine-weekly")
    assert response.status_code == 400
    assert "protocol" in response.json()["fields"]


def test_an_inactive_protocol_is_a_field_error(desk_api, patient, esketamine_trd):
    esketamine_trd.active = False
    esketamine_trd.save()
    response = start(desk_api, patient)
    assert response.status_code == 400
    assert "protocol" in response.json()["fields"]


def test_an_unknown_patient_is_a_field_error(desk_api):
    response = desk_api.post("/api/courses/", {"patient": 999999, "protocol": "esketamine-trd",
                                               "start_date": "2026-01-05"}, format="json")
    assert response.status_code == 400
    assert "patient" in response.json()["fields"]


@pytest.mark.parametrize("days", [366, -366])
def test_a_start_date_more_than_a_year_away_is_refused(desk_api, patient, days):
    response = start(desk_api, patient, start_date=(timezone.localdate() + timedelta(days=days)).isoformat())
    assert response.status_code == 400
    assert "start_date" in response.json()["fields"]


def test_a_start_date_a_year_ahead_is_accepted(desk_api, patient):
    response = start(desk_api, patient, start_date=(timezone.localdate() + timedelta(days=365)).isoformat())
    assert response.status_code == 201
    assert response.json()["timing"] == "on_track"


def test_a_second_open_course_of_the_same_modality_is_refused(desk_api, patient):
    # given
    first = start(desk_api, patient).json()
    # when
    response = start(desk_api, patient, protocol="esketamine-mdsi")
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "course_exists"
    assert response.json()["course"] == first["id"]


def test_a_paused_course_still_blocks_a_second_one(desk_api, patient):
    TreatmentCourseFactory(patient=patient, status=CourseStatus.PAUSED, paused_at=timezone.now())
    response = start(desk_api, patient)
    assert response.status_code == 409
    assert response.json()["code"] == "course_exists"


def test_courses_of_different_modalities_may_run_side_by_side(desk_api, patient):
    start(desk_api, patient)
    response = start(desk_api, patient, protocol="ketamine-iv-series")
    assert response.status_code == 201


def test_a_new_course_may_start_once_the_old_one_is_discontinued(desk_api, patient):
    TreatmentCourseFactory(patient=patient, status=CourseStatus.DISCONTINUED, discontinued_reason="moved")
    response = start(desk_api, patient)
    assert response.status_code == 201


def test_the_database_turns_a_racing_second_course_into_course_exists(desk_api, patient, monkeypatch):
    # given: the friendly check misses a course another request just created
    TreatmentCourseFactory(patient=patient)
    monkeypatch.setattr(services, "_open_course", lambda patient, modality: None)
    # when
    response = start(desk_api, patient)
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "course_exists"


def test_an_archived_patient_cannot_start_a_course(desk_api, patient, front_desk):
    patient.archive(by=front_desk)
    response = start(desk_api, patient)
    assert response.status_code == 409
    assert response.json()["code"] == "patient_archived"


# --- eligibility -------------------------------------------------------------


@pytest.mark.parametrize("finding", ESKETAMINE_HARD_STOPS)
def test_each_esketamine_hard_stop_refuses_the_course(clinician_api, finding):
    # given
    patient = PatientFactory(**{finding: True})
    # when
    response = start(clinician_api, patient, override_reason="I accept the risk.")
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "not_eligible"
    assert reason_codes(response) == [finding]
    assert not TreatmentCourse.objects.exists()


def test_ketamine_hypersensitivity_is_a_hard_stop_for_iv_ketamine_too(desk_api):
    patient = PatientFactory(ketamine_hypersensitivity=True)
    response = start(desk_api, patient, protocol="ketamine-iv-series")
    assert response.status_code == 409
    assert response.json()["code"] == "not_eligible"


def test_every_reason_is_listed_when_several_apply(desk_api):
    # given
    patient = PatientFactory(aneurysmal_vascular_disease=True, intracerebral_hemorrhage_history=True,
                             diagnosis="bipolar")
    # when
    response = start(desk_api, patient)
    # then
    assert response.status_code == 409
    assert reason_codes(response) == ["aneurysmal_vascular_disease", "intracerebral_hemorrhage_history",
                                      "diagnosis_not_mdd"]
    assert all(reason["message"] for reason in response.json()["reasons"])


@pytest.mark.parametrize(
    "protocol, patient_values, code",
    [
        ("esketamine-trd", {"diagnosis": "bipolar"}, "diagnosis_not_mdd"),
        ("esketamine-trd", {"pregnant": True}, "pregnant"),
        *[("ketamine-iv-series", {finding: True}, finding) for finding in IV_OVERRIDE_CASES],
    ],
)
def test_a_case_needing_an_override_is_refused_without_a_reason(desk_api, protocol, patient_values, code):
    patient = PatientFactory(**patient_values)
    response = start(desk_api, patient, protocol=protocol)
    assert response.status_code == 409
    assert response.json()["code"] == "override_required"
    assert reason_codes(response) == [code]


def test_a_clinicians_override_starts_the_course_and_is_shown_on_it(clinician_api, clinician):
    # given
    patient = PatientFactory(diagnosis="bipolar")
    # when
    response = start(clinician_api, patient, override_reason="  Stable on lithium; off-label use consented. ")
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["override_reason"] == "Stable on lithium; off-label use consented."
    assert body["override_by"] == clinician.id
    assert body["override_findings"] == ["diagnosis_not_mdd"]
    assert "override_on_file" in body["flags"]
    shown = clinician_api.get(f"/api/courses/{body['id']}/").json()
    assert shown["override_reason"] == body["override_reason"]


@pytest.mark.parametrize("who", ["desk_api", "manager_api"])
def test_only_a_clinician_may_send_an_override_reason(request, who):
    patient = PatientFactory(diagnosis="bipolar")
    response = start(request.getfixturevalue(who), patient, override_reason="Seems fine.")
    assert response.status_code == 403
    assert response.json()["code"] == "override_needs_clinician"


def test_an_override_with_nothing_to_override_is_a_field_error(clinician_api, patient):
    response = start(clinician_api, patient, override_reason="Just in case.")
    assert response.status_code == 400
    assert "override_reason" in response.json()["fields"]


def test_an_unenrolled_patient_on_esketamine_is_flagged(desk_api):
    patient = PatientFactory(rems_enrolled_on=None, rems_patient_id="")
    esketamine = start(desk_api, patient).json()
    infusion = start(desk_api, patient, protocol="ketamine-iv-series").json()
    assert "rems_enrolment_missing" in esketamine["flags"]
    assert "rems_enrolment_missing" not in infusion["flags"]


def test_a_user_without_a_role_cannot_start_a_course(api_as, no_role_user, patient):
    assert start(api_as(no_role_user), patient).status_code == 403
