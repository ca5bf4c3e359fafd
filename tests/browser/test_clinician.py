"""The clinician's day, clicked through in a real browser: chart a session, refusals, observation board, REMS, outcomes.

Each test builds its clinic from ``conftest.py`` (one chair, a REMS-enrolled MDD
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
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.roles import CLINICIAN, PRESCRIBER
from patients import measures
from patients.models import MEDICINE_FIELDS
from protocols.models import Protocol, TreatmentCourse
from scheduling.booking import services as booking
from scheduling.charting import outcomes
from scheduling.charting import services as charting
from scheduling.models import (
    Dose,
    Location,
    RemsForm,
    RemsFormStatus,
    Session,
    SessionStatus,
    VitalsKind,
)
from tests.browser.conftest import LANDS_ON_SCHEDULE
from tests.factories import TreatmentCourseFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CLINICIAN_PASSWORD = "clinician-browser-2026"
LATE = "Charted from the paper notes after a busy morning"
# Zones far enough apart that one of them is always between 06:00 and 20:00 local time.
DAYTIME_ZONES = ("America/New_York", "America/Los_Angeles", "Pacific/Honolulu", "Europe/London", "Asia/Kolkata",
                 "Asia/Tokyo", "Pacific/Auckland")
DAYTIME_HOURS = range(6, 20)
NORMAL = {"systolic": 122, "diastolic": 78, "heart_rate": 72, "spo2": 98}
PHQ9_ANSWERS = {0: "0 Not at all", 1: "1 Several days", 2: "2 More than half the days", 3: "3 Nearly every day"}
# The observation board polls every 5 seconds.
BOARD_REFRESH_MS = 15_000


# --- the clinic -------------------------------------------------------------------------------------


@pytest.fixture
def site(site):
    """The shared site (REMS-certified, open 00:00-23:45 every day here), moved to a zone where it is daytime now."""
    now = timezone.now()
    site.time_zone = next(name for name in DAYTIME_ZONES if now.astimezone(ZoneInfo(name)).hour in DAYTIME_HOURS)
    site.save()
    return site


@pytest.fixture
def clinician_user(site):
    """A clinician and prescriber on ``site``'s staff (sessions booked there are hers); ``CLINICIAN_PASSWORD``."""
    user = UserFactory(username="ana.ortiz", first_name="Ana", last_name="Ortiz", roles=[CLINICIAN, PRESCRIBER])
    user.set_password(CLINICIAN_PASSWORD)
    user.save()
    site.staff.add(user)
    return user


@pytest.fixture
def nurse(new_desk, clinician_user):
    """A browser signed in as the clinician, on the schedule she lands on."""
    return new_desk(clinician_user, CLINICIAN_PASSWORD, lands_on=LANDS_ON_SCHEDULE)


@pytest.fixture
def course_today(patient, site_today, desk_user) -> TreatmentCourse:
    """An esketamine-trd course starting today at the site; the patient's sex is set (the REMS form asks for it)."""
    patient.sex = "female"
    for name in MEDICINE_FIELDS:
        setattr(patient, name, "no")  # asked at intake: the REMS form can be complete
    patient.save()
    return TreatmentCourseFactory(patient=patient, protocol=Protocol.objects.get(slug="esketamine-trd"),
                                  start_date=site_today, created_by=desk_user)


def this_minute() -> datetime:
    return timezone.now().replace(second=0, microsecond=0)


def book_started(course: TreatmentCourse, chair, by, *, minutes_ago: int) -> Session:
    """Session 1 of ``course``, booked (as if beforehand) to have started ``minutes_ago`` minutes ago."""
    start = this_minute() - timedelta(minutes=minutes_ago)
    return booking.book_session(by=by, course=course, chair=chair, start=start, now=start)


def at(session: Session, minutes: int) -> datetime:
    """``minutes`` after the session's start."""
    return session.start + timedelta(minutes=minutes)


