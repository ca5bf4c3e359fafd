"""A session from the dose to the door: observation, discharge, the REMS form, and a course's last session.

``esk_session`` and ``iv_session`` are booked on Monday for Tuesday 09:00 (``BOOKED_AT``);
the clock stands there when a test begins and ``clock.move_to`` walks through the session.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from patients.models import MEDICINE_FIELDS
from scheduling.models import RemsForm, SessionStatus
from tests.factories import SessionRowFactory, TreatmentCourseFactory, standard_protocol
from tests.scheduling.charting.chart_steps import (
    BOOKED_AT,
    CHECKLIST,
    DISCHARGE,
    NORMAL,
    discharge,
    dosed,
    full_session,
    observe,
    post,
)
from tests.scheduling.conftest import TUESDAY, local
from tests.scheduling.stock.dose_lots import lot_for

pytestmark = pytest.mark.django_db


# --- observation and discharge ------------------------------------------------------------------


def test_esketamine_discharge_at_119_minutes_is_refused_and_at_120_allowed(clinician_api, esk_session, clock):
    # given the first device at 09:10
    assert dosed(clinician_api, esk_session, clock).status_code == 201
    clock.move_to(BOOKED_AT + timedelta(minutes=10 + 40))
    observe(clinician_api, esk_session)
    # when at 119 minutes
    clock.move_to(BOOKED_AT + timedelta(minutes=10 + 119))
    early = discharge(clinician_api, esk_session)
    # then
    assert early.status_code == 409
    assert early.json()["code"] == "observation_not_complete"
    assert early.json()["minutes_left"] == 1
    # and at 120 minutes
    clock.move_to(BOOKED_AT + timedelta(minutes=10 + 120))
    on_time = discharge(clinician_api, esk_session)
    assert on_time.status_code == 200, on_time.json()
    assert on_time.json()["status"] == "discharged"


def test_iv_discharge_counts_recovery_from_the_end_of_the_infusion(clinician_api, iv_session, clock):
    # given an infusion 09:10-09:50
    assert dosed(clinician_api, iv_session, clock, dose={"weight_kg": "70", "mg_per_kg": "0.50"}).status_code == 201
    clock.move_to(BOOKED_AT + timedelta(minutes=50))
    assert post(clinician_api, iv_session, "discharge", {"resolution_attested": True, "driver": "Partner"}
                ).json()["code"] == "infusion_not_ended"
    assert post(clinician_api, iv_session, "infusion-end", {}).status_code == 200
    observe(clinician_api, iv_session)
    # when 29 minutes later
    clock.move_to(BOOKED_AT + timedelta(minutes=50 + 29))
    early = discharge(clinician_api, iv_session, {"resolution_attested": True, "driver": "Partner"})
    # then refused; at 30 allowed
    assert early.json()["code"] == "observation_not_complete"
    clock.move_to(BOOKED_AT + timedelta(minutes=50 + 30))
    assert discharge(clinician_api, iv_session, {"resolution_attested": True, "driver": "Partner"}
                ).status_code == 200


def test_a_discharge_time_entered_after_the_fact_must_still_be_after_observation(clinician_api, esk_session,
                                                                                  clock):
    dosed(clinician_api, esk_session, clock)
    clock.move_to(BOOKED_AT + timedelta(minutes=50))
    observe(clinician_api, esk_session)
    clock.move_to(BOOKED_AT + timedelta(hours=4))
    backdated = (BOOKED_AT + timedelta(minutes=100)).isoformat()
    response = discharge(clinician_api, esk_session, {**DISCHARGE, "discharged_at": backdated,
                                                      "late_reason": "Charted at the end of the shift"})
    assert response.json()["code"] == "observation_not_complete"


@pytest.mark.parametrize("missing", ["resolution_attested", "driver", "could_have_left_after_minutes"])
def test_discharge_needs_every_answer(clinician_api, esk_session, clock, missing):
    dosed(clinician_api, esk_session, clock)
    clock.move_to(BOOKED_AT + timedelta(minutes=50))
    observe(clinician_api, esk_session)
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
    for step, body in (("vitals", {"kind": "pre_dose", **NORMAL}), ("dose", {"dose_mg": "56"}),
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


def test_the_board_carries_observation_state(desk_api, clinician_api, esk_session, clock):
    dosed(clinician_api, esk_session, clock)
    board = desk_api.get(f"/api/locations/{esk_session.location_id}/board/?date=2026-03-03").json()
    assert board["sessions"][0]["observation"]["stage"] == "observing"


# --- REMS form ------------------------------------------------------------------------------------


def test_a_full_session_fills_a_complete_rems_form(clinician_api, esk_session, clock):
    # given the patient's sex and concomitant medicines recorded
    patient = esk_session.patient
    patient.sex = "female"
    for name in MEDICINE_FIELDS:
        setattr(patient, name, "no")
    patient.save()
    # when
    full_session(clinician_api, esk_session, clock)
    # then
    form = RemsForm.objects.get(session=esk_session)
    assert form.status == "ready"
    assert form.missing == []
    detail = clinician_api.get(f"/api/rems-forms/{form.pk}/").json()
    content = detail["content"]
    lot = lot_for(esk_session)
    assert content["dose"] == {"mg": 56, "other_mg": None, "lot_number": lot.lot_number,
                               "lot_expiry": lot.expiry.isoformat()}
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
    clock.move_to(BOOKED_AT + timedelta(minutes=135))
    discharge(clinician_api, esk_session)
    # then
    form = RemsForm.objects.get(session=esk_session)
    assert form.status == "draft"
    assert form.missing == ["Patient's sex",
                            "Concomitant medicines not asked: benzodiazepines, non-benzodiazepine sedative hypnotics, "
                            "psychostimulants, MAOIs, opioids",
                            "Blood pressure at about 40 minutes"]
    refused = clinician_api.post(f"/api/rems-forms/{form.pk}/submit/", {"confirmation_number": "R-1"}, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "rems_form_incomplete"


def test_a_complete_form_is_submitted_with_its_confirmation_number(clinician_api, clinician, esk_session, clock):
    patient = esk_session.patient
    patient.sex = "male"
    for name in MEDICINE_FIELDS:
        setattr(patient, name, "no")
    patient.save()
    full_session(clinician_api, esk_session, clock)
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
    full_session(clinician_api, esk_session, clock)
    clock.move_to(datetime.fromisoformat(when))
    found = [status for status in ("due", "overdue")
             if clinician_api.get(f"/api/rems-forms/?status={status}").json()["count"]]
    assert found == expected


def test_an_unknown_rems_status_filter_is_a_400(clinician_api):
    assert clinician_api.get("/api/rems-forms/?status=late").status_code == 400


def test_a_finite_course_completes_after_its_last_discharge(clinician_api, site, chair, staff_clinician, book,
                                                           clock):
    # given an esketamine-mdsi course with 7 sessions given
    course = TreatmentCourseFactory(protocol=standard_protocol("esketamine-mdsi"), start_date=date(2026, 2, 10))
    for offset in range(7):
        day = date(2026, 2, 10) + timedelta(days=3 * offset)
        start = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
        SessionRowFactory(course=course, chair=None, start=start, end=start + timedelta(hours=2), local_date=day,
                          status=SessionStatus.DISCHARGED, recorded_dose_mg=84)
    clock.move_to(datetime(2026, 3, 2, 13, 0, tzinfo=UTC))
    session = book(chair, local(site, TUESDAY, 9), course=course)
    clock.move_to(BOOKED_AT)
    # when the eighth is given and discharged
    dosed(clinician_api, session, clock, dose={"dose_mg": "84"})
    clock.move_to(BOOKED_AT + timedelta(minutes=50))
    observe(clinician_api, session)
    clock.move_to(BOOKED_AT + timedelta(minutes=135))
    assert discharge(clinician_api, session).status_code == 200
    # then
    course.refresh_from_db()
    assert course.status == "completed"
