"""The clinician's web pages: the session chart, the observation board, my schedule, REMS forms, outcomes chart.

Sessions are booked on Tuesday 3 March 2026 at 09:00 in New York; ``clock``
freezes "now" there and ``clock.move_to`` walks through the session.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from patients import measures
from patients.models import OutcomeMeasure
from protocols.models import Protocol
from scheduling.booking import services as booking
from scheduling.charting import outcomes
from scheduling.models import Chair, RemsForm, RemsFormStatus, Session, SessionStatus
from scheduling.pages.outcomes_chart import outcome_chart
from tests.factories import PatientFactory, TreatmentCourseFactory, UserFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

TUESDAY = date(2026, 3, 3)
NINE = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # 09:00 in New York
NORMAL = {"systolic": "122", "diastolic": "78", "heart_rate": "72", "spo2": "98"}
CHECKLIST = {"fasted_food_2h": "on", "fasted_drink_30m": "on", "nasal_medicines_ok": "on", "ride_home_arranged": "on"}
# Measured: the web session, user and roles; the user's locations; sessions with what a row shows; the
# protocols' phases; completed sessions; item-9 alerts; latest readings; the calendar feed; saving the web
# session (savepoint, update, release).
SCHEDULE_MAX_QUERIES = 13
# Measured: the web session, user and roles; the location; the sessions; doses, vitals and item-9 alerts;
# the location switcher; saving the web session (savepoint, update, release).
OBSERVATION_MAX_QUERIES = 12


@pytest.fixture
def clock():
    with time_machine.travel(NINE, tick=False) as traveller:
        yield traveller


def book(chair, *, hour=9, minute=0, slug="esketamine-trd") -> Session:
    course = TreatmentCourseFactory(patient=PatientFactory(), protocol=Protocol.objects.get(slug=slug),
                                    start_date=TUESDAY)
    return booking.book_session(by=UserFactory(), course=course, chair=chair,
                                 start=local(chair.location, TUESDAY, hour, minute))


@pytest.fixture
def esk_session(esk_course, chair, staff_clinician, now):
    esk_course.patient.sex = "female"  # the REMS form asks for it
    esk_course.patient.save()
    return booking.book_session(by=UserFactory(), course=esk_course, chair=chair, start=local(chair.location,
                                                                                                   TUESDAY, 9))


@pytest.fixture
def nurse(client, staff_clinician):
    client.force_login(staff_clinician)
    client.signed_in_as = staff_clinician
    return client


@pytest.fixture
def desk(client, desk_user):
    client.force_login(desk_user)
    client.signed_in_as = desk_user
    return client


def step(client, session, name, body=None):
    response = client.post(f"/sessions/{session.pk}/chart/{name}/", body or {})
    assert "/login/" not in response.get("Location", ""), "signed out: move the clock with later()"
    return response


def later(client, clock, minutes: int) -> None:
    """Move "now" to ``minutes`` after 09:00 and sign in again (web sessions end after 15 idle minutes)."""
    clock.move_to(NINE + timedelta(minutes=minutes))
    client.force_login(client.signed_in_as)


def phq9(items):
    return {f"item{number}": str(value) for number, value in enumerate(items, start=1)}


def checked_in_with_vitals(client, session, vitals=None):
    assert step(client, session, "check-in", CHECKLIST).status_code == 302
    assert step(client, session, "vitals", {"kind": "pre_dose", **(vitals or NORMAL)}).status_code == 302


def dosed(client, session, clock):
    checked_in_with_vitals(client, session)
    later(client, clock, 10)
    assert step(client, session, "dose", {"dose_mg": "56", "lot_number": "LOT-4471"}).status_code == 302


def discharged(client, session, clock):
    dosed(client, session, clock)
    later(client, clock, 50)
    assert step(client, session, "vitals", {"kind": "post_dose_40", **NORMAL}).status_code == 302
    assert step(client, session, "assessment", {"sedation": "mild", "dissociation": "mild",
                                                "respiratory": "normal"}).status_code == 302
    later(client, clock, 131)
    assert step(client, session, "vitals", {"kind": "discharge", **NORMAL}).status_code == 302
    response = step(client, session, "discharge", {"resolution_attested": "on", "driver": "Her sister",
                                                   "could_have_left_after_minutes": "90"})
    assert response.status_code == 302, response.content.decode()


# --- role access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/schedule/", "/observation/", "/rems/"])
def test_anonymous_visitors_are_sent_to_sign_in(client, site, path):
    # when
    response = client.get(path)
    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_anonymous_visitors_cannot_open_a_chart(client, esk_session):
    response = client.get(f"/sessions/{esk_session.pk}/chart/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("path", ["/schedule/", "/observation/{site}/", "/observation/{site}/body/", "/rems/"])
def test_front_desk_is_refused_clinician_pages(desk, site, path):
    assert desk.get(path.format(site=site.pk)).status_code == 403


@pytest.mark.parametrize("name, body", [("vitals", {"kind": "pre_dose", **NORMAL}), ("dose", {"dose_mg": "56"}),
                                        ("acknowledge-bp", {"reason": "x"}), ("discharge", {}),
                                        ("assessment", {})])
def test_front_desk_is_refused_clinician_only_chart_steps(desk, esk_session, clock, name, body):
    # given a checked-in patient
    assert step(desk, esk_session, "check-in", CHECKLIST).status_code == 302
    # when the desk tries a clinician's step
    response = step(desk, esk_session, name, body)
    # then
    assert response.status_code == 403
    assert not esk_session.vitals.exists()


def test_front_desk_may_check_in_from_the_chart(desk, esk_session, clock):
    response = step(desk, esk_session, "check-in", CHECKLIST)
    assert response.status_code == 302
    esk_session.refresh_from_db()
    assert esk_session.status == SessionStatus.CHECKED_IN


def test_a_clinician_lands_on_my_schedule(nurse, site):
    response = nurse.get("/")
    assert response.status_code == 302 and response["Location"] == "/schedule/"


def test_the_nav_offers_clinicians_their_pages(nurse, site):
    content = nurse.get("/schedule/").content.decode()
    for testid in ("nav-schedule", "nav-observation", "nav-rems"):
        assert f'data-testid="{testid}"' in content


# --- the session chart ---------------------------------------------------------------------------------


def test_a_clinician_charts_a_full_esketamine_session_through_the_page(nurse, esk_session, clock):
    # given the chart of a booked session
    page = nurse.get(f"/sessions/{esk_session.pk}/chart/")
    assert page.status_code == 200
    assert 'data-testid="check-in-form"' in page.content.decode()
    # when the clinician walks every step: check-in, vitals, PHQ-9, dose, 40-minute vitals, assessment, discharge
    checked_in_with_vitals(nurse, esk_session)
    assert step(nurse, esk_session, "measure", phq9([2, 2, 2, 1, 1, 1, 1, 1, 0])).status_code == 302
    later(nurse, clock, 10)
    assert step(nurse, esk_session, "dose", {"dose_mg": "56", "lot_number": "LOT-4471"}).status_code == 302
    later(nurse, clock, 50)
    assert step(nurse, esk_session, "vitals", {"kind": "post_dose_40", **NORMAL}).status_code == 302
    assert step(nurse, esk_session, "assessment", {"sedation": "mild", "dissociation": "none",
                                                   "respiratory": "normal"}).status_code == 302
    later(nurse, clock, 130)
    assert step(nurse, esk_session, "vitals", {"kind": "discharge", **NORMAL}).status_code == 302
    response = step(nurse, esk_session, "discharge", {"resolution_attested": "on", "driver": "Her sister",
                                                      "could_have_left_after_minutes": "90"})
    # then the session is discharged with everything recorded, and the chart says so
    assert response.status_code == 302
    esk_session.refresh_from_db()
    assert esk_session.status == SessionStatus.DISCHARGED
    assert esk_session.dose.dose_mg == 56 and esk_session.dose.devices == 2
    assert esk_session.vitals.count() == 3
    assert OutcomeMeasure.objects.get(patient=esk_session.patient).total == 11
    assert RemsForm.objects.get(session=esk_session).status == RemsFormStatus.READY
    content = nurse.get(f"/sessions/{esk_session.pk}/chart/").content.decode()
    assert 'data-testid="discharged"' in content and "Her sister" in content
    assert 'data-testid="rems-form-link"' in content


def test_times_may_be_entered_after_the_fact_in_local_time(nurse, esk_session, clock):
    # given a check-in at 09:00 and "now" 09:30
    assert step(nurse, esk_session, "check-in", CHECKLIST).status_code == 302
    later(nurse, clock, 30)
    # when the pre-dose vitals are entered as taken at 09:05 local
    assert step(nurse, esk_session, "vitals", {"kind": "pre_dose", **NORMAL, "taken_at": "09:05"}).status_code == 302
    # then they are stored as 14:05 UTC
    assert esk_session.vitals.get().taken_at == NINE + timedelta(minutes=5)


def test_a_high_blood_pressure_shows_the_acknowledgement_path_and_acknowledging_lets_dosing_through(
        nurse, esk_session, clock):
    # given a high pre-dose blood pressure
    checked_in_with_vitals(nurse, esk_session, {**NORMAL, "systolic": "152", "diastolic": "94"})
    page = nurse.get(f"/sessions/{esk_session.pk}/chart/").content.decode()
    assert 'data-testid="high-bp-warning"' in page and 'data-testid="acknowledge-bp-form"' in page
    # when the clinician tries to dose
    refused = step(nurse, esk_session, "dose", {"dose_mg": "56", "lot_number": "LOT-1"})
    # then dosing is refused in plain words with the acknowledgement form beside it
    content = refused.content.decode()
    assert refused.status_code == 409
    assert 'data-code="high_bp_not_acknowledged"' in content
    assert "152/94 is above 140/90" in content
    assert "Acknowledge and continue" in content
    # and once acknowledged with a reason, the dose goes through
    assert step(nurse, esk_session, "acknowledge-bp", {"reason": "Repeat 138/88; anxious on arrival"}).status_code \
        == 302
    assert step(nurse, esk_session, "dose", {"dose_mg": "56", "lot_number": "LOT-1"}).status_code == 302
    esk_session.refresh_from_db()
    assert esk_session.status == SessionStatus.IN_TREATMENT


def test_an_acknowledgement_without_a_reason_is_refused_at_the_field(nurse, esk_session, clock):
    checked_in_with_vitals(nurse, esk_session, {**NORMAL, "systolic": "152"})
    response = step(nurse, esk_session, "acknowledge-bp", {"reason": "  "})
    assert response.status_code == 400
    assert "A reason is required." in response.content.decode()


def test_early_discharge_shows_the_minutes_left_and_no_override(nurse, esk_session, clock):
    # given a dose at 09:10 and discharge vitals at 10:00
    dosed(nurse, esk_session, clock)
    later(nurse, clock, 60)
    assert step(nurse, esk_session, "vitals", {"kind": "discharge", **NORMAL}).status_code == 302
    # when the clinician tries to discharge
    response = step(nurse, esk_session, "discharge", {"resolution_attested": "on", "driver": "Sister",
                                                      "could_have_left_after_minutes": "60"})
    # then it is refused with 70 minutes left
    content = response.content.decode()
    assert response.status_code == 409
    assert 'data-minutes-left="70"' in content
    assert "70 minutes left" in content and "no override" in content
    esk_session.refresh_from_db()
    assert esk_session.status == SessionStatus.IN_TREATMENT


def test_an_item9_alert_stops_dosing_and_a_clinician_acknowledges_it_on_the_chart(nurse, esk_session, clock):
    # given a PHQ-9 with item 9 above 0
    checked_in_with_vitals(nurse, esk_session)
    assert step(nurse, esk_session, "measure", phq9([1, 1, 1, 1, 1, 1, 1, 1, 1])).status_code == 302
    page = nurse.get(f"/sessions/{esk_session.pk}/chart/").content.decode()
    assert 'data-testid="item9-alert"' in page and 'data-testid="acknowledge-item9-form"' in page
    # when dosing is tried
    refused = step(nurse, esk_session, "dose", {"dose_mg": "56", "lot_number": "LOT-1"})
    # then it is refused, pointing at the alert; acknowledging lets it through
    assert refused.status_code == 409
    assert 'data-code="item9_alert_unacknowledged"' in refused.content.decode()
    measure = OutcomeMeasure.objects.get(patient=esk_session.patient)
    assert step(nurse, esk_session, "acknowledge-item9", {"measure": measure.pk,
                                                          "note": "Passive thoughts, no plan; safety plan"}
                ).status_code == 302
    assert step(nurse, esk_session, "dose", {"dose_mg": "56", "lot_number": "LOT-1"}).status_code == 302


def test_a_dose_outside_the_protocol_asks_for_a_written_reason(nurse, esk_session, clock):
    # given the first dose of an esketamine-trd course (56 mg by the label)
    checked_in_with_vitals(nurse, esk_session)
    # when 84 mg is given without a reason
    refused = step(nurse, esk_session, "dose", {"dose_mg": "84", "lot_number": "LOT-1"})
    # then the page asks for a reason with the problem listed
    assert refused.status_code == 409
    assert 'data-testid="dose-override"' in refused.content.decode()
    assert step(nurse, esk_session, "dose", {"dose_mg": "84", "lot_number": "LOT-1",
                                             "override_reason": "Tolerated 84 mg in a prior course"}
                ).status_code == 302


def test_a_missing_lot_number_is_shown_at_the_field(nurse, esk_session, clock):
    checked_in_with_vitals(nurse, esk_session)
    response = step(nurse, esk_session, "dose", {"dose_mg": "56", "lot_number": ""})
    assert response.status_code == 400
    assert 'id="dose-lot-error"' in response.content.decode()


def test_the_phq9_partial_scores_as_items_are_ticked(nurse, esk_session, clock):
    # when part of the form is ticked, then all of it
    partial = nurse.post(f"/sessions/{esk_session.pk}/chart/phq9-score/", {"item1": "2", "item2": "3"})
    full = nurse.post(f"/sessions/{esk_session.pk}/chart/phq9-score/", phq9([3, 3, 2, 2, 2, 2, 2, 2, 0]))
    # then the partial counts what is left and the full one shows the total and band
    assert "2 of 9 answered" in partial.content.decode()
    assert 'data-total="18"' in full.content.decode() and "Moderately severe" in full.content.decode()


# --- the observation board -----------------------------------------------------------------------------


def test_the_observation_board_lists_patients_in_treatment_with_minutes_left_and_the_bp_checkpoint(
        nurse, esk_session, chair2, clock):
    # given one patient dosed at 09:10 and another only checked in
    dosed(nurse, esk_session, clock)
    waiting = book(chair2, hour=9, minute=30)
    assert step(nurse, waiting, "check-in", CHECKLIST).status_code == 302
    later(nurse, clock, 50)  # 40 minutes after the first device
    # when
    response = nurse.get(f"/observation/{esk_session.location_id}/")
    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert content.count('data-testid="observation-row"') == 2
    assert 'data-minutes-left="80"' in content
    assert 'data-checkpoint="due"' in content
    assert 'hx-trigger="every 5s"' in content and "data-ends-at=" in content


def test_the_observation_board_partial_renders_and_says_ready_to_discharge(nurse, esk_session, clock):
    dosed(nurse, esk_session, clock)
    later(nurse, clock, 131)
    response = nurse.get(f"/observation/{esk_session.location_id}/body/")
    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="observation-body"' in content and "<html" not in content
    assert 'data-testid="ready-to-discharge"' in content
    assert 'data-checkpoint="missed"' in content


def test_the_observation_board_takes_a_fixed_number_of_queries(nurse, site, staff_clinician, now, clock,
                                                               django_assert_max_num_queries):
    # given four patients in treatment on four chairs
    for number in range(4):
        chair = Chair.objects.create(location=site, name=f"Bay {number}", serves_esketamine=True)
        session = book(chair)
        checked_in_with_vitals(nurse, session)
    # when / then
    with django_assert_max_num_queries(OBSERVATION_MAX_QUERIES):
        response = nurse.get(f"/observation/{site.pk}/")
    assert response.content.decode().count('data-testid="observation-row"') == 4


# --- my schedule ---------------------------------------------------------------------------------------


def test_my_schedule_shows_today_with_number_phase_alerts_and_the_calendar_link(nurse, esk_session, clock):
    # given an item-9 alert and no REMS enrolment on the patient
    patient = esk_session.patient
    outcomes.record_measure(by=esk_session.clinician, patient=patient, instrument=measures.PHQ9,
                            items=[1, 1, 1, 1, 1, 1, 1, 1, 2])
    patient.rems_enrolled_on, patient.rems_patient_id = None, ""
    patient.save()
    # when
    response = nurse.get("/schedule/")
    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert f'data-session-id="{esk_session.pk}" data-mine="true"' in content
    assert "Session 1 · " in content
    assert "PHQ-9 item 9 alert" in content and "Not REMS-enrolled" in content
    assert f'href="/sessions/{esk_session.pk}/chart/"' in content
    assert re.search(r'data-testid="calendar-feed-link"[^>]*>|href="http://testserver/ical/clinician/[^"]+\.ics"',
                     content)
    assert "/ical/clinician/" in content


def test_my_schedule_flags_a_high_last_blood_pressure(nurse, esk_session, clock):
    checked_in_with_vitals(nurse, esk_session, {**NORMAL, "systolic": "160"})
    assert "High BP" in nurse.get("/schedule/").content.decode()


def test_my_schedule_takes_a_fixed_number_of_queries(nurse, site, staff_clinician, now, clock,
                                                     django_assert_max_num_queries):
    for number in range(4):
        chair = Chair.objects.create(location=site, name=f"Bay {number}", serves_esketamine=True)
        book(chair)
    nurse.get("/schedule/")  # the calendar feed is created on the first visit
    with django_assert_max_num_queries(SCHEDULE_MAX_QUERIES):
        response = nurse.get("/schedule/")
    assert response.content.decode().count('data-testid="schedule-row"') == 4


# --- REMS forms ----------------------------------------------------------------------------------------


def _form_for(chair, *, days_ago: int) -> RemsForm:
    session = book(chair)
    Session.objects.filter(pk=session.pk).update(local_date=TUESDAY - timedelta(days=days_ago))
    return RemsForm.objects.create(session=session, missing=["Dose"])


def test_the_rems_list_puts_overdue_then_due_first(nurse, site, chair, chair2, staff_clinician, now, clock):
    # given a form not yet due, one due (day 6) and one overdue (day 10)
    pending = _form_for(chair, days_ago=1)
    due_form = _form_for(chair2, days_ago=6)
    overdue = _form_for(Chair.objects.create(location=site, name="Bay", serves_esketamine=True), days_ago=10)
    # when
    content = nurse.get("/rems/").content.decode()
    # then
    order = [int(found) for found in re.findall(r'data-testid="rems-row" data-form-id="(\d+)"', content)]
    assert order == [overdue.pk, due_form.pk, pending.pk]
    assert f'data-form-id="{overdue.pk}" data-urgency="overdue"' in content


def test_the_printable_form_shows_what_is_missing(nurse, esk_session, clock):
    # given a form for a session with nothing recorded yet
    form = RemsForm.objects.create(session=esk_session)
    # when
    content = nurse.get(f"/rems/{form.pk}/").content.decode()
    # then
    # (the Print button's window.print() is in a static file: the CSP forbids inline handlers)
    assert 'data-testid="rems-print"' in content and "scheduling/rems_form.js" in content
    assert 'data-testid="rems-missing-item">Lot number<' in content
    assert "Blood pressure at about 40 minutes" in content


def test_marking_an_incomplete_form_submitted_is_refused_with_the_reason(nurse, esk_session, clock):
    form = RemsForm.objects.create(session=esk_session)
    response = nurse.post(f"/rems/{form.pk}/submit/", {"confirmation_number": "RC-1"})
    assert response.status_code == 409
    assert "The form is incomplete" in response.content.decode()
    form.refresh_from_db()
    assert form.status != RemsFormStatus.SUBMITTED


def test_marking_a_complete_form_submitted_records_the_confirmation_number(nurse, esk_session, clock):
    # given a fully charted session
    discharged(nurse, esk_session, clock)
    form = RemsForm.objects.get(session=esk_session)
    # when
    response = nurse.post(f"/rems/{form.pk}/submit/", {"confirmation_number": "RC-20260303-1"})
    # then
    assert response.status_code == 302
    form.refresh_from_db()
    assert form.status == RemsFormStatus.SUBMITTED and form.confirmation_number == "RC-20260303-1"
    assert 'data-testid="rems-submitted"' in nurse.get(f"/rems/{form.pk}/").content.decode()


def test_a_confirmation_number_is_required(nurse, esk_session, clock):
    form = RemsForm.objects.create(session=esk_session)
    response = nurse.post(f"/rems/{form.pk}/submit/", {"confirmation_number": ""})
    assert response.status_code == 400
    assert 'id="rems-confirmation-error"' in response.content.decode()


# --- the outcomes chart --------------------------------------------------------------------------------


def _points(totals):
    return [{"date": TUESDAY + timedelta(days=7 * index), "total": total, "measure": index + 1}
            for index, total in enumerate(totals)]


def test_the_outcomes_svg_has_one_point_per_measure_and_shaded_bands():
    # given four PHQ-9s falling from 20 to 4
    chart = outcome_chart(measures.PHQ9, _points([20, 14, 9, 4]))
    svg = str(chart["svg"])
    # then
    assert svg.count('data-testid="outcome-point"') == 4
    assert svg.count('data-testid="outcome-band"') == 5
    assert 'data-testid="outcome-baseline"' in svg
    assert chart["response"] and chart["remission"]
    assert 'data-testid="outcome-remission"' in svg and 'data-testid="outcome-response"' in svg


def test_a_single_measure_is_only_a_baseline():
    chart = outcome_chart(measures.PHQ9, _points([18]))
    assert str(chart["svg"]).count('data-testid="outcome-point"') == 1
    assert not chart["response"] and not chart["remission"]


def test_the_patient_page_shows_the_outcomes_chart(nurse, esk_session, clock):
    # given two PHQ-9s during the course
    for items in ([2, 2, 2, 2, 2, 2, 2, 2, 0], [1, 1, 1, 0, 0, 0, 0, 0, 0]):
        outcomes.record_measure(by=esk_session.clinician, patient=esk_session.patient, instrument=measures.PHQ9,
                                items=items)
    # when
    content = nurse.get(f"/patients/{esk_session.patient_id}/").content.decode()
    # then
    assert content.count('data-testid="outcome-point"') == 2
    assert 'data-testid="outcome-band"' in content


def test_an_iv_infusion_is_charted_by_weight_and_its_end_starts_recovery(nurse, iv_course, iv_chair, staff_clinician,
                                                                         now, clock):
    # given a checked-in IV patient with normal vitals
    session = booking.book_session(by=UserFactory(), course=iv_course, chair=iv_chair,
                                    start=local(iv_chair.location, TUESDAY, 9))
    checked_in_with_vitals(nurse, session)
    page = nurse.get(f"/sessions/{session.pk}/chart/").content.decode()
    assert 'id="dose-weight"' in page and 'id="dose-mg-per-kg"' in page
    # when the infusion is recorded at 0.5 mg/kg for 80 kg and ended 40 minutes later
    later(nurse, clock, 5)
    assert step(nurse, session, "dose", {"weight_kg": "80", "mg_per_kg": "0.5"}).status_code == 302
    later(nurse, clock, 45)
    assert step(nurse, session, "infusion-end", {}).status_code == 302
    # then the dose is 40 mg and the chart counts recovery down
    session.refresh_from_db()
    assert session.dose.dose_mg == 40
    chart = nurse.get(f"/sessions/{session.pk}/chart/").content.decode()
    assert 'data-testid="chart-minutes-left">30 min left' in chart


def test_a_manager_may_see_the_schedule_and_the_rems_forms(client, manager, site):
    client.force_login(manager)
    assert client.get("/schedule/").status_code == 200
    assert client.get("/rems/").status_code == 200


def test_an_iv_dose_off_the_weight_based_rule_needs_a_clinicians_written_reason(nurse, iv_course, iv_chair,
                                                                                 staff_clinician, now, clock):
    # given a checked-in IV patient on ketamine-iv-series (0.5 mg/kg)
    session = booking.book_session(by=UserFactory(), course=iv_course, chair=iv_chair,
                                    start=local(iv_chair.location, TUESDAY, 9))
    checked_in_with_vitals(nurse, session)
    later(nurse, clock, 5)
    off_rule = {"weight_kg": "80", "mg_per_kg": "0.7"}
    # when 0.7 mg/kg is given without a reason
    refused = step(nurse, session, "dose", off_rule)
    # then the dose step asks for a reason, naming the problem and keeping what was typed; nothing is dosed
    content = refused.content.decode()
    assert refused.status_code == 409
    assert 'data-code="dose_override_required"' in content
    assert 'data-testid="dose-override"' in content
    assert "0.7 mg/kg differs from the protocol&#x27;s 0.50 mg/kg." in content
    assert re.search(r'id="dose-weight"[^>]* value="80"', content)
    assert re.search(r'id="dose-mg-per-kg"[^>]* value="0.7"', content)
    fresh = Session.objects.get(pk=session.pk)
    assert fresh.status == SessionStatus.CHECKED_IN
    assert not hasattr(fresh, "dose")
    # and a blank reason is no reason
    assert step(nurse, session, "dose", {**off_rule, "override_reason": "   "}).status_code == 409
    # when the clinician gives one
    reason = "Partial response at 0.5 mg/kg over four infusions"
    response = step(nurse, session, "dose", {**off_rule, "override_reason": reason})
    # then the dose is recorded by weight (80 kg x 0.7 = 56 mg) with the override and who gave it
    assert response.status_code == 302
    session = Session.objects.get(pk=session.pk)
    assert session.status == SessionStatus.IN_TREATMENT
    dose = session.dose
    assert (dose.dose_mg, dose.weight_kg, str(dose.mg_per_kg)) == (56, 80, "0.70")
    assert (dose.override_reason, dose.override_by) == (reason, staff_clinician)
    chart = nurse.get(f"/sessions/{session.pk}/chart/").content.decode()
    assert f"<dt>Override</dt><dd>{reason}</dd>" in chart
