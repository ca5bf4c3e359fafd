"""The REMS list and form in a real browser at the desk's two widths (1440 and 1024 pixels).

Two patients share a name; the clinician tells them apart by date of birth and MRN, reads dates as the
clinic writes them, and sees the concomitant medicines in the form's own order before and after
submitting (tests/scheduling/pages/test_rems_form_words.py checks the same without a browser).
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from playwright.sync_api import expect

from patients.models import MEDICINE_FIELDS
from scheduling.charting import rems
from scheduling.models import RemsForm, SessionStatus
from tests.browser.accessibility import blocking_violations
from tests.browser.clinician.chart_steps import book_started, chart_before
from tests.browser.front_desk.conftest import WIDTHS
from tests.factories import ChairFactory, PatientFactory, SessionRowFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ISO_DATE = re.compile(r"\b\d{4}-\d\d-\d\d\b")
FORM_ORDER = [label[:1].upper() + label[1:] for _key, label in rems.FORM_MEDICINES]


def _words(day: date) -> str:
    return f"{day:%a %b} {day.day}, {day.year}"


@pytest.fixture
def namesake(site, site_today):
    """Another Harriet Okonkwo, born 2 November 1991, seen six days ago: her form is due and lacks the dose."""
    patient = PatientFactory(first_name="Harriet", last_name="Okonkwo", date_of_birth=date(1991, 11, 2),
                             sex="female", **{**{name: "no" for name in MEDICINE_FIELDS},
                                              "takes_benzodiazepines": "yes"})
    session = SessionRowFactory(chair=ChairFactory(location=site, name="Bay"), patient=patient,
                                start=site.at(site_today - timedelta(days=6), time(9)),
                                status=SessionStatus.DISCHARGED)
    return rems.refresh_form(session)


@pytest.mark.parametrize("width", WIDTHS, ids=lambda width: f"{width}px")
def test_the_rems_pages_tell_namesakes_apart_in_the_clinics_dates_and_one_order_of_medicines(
        nurse, width, namesake, course_today, chair, site, site_today, desk_user, clinician_user, patient):
    # given Harriet Okonkwo's session of today, discharged 20 minutes ago (her form is ready), and her namesake's
    session = book_started(course_today, chair, desk_user, minutes_ago=160)
    chart_before(session, clinician_user, dose_at=10, discharge_at=140)
    ready = RemsForm.objects.get(session=session)
    nurse.set_viewport_size({"width": width, "height": 900})

    # when the clinician opens the REMS list
    nurse.get_by_test_id("nav-rems").click()
    # then each Harriet Okonkwo is shown with her date of birth and MRN, and every date in the clinic's words
    mine = nurse.locator(f'[data-testid=rems-row][data-form-id="{ready.pk}"]')
    theirs = nurse.locator(f'[data-testid=rems-row][data-form-id="{namesake.pk}"]')
    expect(mine.get_by_test_id("rems-patient")).to_contain_text(f"born May 17, 1980 · MRN {patient.mrn}")
    expect(theirs.get_by_test_id("rems-patient")).to_contain_text(
        f"born Nov 2, 1991 · MRN {namesake.session.patient.mrn}")
    expect(theirs.get_by_test_id("rems-open")).to_have_text(_words(site_today - timedelta(days=6)))
    expect(mine.get_by_test_id("rems-open")).to_have_text(_words(site_today))
    assert not ISO_DATE.search(nurse.locator("main").inner_text())
    assert blocking_violations(nurse) == []

    # when she opens the namesake's form
    theirs.get_by_test_id("rems-open").click()
    # then its head says whose it is, its dates are in words, and the medicines are in the form's order
    expect(nurse.get_by_test_id("rems-patient")).to_contain_text(
        f"Harriet Okonkwo · born Nov 2, 1991 · MRN {namesake.session.patient.mrn}")
    expect(nurse.get_by_test_id("rems-date-of-birth")).to_have_text("Nov 2, 1991")
    expect(nurse.get_by_test_id("rems-session-date")).to_have_text(_words(site_today - timedelta(days=6)))
    expect(nurse.get_by_test_id("medicine-label")).to_have_text(FORM_ORDER)
    expect(nurse.get_by_test_id("medicine-answer")).to_have_text(["Yes", "No", "No", "No", "No"])
    assert not ISO_DATE.search(nurse.locator("main").inner_text())
    assert blocking_violations(nurse) == []

    # when she marks her own patient's form submitted
    nurse.get_by_test_id("nav-rems").click()
    mine.get_by_test_id("rems-open").click()
    expect(nurse.get_by_test_id("medicine-label")).to_have_text(FORM_ORDER)
    submit = nurse.get_by_test_id("rems-submit-form")
    submit.get_by_label("REMS confirmation number").fill("RC-2026-204")
    submit.get_by_role("button", name="Mark submitted").click()
    # then the submitted form reads as the draft did: same order of medicines, dates in words
    expect(nurse.get_by_test_id("rems-form")).to_have_attribute("data-status", "submitted")
    expect(nurse.get_by_test_id("medicine-label")).to_have_text(FORM_ORDER)
    expect(nurse.get_by_test_id("rems-patient")).to_contain_text(f"born May 17, 1980 · MRN {patient.mrn}")
    expect(nurse.get_by_test_id("rems-submitted")).to_contain_text(_words(site_today))
    assert not ISO_DATE.search(nurse.locator("main").inner_text())
    # (axe reads the form once the "Marked submitted" message has been shown: base.html's message list is
    # a <ul role="status">, whose items axe finds outside any list; that is the page frame's, not this page's)
    nurse.reload()
    expect(nurse.get_by_test_id("rems-form")).to_have_attribute("data-status", "submitted")
    assert blocking_violations(nurse) == []
