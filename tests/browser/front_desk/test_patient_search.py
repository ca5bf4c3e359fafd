"""Finding a patient at the desk: the list's own "Last, First", a date of birth, and same-name patients told apart."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.factories import PatientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def two_harper_chens(db):
    return (
        PatientFactory(first_name="Harper", last_name="Chen", mrn="MRN1042", date_of_birth=date(1985, 3, 4),
                       phone="+13125552000"),
        PatientFactory(first_name="Harper", last_name="Chen", mrn="MRN2217", date_of_birth=date(1991, 11, 23),
                       phone="+13125557311"),
        PatientFactory(first_name="Bernard", last_name="Lindqvist", mrn="MRN3001"),
    )


def search(desk, text: str):
    box = desk.get_by_label("Find a patient by name, MRN or phone, or by date of birth")
    box.fill("")
    box.press_sequentially(text, delay=20)
    expect(desk.get_by_test_id("patient-result-count")).to_contain_text(f"matching “{text}”")
    return desk.get_by_test_id("patient-result")


def test_the_lists_own_last_first_finds_both_and_tells_them_apart(desk, two_harper_chens, width):
    # given
    first, second, _ = two_harper_chens
    desk.get_by_test_id("nav-patients").click()

    # when
    results = search(desk, "Chen, Harper")

    # then: both, each with its MRN, date of birth and phone as dialled
    expect(results).to_have_count(2)
    for patient, born, phone in ((first, "Mar 4, 1985", "(312) 555-2000"), (second, "Nov 23, 1991", "(312) 555-7311")):
        row = desk.locator(f'[data-testid=patient-result][data-patient-id="{patient.pk}"]')
        expect(row).to_contain_text("Chen, Harper")
        expect(row.get_by_test_id("result-mrn")).to_have_text(patient.mrn)
        expect(row.get_by_test_id("result-birth")).to_have_text(born)
        expect(row).to_contain_text(phone)
    desk.screenshot(path=f"/tmp/h3-search-{width}.png", full_page=True)


@pytest.mark.parametrize("typed", ["Nov 23, 1991", "1991-11-23"])
def test_a_date_of_birth_finds_the_one_born_that_day_and_opens_their_page(desk, two_harper_chens, typed, width):
    # given
    _, second, _ = two_harper_chens
    desk.get_by_test_id("nav-patients").click()

    # when
    results = search(desk, typed)

    # then
    expect(results).to_have_count(1)
    expect(results).to_have_attribute("data-patient-id", str(second.pk))
    results.get_by_role("link").click()
    expect(desk).to_have_url(re.compile(rf"/patients/{second.pk}/$"))
    expect(desk.get_by_test_id("patient-identity")).to_contain_text("MRN2217 · born Nov 23, 1991")
