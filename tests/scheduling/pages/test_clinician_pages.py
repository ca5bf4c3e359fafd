"""The clinician's web pages: who may open them, and the session chart step by step.

``esk_session`` is booked on Monday for Tuesday 3 March 2026 at 09:00 in New York, and the clock
stands there when a test begins; ``later`` walks through the session (chart_page_steps.py).
The observation board and my schedule are in test_observation_and_schedule_pages.py, the REMS
forms and the outcomes chart in test_rems_and_outcomes_pages.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from patients.models import MEDICINE_FIELDS, OutcomeMeasure
from scheduling.models import RemsForm, RemsFormStatus, SessionStatus
from tests.scheduling.pages.chart_page_steps import (
    CHECKLIST,
    NINE,
    NORMAL,
    checked_in_with_vitals,
    dosed,
    later,
    phq9,
    step,
)

pytestmark = pytest.mark.django_db


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
    esk_session.patient.__class__.objects.filter(pk=esk_session.patient_id).update(
        **{name: "no" for name in MEDICINE_FIELDS})  # asked at intake: the REMS form can be complete
    # when the clinician walks every step: check-in, vitals, PHQ-9, dose, 40-minute vitals, assessment, discharge
    checked_in_with_vitals(nurse, esk_session)
    assert step(nurse, esk_session, "measure", phq9([2, 2, 2, 1, 1, 1, 1, 1, 0])).status_code == 302
    later(nurse, clock, 10)
    assert step(nurse, esk_session, "dose", {"dose_mg": "56"}).status_code == 302
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
    assert step(nurse, esk_session, "vitals", {"kind": "pre_dose", **NORMAL, "taken_at": "09:05",
                                               "late_reason": "Taken on paper"}).status_code == 302
    # then they are stored as 14:05 UTC
    assert esk_session.vitals.get().taken_at == NINE + timedelta(minutes=5)


def test_a_high_blood_pressure_shows_the_acknowledgement_path_and_acknowledging_lets_dosing_through(
        nurse, esk_session, clock):
    # given a high pre-dose blood pressure
    checked_in_with_vitals(nurse, esk_session, {**NORMAL, "systolic": "152", "diastolic": "94"})
    page = nurse.get(f"/sessions/{esk_session.pk}/chart/").content.decode()
    assert 'data-testid="high-bp-warning"' in page and 'data-testid="acknowledge-bp-form"' in page
    # when the clinician tries to dose
    refused = step(nurse, esk_session, "dose", {"dose_mg": "56"})
    # then dosing is refused in plain words with the acknowledgement form beside it
    content = refused.content.decode()
    assert refused.status_code == 409
    assert 'data-code="high_bp_not_acknowledged"' in content
    assert "152/94 is above 140/90" in content
    assert "Acknowledge and continue" in content
    # and once acknowledged with a reason, the dose goes through
    assert step(nurse, esk_session, "acknowledge-bp", {"reason": "Repeat 138/88; anxious on arrival"}).status_code \
        == 302
    assert step(nurse, esk_session, "dose", {"dose_mg": "56"}).status_code == 302
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
    refused = step(nurse, esk_session, "dose", {"dose_mg": "56"})
    # then it is refused, pointing at the alert; acknowledging lets it through
    assert refused.status_code == 409
    assert 'data-code="item9_alert_unacknowledged"' in refused.content.decode()
    measure = OutcomeMeasure.objects.get(patient=esk_session.patient)
    assert step(nurse, esk_session, "acknowledge-item9", {"measure": measure.pk,
                                                          "note": "Passive thoughts, no plan; safety plan"}
                ).status_code == 302
    assert step(nurse, esk_session, "dose", {"dose_mg": "56"}).status_code == 302


def test_a_dose_outside_the_protocol_asks_for_a_written_reason(nurse, esk_session, clock):
    # given the first dose of an esketamine-trd course (56 mg by the label)
    checked_in_with_vitals(nurse, esk_session)
    # when 84 mg is given without a reason
    refused = step(nurse, esk_session, "dose", {"dose_mg": "84"})
    # then the page asks for a reason with the problem listed
    assert refused.status_code == 409
    assert 'data-testid="dose-override"' in refused.content.decode()
    assert step(nurse, esk_session, "dose", {"dose_mg": "84",
                                             "override_reason": "Tolerated 84 mg in a prior course"}
                ).status_code == 302


def test_a_missing_lot_is_shown_at_the_field(nurse, esk_session, clock):
    checked_in_with_vitals(nurse, esk_session)
    response = step(nurse, esk_session, "dose", {"dose_mg": "56", "lot": ""})
    assert response.status_code == 400
    assert 'id="dose-lot-error"' in response.content.decode()


def test_the_phq9_partial_scores_as_items_are_ticked(nurse, esk_session, clock):
    # when part of the form is ticked, then all of it
    partial = nurse.post(f"/sessions/{esk_session.pk}/chart/phq9-score/", {"item1": "2", "item2": "3"})
    full = nurse.post(f"/sessions/{esk_session.pk}/chart/phq9-score/", phq9([3, 3, 2, 2, 2, 2, 2, 2, 0]))
    # then the partial counts what is left and the full one shows the total and band
    assert "2 of 9 answered" in partial.content.decode()
    assert 'data-total="18"' in full.content.decode() and "Moderately severe" in full.content.decode()
