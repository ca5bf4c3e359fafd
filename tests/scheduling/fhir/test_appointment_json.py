"""The fence of the search's fast path: the JSON it writes is what the FHIR library writes for the same resources."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from patients.models import Patient
from scheduling.fhir import appointments as appointments_module
from scheduling.fhir.appointment_includes import included_resources
from scheduling.fhir.appointments import appointment, appointments, checked_json
from scheduling.fhir.bundles import searchset
from scheduling.fhir.patients import checked_patient_json, patient_resource
from tests.scheduling.fhir.appointment_world import appointment_world

__all__ = ["appointment_world"]


def _library_json(resource) -> dict:
    return json.loads(resource.model_dump_json(exclude_none=True))


def test_each_appointment_is_written_as_the_library_writes_it(appointment_world, desk):
    # given: a session in every state
    sessions = list(appointments().filter(pk__in=[session.pk for session in appointment_world.sessions.values()]))
    assert len(sessions) == len(appointment_world.sessions)
    for session in sessions:
        # when
        fast = json.loads(json.dumps(checked_json(session)))
        # then
        assert fast == _library_json(appointment(session)), session.status


def test_each_included_patient_is_written_as_the_library_writes_it(appointment_world, desk):
    # given: patients with and without a preferred name, a phone, a birth date; one archived
    patients = list(Patient.objects.all())
    Patient.objects.filter(pk=patients[0].pk).update(preferred_name="", phone="", archived_at="2026-01-05T10:00Z")
    Patient.objects.filter(pk=patients[-1].pk).update(preferred_name="Sunny")
    for patient in Patient.objects.all():
        # when
        fast = json.loads(json.dumps(checked_patient_json(patient)))
        # then
        assert fast == _library_json(patient_resource(patient)), patient.mrn


def test_a_search_answer_is_the_bundle_the_library_writes(appointment_world, desk):
    # given
    query = "date=2026-03-02&_include=Appointment:patient&_include=Appointment:location&_count=3"
    response = desk.get(f"/fhir/Appointment?{query}")
    # when: the same page built and written by the library
    page = list(appointments().filter(local_date="2026-03-02").order_by("start", "pk")[:3])
    request = Request(APIRequestFactory().get(f"/fhir/Appointment?{query}"))
    library = searchset(request, resources=[appointment(session) for session in page], total=4, offset=0, count=3,
                        included=included_resources(page, {"Patient", "Location"}))
    # then
    assert json.loads(response.content) == _library_json(library)
    assert Bundle.model_validate_json(response.content).total == 4


def test_an_element_the_page_repeats_is_checked_once_and_a_different_one_afresh(appointment_world, desk,
                                                                                 monkeypatch):
    # given: the elements already checked forgotten, and the library's checks of participants counted
    monkeypatch.setattr(appointments_module, "_checked_elements", {})
    checked = []
    participant = appointments_module.REPEATED_ELEMENTS["participant"]

    class Counted(participant):
        @classmethod
        def model_validate(cls, value, *args, **kwargs):
            checked.append(value["actor"]["reference"])
            return participant.model_validate(value, *args, **kwargs)

    monkeypatch.setitem(appointments_module.REPEATED_ELEMENTS, "participant", Counted)
    session = appointments().filter(pk=appointment_world.sessions["confirmed"].pk).get()
    # when: the same appointment is checked twice
    checked_json(session)
    first = list(checked)
    checked_json(session)
    # then: its participants were checked by the library the first time only
    assert first and checked == first
    # and an element that differs in anything is checked again, and refused when the library refuses it
    wrong = {"actor": {"reference": "Patient/1"}, "required": "required"}  # a participant's status is required
    with pytest.raises(ValidationError):
        appointments_module._checked_element("participant", wrong)
