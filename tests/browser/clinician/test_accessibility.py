"""axe-core on every clinician page in the states a clinician meets it, at both widths (1440 and 1024 pixels).

One clinic is built through the services for the whole walk: five patients on today's floor at
each step of the session (booked, checked in with vitals, dosed and observed, discharged with the
record whole, discharged lacking two items), one booked three days ahead, a course with four
weeks of outcome measures. The pages are then opened as they are, and only the two refusals
(a dose outside the protocol, a pause from a stale page) are clicked into being.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from protocols import services as course_services
from protocols.models import TreatmentCourse
from scheduling.charting import services as charting
from scheduling.models import RemsForm, Session, VitalsKind
from tests.browser.accessibility import blocking_violations
from tests.browser.clinician.chart_steps import NORMAL, at, book_started, chart_before
from tests.browser.clinician.clinic_states import check_in_with_vitals, measure_course, new_course
from tests.browser.front_desk.conftest import WIDTHS
from tests.factories import ChairFactory
from tests.scheduling.stock.dose_lots import lot_named

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

@dataclass
class Floor:
    """Today's sessions, one at each step, and what the pages around them need."""

    booked: Session
    vitals: Session
    observing: Session
    discharged: Session
    lacking: Session
    ahead: Session
    measured: TreatmentCourse


@pytest.fixture
def floor(site, site_today, desk_user, clinician_user, book) -> Floor:
    chairs = [ChairFactory(location=site, name=f"Chair {number}") for number in range(1, 7)]

    def started(first_name: str, chair, minutes_ago: int) -> Session:
        return book_started(new_course(first_name, site_today, desk_user), chair, desk_user, minutes_ago=minutes_ago)

    lacking = started("Grace", chairs[4], 170)
    check_in_with_vitals(lacking, clinician_user)
    charting.record_dose(by=clinician_user, session=lacking, dose_mg=56, lot=lot_named(lacking.location, "LOT-4471"),
                         now=at(lacking, 10))
    charting.record_vitals(by=clinician_user, session=lacking, kind=VitalsKind.DISCHARGE, now=at(lacking, 135),
                           **NORMAL)
    charting.discharge(by=clinician_user, session=lacking, resolution_attested=True, driver="Her sister",
                       could_have_left_after_minutes=90, now=at(lacking, 140))
    discharged = started("Dana", chairs[3], 160)
    chart_before(discharged, clinician_user, dose_at=10, discharge_at=140)
    observing = started("Chloe", chairs[2], 30)
    chart_before(observing, clinician_user, dose_at=10)
    vitals = started("Beatrice", chairs[1], 10)
    check_in_with_vitals(vitals, clinician_user)
    booked = started("Amara", chairs[0], 2)
    ahead_course = new_course("Esther", site_today + timedelta(days=3), desk_user)
    ahead = book(chairs[5], datetime.combine(site_today + timedelta(days=3), time(10), tzinfo=site.zone),
                 course=ahead_course, clinician=clinician_user)
    measured = new_course("Farida", site_today - timedelta(days=28), desk_user)
    measure_course(measured, clinician_user, site, site_today)
    return Floor(booked=booked, vitals=vitals, observing=observing, discharged=discharged, lacking=lacking,
                 ahead=ahead, measured=measured)


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def clinician_at(request, nurse):
    nurse.set_viewport_size({"width": request.param, "height": 900})
    return nurse


def clinician_pages(site, site_today, floor: Floor) -> dict[str, str]:
    """Every clinician page that is opened as it is, by a name that reads in a failure."""
    chart = "session-chart"
    return {
        "my schedule, today with sessions and the week after": reverse("my-schedule"),
        "my schedule, an empty day and an empty week": reverse("my-schedule")
        + f"?day={site_today + timedelta(days=40)}",
        "my schedule, a wrong day": reverse("my-schedule") + "?day=2026-02-31",
        "observation board, someone observed": reverse("observation", args=[site.pk]),
        "chart before check-in": reverse(chart, args=[floor.booked.pk]),
        "chart after the pre-dose vitals": reverse(chart, args=[floor.vitals.pk]),
        "chart dosed, in observation": reverse(chart, args=[floor.observing.pk]),
        "chart discharged": reverse(chart, args=[floor.discharged.pk]),
        "chart discharged, the REMS form lacking": reverse(chart, args=[floor.lacking.pk]),
        "chart late-entry form on a missing reading": reverse(chart, args=[floor.lacking.pk])
        + "?reading=post_dose_40#step-observation",
        "REMS list": reverse("rems-list"),
        "REMS form lacking items": reverse("rems-form", args=[RemsForm.objects.get(session=floor.lacking).pk]),
        "REMS form ready": reverse("rems-form", args=[RemsForm.objects.get(session=floor.discharged).pk]),
        "course page, active": reverse("course-page", args=[floor.booked.course_id]),
        "course page, with outcome measures": reverse("course-page", args=[floor.measured.pk]),
        "patient page with the outcomes charts": reverse("patient-page", args=[floor.measured.patient_id]),
    }


def test_clinician_pages_have_no_serious_accessibility_violation(clinician_at, site, site_today, floor):
    # given every clinician page in the states the clinic is in
    pages = clinician_pages(site, site_today, floor)

    # when axe reads each
    found, statuses = {}, {}
    for name, address in pages.items():
        statuses[name] = clinician_at.goto(address).status
        clinician_at.wait_for_load_state("networkidle")
        found[name] = blocking_violations(clinician_at)

    # then each page is the page it should be (the wrong day is refused beside the date picker), and axe is clean
    assert {name: status for name, status in statuses.items() if status != 200} == {"my schedule, a wrong day": 400}
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_the_chart_and_course_refusals_have_no_serious_accessibility_violation(clinician_at, floor, desk_user):
    page = clinician_at
    found = {}
    # when a first dose outside the protocol is refused in place
    lot_named(floor.vitals.location, "LOT-9001")  # the dose draws from it (the only lot: chosen)
    page.goto(reverse("session-chart", args=[floor.vitals.pk]))
    dose = page.get_by_test_id("dose-form")
    dose.get_by_label("Dose", exact=True).select_option("84")
    dose.get_by_role("button", name="Record dose").click()
    expect(page.locator("#step-dose").get_by_test_id("error")).to_contain_text(
        "The first dose of this course is 56 mg.")
    found["chart, a dose refused"] = blocking_violations(page)

    # when a course is paused from a page opened before a colleague paused it
    course = floor.booked.course
    page.goto(reverse("course-page", args=[course.pk]))
    course_services.pause_course(by=desk_user, course=course)
    page.get_by_test_id("pause-reason").fill("Unwell this week")
    page.get_by_role("button", name="Pause the course").click()
    expect(page.get_by_test_id("action-pause").get_by_test_id("error")).to_be_visible()
    found["course page, a pause refused"] = blocking_violations(page)

    # and the paused course as it then is, with the resume form
    page.goto(reverse("course-page", args=[course.pk]))
    expect(page.get_by_test_id("action-resume")).to_be_visible()
    found["course page, paused"] = blocking_violations(page)

    # then
    assert {name: lines for name, lines in found.items() if lines} == {}
