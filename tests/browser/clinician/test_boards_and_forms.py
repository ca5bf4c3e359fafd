"""The clinician's day, clicked through in a real browser: the observation board, the REMS forms, the outcomes chart.

The clinic is the browser conftests'; sessions are booked as having started some minutes ago
(``book_started``) and charted through the services as they happened (chart_steps.py).
"""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patients import measures
from scheduling.charting import outcomes
from scheduling.charting import services as charting
from scheduling.models import RemsForm, RemsFormStatus, Session, VitalsKind
from tests.browser.clinician.chart_steps import (
    NORMAL,
    book_started,
    chart_before,
)
from tests.factories import TreatmentCourseFactory, standard_protocol

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHQ9_ANSWERS = {0: "0 Not at all", 1: "1 Several days", 2: "2 More than half the days", 3: "3 Nearly every day"}
# The observation board polls every 5 seconds.
BOARD_REFRESH_MS = 15_000


# --- the observation board ----------------------------------------------------------------------------


def countdown_seconds(page, session: Session) -> int:
    """The row's countdown in seconds, read once the script has ticked it (``m:ss left``) in one step."""
    text = page.wait_for_function(
        """id => {
            const el = document.querySelector(`[data-testid=observation-row][data-session-id="${id}"] .countdown`);
            const text = el ? el.textContent.trim() : "";
            return /^\\d+:\\d\\d left$/.test(text) && text;
        }""", arg=session.pk).json_value()
    minutes, seconds = re.fullmatch(r"(\d+):(\d\d) left", text).groups()
    return int(minutes) * 60 + int(seconds)


def test_the_observation_board_counts_down_and_shows_the_40_minute_checkpoint_without_a_reload(
        nurse, course_today, chair, site, desk_user, clinician_user):
    # given a patient whose first device was 40 minutes ago: the 40-minute blood pressure is due
    session = book_started(course_today, chair, desk_user, minutes_ago=50)
    chart_before(session, clinician_user, dose_at=10)
    nurse.get_by_test_id("schedule-observation-link").click()
    expect(nurse).to_have_url(re.compile(rf"/observation/{site.pk}/$"))
    assert nurse.evaluate("typeof window.htmx") == "object", "htmx did not load: the board cannot poll"
    nurse.evaluate("window.boardMarker = 'not reloaded'")
    row = nurse.locator(f'[data-testid=observation-row][data-session-id="{session.pk}"]')
    expect(row).to_have_attribute("data-stage", "observing")
    checkpoint = row.get_by_test_id("bp-checkpoint")
    expect(checkpoint).to_have_attribute("data-checkpoint", "due")
    expect(checkpoint).to_have_text("Due now")
    countdown = row.get_by_test_id("minutes-left")
    expect(countdown).to_have_attribute("role", "timer")
    before = countdown_seconds(nurse, session)  # the script ticks it every second
    assert 78 * 60 <= before <= 80 * 60, before  # observation ends 80 minutes after this minute began
    updated = nurse.get_by_test_id("observation-updated").inner_text()

    # when a couple of seconds pass
    nurse.wait_for_timeout(3_000)

    # then the countdown went down, in the same page
    after = countdown_seconds(nurse, session)
    assert 2 <= before - after <= 8, (before, after)

    # when the 40-minute blood pressure is recorded on another screen
    charting.record_vitals(by=clinician_user, session=session, kind=VitalsKind.POST_DOSE_40, **NORMAL)

    # then the board shows the checkpoint done at its next refresh, still without a reload
    expect(checkpoint).to_have_attribute("data-checkpoint", "done", timeout=BOARD_REFRESH_MS)
    expect(checkpoint).to_have_text("Done")
    expect(nurse.get_by_test_id("observation-updated")).not_to_have_text(updated)
    assert countdown_seconds(nurse, session) < after
    assert nurse.evaluate("window.boardMarker") == "not reloaded", "the board reloaded instead of refreshing itself"


# --- REMS forms ---------------------------------------------------------------------------------------


