"""Booking through FHIR: POST /fhir/Appointment and $book go through the booking service, refuse with its codes.

The clinic is ``fhir_world`` (Monday 2 March 2026, 09:00 in New York). A new
patient's IV course starts on Tuesday 3 March, so session 1 is due 3-10 March;
Infusion 1 at Midtown is free on Tuesday at 13:00 (18:00 UTC).
"""

from __future__ import annotations

from datetime import date, time

import pytest
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.operationoutcome import OperationOutcome

from clinic.roles import CLINICIAN, FRONT_DESK
from protocols.models import CourseStatus
from scheduling.fhir import ids
from scheduling.fhir.appointments import AUTHORISATION_EXTENSION, OVERRIDE_EXTENSION
from scheduling.fhir.codes import TREATMENT_SYSTEM
from scheduling.models import Session, SessionStatus
from tests.conftest import NOW
from tests.factories import ChairFactory, PatientFactory, TreatmentCourseFactory, standard_protocol
from tests.scheduling.fhir.fhir_world import TUESDAY, read

WEDNESDAY_NEXT_WEEK = date(2026, 3, 11)  # past session 1's latest day (10 March)


def _slot(chair, day: date = TUESDAY, hour: int = 13) -> str:
    return f"Slot/{ids.slot_id(chair.pk, chair.location.at(day, time(hour)))}"


def _appointment(patient, slot: str, *, status: str = "proposed", **more) -> dict:
    return {"resourceType": "Appointment", "status": status, "slot": [{"reference": slot}],
            "participant": [{"actor": {"reference": f"Patient/{patient.pk}"}, "status": "accepted"},
                            *more.pop("participants", [])], **more}


def _course(slug: str = "ketamine-iv-series", *, patient=None, **fields):
    return TreatmentCourseFactory(patient=patient or PatientFactory(), protocol=standard_protocol(slug),
                                  start_date=TUESDAY, **fields)


def _refused(response, status: int, code: str) -> OperationOutcome:
    assert response.status_code == status, response.content
    outcome = read(response, OperationOutcome)
    assert outcome.issue[0].details.coding[0].code == code, outcome.issue[0].diagnostics
    return outcome


def _invalid(response, *, status: int = 400) -> OperationOutcome:
    assert response.status_code == status, response.content
    return read(response, OperationOutcome)


@pytest.fixture
def infusion(fhir_world):
    return fhir_world.chairs["infusion"]


@pytest.fixture
def iv_course(desk):
    return _course()


# --- booking --------------------------------------------------------------------------------------------------


def test_posting_an_appointment_for_a_slot_books_the_patients_course_there(fhir_world, desk, infusion, iv_course):
    # when
    response = desk.post("/fhir/Appointment", _appointment(iv_course.patient, _slot(infusion)), format="json")
    # then
    assert response.status_code == 201, response.content
    appointment = read(response, Appointment)
    session = Session.objects.get(pk=appointment.id)
    assert (session.course, session.chair, session.start) == (iv_course, infusion, infusion.location.at(TUESDAY,
                                                                                                          time(13)))
    assert response["Location"] == f"http://testserver/fhir/Appointment/{session.pk}"
    assert appointment.status == "booked"
    assert appointment.slot[0].reference == _slot(infusion)


@pytest.mark.parametrize("wrapped", [True, False], ids=["parameters", "appointment"])
def test_book_operation_takes_parameters_or_an_appointment(fhir_world, desk, infusion, iv_course, wrapped):
    body = _appointment(iv_course.patient, _slot(infusion))
    if wrapped:
        body = {"resourceType": "Parameters", "parameter": [{"name": "appointment", "resource": body}]}
    response = desk.post("/fhir/Appointment/$book", body, format="json")
    assert response.status_code == 201, response.content
    assert read(response, Appointment).participant[0].actor.reference == f"Patient/{iv_course.patient_id}"


