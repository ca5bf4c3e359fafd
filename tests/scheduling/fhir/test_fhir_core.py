"""The FHIR door itself: the CapabilityStatement, the errors as OperationOutcomes, ids, dates and paging links."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from clinic.errors import Conflict
from scheduling.fhir import ids, search_params
from scheduling.fhir import urls as fhir_urls
from scheduling.fhir.appointment_search import INCLUDES
from scheduling.fhir.bundles import searchset
from scheduling.fhir.errors import FhirError
from scheduling.fhir.metadata import GENERAL_PARAMETERS
from scheduling.fhir.responses import outcome
from scheduling.fhir.search_params import as_dates, date_range, parse_date, parse_token
from scheduling.fhir.views import paging


def _request(query: str = "") -> Request:
    return Request(APIRequestFactory().get(f"/fhir/Patient?{query}"))


def _issue(response, status: int) -> OperationOutcome:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    return OperationOutcome.model_validate_json(response.content)


# --- metadata -------------------------------------------------------------------------------------------------


def test_metadata_is_a_capability_statement_anyone_may_read(db):
    # when
    response = APIClient().get("/fhir/metadata")
    # then
    assert response.status_code == 200
    statement = CapabilityStatement.model_validate_json(response.content)
    assert (statement.kind, statement.fhirVersion, statement.rest[0].mode) == ("instance", "4.0.1", "server")
    resources = {resource.type: resource for resource in statement.rest[0].resource}
    assert set(resources) == {"Patient", "Practitioner", "Location", "Schedule", "Slot", "CarePlan", "Appointment"}
    appointment = resources["Appointment"]
    assert {i.code for i in appointment.interaction} == {"read", "search-type", "create", "update", "patch"}
    assert "Appointment:patient" in appointment.searchInclude
    assert [operation.name for operation in appointment.operation] == ["book"]
    assert {p.name for p in resources["Patient"].searchParam} >= {"identifier", "name", "birthdate", "_count"}
    assert "Bearer" in statement.rest[0].security.description


# --- errors ---------------------------------------------------------------------------------------------------


def test_an_unknown_resource_type_is_a_404_outcome(desk_api):
    outcome_ = _issue(desk_api.get("/fhir/Encounter"), 404)
    assert outcome_.issue[0].code == "not-found"


def test_without_credentials_it_is_a_401_outcome_asking_for_a_bearer_token(db):
    response = APIClient().get("/fhir/Encounter")
    assert _issue(response, 401).issue[0].code == "login"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_bad_bearer_token_is_a_401_outcome(db):
    response = APIClient().get("/fhir/Encounter", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert _issue(response, 401).issue[0].code == "login"


def test_a_user_without_a_clinic_role_is_refused_with_a_403_outcome(no_role_user, api_as):
    assert _issue(api_as(no_role_user).get("/fhir/Encounter"), 403).issue[0].code == "forbidden"


def test_a_format_other_than_json_is_a_406_outcome(db):
    assert _issue(APIClient().get("/fhir/metadata?_format=xml"), 406).issue[0].code == "not-supported"
    assert _issue(APIClient().get("/fhir/metadata", HTTP_ACCEPT="application/fhir+xml"), 406)
    assert APIClient().get("/fhir/metadata?_format=json", HTTP_ACCEPT="application/xml").status_code == 200


def test_a_clinic_refusal_keeps_its_status_and_code_in_the_outcome():
    response = outcome(FhirError.from_clinic_error(Conflict("That chair is taken.", code="chair_conflict")))
    issue = _issue(response, 409).issue[0]
    assert (issue.code, issue.details.coding[0].code) == ("conflict", "chair_conflict")


# --- ids ------------------------------------------------------------------------------------------------------


def test_a_slot_id_reads_back_as_its_chair_and_start():
    start = datetime(2026, 3, 3, 14, 15, tzinfo=UTC)
    assert ids.parse_slot_id(ids.slot_id(7, start)) == (7, start)


@pytest.mark.parametrize("text", ["7", "7-2026030314", "x-202603031415", "7-202613031415", ""])
def test_a_malformed_slot_id_is_a_400(text):
    with pytest.raises(FhirError) as refused:
        ids.parse_slot_id(text)
    assert refused.value.status == 400


def test_a_reference_is_read_bare_relative_or_absolute():
    assert ids.parse_reference("Patient/12", "Patient") == "12"
    assert ids.parse_reference("https://clinic.example/fhir/Patient/12/_history/2", "Patient") == "12"
    assert ids.parse_reference("12", "Patient", bare=True) == "12"
    with pytest.raises(FhirError):
        ids.parse_reference("Practitioner/12", "Patient")


# --- search values --------------------------------------------------------------------------------------------


def test_a_date_search_value_covers_its_precision_and_prefix():
    march = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    assert parse_date("2026-03", "d").bounds("d") == march
    assert parse_date("gt1980-05-17", "d").bounds("d") == (datetime(1980, 5, 18, tzinfo=UTC), None)
    assert parse_date("lt2026-03-02T10:00Z", "d").bounds("d") == (None, datetime(2026, 3, 2, 10, tzinfo=UTC))


def test_two_date_values_make_a_range_of_whole_dates():
    since, until = date_range(_request("birthdate=ge1980-01-01&birthdate=le1980-12-31"), "birthdate")
    assert as_dates(since, until) == (date(1980, 1, 1), date(1981, 1, 1))


@pytest.mark.parametrize("text", ["2026-13-01", "yesterday", "ne2026-03-02", "ap2026", "2026-02-30"])
def test_a_date_that_is_not_one_or_a_prefix_not_offered_is_a_400(text):
    with pytest.raises(FhirError) as refused:
        date_range(_request(f"d={text}"), "d")
    assert refused.value.status == 400


def test_a_token_has_an_optional_system():
    assert parse_token("urn:clinic:mrn|B001") == ("urn:clinic:mrn", "B001")
    assert parse_token("B001") == (None, "B001")


# --- paging ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "expected"), [("", (0, 50)), ("_count=5&_offset=10", (10, 5)),
                                                  ("_count=5000", (0, 200))])
def test_paging_reads_count_and_offset(query, expected):
    assert paging(_request(query)) == expected


@pytest.mark.parametrize("query", ["_count=-1", "_count=ten", "_offset=1.5"])
def test_a_bad_count_or_offset_is_a_400(query):
    with pytest.raises(FhirError) as refused:
        paging(_request(query))
    assert refused.value.status == 400


def test_a_middle_page_links_to_first_previous_next_and_last_with_the_same_search():
    bundle = searchset(_request("name=riv&_count=10&_offset=10"), resources=[], total=35, offset=10, count=10)
    links = {link.relation: link.url for link in Bundle.model_validate_json(bundle.model_dump_json()).link}
    assert set(links) == {"self", "first", "previous", "next", "last"}
    assert links["next"].endswith("/fhir/Patient?name=riv&_count=10&_offset=20")
    assert links["previous"].endswith("_offset=0") and links["last"].endswith("_offset=30")


def _statement(client) -> dict:
    statement = CapabilityStatement.model_validate_json(client.get("/fhir/metadata").content)
    return {resource.type: resource for resource in statement.rest[0].resource}


def _parameters_taken(client, kind: str, monkeypatch) -> set[str]:
    """The names the search of ``kind`` checks what it is sent against, read by running it."""
    taken = []

    def recording(request, allowed):
        taken.extend(allowed)
        raise FhirError.invalid("stopped by the test")

    monkeypatch.setattr(search_params, "check_params", recording)
    client.get(f"/fhir/{kind}")
    monkeypatch.undo()
    assert taken, f"the {kind} search checks no parameters"
    return {name.split(":")[0] for name in [*taken, *search_params.COMMON]}


def test_every_search_the_server_answers_is_in_the_statement(desk_api):
    answered = {kind for kind, _, _ in fhir_urls.RESOURCES} | {"Appointment"}
    assert set(_statement(desk_api)) == answered


@pytest.mark.parametrize("kind", [kind for kind, _, _ in fhir_urls.RESOURCES] + ["Appointment"])
def test_the_statement_lists_exactly_the_search_parameters_each_search_takes(desk_api, kind, monkeypatch):
    resource = _statement(desk_api)[kind]
    listed = {parameter.name for parameter in resource.searchParam}
    taken = _parameters_taken(desk_api, kind, monkeypatch)
    # _include's values are searchInclude; _format and _pretty are every interaction's, named in the docs.
    assert listed == taken - {"_include", *GENERAL_PARAMETERS}
    assert ("_include" in taken) == bool(resource.searchInclude)


def test_the_statement_lists_every_include_the_appointment_search_answers(desk_api):
    appointment = _statement(desk_api)["Appointment"]
    assert set(appointment.searchInclude) == set(INCLUDES)
    for value in appointment.searchInclude:
        assert desk_api.get("/fhir/Appointment", {"_include": value}).status_code == 200


def test_the_statement_offers_what_the_appointment_endpoints_do(desk_api):
    response = desk_api.get("/fhir/metadata")
    statement = CapabilityStatement.model_validate_json(response.content)
    appointment = _statement(desk_api)["Appointment"]
    assert [i.code for i in appointment.interaction] == ["read", "search-type", "create", "update", "patch"]
    search = next(i for i in appointment.interaction if i.code == "search-type")
    assert "Appointment/_search" in search.documentation
    book = appointment.operation[0]
    definition = next(resource for resource in statement.contained if resource.id == book.definition[1:])
    assert (book.name, definition.code, definition.resource) == ("book", "book", ["Appointment"])
    assert [p.name for p in definition.parameter if p.use == "in"] == ["appointment"]
    # The posted search and $book exist where the statement says.
    assert desk_api.post("/fhir/Appointment/_search", "_count=1",
                         content_type="application/x-www-form-urlencoded").status_code == 200
    assert desk_api.post("/fhir/Appointment/$book", {}, format="json").status_code == 400