def test_the_rems_form_is_listed_printed_and_marked_submitted(nurse, course_today, chair, site, desk_user,
                                                              clinician_user):
    # given a session discharged 20 minutes ago, so its REMS form is complete
    session = book_started(course_today, chair, desk_user, minutes_ago=160)
    chart_before(session, clinician_user, dose_at=10, discharge_at=140)
    form = RemsForm.objects.get(session=session)
    assert form.status == RemsFormStatus.READY

    # when the clinician opens the REMS list
    nurse.get_by_test_id("nav-rems").click()
    # then the form is there, not yet due, ready and missing nothing
    row = nurse.locator(f'[data-testid=rems-row][data-form-id="{form.pk}"]')
    expect(row).to_have_attribute("data-urgency", "pending")
    expect(row).to_contain_text("Harriet Okonkwo")
    expect(row).to_contain_text("Ready to submit")

    # when she opens it
    row.get_by_test_id("rems-open").click()
    # then the form shows the session's record and nothing missing
    expect(nurse).to_have_url(re.compile(rf"/rems/{form.pk}/$"))
    sheet = nurse.get_by_test_id("rems-form")
    expect(sheet).to_have_attribute("data-status", "ready")
    expect(nurse.get_by_test_id("rems-missing")).to_have_count(0)
    for shown in ("Harriet Okonkwo", "Female", "Ana Ortiz", "56 mg", "LOT-4471", "122/78", "136/78"):
        expect(sheet).to_contain_text(shown)
    expect(sheet.locator("dt:has-text('Minutes from first device to end of monitoring') + dd")).to_have_text("130")
    expect(sheet.locator("dt:has-text('Could have left after (minutes)') + dd")).to_have_text("90")

    # when it is printed
    nurse.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    nurse.get_by_role("button", name="Print").click()
    nurse.emulate_media(media="print")
    # then the print button opens the browser's print, and the printout is the form alone
    assert nurse.evaluate("window.printed") == 1
    expect(sheet).to_be_visible()
    for screen_only in (nurse.get_by_test_id("rems-print"), nurse.get_by_test_id("nav-rems"),
                        nurse.get_by_test_id("rems-submit-form")):
        expect(screen_only).to_be_hidden()
    nurse.emulate_media(media="screen")

    # when she marks it submitted with the confirmation number
    submit = nurse.get_by_test_id("rems-submit-form")
    submit.get_by_label("REMS confirmation number").fill("RC-2026-118")
    submit.get_by_role("button", name="Mark submitted").click()

    # then the form says so, and the list moves it to the submitted ones
    expect(nurse.get_by_test_id("messages")).to_contain_text("Marked submitted with confirmation number RC-2026-118.")
    expect(nurse.get_by_test_id("rems-form")).to_have_attribute("data-status", "submitted")
    expect(nurse.get_by_test_id("rems-submitted")).to_contain_text("confirmation number RC-2026-118")
    expect(nurse.get_by_test_id("rems-submitted")).to_contain_text("by Ana Ortiz")
    expect(nurse.get_by_test_id("rems-submit-form")).to_have_count(0)
    form.refresh_from_db()
    assert (form.status, form.confirmation_number, form.submitted_by) == (RemsFormStatus.SUBMITTED, "RC-2026-118",
                                                                          clinician_user)
    assert form.submitted_content["dose"]["lot_number"] == "LOT-4471"
    nurse.get_by_test_id("nav-rems").click()
    expect(nurse.locator(f'[data-testid=rems-row][data-form-id="{form.pk}"]')).to_have_attribute(
        "data-urgency", "submitted")


# --- the outcomes chart -------------------------------------------------------------------------------


def test_the_patient_page_draws_one_point_per_phq9(nurse, patient, site, site_today, desk_user, clinician_user):
    # given a course started four weeks ago with a weekly PHQ-9 falling from 19 to 4, and two GAD-7s
    course = TreatmentCourseFactory(patient=patient, protocol=standard_protocol("esketamine-trd"),
                                    start_date=site_today - timedelta(days=28), created_by=desk_user)
    phq9s = {21: [3, 3, 3, 2, 2, 2, 2, 2, 0], 14: [2, 2, 2, 1, 1, 1, 1, 1, 0], 7: [1, 1, 1, 1, 1, 1, 1, 1, 0],
             0: [1, 1, 1, 1, 0, 0, 0, 0, 0]}
    for days_ago, items in phq9s.items():
        taken = timezone.now() - timedelta(hours=1) if days_ago == 0 else site.at(site_today - timedelta(
            days=days_ago), time(12))
        outcomes.record_measure(by=clinician_user, patient=patient, instrument=measures.PHQ9, items=items,
                                taken_at=taken)
    for days_ago in (21, 7):
        outcomes.record_measure(by=clinician_user, patient=patient, instrument=measures.GAD7, items=[1] * 7,
                                taken_at=site.at(site_today - timedelta(days=days_ago), time(12)))

    # when the clinician opens the patient's page
    nurse.goto(f"/patients/{patient.pk}/")

    # then the PHQ-9 chart has a point per PHQ-9, in order, baseline first, and shows the response
    outcomes_card = nurse.get_by_test_id("outcomes")
    expect(outcomes_card).to_contain_text(course.protocol.name)
    phq9_chart = outcomes_card.locator('[data-testid=outcome-figure][data-instrument="phq9"]')
    points = phq9_chart.get_by_test_id("outcome-point")
    expect(points).to_have_count(4)
    assert [points.nth(i).get_attribute("data-total") for i in range(4)] == ["19", "11", "8", "4"]
    expect(points.first).to_have_attribute("data-kind", "baseline")
    expect(phq9_chart.get_by_test_id("outcome-chart")).to_be_visible()
    expect(phq9_chart).to_contain_text("baseline 19, latest 4 (4 measures)")
    expect(phq9_chart.get_by_test_id("outcome-remission")).to_have_count(1)
    gad7_chart = outcomes_card.locator('[data-testid=outcome-figure][data-instrument="gad7"]')
    expect(gad7_chart.get_by_test_id("outcome-point")).to_have_count(2)
    expect(nurse.get_by_test_id("outcome-point")).to_have_count(6)
