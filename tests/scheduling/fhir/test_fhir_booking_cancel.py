"""Cancelling through FHIR: PUT or JSON Patch of an Appointment's status goes through cancel_session; nothing else
may change.

``fhir_world``'s session is Alex's, booked on Chair 1 for Tuesday 3 March at 09:00; it is Monday 09:00.
"""

from __future__ import annotations

import json
from datetime import date, time

import pytest
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.operationoutcome import OperationOutcome

from scheduling.fhir.booking import NO_REASON_GIVEN
from scheduling.models import Session, SessionStatus
from tests.factories import SessionRowFactory
from tests.scheduling.fhir.fhir_world import read

PATCH = "application/json-patch+json"


def _current(desk, session) -> dict:
    response = desk.get(f"/fhir/Appointment/{session.pk}")
    assert response.status_code == 200, response.content
    return response.json()


def _outcome(response, status: int) -> OperationOutcome:
    assert response.status_code == status, response.content
    return read(response, OperationOutcome)


def _patch(desk, session, operations):
    return desk.generic("PATCH", f"/fhir/Appointment/{session.pk}", json.dumps(operations), content_type=PATCH)


def test_putting_the_appointment_back_as_cancelled_cancels_the_session_with_the_reason(fhir_world, desk):
    # given: the appointment as the client read it
    session = fhir_world.session
    body = _current(desk, session) | {"status": "cancelled", "cancelationReason": {"text": "Car broke down"}}
    # when
    response = desk.put(f"/fhir/Appointment/{session.pk}", body, format="json")
    # then
    assert response.status_code == 200, response.content
    appointment = read(response, Appointment)
    assert (appointment.status, appointment.cancelationReason.text) == ("cancelled", "Car broke down")
    session.refresh_from_db()
    assert (session.status, session.cancel_reason) == (SessionStatus.CANCELLED, "Car broke down")


def test_a_json_patch_of_the_status_cancels_too_and_says_no_reason_was_given(fhir_world, desk):
    # when
    response = _patch(desk, fhir_world.session, [{"op": "test", "path": "/status", "value": "booked"},
                                                 {"op": "replace", "path": "/status", "value": "cancelled"}])
    # then
    assert response.status_code == 200, response.content
    assert read(response, Appointment).status == "cancelled"
    assert Session.objects.get(pk=fhir_world.session.pk).cancel_reason == NO_REASON_GIVEN


def test_a_patch_may_set_the_reason_with_the_status(fhir_world, desk):
    response = _patch(desk, fhir_world.session, [{"op": "replace", "path": "/status", "value": "cancelled"},
                                                 {"op": "add", "path": "/cancelationReason/text", "value": "Sick"}])
    assert read(response, Appointment).cancelationReason.text == "Sick"


def test_putting_it_unchanged_changes_nothing(fhir_world, desk):
    session = fhir_world.session
    response = desk.put(f"/fhir/Appointment/{session.pk}", _current(desk, session), format="json")
    assert read(response, Appointment).status == "booked"
    assert Session.objects.get(pk=session.pk).status == SessionStatus.BOOKED


@pytest.mark.parametrize("change", [
    {"start": "2026-03-03T15:00:00Z"},
    {"participant": [{"actor": {"reference": "Patient/1"}, "status": "accepted"}]},
    {"status": "arrived"},
    {"minutesDuration": 30},
])
def test_any_other_change_is_a_422_not_supported_and_leaves_the_session_as_it_was(fhir_world, desk, change):
    # given
    session = fhir_world.session
    body = _current(desk, session) | change
    # when
    response = desk.put(f"/fhir/Appointment/{session.pk}", body, format="json")
    # then
    assert _outcome(response, 422).issue[0].code == "not-supported"
    assert Session.objects.get(pk=session.pk).status == SessionStatus.BOOKED


def test_a_time_sent_in_another_offset_is_the_same_time(fhir_world, desk):
    session = fhir_world.session
    body = _current(desk, session) | {"start": "2026-03-03T09:00:00-05:00", "status": "cancelled"}
    assert read(desk.put(f"/fhir/Appointment/{session.pk}", body, format="json"), Appointment).status == "cancelled"


@pytest.mark.parametrize("operations", [
    [{"op": "replace", "path": "/start", "value": "2026-03-03T15:00:00Z"}],
    [{"op": "remove", "path": "/status"}],
])
def test_a_patch_of_anything_but_the_status_and_reason_is_a_422(fhir_world, desk, operations):
    assert _outcome(_patch(desk, fhir_world.session, operations), 422).issue[0].code == "not-supported"


def test_a_patch_whose_test_fails_is_a_409_and_changes_nothing(fhir_world, desk):
    response = _patch(desk, fhir_world.session, [{"op": "test", "path": "/status", "value": "arrived"},
                                                 {"op": "replace", "path": "/status", "value": "cancelled"}])
    _outcome(response, 409)
    assert Session.objects.get(pk=fhir_world.session.pk).status == SessionStatus.BOOKED


def test_a_patch_that_is_not_json_patch_is_refused(fhir_world, desk):
    session = fhir_world.session
    plain = desk.generic("PATCH", f"/fhir/Appointment/{session.pk}", json.dumps({"status": "cancelled"}),
                         content_type="application/fhir+json")
    malformed = _patch(desk, session, {"op": "replace"})
    assert _outcome(plain, 415).issue[0].code == "not-supported"
    assert _outcome(malformed, 400).issue[0].code == "invalid"


def test_cancelling_a_discharged_session_is_the_services_409(fhir_world, desk):
    # given
    done = SessionRowFactory(chair=fhir_world.chairs["chair1"], status=SessionStatus.DISCHARGED,
                             start=fhir_world.sites["midtown"].at(date(2026, 2, 27), time(9)))
    body = _current(desk, done) | {"status": "cancelled"}
    # when
    response = desk.put(f"/fhir/Appointment/{done.pk}", body, format="json")
    # then
    assert _outcome(response, 409).issue[0].details.coding[0].code == "invalid_state"


def test_a_no_show_before_the_start_is_the_services_409(fhir_world, desk):
    session = fhir_world.session
    response = desk.put(f"/fhir/Appointment/{session.pk}", _current(desk, session) | {"status": "noshow"},
                        format="json")
    assert _outcome(response, 409).issue[0].details.coding[0].code == "not_started"


def test_a_body_for_another_appointment_or_no_appointment_is_refused(fhir_world, desk):
    session = fhir_world.session
    other = desk.put(f"/fhir/Appointment/{session.pk}", _current(desk, session) | {"id": "12345"}, format="json")
    missing = desk.put("/fhir/Appointment/999999999", _current(desk, session) | {"id": "999999999"}, format="json")
    assert _outcome(other, 400).issue[0].expression == ["Appointment.id"]
    assert _outcome(missing, 404).issue[0].code == "not-found"