def time_field(site: Location, instant: datetime) -> str:
    """``instant`` as a time input takes it and the chart shows it: ``HH:MM`` local time at the site."""
    return site.local(instant).strftime("%H:%M")


def chart_before(session: Session, clinician, *, dose_at: int = 10, discharge_at: int | None = None) -> None:
    """Chart ``session`` through the services as it happened: check-in at +2, pre-dose vitals at +5 minutes,
    the first device at ``dose_at``; with ``discharge_at``, 40-minute vitals, an assessment, discharge vitals and
    the discharge itself."""
    charting.check_in(by=clinician, session=session, fasted_food_2h=True, fasted_drink_30m=True,
                      nasal_medicines_ok=True, ride_home_arranged=True, now=at(session, 2))
    charting.record_vitals(by=clinician, session=session, kind=VitalsKind.PRE_DOSE, now=at(session, 5), **NORMAL)
    charting.record_dose(by=clinician, session=session, dose_mg=56, lot_number="LOT-4471", now=at(session, dose_at))
    if discharge_at is None:
        return
    charting.record_vitals(by=clinician, session=session, kind=VitalsKind.POST_DOSE_40, now=at(session, dose_at + 40),
                           **{**NORMAL, "systolic": 136})
    charting.record_assessment(by=clinician, session=session, sedation="mild", dissociation="mild",
                               respiratory="normal", now=at(session, dose_at + 60))
    charting.record_vitals(by=clinician, session=session, kind=VitalsKind.DISCHARGE, now=at(session, discharge_at - 5),
                           **NORMAL)
    charting.discharge(by=clinician, session=session, resolution_attested=True, driver="Her sister",
                       could_have_left_after_minutes=90, now=at(session, discharge_at))


def late(form, reason: str) -> None:
    """Give the reason for a late entry (a time more than 15 minutes before it is entered)."""
    form.get_by_label("Reason, if entered more than 15 minutes after the fact").fill(reason)


def record_vitals(form, values: dict, *, taken_at: str, kind: str | None = None, late_reason: str = "") -> None:
    if kind is not None:
        form.get_by_label("Reading").select_option(label=kind)
    form.get_by_label("Systolic (mmHg)").fill(str(values["systolic"]))
    form.get_by_label("Diastolic (mmHg)").fill(str(values["diastolic"]))
    form.get_by_label("Heart rate (/min)").fill(str(values["heart_rate"]))
    form.get_by_label("SpO2 (%)").fill(str(values["spo2"]))
    form.get_by_label(re.compile(r"^Time taken")).fill(taken_at)
    if late_reason:
        late(form, late_reason)
    form.get_by_role("button", name="Record vital signs").click()


# --- the session chart --------------------------------------------------------------------------------


