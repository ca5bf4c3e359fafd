"""A list whose count comes with its page (the patient search) answers exactly as DRF's two-query pages do."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sixty_smiths():
    PatientFactory.create_batch(60, last_name="Smith")
    PatientFactory.create_batch(5, last_name="Jones")


def page(api, **params):
    with CaptureQueriesContext(connection) as captured:
        response = api.get("/api/patients/", params)
    return response, [query["sql"] for query in captured.captured_queries]


def test_the_count_is_read_with_the_page_in_one_statement(desk_api, sixty_smiths):
    # when
    response, statements = page(desk_api, q="smi")
    # then
    body = response.json()
    assert (body["count"], len(body["results"])) == (60, 25)
    assert body["previous"] is None and "page=2" in body["next"]
    patient_reads = [sql for sql in statements if "patients_patient" in sql]
    assert len(patient_reads) == 1 and "COUNT(*) OVER ()" in patient_reads[0]


def test_the_last_page_is_partial_and_has_no_next(desk_api, sixty_smiths):
    # when
    body = page(desk_api, q="smi", page=3)[0].json()
    # then
    assert (body["count"], len(body["results"]), body["next"]) == (60, 10, None)
    assert "page=2" in body["previous"]


def test_pages_follow_the_list_order_without_gaps_or_repeats(desk_api, sixty_smiths):
    # when
    ids = [row["id"] for number in (1, 2, 3) for row in page(desk_api, q="smi", page=number)[0].json()["results"]]
    # then
    assert len(ids) == len(set(ids)) == 60


def test_no_match_is_an_empty_first_page(desk_api, sixty_smiths):
    # when
    body = page(desk_api, q="nobody")[0].json()
    # then
    assert (body["count"], body["results"], body["next"]) == (0, [], None)


@pytest.mark.parametrize("number", ["4", "0", "-1", "two", "1.5", "99999999999999999999999"])
def test_a_page_that_is_not_one_is_a_404(desk_api, sixty_smiths, number):
    # when
    response = page(desk_api, q="smi", page=number)[0]
    # then
    assert response.status_code == 404
    assert response.json()["detail"] == "Invalid page."


def test_the_last_page_by_name_is_still_answered(desk_api, sixty_smiths):
    # when
    body = page(desk_api, q="smi", page="last")[0].json()
    # then
    assert (body["count"], len(body["results"]), body["next"]) == (60, 10, None)


def test_a_page_size_of_the_clients_choice_still_counts_every_match(desk_api, sixty_smiths):
    # when
    body = page(desk_api, page_size=50)[0].json()
    # then
    assert (body["count"], len(body["results"])) == (65, 50)
