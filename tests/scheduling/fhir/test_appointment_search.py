"""FHIR Appointments read and searched: the mapping, each search parameter, paging, _include, the access log."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome

from patients.models import PatientAccess
from scheduling.fhir.appointments import CONFIRMED_EXTENSION, PROTOCOL_EXTENSION, SESSION_NUMBER_EXTENSION
from scheduling.fhir.codes import TREATMENT_SYSTEM
from tests.scheduling.fhir.appointment_world import appointment_world
from tests.scheduling.fhir.fhir_world import every_page, ids_of, read

__all__ = ["appointment_world"]

MONDAY = ("confirmed", "arrived", "cancelled", "noshow")
EVERY = ("fulfilled_1", "fulfilled_2", "confirmed", "arrived", "cancelled", "noshow", "tuesday")


def _ids(world, *names) -> list[str]:
    return [world.id(name) for name in names]


def _search(desk, query: str) -> Bundle:
    response = desk.get(f"/fhir/Appointment?{query}")
    assert response.status_code == 200, response.content
    return read(response, Bundle)


def _refused(response, status: int) -> OperationOutcome:
    assert response.status_code == status, response.content
    return read(response, OperationOutcome)


def _extension(resource, url):
    return next(extension for extension in resource.extension if extension.url == url)


# --- read: the mapping ------------------------------------------------------------------------------------------


def test_a_confirmed_session_reads_as_a_booked_appointment_with_its_people_places_and_number(appointment_world,
                                                                                           desk):
    # given
    world = appointment_world
    session = world.sessions["confirmed"]
    # when
    appointment = read(desk.get(f"/fhir/Appointment/{session.pk}"), Appointment)
    # then
    assert (appointment.id, appointment.status) == (str(session.pk), "booked")
    assert _extension(appointment, CONFIRMED_EXTENSION).valueDateTime == session.confirmed_at
    assert _extension(appointment, SESSION_NUMBER_EXTENSION).valuePositiveInt == 3
    assert _extension(appointment, PROTOCOL_EXTENSION).valueCoding.code == "esketamine-trd"
    assert appointment.serviceType[0].coding[0].system == TREATMENT_SYSTEM
    assert appointment.serviceType[0].coding[0].code == "esketamine"
    assert appointment.start == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert appointment.end == datetime(2026, 3, 2, 17, 30, tzinfo=UTC)
    assert appointment.minutesDuration == 150
    assert appointment.created == session.booked_at
    assert {p.actor.reference: p.status for p in appointment.participant} == {
        f"Patient/{session.patient_id}": "accepted", f"Practitioner/{session.clinician_id}": "accepted",
        f"Location/chair-{session.chair_id}": "accepted", f"Location/site-{session.location_id}": "accepted"}
    assert [slot.reference for slot in appointment.slot] == [f"Slot/{session.chair_id}-202603021500"]
    assert appointment.supportingInformation[0].reference == f"CarePlan/{session.course_id}"


@pytest.mark.parametrize(("name", "status"), [("tuesday", "booked"), ("arrived", "arrived"),
                                              ("fulfilled_2", "fulfilled"), ("cancelled", "cancelled"),
                                              ("noshow", "noshow")])
def test_each_session_state_has_its_appointment_status(appointment_world, desk, name, status):
    appointment = read(desk.get(f"/fhir/Appointment/{appointment_world.id(name)}"), Appointment)
    assert appointment.status == status


def test_a_cancelled_appointment_says_why_and_carries_no_session_number(appointment_world, desk):
    appointment = read(desk.get(f"/fhir/Appointment/{appointment_world.id('cancelled')}"), Appointment)
    assert appointment.cancelationReason.text == "Unwell"
    assert SESSION_NUMBER_EXTENSION not in {extension.url for extension in appointment.extension}


def test_a_discharged_session_is_numbered_by_the_sessions_before_it(appointment_world, desk):
    appointment = read(desk.get(f"/fhir/Appointment/{appointment_world.id('fulfilled_2')}"), Appointment)
    assert _extension(appointment, SESSION_NUMBER_EXTENSION).valuePositiveInt == 2


@pytest.mark.parametrize("address", ["999999999", "abc", "0", "99999999999999999999999"])
def test_reading_an_appointment_that_does_not_exist_is_a_404_outcome(appointment_world, desk, address):
    assert _refused(desk.get(f"/fhir/Appointment/{address}"), 404).issue[0].code == "not-found"


def test_reading_an_appointment_logs_a_read_of_the_patients_record(appointment_world, desk):
    session = appointment_world.sessions["arrived"]
    desk.get(f"/fhir/Appointment/{session.pk}")
    assert PatientAccess.objects.filter(patient=session.patient, channel=PatientAccess.Channel.API,
                                        path__startswith="/fhir/Appointment/").count() == 1


# --- search: each parameter -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "names"), [
    # A day is the session's day at its own site: Flynn's 16:30 in Los Angeles is Tuesday in UTC.
    ("date=2026-03-02", MONDAY),
    ("date=eq2026-03-03", ("tuesday",)),
    ("date=ge2026-03-02&date=lt2026-03-03", MONDAY),
    ("date=gt2026-03-02", ("tuesday",)),
    ("date=le2026-02-26", ("fulfilled_1", "fulfilled_2")),
    ("date=2026-02", ("fulfilled_1", "fulfilled_2")),
    # With a time it is the start instant.
    ("date=ge2026-03-03T00:00:00Z&date=lt2026-03-03T01:00:00Z", ("noshow",)),
    ("date=lt2026-03-02T12:00:00-05:00&date=ge2026-03-02T10:00:00-05:00", ("confirmed",)),
])
def test_date_finds_the_appointments_of_a_day_or_a_span(appointment_world, desk, query, names):
    assert ids_of(_search(desk, query)) == _ids(appointment_world, *names)


def test_patient_finds_a_patients_appointments_by_reference_id_or_full_url(appointment_world, desk):
    world = appointment_world
    patient = world.sessions["confirmed"].patient_id
    expected = _ids(world, "fulfilled_1", "fulfilled_2", "confirmed")
    for value in (f"Patient/{patient}", str(patient), f"https://clinic.example/fhir/Patient/{patient}"):
        assert ids_of(_search(desk, f"patient={value}")) == expected
    assert ids_of(_search(desk, "patient=Patient/999999")) == []


def test_practitioner_finds_the_clinicians_appointments(appointment_world, desk):
    clinician = appointment_world.sessions["arrived"].clinician_id
    assert ids_of(_search(desk, f"practitioner=Practitioner/{clinician}")) == _ids(appointment_world, "arrived")


@pytest.mark.parametrize(("location", "names"), [
    ("site-{west}", ("noshow",)), ("chair-{infusion}", ("arrived",)),
    ("Location/chair-{chair1}", ("fulfilled_1", "fulfilled_2", "confirmed", "cancelled", "tuesday")),
    ("Location/site-{west},Location/chair-{infusion}", ("arrived", "noshow")), ("Location/nowhere", ()),
])
def test_location_finds_a_sites_or_a_chairs_appointments(appointment_world, desk, location, names):
    world = appointment_world.base
    value = location.format(west=world.sites["westside"].pk, infusion=world.chairs["infusion"].pk,
                            chair1=world.chairs["chair1"].pk)
    assert ids_of(_search(desk, f"location={value}")) == _ids(appointment_world, *names)


@pytest.mark.parametrize(("query", "names"), [
    ("status=booked", ("confirmed", "tuesday")), ("status=arrived", ("arrived",)),
    ("status=fulfilled", ("fulfilled_1", "fulfilled_2")), ("status=cancelled,noshow", ("cancelled", "noshow")),
    ("status=proposed", ()), ("service-type=ketamine-iv", ("arrived", "noshow")),
    (f"service-type={TREATMENT_SYSTEM}|esketamine&date=2026-03-02", ("confirmed", "cancelled")),
])
def test_status_and_service_type_narrow_the_search(appointment_world, desk, query, names):
    assert ids_of(_search(desk, query)) == _ids(appointment_world, *names)


def test_actor_and_id_find_appointments_too(appointment_world, desk):
    world = appointment_world
    clinician = world.sessions["arrived"].clinician_id
    assert ids_of(_search(desk, f"actor=Practitioner/{clinician}")) == _ids(world, "arrived")
    assert ids_of(_search(desk, f"_id={world.id('noshow')},{world.id('tuesday')}")) == _ids(world, "noshow", "tuesday")


@pytest.mark.parametrize(("query", "code"), [
    ("date=2026-13-01", "invalid"), ("date=ap2026-03-02", "not-supported"), ("status=maybe", "invalid"),
    ("patient=Practitioner/3", "invalid"), ("colour=blue", "not-supported"), ("_count=many", "invalid"),
    ("_include=Appointment:reason", "not-supported"), ("_revinclude=Encounter:appointment", "not-supported"),
    ("actor=Device/3", "invalid"), ("date=2026-03-02,2026-03-03", "not-supported"),
])
def test_a_search_it_cannot_answer_is_a_400_outcome_naming_the_parameter(appointment_world, desk, query, code):
    outcome = _refused(desk.get(f"/fhir/Appointment?{query}"), 400)
    assert outcome.issue[0].code == code


def test_an_unknown_parameter_is_ignored_when_the_client_prefers_lenient_handling(appointment_world, desk):
    response = desk.get("/fhir/Appointment?colour=blue&date=2026-03-03", HTTP_PREFER="handling=lenient")
    assert ids_of(read(response, Bundle)) == _ids(appointment_world, "tuesday")


def test_a_search_may_be_posted_as_a_form_and_asked_for_its_total_alone(appointment_world, desk):
    posted = desk.post("/fhir/Appointment/_search", "date=2026-03-03",
                       content_type="application/x-www-form-urlencoded")
    counted = _search(desk, "date=2026-03-02&_summary=count")
    assert ids_of(read(posted, Bundle)) == _ids(appointment_world, "tuesday")
    assert (counted.total, counted.entry) == (4, None)


# --- paging and _include ----------------------------------------------------------------------------------------


def test_paging_walks_every_appointment_once_in_start_order(appointment_world, desk):
    # when
    found, bundles = every_page(desk, "/fhir/Appointment?_count=3", Bundle)
    # then
    assert found == _ids(appointment_world, *EVERY)
    assert [len(bundle.entry) for bundle in bundles] == [3, 3, 1]
    assert {bundle.total for bundle in bundles} == {7}
    assert "_offset=6" in next(link.url for link in bundles[0].link if link.relation == "last")


def test_a_page_past_the_end_is_empty_but_still_counts_every_match(appointment_world, desk):
    bundle = _search(desk, "_count=5&_offset=50")
    assert (bundle.total, bundle.entry) == (7, None)


def test_include_adds_each_patient_once_after_the_matches(appointment_world, desk):
    # given: Casey Rivera has three appointments
    world = appointment_world
    patient = world.sessions["confirmed"].patient_id
    # when
    bundle = _search(desk, f"patient=Patient/{patient}&_include=Appointment:patient")
    # then
    modes = [(entry.search.mode, entry.resource.get_resource_type()) for entry in bundle.entry]
    assert modes == [("match", "Appointment")] * 3 + [("include", "Patient")]
    assert bundle.entry[-1].resource.id == str(patient)
    assert bundle.entry[-1].fullUrl.endswith(f"/fhir/Patient/{patient}")


def test_include_of_locations_and_practitioners_adds_the_sites_chairs_and_clinicians(appointment_world, desk):
    world = appointment_world.base
    bundle = _search(desk, "date=2026-03-02&location=site-{}&_include=Appointment:location"
                           "&_include=Appointment:practitioner".format(world.sites["midtown"].pk))
    included = {f"{entry.resource.get_resource_type()}/{entry.resource.id}" for entry in bundle.entry
                if entry.search.mode == "include"}
    assert included == {f"Location/site-{world.sites['midtown'].pk}", f"Location/chair-{world.chairs['chair1'].pk}",
                        f"Location/chair-{world.chairs['infusion'].pk}", f"Practitioner/{world.users['clinician'].pk}",
                        f"Practitioner/{world.users['robin'].pk}"}


def test_a_day_at_a_site_with_everything_included_takes_the_same_few_queries_however_long(appointment_world, desk):
    # given: the day at Midtown (three appointments, three patients, two chairs, two clinicians)
    query = ("date=2026-03-02&location=site-{}&_include=Appointment:patient&_include=Appointment:location"
             "&_include=Appointment:practitioner".format(appointment_world.base.sites["midtown"].pk))
    # when
    with CaptureQueriesContext(connection) as captured:
        bundle = _search(desk, query)
    # then: the page (planned in the order it names its tables), the sites' hours and the access log's one INSERT,
    # beside the user's roles and transaction control (the audit's context set before each write, taken off here)
    statements = [re.sub(r"^SELECT set_config\('pghistory.context_id'.*?, true\); ", "", query["sql"])
                  for query in captured.captured_queries]
    statements = [sql for sql in statements if not re.match(r"(SAVEPOINT|RELEASE SAVEPOINT|BEGIN|COMMIT)\b", sql)
                  and '"auth_group"' not in sql]
    assert [sql.split(" ")[0] for sql in statements] == ["SET", "SELECT", "INSERT", "SELECT"], statements
    assert statements[0] == "SET LOCAL join_collapse_limit = 1"
    assert len(bundle.entry) == 3 + 3 + 3 + 2


def test_a_search_logs_a_read_of_each_patient_on_the_page(appointment_world, desk):
    # when
    _search(desk, "date=2026-03-02&_include=Appointment:patient")
    # then
    logged = PatientAccess.objects.filter(channel=PatientAccess.Channel.API, path__startswith="/fhir/Appointment?")
    assert sorted(logged.values_list("patient_id", flat=True)) == sorted(
        appointment_world.sessions[name].patient_id for name in MONDAY)
