"""Finding a patient the way the desk types: the list's own "Last, First", a date of birth, a phone as dialled.

The page and the API share ``selectors.search_patients``; the page is asked
here, the API once to show it answers the same.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def desk(client, front_desk):
    client.force_login(front_desk)
    return client


@pytest.fixture
def two_harper_chens(db):
    """Two patients of the same name, told apart by date of birth and MRN, and a third to be left out."""
    return (
        PatientFactory(first_name="Harper", last_name="Chen", mrn="MRN1042", date_of_birth=date(1985, 3, 4),
                       phone="+13125552000"),
        PatientFactory(first_name="Harper", last_name="Chen", mrn="MRN2217", date_of_birth=date(1991, 11, 23),
                       phone="+13125557311"),
        PatientFactory(first_name="Chen", last_name="Harwood", mrn="MRN3001", date_of_birth=date(1970, 1, 2)),
    )


def found(desk, query: str) -> set[str]:
    """The MRNs the patient list answers ``query`` with."""
    response = desk.get("/patients/", {"q": query}, **HTMX)
    assert response.status_code == 200
    return {patient.mrn for patient in response.context["page"]}


@pytest.mark.parametrize("query", ["Chen, Harper", "chen,harper", "Harper Chen", "  Chen ,  Harper "])
def test_the_lists_own_last_first_finds_the_patient(desk, two_harper_chens, query):
    assert found(desk, query) == {"MRN1042", "MRN2217"}


@pytest.mark.parametrize("query", ["Mar 4, 1985", "March 4 1985", "mar 4, 1985", "1985-03-04", "3/4/1985",
                                   "03/04/1985"])
def test_a_date_of_birth_finds_the_patient_born_that_day(desk, two_harper_chens, query):
    assert found(desk, query) == {"MRN1042"}


def test_a_name_and_a_date_of_birth_together_narrow_to_one(desk, two_harper_chens):
    assert found(desk, "Chen, Harper Nov 23, 1991") == {"MRN2217"}
    assert found(desk, "Harwood 1991-11-23") == set()


@pytest.mark.parametrize("query, expected", [
    ("Feb 30, 1985", set()),  # no such day: searched as words, which no name holds
    (",", set()),
    ("(312) 555-2000", {"MRN1042"}),
    ("MRN22", {"MRN2217"}),
])
def test_what_is_not_a_date_is_searched_as_before(desk, two_harper_chens, query, expected):
    assert found(desk, query) == expected


def test_results_tell_two_patients_of_the_same_name_apart(desk, two_harper_chens):
    # when
    html = desk.get("/patients/", {"q": "Chen, Harper"}, **HTMX).content.decode()

    # then: each row shows its MRN, date of birth and phone as dialled
    for mrn, born, phone in (("MRN1042", "Mar 4, 1985", "(312) 555-2000"), ("MRN2217", "Nov 23, 1991",
                                                                            "(312) 555-7311")):
        assert f'<td data-testid="result-mrn">{mrn}</td>' in html
        assert f'<td class="nowrap" data-testid="result-birth">{born}</td>' in html
        assert f'<td class="nowrap">{phone}</td>' in html
    assert "+1312" not in html


def test_the_api_searches_the_same_way(desk_api, two_harper_chens):
    for query, expected in (("Chen, Harper", {"MRN1042", "MRN2217"}), ("1985-03-04", {"MRN1042"})):
        results = desk_api.get("/api/patients/", {"q": query}).json()["results"]
        assert {row["mrn"] for row in results} == expected
