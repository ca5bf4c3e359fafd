"""FHIR Patient, Practitioner and CarePlan: each mapping, each search parameter, paging, and the access log."""

from __future__ import annotations

from datetime import date

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from rest_framework.test import APIClient

from clinic.roles import CLINICIAN, MANAGER
from patients.models import PatientAccess
from tests.scheduling.fhir.fhir_world import every_page, ids_of, read

MRN = "urn:clinic:mrn"


def _search(client, query: str) -> Bundle:
    response = client.get(f"/fhir/Patient?{query}")
    assert response.status_code == 200, response.content
    return read(response, Bundle)


def _names(bundle: Bundle) -> list[str]:
    return [entry.resource.name[0].given[0] for entry in bundle.entry or []]


# --- Patient: read --------------------------------------------------------------------------------------------


def test_a_patient_reads_as_fhir_with_mrn_name_gender_birth_date_and_phone(desk, fhir_world):
    # given
    alex = fhir_world.patients[0]
    # when
    patient = read(desk.get(f"/fhir/Patient/{alex.pk}"), Patient)
    # then
    assert patient.id == str(alex.pk)
    assert (patient.identifier[0].system, patient.identifier[0].value) == (MRN, "B00000")
    assert (patient.name[0].family, patient.name[0].given) == ("Rivera", ["Alex"])
    assert (patient.gender, patient.birthDate, patient.active) == ("female", date(1980, 5, 17), True)
    assert [(t.system, t.value) for t in patient.telecom] == [("phone", alex.phone)]


def test_an_archived_patient_reads_inactive_with_the_preferred_name_as_usual(desk, fhir_world):
    patient = read(desk.get(f"/fhir/Patient/{fhir_world.archived.pk}"), Patient)
    assert patient.active is False and patient.telecom is None
    assert [(name.use, name.given) for name in patient.name] == [("official", ["Kimberly"]), ("usual", ["Kim"])]


def test_reading_a_patient_writes_the_access_log(desk, fhir_world):
    alex = fhir_world.patients[0]
    desk.get(f"/fhir/Patient/{alex.pk}")
    entry = PatientAccess.objects.filter(patient=alex).latest("id")
    assert (entry.channel, entry.path, entry.user.username) == ("api", f"/fhir/Patient/{alex.pk}", "f_desk")


@pytest.mark.parametrize("resource_id", ["999999", "abc", "0", "99999999999999999999"])
def test_an_unknown_patient_is_a_404_outcome(desk, resource_id):
    response = desk.get(f"/fhir/Patient/{resource_id}")
    assert response.status_code == 404
    assert read(response, OperationOutcome).issue[0].code == "not-found"


def test_a_bearer_token_reads_as_the_api_token_does(fhir_world, db):
    response = APIClient().get(f"/fhir/Patient/{fhir_world.patients[0].pk}",
                               HTTP_AUTHORIZATION=f"Bearer {fhir_world.token}")
    assert read(response, Patient).id == str(fhir_world.patients[0].pk)


@pytest.mark.parametrize("role", [CLINICIAN, MANAGER])
def test_every_staff_role_may_read_a_patient(fhir_world, db, role):
    assert fhir_world.clients[role].get(f"/fhir/Patient/{fhir_world.patients[0].pk}").status_code == 200


# --- Patient: search ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", [f"identifier={MRN}|B00002", "identifier=b00002", "identifier=|B00002"])
def test_a_patient_is_found_by_mrn_with_or_without_the_system(desk, query):
    assert _names(_search(desk, query)) == ["Casey"]


def test_an_mrn_of_another_system_finds_no_one(desk):
    bundle = _search(desk, "identifier=http://other.example/mrn|B00002")
    assert (bundle.total, bundle.entry) == (0, None)


