"""Prior authorisation in the browser: the course page's section, its form's errors, and the renewal summary.

One walk at each of the desk's widths: the desk opens a course with an approval, adds the renewal
(first without its units, which the form refuses beside the field), then opens the renewal
summary and prints it.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patients import measures
from protocols.models import Protocol
from scheduling.models import SessionStatus
from tests.browser.accessibility import blocking_violations
from tests.factories import (
    OutcomeMeasureFactory,
    PatientFactory,
    PriorAuthorisationFactory,
    SessionRowFactory,
    TreatmentCourseFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def course_with_approval(site, chair, desk_user):
    """An esketamine course that began 20 days ago: two sessions given, PHQ-9 16 then 7, an approval of 8."""
    today = site.local_date(timezone.now())
    began = today - timedelta(days=20)
    patient = PatientFactory(first_name="Rosa", last_name="Lindqvist", mrn="B0771")
    course = TreatmentCourseFactory(patient=patient, protocol=Protocol.objects.get(slug="esketamine-trd"),
                                    start_date=began, created_by=desk_user)
    for days in (0, 3):
        SessionRowFactory(course=course, chair=chair, start=site.at(began + timedelta(days=days), time(9)),
                          status=SessionStatus.DISCHARGED)
    for items, days in (([2, 2, 2, 2, 2, 2, 2, 2, 0], 0), ([1, 1, 1, 1, 1, 1, 1, 0, 0], 10)):
        OutcomeMeasureFactory(patient=patient, instrument=measures.PHQ9, items=items,
                              taken_at=datetime.combine(began + timedelta(days=days), time(8), tzinfo=site.zone))
    PriorAuthorisationFactory(course=course, payer="Aetna", number="PA-1", first_day=began,
                              last_day=today + timedelta(days=10), units_approved=8)
    return course


def test_the_desk_adds_a_renewal_and_opens_the_renewal_summary(course_with_approval, desk, width):
    course = course_with_approval
    # given the course page
    desk.goto(f"/courses/{course.pk}/")
    section = desk.get_by_test_id("course-authorisations")
    expect(section.get_by_test_id("authorisation-label")).to_contain_text("2 of 8 used, ends")
    section.screenshot(path=f"/tmp/h6-course-authorisations-{width}.png")
    assert blocking_violations(desk) == []

    # when the desk adds an approval without its units
    section.get_by_test_id("authorisation-add").click()
    desk.get_by_label("Payer", exact=True).fill("Aetna")
    desk.get_by_label("Status", exact=True).select_option("approved")
    desk.get_by_label("First day covered").fill((course.start_date + timedelta(days=31)).isoformat())
    desk.get_by_label("Last day covered").fill((course.start_date + timedelta(days=120)).isoformat())
    desk.get_by_test_id("authorisation-save").click()

    # then the form says what is missing beside the field, and keeps what was typed
    units = desk.get_by_label("Sessions approved")
    expect(units).to_have_attribute("aria-invalid", "true")
    expect(desk.locator("#auth-units-error")).to_contain_text("needs its number of sessions")
    expect(desk.get_by_label("Payer", exact=True)).to_have_value("Aetna")
    desk.screenshot(path=f"/tmp/h6-authorisation-form-error-{width}.png", full_page=True)
    assert blocking_violations(desk) == []

    # when the units are given
    units.fill("12")
    desk.get_by_test_id("authorisation-save").click()

    # then the course page lists both, saying it is saved
    expect(desk.get_by_test_id("authorisation-saved")).to_be_visible()
    expect(desk.get_by_test_id("authorisation-row")).to_have_count(2)

    # when the renewal summary is opened
    desk.get_by_test_id("renewal-summary-link").click()
    expect(desk.get_by_test_id("renewal-heading")).to_contain_text("Renewal summary")
    expect(desk.get_by_test_id("renewal-session")).to_have_count(2)
    phq9 = desk.locator('[data-testid="renewal-outcome"][data-measure="PHQ-9"]')
    expect(phq9.get_by_test_id("renewal-response")).to_have_text("Yes")
    desk.screenshot(path=f"/tmp/h6-renewal-summary-{width}.png", full_page=True)
    assert blocking_violations(desk) == []

    # then on paper: no navigation, no buttons
    desk.emulate_media(media="print")
    expect(desk.locator("header.top")).to_be_hidden()
    expect(desk.get_by_test_id("renewal-pdf")).to_be_hidden()