def test_the_practitioner_named_is_the_sessions_clinician(fhir_world, desk, infusion, iv_course):
    # given
    robin = fhir_world.users["robin"]
    infusion.location.staff.add(robin)
    body = _appointment(iv_course.patient, _slot(infusion),
                        participants=[{"actor": {"reference": f"Practitioner/{robin.pk}"}, "status": "accepted"}])
    # when
    response = desk.post("/fhir/Appointment", body, format="json")
    # then
    assert response.status_code == 201, response.content
    assert Session.objects.get(pk=read(response, Appointment).id).clinician == robin


def test_service_type_picks_the_course_when_the_patient_has_one_of_each_treatment(fhir_world, desk):
    # given: an esketamine and an IV course, and a chair that gives both
    patient = PatientFactory()
    _course("esketamine-trd", patient=patient)
    iv = _course(patient=patient)
    both = ChairFactory(location=fhir_world.sites["midtown"], name="Both", has_infusion_pump=True)
    body = _appointment(patient, _slot(both))
    # when: without saying which, then saying IV
    unclear = desk.post("/fhir/Appointment", body, format="json")
    body["serviceType"] = [{"coding": [{"system": TREATMENT_SYSTEM, "code": "ketamine-iv"}]}]
    response = desk.post("/fhir/Appointment", body, format="json")
    # then
    assert _invalid(unclear).issue[0].expression == ["Appointment.serviceType"]
    assert response.status_code == 201, response.content
    assert Session.objects.get(pk=read(response, Appointment).id).course == iv


def test_one_slot_booked_by_two_requests_is_taken_by_one_and_refused_to_the_other(fhir_world, desk, infusion):
    # given
    first, second = _course(), _course()
    # when
    taken = desk.post("/fhir/Appointment", _appointment(first.patient, _slot(infusion)), format="json")
    refused = desk.post("/fhir/Appointment", _appointment(second.patient, _slot(infusion)), format="json")
    # then
    assert taken.status_code == 201, taken.content
    assert _refused(refused, 409, "chair_conflict").issue[0].code == "conflict"
    assert Session.objects.filter(chair=infusion, start=infusion.location.at(TUESDAY, time(13))).count() == 1


# --- each refusal of the booking service, with the REST API's status and code -------------------------------------


REFUSALS = {
    # name: (chair, day, hour, course kwargs, status, code)
    "in_the_past": ("infusion", date(2026, 3, 2), 8, {}, 409, "in_the_past"),
    "chair_inactive": ("retired", TUESDAY, 13, {"slug": "esketamine-trd"}, 409, "chair_inactive"),
    "modality_mismatch": ("chair1", TUESDAY, 13, {}, 409, "modality_mismatch"),
    "not_rems_certified": ("west", TUESDAY, 10, {"slug": "esketamine-trd"}, 409, "not_rems_certified"),
    "outside_hours": ("infusion", TUESDAY, 19, {}, 409, "outside_hours"),
    "outside_due_window": ("infusion", WEDNESDAY_NEXT_WEEK, 13, {}, 409, "outside_due_window"),
    "course_not_active": ("infusion", TUESDAY, 13, {"status": CourseStatus.PAUSED, "paused_at": NOW}, 409,
                          "course_not_active"),
}


@pytest.mark.parametrize("name", REFUSALS)
def test_a_booking_the_service_refuses_is_an_outcome_with_the_rest_apis_status_and_code(fhir_world, desk, name):
    # given
    chair, day, hour, course, status, code = REFUSALS[name]
    course = _course(course.pop("slug", "ketamine-iv-series"), **course)
    chair = fhir_world.chairs[chair]
    # when
    response = desk.post("/fhir/Appointment", _appointment(course.patient, _slot(chair, day, hour)), format="json")
    # then
    outcome = _refused(response, status, code)
    assert outcome.issue[0].code in ("conflict", "business-rule")
    assert not Session.objects.filter(course=course).exists()


def test_a_patient_already_in_a_chair_then_is_a_patient_conflict(fhir_world, desk):
    # given: Alex is booked on Chair 1 on Tuesday at 09:00; a second esketamine chair is free then
    chair2 = ChairFactory(location=fhir_world.sites["midtown"], name="Chair 2")
    # when
    response = desk.post("/fhir/Appointment", _appointment(fhir_world.session.patient, _slot(chair2, hour=9)),
                         format="json")
    # then
    _refused(response, 409, "patient_conflict")


