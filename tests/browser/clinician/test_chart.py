"""The clinician's day, clicked through in a real browser: charting a session, and the chart's refusals.

Each test builds its clinic from the conftests (one chair, a REMS-enrolled MDD
patient, a front-desk user who books) plus a clinician on the site's staff, and
uses the real clock. Sessions are booked as having started some minutes ago
(``book_started``) and the earlier steps are charted through the services with
their ``now`` set in the past, so a test can reach the 40-minute checkpoint or
the end of the two-hour observation without waiting for it. The site's time zone
is one where it is daytime now, so "minutes ago" and "an hour from now" stay on
the site's today whatever time the suite runs.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from scheduling.charting import services as charting
from scheduling.models import Dose, RemsForm, SessionStatus, VitalsKind
from tests.browser.clinician.chart_steps import (
    LATE,
    NORMAL,
    at,
    book_started,
    chart_before,
    late,
    record_vitals,
    time_field,
)
from tests.scheduling.stock.dose_lots import lot_named

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHQ9_ANSWERS = {0: "0 Not at all", 1: "1 Several days", 2: "2 More than half the days", 3: "3 Nearly every day"}
# The observation board polls every 5 seconds.
BOARD_REFRESH_MS = 15_000


# --- the session chart --------------------------------------------------------------------------------


def test_a_clinician_charts_a_session_after_the_fact_and_the_real_wait_still_holds_at_discharge(
        nurse, course_today, chair, site, desk_user, clinician_user):
    # given a session that started 2 h 40 min ago, charted after the fact from her schedule: each late entry
    # gives its reason, and a first device charted 2 h 30 min back does not shorten the patient's real wait
    session = book_started(course_today, chair, desk_user, minutes_ago=160)
    lot_named(site, "LOT-7781")  # the site's only lot: the dose form chooses it
    nurse.get_by_test_id("nav-schedule").click()
    row = nurse.locator(f'[data-testid=schedule-row][data-session-id="{session.pk}"]')
    expect(row).to_have_attribute("data-mine", "true")
    row.get_by_test_id("schedule-chart-link").click()
    expect(nurse).to_have_url(re.compile(rf"/sessions/{session.pk}/chart/$"))
    expect(nurse.get_by_test_id("chart-title")).to_contain_text("Harriet Okonkwo")

    # when: 1. check-in with the pre-visit checklist
    check_in = nurse.get_by_test_id("check-in-form")
    for label in ("No food for 2 hours before", "No drink for 30 minutes before",
                  "Nasal steroid or decongestant at least 1 hour before (or none taken)",
                  "Ride home arranged (the patient may not drive)"):
        check_in.get_by_label(label).check()
    # the patient arrived two minutes after the start; the arrival is charted after the fact
    check_in.get_by_label(re.compile(r"^Arrived at")).fill(time_field(site, at(session, 2)))
    late(check_in, LATE)
    check_in.get_by_role("button", name="Check in").click()
    expect(nurse.get_by_test_id("step-done")).to_contain_text("Checked in.")
    expect(nurse.get_by_test_id("chart-status")).to_have_attribute("data-status", "checked_in")
    session.refresh_from_db()
    assert session.checked_in_at == at(session, 2).replace(second=0, microsecond=0)

    # 2. pre-dose vitals, taken at +5
    record_vitals(nurse.get_by_test_id("pre-vitals-form"), {**NORMAL, "systolic": 128, "diastolic": 82},
                  taken_at=time_field(site, at(session, 5)), late_reason=LATE)
    expect(nurse.get_by_test_id("step-done")).to_contain_text("Recorded before dosing vital signs: BP 128/82.")
    expect(nurse.get_by_test_id("vitals-pre_dose").get_by_test_id("vitals-row")).to_have_count(1)

    # 3. the PHQ-9 is due at session 1 (baseline); the score follows the ticks
    expect(nurse.get_by_test_id("measure-due")).to_have_attribute("data-due", "true")
    score = nurse.get_by_test_id("phq9-score")
    expect(score).to_contain_text("0 of 9 answered")
    items = nurse.get_by_test_id("phq9-item")
    answers = [2, 2, 2, 1, 1, 1, 1, 1, 0]
    for index, value in enumerate(answers[:2]):
        items.nth(index).get_by_label(PHQ9_ANSWERS[value]).check()
    expect(score).to_contain_text("2 of 9 answered (so far 4)")
    for index, value in enumerate(answers[2:], start=2):
        items.nth(index).get_by_label(PHQ9_ANSWERS[value]).check()
    expect(score).to_have_attribute("data-total", "11")
    expect(score).to_contain_text("Total 11 · Moderate")
    phq9 = nurse.get_by_test_id("phq9-form")
    phq9.get_by_label(re.compile(r"^Time taken")).fill(time_field(site, at(session, 8)))
    phq9.get_by_role("button", name="Record PHQ-9").click()
    expect(nurse.get_by_test_id("step-done")).to_contain_text("PHQ-9 recorded: 11 (moderate).")
    expect(nurse.get_by_test_id("measure-taken")).to_contain_text("PHQ-9 11 · Moderate")

    # 4. the dose: 56 mg is two devices, first device at +10
    dose = nurse.get_by_test_id("dose-form")
    dose.get_by_label("Dose", exact=True).select_option("56")
    expect(dose.get_by_test_id("dose-devices")).to_have_text("2")
    expect(dose.get_by_label(re.compile(r"^Lot")).locator("option:checked")).to_contain_text("LOT-7781")
    dose.get_by_label(re.compile(r"^First device at")).fill(time_field(site, at(session, 10)))
    expect(dose.get_by_label("Prescriber on site")).to_have_value(str(clinician_user.pk))
    late(dose, LATE)
    dose.get_by_role("button", name="Record dose").click()
    expect(nurse.get_by_test_id("step-done")).to_contain_text("Dose recorded: 56 mg. Observation has started.")
    expect(nurse.get_by_test_id("dose-recorded")).to_contain_text("56 mg (2 devices)")

    # 5. the 40-minute vitals, taken at +50
    record_vitals(nurse.get_by_test_id("obs-vitals-form"), {**NORMAL, "systolic": 138, "diastolic": 86},
                  taken_at=time_field(site, at(session, 50)), kind="About 40 minutes after dosing", late_reason=LATE)
    expect(nurse.get_by_test_id("step-done")).to_contain_text("Recorded about 40 minutes after dosing vital signs")
    expect(nurse.get_by_test_id("chart-checkpoint")).to_have_text("Done")

    # 6. sedation, dissociation and breathing at +70
    assessment = nurse.get_by_test_id("assessment-form")
    assessment.get_by_label("Sedation").select_option(label="Mild")
    assessment.get_by_label("Dissociation", exact=True).select_option(label="Moderate")
    assessment.get_by_label("Breathing").select_option(label="Normal")
    assessment.get_by_label(re.compile(r"^Time")).fill(time_field(site, at(session, 70)))
    late(assessment, LATE)
    assessment.get_by_role("button", name="Record assessment").click()
    expect(nurse.get_by_test_id("step-done")).to_contain_text("Assessment recorded.")
    expect(nurse.get_by_test_id("assessments")).to_contain_text("Moderate")

    # 7. discharge vitals at +135 and a discharge at +140: 120 minutes after the charted first device, but the
    # dose was entered only now, so observation ends 120 real minutes from now
    expect(nurse.get_by_test_id("observation-not-over")).to_be_visible()
    record_vitals(nurse.get_by_test_id("obs-vitals-form"), NORMAL, taken_at=time_field(site, at(session, 135)),
                  kind="Before discharge", late_reason=LATE)
    expect(nurse.get_by_test_id("step-done")).to_contain_text("Recorded before discharge vital signs: BP 122/78.")
    discharge = nurse.get_by_test_id("discharge-form")
    discharge.get_by_label("Sedation, dissociation and breathing have resolved").check()
    discharge.get_by_label("Who drives the patient home").fill("Her sister, Ama")
    discharge.get_by_label("If there were no two-hour rule, after how many minutes could the patient have left?"
                           ).fill("90")
    discharge.get_by_label(re.compile(r"^Discharged at")).fill(time_field(site, at(session, 140)))
    late(discharge, LATE)
    discharge.get_by_role("button", name="Discharge").click()

    # then the discharge is refused with the minutes left, every late entry shows with its reason
    expect(nurse.get_by_test_id("error")).to_have_attribute("data-code", "observation_not_complete")
    expect(nurse.get_by_test_id("chart-status")).to_have_attribute("data-status", "in_treatment")
    expect(nurse.get_by_test_id("late-entries-item")).to_have_count(6)
    expect(nurse.get_by_test_id("late-entries")).to_contain_text(LATE)
    # and the database holds what was charted, at the times charted, each beside the moment it was entered
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_TREATMENT and session.discharged_at is None
    assert (session.dose.dose_mg, session.dose.devices, session.dose.lot_number) == (56, 2, "LOT-7781")
    assert session.dose.started_at == at(session, 10) and session.dose.late_reason == LATE
    assert session.dose.prescriber_on_site == clinician_user
    readings = list(session.vitals.order_by("taken_at").values_list("kind", "taken_at", "systolic"))
    assert readings == [(VitalsKind.PRE_DOSE, at(session, 5), 128), (VitalsKind.POST_DOSE_40, at(session, 50), 138),
                        (VitalsKind.DISCHARGE, at(session, 135), 122)]
    assessment_row = session.assessments.get()
    assert (assessment_row.sedation, assessment_row.dissociation, assessment_row.assessed_at) == (
        "mild", "moderate", at(session, 70))
    measure = session.patient.outcome_measures.get()
    assert (measure.total, measure.band, measure.taken_at, measure.items) == (11, "moderate", at(session, 8), answers)


def test_an_early_discharge_is_refused_in_plain_words_at_the_discharge_and_nothing_is_saved(
        nurse, course_today, chair, site, desk_user, clinician_user):
    # given a patient dosed 30 minutes ago, discharge vitals taken
    session = book_started(course_today, chair, desk_user, minutes_ago=40)
    chart_before(session, clinician_user, dose_at=10)
    charting.record_vitals(by=clinician_user, session=session, kind=VitalsKind.DISCHARGE, **NORMAL)
    ends = time_field(site, at(session, 130))
    nurse.goto(f"/sessions/{session.pk}/chart/")
    expect(nurse.get_by_test_id("observation-not-over")).to_contain_text(f"Observation ends at {ends}")

    # when the clinician discharges anyway
    discharge = nurse.get_by_test_id("discharge-form")
    discharge.get_by_label("Sedation, dissociation and breathing have resolved").check()
    discharge.get_by_label("Who drives the patient home").fill("Her sister")
    discharge.get_by_label("If there were no two-hour rule, after how many minutes could the patient have left?"
                           ).fill("30")
    discharge.get_by_role("button", name="Discharge").click()

    # then the discharge step says why, in words, with the minutes left and no way around it
    section = nurse.locator("#step-discharge")
    error = section.get_by_test_id("error")
    expect(error).to_have_attribute("data-code", "observation_not_complete")
    expect(error).to_contain_text(re.compile(
        rf"Observation is not complete: 120 minutes are required; (8\d|90) minutes left \(until {ends}\)\."))
    expect(error).to_be_focused()  # brought into view: the clinician clicked at the foot of a long page
    expect(error).to_be_in_viewport()
    left = section.get_by_test_id("minutes-left")
    expect(left).to_contain_text("There is no override: the patient stays until observation is complete.")
    assert 80 <= int(left.get_attribute("data-minutes-left")) <= 90
    expect(section.get_by_role("button", name=re.compile("override|acknowledge", re.I))).to_have_count(0)
    expect(discharge.get_by_label("Who drives the patient home")).to_have_value("Her sister")
    # and nothing was saved
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_TREATMENT
    assert (session.discharged_at, session.driver, session.could_have_left_after_minutes) == (None, "", None)
    assert not RemsForm.objects.filter(session=session).exists()


def test_a_high_blood_pressure_is_refused_until_acknowledged_with_a_reason(
        nurse, course_today, chair, site, desk_user, clinician_user):
    # given a patient checked in five minutes ago
    session = book_started(course_today, chair, desk_user, minutes_ago=5)
    lot_named(site, "LOT-1207")  # the site's only lot: the dose form chooses it
    charting.check_in(by=clinician_user, session=session, fasted_food_2h=True, fasted_drink_30m=True,
                      nasal_medicines_ok=True, ride_home_arranged=True)
    nurse.goto(f"/sessions/{session.pk}/chart/")

    # when the pre-dose blood pressure is above 140/90
    record_vitals(nurse.get_by_test_id("pre-vitals-form"), {**NORMAL, "systolic": 152, "diastolic": 94},
                  taken_at="")
    # then the chart warns in words
    expect(nurse.get_by_test_id("high-bp-warning")).to_contain_text(
        "Blood pressure 152/94 is above 140/90. The label says consider delaying.")

    # when the clinician tries to dose
    dose = nurse.get_by_test_id("dose-form")
    dose.get_by_role("button", name="Record dose").click()
    # then dosing is refused at the dose, in words, with the way through beside it, and no dose is saved
    section = nurse.locator("#step-dose")
    error = section.get_by_test_id("error")
    expect(error).to_have_attribute("data-code", "high_bp_not_acknowledged")
    expect(error).to_contain_text("Blood pressure 152/94 is above 140/90: a clinician must acknowledge it "
                                  "(with a reason) before dosing.")
    expect(error).to_be_in_viewport()
    assert not Dose.objects.filter(session=session).exists()

    # when she acknowledges it with a reason
    acknowledge = section.get_by_test_id("acknowledge-bp-form")
    acknowledge.get_by_label("Acknowledge and continue: why may dosing go ahead?").fill(
        "Repeat 138/88 after rest; anxious on arrival")
    acknowledge.get_by_role("button", name="Acknowledge and continue").click()
    # then the chart says so, and the dose goes through
    expect(nurse.get_by_test_id("step-done")).to_contain_text("High blood pressure acknowledged: dosing may go ahead.")
    expect(nurse.get_by_test_id("high-bp-acknowledged")).to_contain_text("Repeat 138/88 after rest; anxious on arrival")
    expect(nurse.get_by_test_id("high-bp-warning")).to_have_count(0)
    dose = nurse.get_by_test_id("dose-form")
    dose.get_by_role("button", name="Record dose").click()
    expect(nurse.get_by_test_id("step-done")).to_contain_text("Dose recorded: 56 mg.")
    expect(nurse.get_by_test_id("chart-status")).to_have_attribute("data-status", "in_treatment")
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_TREATMENT
    assert session.high_bp_acknowledgement == "Repeat 138/88 after rest; anxious on arrival"
    assert session.high_bp_acknowledged_by == clinician_user
    assert session.dose.lot_number == "LOT-1207"
