"""A session, step by step up to the dose: check-in, vitals, dosing refusals and the dose rules.

``esk_session`` and ``iv_session`` are booked on Monday for Tuesday 09:00 (``BOOKED_AT``);
the clock stands there when a test begins and ``clock.move_to`` walks through the session.
Observation, discharge and the REMS form are in test_discharge_and_rems_form.py.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scheduling.models import Session, SessionStatus
from tests.factories import OutcomeMeasureFactory, SessionRowFactory
from tests.scheduling.charting.chart_steps import BOOKED_AT, CHECKLIST, NORMAL, dosed, post
from tests.scheduling.conftest import NOW

pytestmark = pytest.mark.django_db


# --- check-in -----------------------------------------------------------------------------------


def test_front_desk_may_check_a_patient_in(desk_api, esk_session, clock):
    response = post(desk_api, esk_session, "check-in", CHECKLIST)
    assert response.status_code == 200, response.json()
    esk_session.refresh_from_db()
    assert esk_session.status == SessionStatus.CHECKED_IN
    assert esk_session.checked_in_at == BOOKED_AT


def test_check_in_needs_rems_enrolment_for_esketamine(desk_api, esk_session, clock):
    patient = esk_session.patient
    patient.rems_enrolled_on, patient.rems_patient_id = None, ""
    patient.save()
    response = post(desk_api, esk_session, "check-in", CHECKLIST)
    assert response.status_code == 409
    assert response.json()["code"] == "rems_enrolment_missing"


def test_check_in_rechecks_eligibility(desk_api, esk_session, clock):
    # given a hard stop recorded since the course started
    patient = esk_session.patient
    patient.arteriovenous_malformation = True
    patient.save()
    # when
    response = post(desk_api, esk_session, "check-in", CHECKLIST)
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "not_eligible"
    assert response.json()["reasons"][0]["code"] == "arteriovenous_malformation"


def test_a_new_finding_needing_override_stops_check_in(desk_api, esk_session, clock):
    patient = esk_session.patient
    patient.pregnant = True
    patient.save()
    response = post(desk_api, esk_session, "check-in", CHECKLIST)
    assert response.status_code == 409
    assert response.json()["code"] == "override_required"


def test_check_in_needs_a_ride_home(desk_api, esk_session, clock):
    response = post(desk_api, esk_session, "check-in", {**CHECKLIST, "ride_home_arranged": False})
    assert response.status_code == 409
    assert response.json()["code"] == "ride_home_required"


def test_check_in_only_on_the_day(desk_api, esk_session, clock):
    # given the day before the session
    clock.move_to(NOW)
    # when
    response = post(desk_api, esk_session, "check-in", CHECKLIST)
    assert response.status_code == 409
    assert response.json()["code"] == "not_today"


def test_an_arrival_may_be_charted_after_the_fact_the_same_day_but_not_in_the_future(desk_api, esk_session,
                                                                                     clock):
    clock.move_to(BOOKED_AT + timedelta(hours=2))
    future = (BOOKED_AT + timedelta(hours=3)).isoformat()
    response = post(desk_api, esk_session, "check-in", {**CHECKLIST, "checked_in_at": future})
    assert response.status_code == 400
    assert response.json()["fields"] == {"checked_in_at": ["Cannot be in the future."]}
    day_before = (BOOKED_AT - timedelta(days=1)).isoformat()
    response = post(desk_api, esk_session, "check-in", {**CHECKLIST, "checked_in_at": day_before})
    assert response.status_code == 400
    assert "checked_in_at" in response.json()["fields"]
    esk_session.refresh_from_db()
    assert esk_session.status == SessionStatus.BOOKED  # a refused arrival time changes nothing

    arrived = BOOKED_AT - timedelta(minutes=10)  # early, before the booked start
    response = post(desk_api, esk_session, "check-in", {**CHECKLIST, "checked_in_at": arrived.isoformat(),
                                                        "late_reason": "Charted once the rush was over"})
    assert response.status_code == 200, response.json()
    esk_session.refresh_from_db()
    assert esk_session.checked_in_at == arrived


def test_checking_in_twice_is_invalid_state_naming_the_state(desk_api, esk_session, clock):
    post(desk_api, esk_session, "check-in", CHECKLIST)
    response = post(desk_api, esk_session, "check-in", CHECKLIST)
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"
    assert response.json()["status"] == "checked_in"
    assert "checked in" in response.json()["detail"]


# --- vitals -------------------------------------------------------------------------------------


@pytest.mark.parametrize("field, value", [("systolic", 300), ("diastolic", 10), ("heart_rate", 400), ("spo2", 101),
                                          ("spo2", 20)])
def test_impossible_vitals_are_a_400_naming_the_field(clinician_api, esk_session, clock, field, value):
    post(clinician_api, esk_session, "check-in", CHECKLIST)
    response = post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL, field: value})
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_diastolic_above_systolic_is_a_400(clinician_api, esk_session, clock):
    post(clinician_api, esk_session, "check-in", CHECKLIST)
    response = post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL, "diastolic": 130})
    assert response.status_code == 400
    assert "diastolic" in response.json()["fields"]


def test_vitals_may_be_recorded_after_the_fact_but_not_in_the_future_or_before_check_in(clinician_api,
                                                                                       esk_session, clock):
    post(clinician_api, esk_session, "check-in", CHECKLIST)
    clock.move_to(BOOKED_AT + timedelta(minutes=30))
    earlier = (BOOKED_AT + timedelta(minutes=5)).isoformat()
    assert post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL, "taken_at": earlier,
                                                       "late_reason": "Taken on paper"}).status_code == 201
    future = (BOOKED_AT + timedelta(hours=1)).isoformat()
    assert post(clinician_api, esk_session, "vitals", {"kind": "other", **NORMAL, "taken_at": future}
                ).json()["fields"] == {"taken_at": ["Cannot be in the future."]}
    before = (BOOKED_AT - timedelta(minutes=5)).isoformat()
    assert "taken_at" in post(clinician_api, esk_session, "vitals",
                              {"kind": "other", **NORMAL, "taken_at": before}).json()["fields"]


def test_vitals_before_check_in_are_a_409(clinician_api, esk_session, clock):
    response = post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL})
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"


# --- dosing refusals and their acknowledgement paths ---------------------------------------------


def test_dosing_without_pre_dose_vitals_is_refused(clinician_api, esk_session, clock):
    post(clinician_api, esk_session, "check-in", CHECKLIST)
    response = post(clinician_api, esk_session, "dose", {"dose_mg": "56"})
    assert response.status_code == 409
    assert response.json()["code"] == "pre_dose_vitals_missing"


def test_a_high_blood_pressure_needs_a_clinicians_acknowledgement(clinician_api, esk_session, clock):
    # given a pre-dose BP of 152/88
    post(clinician_api, esk_session, "check-in", CHECKLIST)
    post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL, "systolic": 152})
    # when dosing, it is refused
    refused = post(clinician_api, esk_session, "dose", {"dose_mg": "56"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "high_bp_not_acknowledged"
    assert "152/78" in refused.json()["detail"]
    # then after the acknowledgement with a reason, dosing goes ahead
    assert post(clinician_api, esk_session, "acknowledge-bp", {}).status_code == 400
    ack = post(clinician_api, esk_session, "acknowledge-bp", {"reason": "White-coat; repeat 138/86 at rest"})
    assert ack.status_code == 200
    assert post(clinician_api, esk_session, "dose", {"dose_mg": "56"}).status_code == 201


def test_a_normal_repeat_reading_lets_dosing_go_ahead(clinician_api, esk_session, clock):
    post(clinician_api, esk_session, "check-in", CHECKLIST)
    post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL, "diastolic": 95})
    clock.move_to(BOOKED_AT + timedelta(minutes=5))
    post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL})
    assert post(clinician_api, esk_session, "dose", {"dose_mg": "56"}).status_code == 201


def test_an_acknowledgement_before_a_new_high_reading_does_not_cover_it(clinician_api, esk_session, clock):
    post(clinician_api, esk_session, "check-in", CHECKLIST)
    post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL, "systolic": 150})
    post(clinician_api, esk_session, "acknowledge-bp", {"reason": "Anxious"})
    clock.move_to(BOOKED_AT + timedelta(minutes=5))
    post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL, "systolic": 170})
    response = post(clinician_api, esk_session, "dose", {"dose_mg": "56"})
    assert response.json()["code"] == "high_bp_not_acknowledged"


def test_an_unacknowledged_item9_alert_stops_dosing_until_acknowledged(clinician_api, clinician, esk_session,
                                                                         clock):
    # given a PHQ-9 today with item 9 = 1
    measure = OutcomeMeasureFactory(patient=esk_session.patient, instrument="phq9", items=[2, 2, 1, 1, 1, 1, 1, 1, 1],
                                    taken_at=BOOKED_AT, recorded_by=clinician)
    assert (measure.total, measure.band, measure.item9_positive) == (11, "moderate", True)
    post(clinician_api, esk_session, "check-in", CHECKLIST)
    post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL})
    # when
    refused = post(clinician_api, esk_session, "dose", {"dose_mg": "56"})
    # then
    assert refused.status_code == 409
    assert refused.json()["code"] == "item9_alert_unacknowledged"
    measure.acknowledge_alert(by=clinician, note="Passive ideation, no plan; safety plan reviewed")
    measure.save()
    assert post(clinician_api, esk_session, "dose", {"dose_mg": "56"}).status_code == 201


# --- dose rules -----------------------------------------------------------------------------------


def test_the_first_esketamine_trd_dose_is_56_mg(clinician_api, esk_session, clock):
    response = dosed(clinician_api, esk_session, clock, dose={"dose_mg": "84"})
    assert response.status_code == 409
    assert response.json()["code"] == "dose_override_required"
    assert "56 mg" in response.json()["problems"][0]


def test_a_clinician_may_override_a_dose_rule_with_a_reason(clinician_api, clinician, esk_session, clock):
    response = dosed(clinician_api, esk_session, clock,
                     dose={"dose_mg": "84", "override_reason": "Transferred on 84 mg"})
    assert response.status_code == 201
    assert response.json()["dose"]["override_reason"] == "Transferred on 84 mg"
    assert response.json()["dose"]["override_by"] == clinician.pk
    assert response.json()["dose"]["devices"] == 3


def test_84_mg_is_allowed_after_a_56_mg_dose(clinician_api, esk_course, esk_session, clock):
    SessionRowFactory(course=esk_course, chair=None, start=BOOKED_AT - timedelta(days=4),
                      end=BOOKED_AT - timedelta(days=4) + timedelta(hours=2), local_date=date(2026, 2, 27),
                      status=SessionStatus.DISCHARGED, recorded_dose_mg=56)
    response = dosed(clinician_api, esk_session, clock, dose={"dose_mg": "84"})
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("body, field", [
    ({"dose_mg": "56", "devices": 3}, "devices"),
    ({"dose_mg": "56", "lot": None}, "lot"),
    ({"dose_mg": "50"}, "dose_mg"),
    ({"devices": 2}, "dose_mg"),
])
def test_an_inconsistent_esketamine_dose_is_a_400(clinician_api, esk_session, clock, body, field):
    response = dosed(clinician_api, esk_session, clock, dose=body)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not hasattr(Session.objects.get(pk=esk_session.pk), "dose")


def test_an_iv_dose_is_weight_based(clinician_api, iv_session, clock):
    response = dosed(clinician_api, iv_session, clock, dose={"weight_kg": "80", "mg_per_kg": "0.50"})
    assert response.status_code == 201, response.json()
    assert response.json()["dose"]["dose_mg"] == "40.0"


def test_an_iv_total_that_does_not_match_weight_times_rate_is_a_400(clinician_api, iv_session, clock):
    response = dosed(clinician_api, iv_session, clock, dose={"weight_kg": "80", "mg_per_kg": "0.50",
                                                             "dose_mg": "60"})
    assert response.status_code == 400
    assert "dose_mg" in response.json()["fields"]


def test_an_iv_rate_other_than_the_protocols_needs_an_override(clinician_api, iv_session, clock):
    response = dosed(clinician_api, iv_session, clock, dose={"weight_kg": "80", "mg_per_kg": "0.75"})
    assert response.json()["code"] == "dose_override_required"