def test_a_second_session_of_a_course_on_one_day_is_refused_as_same_day(fhir_world, desk, infusion, iv_course):
    assert desk.post("/fhir/Appointment", _appointment(iv_course.patient, _slot(infusion)),
                     format="json").status_code == 201
    response = desk.post("/fhir/Appointment", _appointment(iv_course.patient, _slot(infusion, hour=16)),
                         format="json")
    _refused(response, 409, "same_day")


def test_a_clinician_with_no_room_left_is_a_clinician_capacity_refusal(fhir_world, desk, infusion):
    # given: Robin, Midtown's only clinician, may have one patient in treatment at once and has one at 13:00
    site = fhir_world.sites["midtown"]
    site.staff.add(fhir_world.users["robin"])
    site.max_in_treatment_per_clinician = 1
    site.save(update_fields=["max_in_treatment_per_clinician"])
    second_pump = ChairFactory(location=site, name="Infusion 2", serves_esketamine=False, has_infusion_pump=True)
    first, second = _course(), _course()
    assert desk.post("/fhir/Appointment", _appointment(first.patient, _slot(infusion)),
                     format="json").status_code == 201
    # when
    response = desk.post("/fhir/Appointment", _appointment(second.patient, _slot(second_pump)), format="json")
    # then
    _refused(response, 409, "clinician_capacity")


def test_an_archived_patient_and_a_patient_without_a_course_cannot_be_booked(fhir_world, desk, infusion):
    # given
    _course(patient=fhir_world.archived)
    no_course = PatientFactory()
    # when
    archived = desk.post("/fhir/Appointment", _appointment(fhir_world.archived, _slot(infusion)), format="json")
    without = desk.post("/fhir/Appointment", _appointment(no_course, _slot(infusion)), format="json")
    # then
    _refused(archived, 409, "patient_archived")
    _refused(without, 409, "no_course")


def test_outside_the_due_window_only_a_clinician_may_book_with_a_reason(fhir_world, desk, infusion, iv_course,
                                                                         api_as):
    # given
    body = _appointment(iv_course.patient, _slot(infusion, WEDNESDAY_NEXT_WEEK),
                        extension=[{"url": OVERRIDE_EXTENSION, "valueString": "Travelling until the 10th"}])
    # when
    by_desk = desk.post("/fhir/Appointment", body, format="json")
    by_clinician = api_as(fhir_world.users[CLINICIAN]).post("/fhir/Appointment", body, format="json")
    # then
    _refused(by_desk, 403, "override_needs_clinician")
    assert by_clinician.status_code == 201, by_clinician.content
    assert Session.objects.get(pk=read(by_clinician, Appointment).id).override_reason == "Travelling until the 10th"


def test_beyond_the_prior_authorisation_only_a_clinician_or_manager_may_book_with_a_reason(
        fhir_world, desk, api_as, prior_authorisation_checks_all):
    # given: an esketamine course (its protocol needs prior authorisation) with none approved
    course = _course("esketamine-trd")
    chair1 = fhir_world.chairs["chair1"]
    body = _appointment(course.patient, _slot(chair1))
    # when
    refused = desk.post("/fhir/Appointment", body, format="json")
    body["extension"] = [{"url": AUTHORISATION_EXTENSION, "valueString": "Renewal sent to the payer"}]
    by_desk = desk.post("/fhir/Appointment", body, format="json")
    by_clinician = api_as(fhir_world.users[CLINICIAN]).post("/fhir/Appointment", body, format="json")
    # then
    assert _refused(refused, 409, "no_authorisation").issue[0].code == "business-rule"
    _refused(by_desk, 403, "authorisation_override_not_allowed")
    assert by_clinician.status_code == 201, by_clinician.content
    session = Session.objects.get(pk=read(by_clinician, Appointment).id)
    assert session.authorisation_override_reason == "Renewal sent to the payer"


