"""The chart updates in place, at the two widths a clinician's screen has (1440 and 1024 pixels).

Each step posts with htmx and the chart's body is swapped where it stands: no reload (a mark set
on the window survives), the step says what it did in its own section, refusals show beside the
step with what was typed kept. A discharged chart's REMS form lacks are each a link to the form
that records them, and go once recorded.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from scheduling.charting import services as charting
from scheduling.models import VitalsKind
from tests.browser.accessibility import blocking_violations
from tests.browser.clinician.chart_steps import LATE, NORMAL, at, book_started, late, record_vitals, time_field
from tests.scheduling.stock.dose_lots import lot_named

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHQ9_NONE = "0 Not at all"
STILL_HERE = "window.chartMark === 'not reloaded'"


@pytest.fixture(params=(1440, 1024), ids=lambda width: f"{width}px")
def width(request) -> int:
    return request.param


@pytest.fixture
def chart(nurse, width):
    """``chart(session)``: the nurse's browser, ``width`` wide, on the session's chart, marked to catch a reload."""

    def open_chart(session):
        nurse.set_viewport_size({"width": width, "height": 900})
        nurse.goto(f"/sessions/{session.pk}/chart/")
        nurse.evaluate("window.chartMark = 'not reloaded'")
        return nurse

    return open_chart


def step_state(page, key: str):
    return page.locator(f'[data-testid=chart-step][data-step="{key}"]')


def test_each_step_updates_the_chart_in_place_and_a_refused_dose_keeps_what_was_typed(
        chart, width, course_today, chair, desk_user):
    session = book_started(course_today, chair, desk_user, minutes_ago=5)
    lot_named(chair.location, "LOT-9001")  # the dose draws from it (the only lot: chosen)
    page = chart(session)
    # the stepper says each step's state in words, the next one marked as the current step
    expect(page.locator("[aria-current=step]")).to_have_text(re.compile(r"^1\. Check-in: next$"))
    expect(step_state(page, "dose")).to_have_text(re.compile(r"4\. Dose: to do"))

    # when she checks the patient in
    check_in = page.get_by_test_id("check-in-form")
    for box in check_in.get_by_role("checkbox").all():
        box.check()
    check_in.get_by_role("button", name="Check in").click()
    # then the check-in section says so, the status and the stepper follow, and the page was not reloaded
    expect(page.locator("#step-check-in").get_by_test_id("step-done")).to_have_text("Checked in.")
    expect(page.get_by_test_id("step-done")).to_be_focused()
    expect(page.get_by_test_id("chart-status")).to_have_attribute("data-status", "checked_in")
    expect(step_state(page, "check-in")).to_have_attribute("data-state", "done")
    expect(step_state(page, "check-in")).to_have_text(re.compile(r"1\. Check-in: ✓ done"))
    expect(page.locator("[aria-current=step]")).to_have_count(1)
    assert page.evaluate(STILL_HERE)

    # when the pre-dose blood pressure is high
    record_vitals(page.get_by_test_id("pre-vitals-form"), {**NORMAL, "systolic": 152, "diastolic": 94}, taken_at="")
    expect(page.get_by_test_id("high-bp-warning")).to_contain_text("Blood pressure 152/94 is above 140/90.")

    # when the PHQ-9 that is due is recorded, it is no longer due
    expect(page.get_by_test_id("measure-due")).to_have_attribute("data-due", "true")
    expect(step_state(page, "measure")).to_contain_text("(due)")
    for item in page.get_by_test_id("phq9-item").all():
        item.get_by_label(PHQ9_NONE).check()
    expect(page.get_by_test_id("phq9-score")).to_have_attribute("data-total", "0")
    page.get_by_role("button", name="Record PHQ-9").click()
    expect(page.locator("#step-measure").get_by_test_id("step-done")).to_contain_text("PHQ-9 recorded: 0")
    expect(page.get_by_test_id("measure-due")).to_have_attribute("data-due", "false")
    expect(page.get_by_test_id("measure-due")).not_to_contain_text("is due")
    expect(step_state(page, "measure")).not_to_contain_text("(due)")
    expect(step_state(page, "measure")).to_have_attribute("data-state", "done")

    # when she doses 84 mg before acknowledging the blood pressure
    dose = page.get_by_test_id("dose-form")
    dose.get_by_label("Dose", exact=True).select_option("84")
    dose.get_by_role("button", name="Record dose").click()
    # then the refusal shows at the dose, in place, and the dose and lot she typed are still there
    error = page.locator("#step-dose").get_by_test_id("error")
    expect(error).to_have_attribute("data-code", "high_bp_not_acknowledged")
    expect(error).to_be_in_viewport()
    expect(page.get_by_test_id("dose-form").get_by_label(re.compile(r"^Lot")).locator("option:checked")
           ).to_contain_text("LOT-9001")
    expect(page.get_by_test_id("dose-form").get_by_label("Dose", exact=True)).to_have_value("84")
    expect(page.get_by_test_id("dose-devices")).to_have_text("3")
    expect(page.get_by_test_id("chart-title")).to_be_visible()  # the page around the step is still there
    assert page.evaluate(STILL_HERE)
    assert blocking_violations(page) == []
    page.screenshot(path=f"/tmp/h8-chart-refused-{width}.png", full_page=True)

    # when she acknowledges it beside the refusal, the dose and lot stay typed and the dose goes through
    page.locator("#step-dose").get_by_label("Acknowledge and continue: why may dosing go ahead?").fill(
        "Repeat 138/88 after rest")
    page.locator("#step-dose").get_by_role("button", name="Acknowledge and continue").click()
    expect(page.locator("#step-pre-dose").get_by_test_id("step-done")).to_contain_text("acknowledged")
    expect(page.get_by_test_id("dose-form").get_by_label(re.compile(r"^Lot")).locator("option:checked")
           ).to_contain_text("LOT-9001")
    expect(page.get_by_test_id("dose-form").get_by_label("Dose", exact=True)).to_have_value("84")
    page.get_by_test_id("dose-form").get_by_role("button", name="Record dose").click()
    # 84 mg as a first dose is outside the protocol: refused in place, still typed, with the reason to give
    expect(page.locator("#step-dose").get_by_test_id("error")).to_contain_text(
        "The first dose of this course is 56 mg.")
    expect(page.get_by_test_id("dose-form").get_by_label(re.compile(r"^Lot")).locator("option:checked")
           ).to_contain_text("LOT-9001")
    page.get_by_label("Reason for giving this dose outside the protocol").fill("Prescriber's order after review")
    page.get_by_test_id("dose-form").get_by_role("button", name="Record dose").click()
    expect(page.locator("#step-dose").get_by_test_id("step-done")).to_contain_text("Dose recorded: 84 mg.")
    expect(page.get_by_test_id("chart-status")).to_have_attribute("data-status", "in_treatment")
    expect(step_state(page, "dose")).to_have_attribute("data-state", "done")
    assert page.evaluate(STILL_HERE)
    page.screenshot(path=f"/tmp/h8-chart-dosed-{width}.png", full_page=True)


def test_what_the_rems_form_lacks_on_a_discharged_chart_is_one_form_away(
        chart, width, course_today, chair, site, desk_user, clinician_user):
    # given a session discharged without its 40-minute blood pressure or its assessment charted
    session = book_started(course_today, chair, desk_user, minutes_ago=170)
    charting.check_in(by=clinician_user, session=session, fasted_food_2h=True, fasted_drink_30m=True,
                      nasal_medicines_ok=True, ride_home_arranged=True, now=at(session, 2))
    charting.record_vitals(by=clinician_user, session=session, kind=VitalsKind.PRE_DOSE, now=at(session, 5), **NORMAL)
    charting.record_dose(by=clinician_user, session=session, dose_mg=56, lot=lot_named(session.location, "LOT-4471"),
                         now=at(session, 10))
    charting.record_vitals(by=clinician_user, session=session, kind=VitalsKind.DISCHARGE, now=at(session, 135),
                           **NORMAL)
    charting.discharge(by=clinician_user, session=session, resolution_attested=True, driver="Her sister",
                       could_have_left_after_minutes=90, now=at(session, 140))
    page = chart(session)
    lacks = page.get_by_test_id("chart-rems-missing")
    expect(lacks).to_contain_text("Blood pressure at about 40 minutes")
    expect(lacks).to_contain_text("Sedation assessment")
    assert blocking_violations(page) == []
    page.screenshot(path=f"/tmp/h8-chart-rems-missing-{width}.png", full_page=True)

    # when she follows the missing 40-minute blood pressure, the late-entry form starts on that reading
    lacks.get_by_role("link", name="Blood pressure at about 40 minutes").click()
    expect(page).to_have_url(re.compile(rf"/sessions/{session.pk}/chart/\?reading=post_dose_40#step-observation$"))
    form = page.get_by_test_id("obs-vitals-form")
    expect(form.get_by_label("Reading")).to_have_value(VitalsKind.POST_DOSE_40)
    record_vitals(form, {**NORMAL, "systolic": 134}, taken_at=time_field(site, at(session, 50)), late_reason=LATE)
    # then it is recorded in place and no longer missing
    expect(page.locator("#step-observation").get_by_test_id("step-done")).to_contain_text("40 minutes")
    expect(page.get_by_test_id("chart-rems-missing")).not_to_contain_text("Blood pressure at about 40 minutes")

    # and the assessment is one link and one form away too
    page.get_by_test_id("chart-rems-missing").get_by_role("link", name="Sedation assessment").click()
    expect(page).to_have_url(re.compile(r"#step-assessment$"))
    assessment = page.get_by_test_id("assessment-form")
    assessment.get_by_label("Sedation").select_option(label="Mild")
    assessment.get_by_label("Dissociation", exact=True).select_option(label="Mild")
    assessment.get_by_label("Breathing").select_option(label="Normal")
    assessment.get_by_label(re.compile(r"^Time")).fill(time_field(site, at(session, 70)))
    late(assessment, LATE)
    assessment.get_by_role("button", name="Record assessment").click()
    expect(page.locator("#step-assessment").get_by_test_id("step-done")).to_have_text("Assessment recorded.")
    expect(page.get_by_test_id("chart-rems-missing")).to_have_count(0)
    page.screenshot(path=f"/tmp/h8-chart-rems-complete-{width}.png", full_page=True)