@pytest.mark.parametrize(("query", "expected"), [
    ("name=riv&_count=3", ["Alex", "Blair", "Casey"]),
    ("name=ALEX", ["Alex"]),
    ("given=kim", ["Kimberly"]),
    ("family=ode", ["Kimberly"]),
    ("name:exact=Rivera&_count=1", ["Alex"]),
    ("name:exact=rivera", []),
    ("name:contains=lyn", ["Flynn"]),
    ("name=dana,eli", ["Dana", "Eli"]),
    ("name=riv&given=bl", ["Blair"]),
])
def test_patients_are_found_by_name_from_its_start_in_any_case(desk, query, expected):
    assert _names(_search(desk, query)) == expected


@pytest.mark.parametrize(("query", "expected"), [
    ("birthdate=1980-05-17", ["Alex"]),
    ("birthdate=1980", ["Alex", "Blair"]),
    ("birthdate=ge1980-12-31&birthdate=le1981-01-01", ["Blair", "Casey"]),
    ("birthdate=gt1990-07-04&family=rivera", ["Flynn"]),
    ("birthdate=lt1980-01-01", ["Eli"]),
    ("birthdate=2000-02", ["Flynn"]),
])
def test_patients_are_found_by_birthdate_with_prefixes(desk, query, expected):
    assert _names(_search(desk, query)) == expected


def test_active_false_finds_the_archived_patients(desk):
    assert _names(_search(desk, "active=false")) == ["Kimberly"]


def test_following_next_pages_through_every_match_once(desk, fhir_world):
    # when
    found, bundles = every_page(desk, "/fhir/Patient?family=rivera&_count=4", Bundle)
    # then
    assert found == [str(patient.pk) for patient in fhir_world.patients]
    assert [bundle.total for bundle in bundles] == [6, 6]
    last = {link.relation: link.url for link in bundles[-1].link}
    assert "next" not in last and last["previous"].endswith("_count=4&_offset=0")
    assert _names(read(desk.get(last["previous"]), Bundle)) == ["Alex", "Blair", "Casey", "Dana"]


def test_a_search_logs_each_patient_on_the_page(desk, fhir_world):
    before = PatientAccess.objects.count()
    _search(desk, "family=rivera&_count=2")
    logged = PatientAccess.objects.order_by("-id")[:2]
    assert PatientAccess.objects.count() == before + 2
    assert {entry.patient_id for entry in logged} == {p.pk for p in fhir_world.patients[:2]}


def test_a_search_reads_in_a_fixed_number_of_queries(desk, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):  # count, page, access log (+ the savepoint of the log's insert)
        _search(desk, "family=rivera&_count=50")


@pytest.mark.parametrize(("query", "status"), [
    ("nickname=al", 400), ("birthdate=1980-02-30", 400), ("birthdate=ne1980", 400), ("active=maybe", 400),
    ("_count=x", 400), ("name:fuzzy=al", 400),
])
def test_a_bad_or_unknown_parameter_is_a_400_outcome(desk, query, status):
    response = desk.get(f"/fhir/Patient?{query}")
    assert response.status_code == status
    assert read(response, OperationOutcome).issue[0].severity == "error"


def test_an_unknown_parameter_is_ignored_when_the_client_prefers_lenient(desk):
    response = desk.get("/fhir/Patient?nickname=al&name=alex", HTTP_PREFER="handling=lenient")
    assert _names(read(response, Bundle)) == ["Alex"]


def test_a_search_is_read_only_so_other_methods_are_a_405_outcome(desk):
    response = desk.post("/fhir/Patient", {"resourceType": "Patient"}, format="json")
    assert response.status_code == 405
    assert read(response, OperationOutcome).issue[0].code == "not-supported"


# --- Practitioner ---------------------------------------------------------------------------------------------


def test_a_clinician_reads_as_a_practitioner(desk, fhir_world):
    casey = fhir_world.users[CLINICIAN]
    practitioner = read(desk.get(f"/fhir/Practitioner/{casey.pk}"), Practitioner)
    assert (practitioner.name[0].family, practitioner.name[0].given, practitioner.active) == ("Nurse", ["Casey"], True)


