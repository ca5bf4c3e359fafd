"""A session, step by step: check-in, vitals, dose, assessment, discharge, and their safety rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from patients.models import OutcomeMeasure
from protocols.models import Protocol
from scheduling.booking import services as booking
from scheduling.models import RemsForm, Session, SessionStatus
from tests.factories import PatientFactory, TreatmentCourseFactory, UserFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

TUESDAY = date(2026, 3, 3)
BOOKED_AT = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # 09:00 in New York
NORMAL = {"systolic": 122, "diastolic": 78, "heart_rate": 72, "spo2": 98}
CHECKLIST = {"fasted_food_2h": True, "fasted_drink_30m": True, "nasal_medicines_ok": True,
             "ride_home_arranged": True}


@pytest.fixture
def clock():
    """Frozen at Tuesday 09:00 New York; ``clock.move_to(...)`` moves it."""
    with time_machine.travel(BOOKED_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def esk_session(esk_course, chair, staff_clinician, now):
    return booking.book_session(by=UserFactory(), course=esk_course, chair=chair, start=local(chair.location,
                                                                                                   TUESDAY, 9))


@pytest.fixture
def iv_session(iv_course, iv_chair, staff_clinician, now):
    return booking.book_session(by=UserFactory(), course=iv_course, chair=iv_chair,
                                 start=local(iv_chair.location, TUESDAY, 9))


def post(api, session, step, body=None):
    return api.post(f"/api/sessions/{session.pk}/{step}/", body or {}, format="json")


def dosed(api, session, clock, *, dose=None):
    """Check in, record normal pre-dose vitals and dose at 09:10; returns the dose response."""
    assert post(api, session, "check-in", CHECKLIST).status_code == 200
    assert post(api, session, "vitals", {"kind": "pre_dose", **NORMAL}).status_code == 201
    clock.move_to(BOOKED_AT + timedelta(minutes=10))
    body = dose or {"dose_mg": "56", "devices": 2, "lot_number": "LOT-4471"}
    return post(api, session, "dose", body)


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


def test_check_in_only_on_the_day(desk_api, esk_session, now):
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
    response = post(desk_api, esk_session, "check-in", {**CHECKLIST, "checked_in_at": arrived.isoformat()})
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
    assert post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL, "taken_at": earlier}
                ).status_code == 201
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
    response = post(clinician_api, esk_session, "dose", {"dose_mg": "56", "lot_number": "L1"})
    assert response.status_code == 409
    assert response.json()["code"] == "pre_dose_vitals_missing"


def test_a_high_blood_pressure_needs_a_clinicians_acknowledgement(clinician_api, esk_session, clock):
    # given a pre-dose BP of 152/88
    post(clinician_api, esk_session, "check-in", CHECKLIST)
    post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL, "systolic": 152})
    # when dosing, it is refused
    refused = post(clinician_api, esk_session, "dose", {"dose_mg": "56", "lot_number": "L1"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "high_bp_not_acknowledged"
    assert "152/78" in refused.json()["detail"]
    # then after the acknowledgement with a reason, dosing goes ahead
    assert post(clinician_api, esk_session, "acknowledge-bp", {}).status_code == 400
    ack = post(clinician_api, esk_session, "acknowledge-bp", {"reason": "White-coat; repeat 138/86 at rest"})
    assert ack.status_code == 200
    assert post(clinician_api, esk_session, "dose", {"dose_mg": "56", "lot_number": "L1"}).status_code == 201


def test_a_normal_repeat_reading_lets_dosing_go_ahead(clinician_api, esk_session, clock):
    post(clinician_api, esk_session, "check-in", CHECKLIST)
    post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL, "diastolic": 95})
    clock.move_to(BOOKED_AT + timedelta(minutes=5))
    post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL})
    assert post(clinician_api, esk_session, "dose", {"dose_mg": "56", "lot_number": "L1"}).status_code == 201


def test_an_acknowledgement_before_a_new_high_reading_does_not_cover_it(clinician_api, esk_session, clock):
    post(clinician_api, esk_session, "check-in", CHECKLIST)
    post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL, "systolic": 150})
    post(clinician_api, esk_session, "acknowledge-bp", {"reason": "Anxious"})
    clock.move_to(BOOKED_AT + timedelta(minutes=5))
    post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL, "systolic": 170})
    response = post(clinician_api, esk_session, "dose", {"dose_mg": "56", "lot_number": "L1"})
    assert response.json()["code"] == "high_bp_not_acknowledged"


def test_an_unacknowledged_item9_alert_stops_dosing_until_acknowledged(clinician_api, clinician, esk_session,
                                                                         clock):
    # given a PHQ-9 today with item 9 = 1
    measure = OutcomeMeasure.objects.create(
        patient=esk_session.patient, instrument="phq9", items=[2, 2, 1, 1, 1, 1, 1, 1, 1], total=11,
        band="moderate", taken_at=BOOKED_AT, recorded_by=clinician, item9_positive=True)
    post(clinician_api, esk_session, "check-in", CHECKLIST)
    post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL})
    # when
    refused = post(clinician_api, esk_session, "dose", {"dose_mg": "56", "lot_number": "L1"})
    # then
    assert refused.status_code == 409
    assert refused.json()["code"] == "item9_alert_unacknowledged"
    measure.acknowledge_alert(by=clinician, note="Passive ideation, no plan; safety plan reviewed")
    measure.save()
    assert post(clinician_api, esk_session, "dose", {"dose_mg": "56", "lot_number": "L1"}).status_code == 201


# --- dose rules -----------------------------------------------------------------------------------


def test_the_first_esketamine_trd_dose_is_56_mg(clinician_api, esk_session, clock):
    response = dosed(clinician_api, esk_session, clock, dose={"dose_mg": "84", "lot_number": "L1"})
    assert response.status_code == 409
    assert response.json()["code"] == "dose_override_required"
    assert "56 mg" in response.json()["problems"][0]


def test_a_clinician_may_override_a_dose_rule_with_a_reason(clinician_api, clinician, esk_session, clock):
    response = dosed(clinician_api, esk_session, clock,
                     dose={"dose_mg": "84", "lot_number": "L1", "override_reason": "Transferred on 84 mg"})
    assert response.status_code == 201
    assert response.json()["dose"]["override_reason"] == "Transferred on 84 mg"
    assert response.json()["dose"]["override_by"] == clinician.pk
    assert response.json()["dose"]["devices"] == 3


def test_84_mg_is_allowed_after_a_56_mg_dose(clinician_api, esk_course, esk_session, clock):
    Session.objects.create(course=esk_course, patient=esk_course.patient, start=BOOKED_AT - timedelta(days=4),
                           end=BOOKED_AT - timedelta(days=4) + timedelta(hours=2),
                           occupied_until=BOOKED_AT - timedelta(days=4) + timedelta(hours=2),
                           local_date=date(2026, 2, 27), status=SessionStatus.DISCHARGED, recorded_history=True,
                           recorded_dose_mg=56)
    response = dosed(clinician_api, esk_session, clock, dose={"dose_mg": "84", "lot_number": "L1"})
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("body, field", [
    ({"dose_mg": "56", "devices": 3, "lot_number": "L1"}, "devices"),
    ({"dose_mg": "56", "lot_number": ""}, "lot_number"),
    ({"dose_mg": "50", "lot_number": "L1"}, "dose_mg"),
    ({"lot_number": "L1"}, "dose_mg"),
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


# --- observation and discharge ------------------------------------------------------------------


DISCHARGE = {"resolution_attested": True, "driver": "Sister, Maria", "could_have_left_after_minutes": 90}


def _observe(api, session, clock):
    post(api, session, "vitals", {"kind": "post_dose_40", **NORMAL})
    post(api, session, "assessment", {"sedation": "mild", "dissociation": "moderate", "respiratory": "normal"})
    post(api, session, "vitals", {"kind": "discharge", **NORMAL})


def test_esketamine_discharge_at_119_minutes_is_refused_and_at_120_allowed(clinician_api, esk_session, clock):
    # given the first device at 09:10
    assert dosed(clinician_api, esk_session, clock).status_code == 201
    clock.move_to(BOOKED_AT + timedelta(minutes=10 + 40))
    _observe(clinician_api, esk_session, clock)
    # when at 119 minutes
    clock.move_to(BOOKED_AT + timedelta(minutes=10 + 119))
    early = post(clinician_api, esk_session, "discharge", DISCHARGE)
    # then
    assert early.status_code == 409
    assert early.json()["code"] == "observation_not_complete"
    assert early.json()["minutes_left"] == 1
    # and at 120 minutes
    clock.move_to(BOOKED_AT + timedelta(minutes=10 + 120))
    on_time = post(clinician_api, esk_session, "discharge", DISCHARGE)
    assert on_time.status_code == 200, on_time.json()
    assert on_time.json()["status"] == "discharged"


def test_iv_discharge_counts_recovery_from_the_end_of_the_infusion(clinician_api, iv_session, clock):
    # given an infusion 09:10-09:50
    assert dosed(clinician_api, iv_session, clock, dose={"weight_kg": "70", "mg_per_kg": "0.50"}).status_code == 201
    clock.move_to(BOOKED_AT + timedelta(minutes=50))
    assert post(clinician_api, iv_session, "discharge", {"resolution_attested": True, "driver": "Partner"}
                ).json()["code"] == "infusion_not_ended"
    assert post(clinician_api, iv_session, "infusion-end", {}).status_code == 200
    _observe(clinician_api, iv_session, clock)
    # when 29 minutes later
    clock.move_to(BOOKED_AT + timedelta(minutes=50 + 29))
    early = post(clinician_api, iv_session, "discharge", {"resolution_attested": True, "driver": "Partner"})
    # then refused; at 30 allowed
    assert early.json()["code"] == "observation_not_complete"
    clock.move_to(BOOKED_AT + timedelta(minutes=50 + 30))
    assert post(clinician_api, iv_session, "discharge", {"resolution_attested": True, "driver": "Partner"}
                ).status_code == 200


def test_a_discharge_time_entered_after_the_fact_must_still_be_after_observation(clinician_api, esk_session,
                                                                                  clock):
    dosed(clinician_api, esk_session, clock)
    clock.move_to(BOOKED_AT + timedelta(minutes=50))
    _observe(clinician_api, esk_session, clock)
    clock.move_to(BOOKED_AT + timedelta(hours=4))
    backdated = (BOOKED_AT + timedelta(minutes=100)).isoformat()
    response = post(clinician_api, esk_session, "discharge", {**DISCHARGE, "discharged_at": backdated})
    assert response.json()["code"] == "observation_not_complete"


@pytest.mark.parametrize("missing", ["resolution_attested", "driver", "could_have_left_after_minutes"])
def test_discharge_needs_every_answer(clinician_api, esk_session, clock, missing):
    dosed(clinician_api, esk_session, clock)
    clock.move_to(BOOKED_AT + timedelta(minutes=50))
    _observe(clinician_api, esk_session, clock)
    clock.move_to(BOOKED_AT + timedelta(minutes=140))
    body = {**DISCHARGE, "resolution_attested": missing != "resolution_attested",
            "driver": "" if missing == "driver" else "Sister"}
    if missing == "could_have_left_after_minutes":
        body.pop("could_have_left_after_minutes")
    response = post(clinician_api, esk_session, "discharge", body)
    assert response.status_code == 400
    assert missing in response.json()["fields"]


def test_discharge_needs_discharge_vitals(clinician_api, esk_session, clock):
    dosed(clinician_api, esk_session, clock)
    clock.move_to(BOOKED_AT + timedelta(minutes=140))
    response = post(clinician_api, esk_session, "discharge", DISCHARGE)
    assert response.json()["code"] == "discharge_vitals_missing"


def test_front_desk_cannot_record_vitals_dose_or_discharge(desk_api, esk_session, clock):
    post(desk_api, esk_session, "check-in", CHECKLIST)
    for step, body in (("vitals", {"kind": "pre_dose", **NORMAL}), ("dose", {"dose_mg": "56", "lot_number": "L"}),
                       ("assessment", {"sedation": "none", "dissociation": "none", "respiratory": "normal"}),
                       ("discharge", DISCHARGE)):
        assert post(desk_api, esk_session, step, body).status_code == 403, step


def test_the_chart_shows_live_observation_state(clinician_api, esk_session, clock):
    dosed(clinician_api, esk_session, clock)
    clock.move_to(BOOKED_AT + timedelta(minutes=10 + 37))
    chart = clinician_api.get(f"/api/sessions/{esk_session.pk}/chart/").json()
    assert chart["observation"]["stage"] == "observing"
    assert chart["observation"]["minutes_since_start"] == 37
    assert chart["observation"]["minutes_left"] == 83
    assert chart["observation"]["bp_checkpoint"] == "due"
    clock.move_to(BOOKED_AT + timedelta(minutes=10 + 51))
    assert clinician_api.get(f"/api/sessions/{esk_session.pk}/chart/").json()["observation"]["bp_checkpoint"] == \
        "missed"
    clock.move_to(BOOKED_AT + timedelta(minutes=10 + 121))
    assert clinician_api.get(f"/api/sessions/{esk_session.pk}/chart/").json()["observation"]["ready_to_discharge"]


def test_low_spo2_raises_an_alert(clinician_api, esk_session, clock):
    dosed(clinician_api, esk_session, clock)
    post(clinician_api, esk_session, "vitals", {"kind": "other", **NORMAL, "spo2": 89})
    chart = clinician_api.get(f"/api/sessions/{esk_session.pk}/chart/").json()
    assert "low_spo2" in chart["observation"]["alerts"]


def test_the_board_carries_observation_state(desk_api, esk_session, clock):
    dosed(_clinician_client(esk_session), esk_session, clock)
    board = desk_api.get(f"/api/locations/{esk_session.location_id}/board/?date=2026-03-03").json()
    assert board["sessions"][0]["observation"]["stage"] == "observing"


def _clinician_client(session):
    from rest_framework.test import APIClient

    user = UserFactory(roles=["clinician"])
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- REMS form ------------------------------------------------------------------------------------


def _full_session(api, session, clock):
    dosed(api, session, clock)
    clock.move_to(BOOKED_AT + timedelta(minutes=50))
    _observe(api, session, clock)
    clock.move_to(BOOKED_AT + timedelta(minutes=135))
    assert post(api, session, "discharge", DISCHARGE).status_code == 200


def test_a_full_session_fills_a_complete_rems_form(clinician_api, esk_session, clock):
    # given the patient's sex recorded
    patient = esk_session.patient
    patient.sex = "female"
    patient.save()
    # when
    _full_session(clinician_api, esk_session, clock)
    # then
    form = RemsForm.objects.get(session=esk_session)
    assert form.status == "ready"
    assert form.missing == []
    detail = clinician_api.get(f"/api/rems-forms/{form.pk}/").json()
    content = detail["content"]
    assert content["dose"] == {"mg": 56, "other_mg": None, "lot_number": "LOT-4471"}
    assert content["monitoring_minutes"] == 125
    assert content["could_have_left_after_minutes"] == 90
    assert content["blood_pressure"] == {"before_dosing": "122/78", "at_40_minutes": "122/78",
                                         "before_discharge": "122/78"}
    assert content["sedation"] == {"occurred": True, "resolved": True}
    assert content["serious_adverse_events"] == []


def test_a_partial_record_lists_what_the_form_lacks(clinician_api, esk_session, clock):
    # given no 40-minute BP and no sex recorded
    dosed(clinician_api, esk_session, clock)
    clock.move_to(BOOKED_AT + timedelta(minutes=60))
    post(clinician_api, esk_session, "assessment", {"sedation": "none", "dissociation": "mild",
                                                   "respiratory": "normal"})
    post(clinician_api, esk_session, "vitals", {"kind": "discharge", **NORMAL})
    clock.move_to(BOOKED_AT + timedelta(minutes=135))
    post(clinician_api, esk_session, "discharge", DISCHARGE)
    # then
    form = RemsForm.objects.get(session=esk_session)
    assert form.status == "draft"
    assert form.missing == ["Patient's sex", "Blood pressure at about 40 minutes"]
    refused = clinician_api.post(f"/api/rems-forms/{form.pk}/submit/", {"confirmation_number": "R-1"}, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "rems_form_incomplete"


def test_a_complete_form_is_submitted_with_its_confirmation_number(clinician_api, clinician, esk_session, clock):
    patient = esk_session.patient
    patient.sex = "male"
    patient.save()
    _full_session(clinician_api, esk_session, clock)
    form = RemsForm.objects.get(session=esk_session)
    assert clinician_api.post(f"/api/rems-forms/{form.pk}/submit/", {}, format="json").status_code == 400
    response = clinician_api.post(f"/api/rems-forms/{form.pk}/submit/", {"confirmation_number": "REMS-88412"},
                                  format="json")
    assert response.status_code == 200
    form.refresh_from_db()
    assert (form.status, form.confirmation_number, form.submitted_by) == ("submitted", "REMS-88412", clinician)
    again = clinician_api.post(f"/api/rems-forms/{form.pk}/submit/", {"confirmation_number": "X"}, format="json")
    assert again.json()["code"] == "invalid_state"


@pytest.mark.parametrize("when, expected", [
    ("2026-03-08T04:59:00Z", []),  # 7 March 23:59 in New York: day 4
    ("2026-03-08T05:00:00Z", ["due"]),  # 8 March 00:00 in New York: day 5
    ("2026-03-11T03:59:00Z", ["due"]),  # 10 March 23:59 (EDT): day 7, the last day
    ("2026-03-11T04:00:00Z", ["overdue"]),  # 11 March 00:00 (EDT): day 8
])
def test_forms_are_due_from_day_5_and_overdue_after_day_7_in_the_locations_time_zone(
        clinician_api, esk_session, clock, when, expected):
    _full_session(clinician_api, esk_session, clock)
    clock.move_to(datetime.fromisoformat(when))
    found = [status for status in ("due", "overdue")
             if clinician_api.get(f"/api/rems-forms/?status={status}").json()["count"]]
    assert found == expected


def test_an_unknown_rems_status_filter_is_a_400(clinician_api):
    assert clinician_api.get("/api/rems-forms/?status=late").status_code == 400


def test_a_finite_course_completes_after_its_last_discharge(clinician_api, site, chair, staff_clinician, clock):
    # given an esketamine-mdsi course with 7 sessions given
    course = TreatmentCourseFactory(patient=PatientFactory(), protocol=Protocol.objects.get(slug="esketamine-mdsi"),
                                    start_date=date(2026, 2, 10))
    for offset in range(7):
        day = date(2026, 2, 10) + timedelta(days=3 * offset)
        start = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
        Session.objects.create(course=course, patient=course.patient, start=start, end=start + timedelta(hours=2),
                               occupied_until=start + timedelta(hours=2), local_date=day,
                               status=SessionStatus.DISCHARGED, recorded_history=True, recorded_dose_mg=84)
    clock.move_to(datetime(2026, 3, 2, 13, 0, tzinfo=UTC))
    session = booking.book_session(by=UserFactory(), course=course, chair=chair, start=local(site, TUESDAY, 9))
    clock.move_to(BOOKED_AT)
    # when the eighth is given and discharged
    dosed(clinician_api, session, clock, dose={"dose_mg": "84", "lot_number": "L9"})
    clock.move_to(BOOKED_AT + timedelta(minutes=50))
    _observe(clinician_api, session, clock)
    clock.move_to(BOOKED_AT + timedelta(minutes=135))
    assert post(clinician_api, session, "discharge", DISCHARGE).status_code == 200
    # then
    course.refresh_from_db()
    assert course.status == "completed"
