"""Whatever a client sends, the answer is FHIR: a Bundle or resource, or an OperationOutcome with a 4xx."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from rest_framework import exceptions as drf

from scheduling.fhir.responses import outcome
from scheduling.fhir.views import fhir_error_for
from tests.scheduling.fhir.fhir_world import read

ODD_VALUES = ["%00", "9999-12-31", "0000-01-01", "ge9999-12-31", "-1", "99999999999999999999", "%F0%9F%92%89",
              "a" * 300, "Patient/", "|", ",", "Schedule/1/_history/x"]
SEARCHES = {
    "Patient": ["_id", "identifier", "name", "family", "given", "birthdate", "active", "_count", "_offset"],
    "Practitioner": ["_id", "name", "active"],
    "Location": ["_id", "name", "partof", "type", "status"],
    "Schedule": ["_id", "actor", "service-type", "active"],
    "Slot": ["schedule", "start", "status", "service-type"],
    "CarePlan": ["_id", "patient", "subject", "status", "category"],
}
# Two odd values for each parameter, taken in turn from the list, so every value meets several parameters
# while the test stays a few dozen requests.
_PAIRS = [(kind, name) for kind, names in SEARCHES.items() for name in names]
CASES = [(kind, name, ODD_VALUES[(2 * index + turn) % len(ODD_VALUES)])
         for index, (kind, name) in enumerate(_PAIRS) for turn in (0, 1)]


@pytest.mark.parametrize(("kind", "name", "value"), CASES, ids=lambda part: str(part)[:20])
def test_an_odd_search_value_is_answered_in_fhir_never_with_a_500(desk, fhir_world, kind, name, value):
    # given: the Slot search needs a schedule, which the other parameter then narrows
    base = f"schedule=Schedule/{fhir_world.chairs['chair1'].pk}&" if kind == "Slot" and name != "schedule" else ""
    # when
    response = desk.get(f"/fhir/{kind}?{base}{name}={value}")
    # then
    assert response.status_code in (200, 400), response.content
    read(response, Bundle if response.status_code == 200 else OperationOutcome)


@pytest.mark.parametrize("address", ["Patient/1/_history/1", "Patient/", "patient", "Slot/1-20260303", "$book",
                                     "Slot/1-999912312359"])
def test_an_address_that_is_no_resource_is_a_404_outcome(desk, address):
    response = desk.get(f"/fhir/{address}")
    assert response.status_code == 404
    assert read(response, OperationOutcome).issue[0].code == "not-found"


def test_a_body_of_a_type_fhir_does_not_read_is_a_415_outcome():
    response = outcome(fhir_error_for(drf.UnsupportedMediaType("text/plain")))
    assert response.status_code == 415
    assert read(response, OperationOutcome).issue[0].code == "not-supported"


def test_a_count_of_zero_answers_the_total_alone(desk):
    bundle = read(desk.get("/fhir/Patient?family=rivera&_count=0"), Bundle)
    assert (bundle.total, bundle.entry, [link.relation for link in bundle.link]) == (6, None, ["self"])


def test_summary_count_answers_the_total_alone_and_other_summaries_are_refused(desk):
    bundle = read(desk.get("/fhir/Patient?family=rivera&_summary=count"), Bundle)
    assert (bundle.total, bundle.entry) == (6, None)
    assert desk.get("/fhir/Patient?_summary=true").status_code == 400