def test_a_user_who_is_not_a_clinician_is_no_practitioner(desk, fhir_world):
    assert desk.get(f"/fhir/Practitioner/{fhir_world.users[MANAGER].pk}").status_code == 404


@pytest.mark.parametrize(("query", "expected"), [("", ["Nurse", "Okafor"]), ("name=rob", ["Okafor"]),
                                                 ("name=NURSE", ["Nurse"]), ("family=oka", ["Okafor"]),
                                                 ("name=desk", [])])
def test_practitioners_are_the_clinicians_found_by_name(desk, query, expected):
    bundle = read(desk.get(f"/fhir/Practitioner?{query}"), Bundle)
    assert [entry.resource.name[0].family for entry in bundle.entry or []] == expected


# --- CarePlan -------------------------------------------------------------------------------------------------


def test_a_course_reads_as_a_care_plan_with_its_protocol_phase_and_patient(desk, fhir_world):
    # given
    course = fhir_world.courses["active"]
    # when
    plan = read(desk.get(f"/fhir/CarePlan/{course.pk}"), CarePlan)
    # then
    assert (plan.status, plan.intent, plan.title) == ("active", "plan", course.protocol.name)
    assert plan.subject.reference == f"Patient/{course.patient_id}"
    assert plan.instantiatesUri == ["urn:clinic:protocol:esketamine-trd"]
    assert plan.period.start == date(2026, 2, 2)
    extensions = {extension.url.rsplit("/", 1)[-1]: extension for extension in plan.extension}
    assert extensions["treatment-phase"].valueString == "Induction"
    assert plan.activity[0].detail.status == "in-progress"
    assert PatientAccess.objects.filter(patient_id=course.patient_id, path=f"/fhir/CarePlan/{course.pk}").exists()


@pytest.mark.parametrize(("course", "status"), [("paused", "on-hold"), ("ended", "revoked")])
def test_a_care_plans_status_is_its_courses(desk, fhir_world, course, status):
    plan = read(desk.get(f"/fhir/CarePlan/{fhir_world.courses[course].pk}"), CarePlan)
    assert plan.status == status


@pytest.mark.parametrize(("query", "expected"), [
    ("patient=Patient/{alex}", ["active", "ended"]),
    ("subject={alex}", ["active", "ended"]),
    ("patient=Patient/{alex}&status=active", ["active"]),
    ("status=on-hold", ["paused"]),
    ("status=revoked,completed", ["ended"]),
    ("status=draft", []),
    ("category=ketamine-iv", ["paused", "ended"]),
])
def test_care_plans_are_found_by_patient_and_status(desk, fhir_world, query, expected):
    bundle = read(desk.get("/fhir/CarePlan?" + query.format(alex=fhir_world.patients[0].pk)), Bundle)
    by_id = {str(course.pk): name for name, course in fhir_world.courses.items()}
    assert [by_id[pk] for pk in ids_of(bundle)] == expected


@pytest.mark.parametrize("query", ["status=stopped", "patient=Practitioner/1", "goal=x"])
def test_a_care_plan_search_refuses_what_it_cannot_read(desk, query):
    response = desk.get(f"/fhir/CarePlan?{query}")
    assert response.status_code == 400
    read(response, OperationOutcome)


# --- search by POST -------------------------------------------------------------------------------------------


def test_a_search_posted_as_a_form_finds_what_the_same_get_finds(desk):
    # when
    posted = desk.post("/fhir/Patient/_search?_count=3", "family=rivera&birthdate=ge1980-06-01",
                       content_type="application/x-www-form-urlencoded")
    # then
    assert ids_of(read(posted, Bundle)) == ids_of(_search(desk, "family=rivera&birthdate=ge1980-06-01&_count=3"))


def test_a_posted_search_whose_body_is_not_a_form_is_a_415_outcome(desk):
    response = desk.post("/fhir/Patient/_search", {"family": "rivera"}, format="json")
    assert response.status_code == 415
    assert read(response, OperationOutcome).issue[0].code == "not-supported"
