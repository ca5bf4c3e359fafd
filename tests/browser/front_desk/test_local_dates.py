"""Dates on the patient pages are the site's, not UTC's: at 23:30 in New York it is still today there.

``late_evening`` puts the server's clock at 23:30 at the site before the desk
signs in (in UTC it is already tomorrow). Each test runs at 1440 and 1024 pixels.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patients.models import Patient
from tests.factories import OutcomeMeasureFactory, TreatmentCourseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def late_evening(local_clock, site) -> date:
    """Today at the site, with the server's clock at 23:30 there; ask for it before ``desk``."""
    return site.local_date(local_clock(time(23, 30)))


def shown(day: date) -> str:
    """A date as the patient pages write it: ``Mar 4, 2026``."""
    return f"{day:%b} {day.day}, {day.year}"


def test_consent_course_and_phq9_dates_are_todays_at_the_site(late_evening, desk, patient, desk_user, width):
    # given: consent, a course and a PHQ-9, all at 23:30 today at the site (tomorrow in UTC)
    today, tomorrow = late_evening, late_evening + timedelta(days=1)
    assert timezone.now().date() == tomorrow
    patient.sms_consent_at = timezone.now()
    patient.save()
    TreatmentCourseFactory(patient=patient, start_date=today, created_by=desk_user)
    OutcomeMeasureFactory(patient=patient, items=[2, 2, 1, 1, 1, 1, 1, 1, 0], recorded_by=desk_user)

    # when
    desk.goto(f"/patients/{patient.pk}/")

    # then
    expect(desk.get_by_test_id("patient-sms-consent")).to_contain_text(f"Consented {shown(today)}")
    expect(desk.get_by_test_id("course")).to_contain_text(f"started {today:%b} {today.day}, {today.year}")
    outcomes = desk.get_by_test_id("outcomes")
    expect(outcomes).to_contain_text(f"{today:%b} {today.day}")
    expect(outcomes).not_to_contain_text(f"{tomorrow:%b} {tomorrow.day}")
    desk.screenshot(path=f"/tmp/h3-local-dates-{width}.png", full_page=True)

    # when: the patient texts STOP at 23:30
    Patient.objects.filter(pk=patient.pk).update(sms_opted_out_at=timezone.now())
    desk.reload()

    # then
    expect(desk.get_by_test_id("patient-sms-consent")).to_have_text(f"Opted out {shown(today)}")


def test_the_patient_form_counts_today_at_the_site(late_evening, desk, patient, width):
    # given
    today, tomorrow = late_evening, late_evening + timedelta(days=1)
    desk.goto(f"/patients/{patient.pk}/edit/")
    enrolled = desk.get_by_label("REMS enrolment date")

    # then: the date pickers stop at today at the site
    expect(enrolled).to_have_attribute("max", today.isoformat())
    expect(desk.get_by_label("Date of birth")).to_have_attribute("max", today.isoformat())

    # when: enrolled "tomorrow" (today in UTC)
    enrolled.fill(tomorrow.isoformat())
    desk.get_by_role("button", name="Save changes").click()

    # then
    expect(desk.locator("#id_rems_enrolled_on-error")).to_have_text("The REMS enrolment date cannot be in the future.")

    # when: enrolled today
    desk.get_by_label("REMS enrolment date").fill(today.isoformat())
    desk.get_by_role("button", name="Save changes").click()

    # then
    expect(desk.get_by_test_id("patient-name")).to_be_visible()
    patient.refresh_from_db()
    assert patient.rems_enrolled_on == today