# --- input that is not a booking --------------------------------------------------------------------------------


SOMEONE = [{"actor": {"reference": "Patient/1"}, "status": "accepted"}]


@pytest.mark.parametrize(("body", "where"), [
    ({"resourceType": "Patient", "id": "1"}, ["resourceType"]),
    ({"resourceType": "Appointment", "status": "proposed"}, None),  # no participant: the library refuses it
    ({"resourceType": "Appointment", "status": "proposed", "participant": SOMEONE}, ["Appointment.slot"]),
    ({"resourceType": "Appointment", "status": "proposed", "participant": SOMEONE,
      "slot": [{"reference": "Slot/not-a-slot"}]}, ["Slot"]),
    ({"resourceType": "Appointment", "status": "proposed", "participant": SOMEONE,
      "slot": [{"reference": "Slot/999999-202603031800"}]}, ["Appointment.slot"]),
    ({"resourceType": "Appointment", "status": "cancelled", "participant": SOMEONE,
      "slot": [{"reference": "Slot/1-202603031800"}]}, ["Appointment.status"]),
    ({"resourceType": "Appointment", "status": "proposed", "participant": SOMEONE, "start": "tomorrow"}, None),
    ([], None),
])
def test_a_body_that_is_no_booking_is_a_400_outcome(fhir_world, desk, body, where):
    outcome = _invalid(desk.post("/fhir/Appointment", body, format="json"))
    if where is not None:
        assert outcome.issue[0].expression == where


def test_a_body_that_is_not_json_is_a_400_outcome(fhir_world, desk):
    response = desk.generic("POST", "/fhir/Appointment", "{not json", content_type="application/fhir+json")
    assert _invalid(response).issue[0].code == "invalid"


def test_an_unknown_patient_or_practitioner_is_a_400_outcome_naming_the_participant(fhir_world, desk, infusion,
                                                                                   iv_course):
    # given
    stranger = {"resourceType": "Appointment", "status": "proposed", "slot": [{"reference": _slot(infusion)}],
                "participant": [{"actor": {"reference": "Patient/999999999"}, "status": "accepted"}]}
    no_clinician = _appointment(iv_course.patient, _slot(infusion), participants=[
        {"actor": {"reference": "Practitioner/999999999"}, "status": "accepted"}])
    not_a_clinician = _appointment(iv_course.patient, _slot(infusion), participants=[
        {"actor": {"reference": f"Practitioner/{fhir_world.users[FRONT_DESK].pk}"}, "status": "accepted"}])
    # when / then
    for body in (stranger, no_clinician, not_a_clinician):
        outcome = _invalid(desk.post("/fhir/Appointment", body, format="json"))
        assert outcome.issue[0].code == "not-found"
        assert outcome.issue[0].expression[0].startswith("Appointment.participant[")


def test_a_location_other_than_the_slots_is_refused(fhir_world, desk, infusion, iv_course):
    body = _appointment(iv_course.patient, _slot(infusion), participants=[
        {"actor": {"reference": f"Location/site-{fhir_world.sites['westside'].pk}"}, "status": "accepted"}])
    assert _invalid(desk.post("/fhir/Appointment", body, format="json")).issue[0].code == "invalid"


def test_book_with_parameters_but_no_appointment_is_a_400_outcome(fhir_world, desk):
    body = {"resourceType": "Parameters", "parameter": [{"name": "slot", "valueString": "Slot/1-202603031800"}]}
    assert _invalid(desk.post("/fhir/Appointment/$book", body, format="json")).issue[0].code == "invalid"


def test_nothing_is_booked_for_a_user_without_a_clinic_role(fhir_world, desk, infusion, iv_course, api_as):
    response = api_as(fhir_world.users["no_role"]).post(
        "/fhir/Appointment", _appointment(iv_course.patient, _slot(infusion)), format="json")
    assert _invalid(response, status=403).issue[0].code == "forbidden"
    assert not Session.objects.filter(course=iv_course, status=SessionStatus.BOOKED).exists()