def test_a_clinician_charts_a_session_after_the_fact_and_the_real_wait_still_holds_at_discharge(
        nurse, course_today, chair, site, desk_user, clinician_user):
    # given a session that started 2 h 40 min ago, charted after the fact from her schedule: each late entry
    # gives its reason, and a first device charted 2 h 30 min back does not shorten the patient's real wait
    session = book_started(course_today, chair, desk_user, minutes_ago=160)
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
    expect(nurse.get_by_test_id("messages")).to_contain_text("Checked in.")
    expect(nurse.get_by_test_id("chart-status")).to_have_attribute("data-status", "checked_in")
    session.refresh_from_db()
    assert session.checked_in_at == at(session, 2).replace(second=0, microsecond=0)

    # 2. pre-dose vitals, taken at +5
    record_vitals(nurse.get_by_test_id("pre-vitals-form"), {**NORMAL, "systolic": 128, "diastolic": 82},
                  taken_at=time_field(site, at(session, 5)), late_reason=LATE)
    expect(nurse.get_by_test_id("messages")).to_contain_text("Recorded before dosing vital signs: BP 128/82.")
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
    expect(nurse.get_by_test_id("messages")).to_contain_text("PHQ-9 recorded: 11 (moderate).")
    expect(nurse.get_by_test_id("measure-taken")).to_contain_text("PHQ-9 11 · Moderate")

    # 4. the dose: 56 mg is two devices, first device at +10
    dose = nurse.get_by_test_id("dose-form")
    dose.get_by_label("Dose", exact=True).select_option("56")
    expect(dose.get_by_test_id("dose-devices")).to_have_text("2")
    dose.get_by_label("Lot number").fill("LOT-7781")
    dose.get_by_label(re.compile(r"^First device at")).fill(time_field(site, at(session, 10)))
    expect(dose.get_by_label("Prescriber on site")).to_have_value(str(clinician_user.pk))
    late(dose, LATE)
    dose.get_by_role("button", name="Record dose").click()
    expect(nurse.get_by_test_id("messages")).to_contain_text("Dose recorded: 56 mg. Observation has started.")
    expect(nurse.get_by_test_id("dose-recorded")).to_contain_text("56 mg (2 devices)")

    # 5. the 40-minute vitals, taken at +50
    record_vitals(nurse.get_by_test_id("obs-vitals-form"), {**NORMAL, "systolic": 138, "diastolic": 86},
                  taken_at=time_field(site, at(session, 50)), kind="About 40 minutes after dosing", late_reason=LATE)
    expect(nurse.get_by_test_id("messages")).to_contain_text("Recorded about 40 minutes after dosing vital signs")
    expect(nurse.get_by_test_id("chart-checkpoint")).to_have_text("Done")

    # 6. sedation, dissociation and breathing at +70
    assessment = nurse.get_by_test_id("assessment-form")
    assessment.get_by_label("Sedation").select_option(label="Mild")
    assessment.get_by_label("Dissociation", exact=True).select_option(label="Moderate")
    assessment.get_by_label("Breathing").select_option(label="Normal")
    assessment.get_by_label(re.compile(r"^Time")).fill(time_field(site, at(session, 70)))
    late(assessment, LATE)
    assessment.get_by_role("button", name="Record assessment").click()
    expect(nurse.get_by_test_id("messages")).to_contain_text("Assessment recorded.")
    expect(nurse.get_by_test_id("assessments")).to_contain_text("Moderate")

    # 7. discharge vitals at +135 and a discharge at +140: 120 minutes after the charted first device, but the
    # dose was entered only now, so observation ends 120 real minutes from now
    expect(nurse.get_by_test_id("observation-not-over")).to_be_visible()
    record_vitals(nurse.get_by_test_id("obs-vitals-form"), NORMAL, taken_at=time_field(site, at(session, 135)),
                  kind="Before discharge", late_reason=LATE)
    expect(nurse.get_by_test_id("messages")).to_contain_text("Recorded before discharge vital signs: BP 122/78.")
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
    dose.get_by_label("Lot number").fill("LOT-1207")
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
    expect(nurse.get_by_test_id("messages")).to_contain_text("High blood pressure acknowledged: dosing may go ahead.")
    expect(nurse.get_by_test_id("high-bp-acknowledged")).to_contain_text("Repeat 138/88 after rest; anxious on arrival")
    expect(nurse.get_by_test_id("high-bp-warning")).to_have_count(0)
    dose = nurse.get_by_test_id("dose-form")
    dose.get_by_label("Lot number").fill("LOT-1207")
    dose.get_by_role("button", name="Record dose").click()
    expect(nurse.get_by_test_id("messages")).to_contain_text("Dose recorded: 56 mg.")
    expect(nurse.get_by_test_id("chart-status")).to_have_attribute("data-status", "in_treatment")
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_TREATMENT
    assert session.high_bp_acknowledgement == "Repeat 138/88 after rest; anxious on arrival"
    assert session.high_bp_acknowledged_by == clinician_user
    assert session.dose.lot_number == "LOT-1207"


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
    course = TreatmentCourseFactory(patient=patient, protocol=Protocol.objects.get(slug="esketamine-trd"),
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
