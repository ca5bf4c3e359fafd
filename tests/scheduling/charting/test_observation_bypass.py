"""Observation is counted in real time, and no write path walks around it (docs/DOMAIN.md).

Every path that can end a session is tried: the API, the chart page, the
admin, the services, and the demo loader; then a property test over random
charted and real times.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.errors import ClinicError, Conflict, Invalid
from clinic.roles import CLINICIAN, MANAGER, PRESCRIBER
from patients.models import MEDICINE_FIELDS
from scheduling.charting import services as charting
from scheduling.charting.timing import wait_ends_at
from scheduling.models import RemsForm, Session, SessionStatus, VitalsKind
from tests.factories import UserFactory
from tests.scheduling.conftest import TUESDAY_NINE
from tests.scheduling.stock.dose_lots import lot_for, with_lot

pytestmark = pytest.mark.django_db

NORMAL = {"systolic": 122, "diastolic": 78, "heart_rate": 72, "spo2": 98}
CHECKLIST = {"fasted_food_2h": True, "fasted_drink_30m": True, "nasal_medicines_ok": True,
             "ride_home_arranged": True}
DISCHARGE = {"resolution_attested": True, "driver": "Sister, Maria", "could_have_left_after_minutes": 90}
LATE = "Charted after the fact: busy morning"


def minutes(n: float):
    return TUESDAY_NINE + timedelta(minutes=n)


@pytest.fixture
def prescriber(db):
    return UserFactory(username="dr_presc", roles=[CLINICIAN, PRESCRIBER])


def post(api, session, step, body=None):
    if step == "dose":  # a dose draws from the site's stock: the lot (and an IV waste's witness) come along
        body = with_lot(session, body or {})
    return api.post(f"/api/sessions/{session.pk}/{step}/", body or {}, format="json")


def _dose_now(api, session, clock, prescriber, *, at=10, body=None):
    """Check in and pre-dose vitals at 09:00, the first device at 09:00 + ``at`` minutes, entered then."""
    assert post(api, session, "check-in", CHECKLIST).status_code == 200
    assert post(api, session, "vitals", {"kind": "pre_dose", **NORMAL}).status_code == 201
    clock.move_to(minutes(at))
    response = post(api, session, "dose", body or {"dose_mg": "56",
                                                   "prescriber_on_site": prescriber.pk})
    assert response.status_code == 201, response.json()


def _discharge_vitals(api, session):
    assert post(api, session, "vitals", {"kind": "discharge", **NORMAL}).status_code == 201


# --- finding 1: back-dated times do not shorten the real wait ------------------------------------------


def test_a_back_dated_first_device_does_not_shorten_the_real_wait(clinician_api, esk_session, clock, prescriber):
    # given a check-in, pre-dose vitals and a first device all charted two hours back, entered at 09:03
    clock.move_to(minutes(3))
    assert post(clinician_api, esk_session, "check-in", {**CHECKLIST, "checked_in_at": minutes(-120).isoformat(),
                                                         "late_reason": LATE}).status_code == 200
    assert post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL, "late_reason": LATE,
                                                       "taken_at": minutes(-115).isoformat()}).status_code == 201
    dosed = post(clinician_api, esk_session, "dose", {"dose_mg": "56", "late_reason": LATE,
                                                     "prescriber_on_site": prescriber.pk,
                                                     "started_at": minutes(-110).isoformat()})
    assert dosed.status_code == 201, dosed.json()
    # when the clinician discharges at 09:10, 120 minutes after the charted first device
    clock.move_to(minutes(10))
    _discharge_vitals(clinician_api, esk_session)
    refused = post(clinician_api, esk_session, "discharge", DISCHARGE)
    # then it is refused: observation ends 120 real minutes after the dose was entered, at 11:03
    assert refused.status_code == 409
    assert refused.json()["code"] == "observation_not_complete"
    assert refused.json()["minutes_left"] == 113
    assert refused.json()["observation_ends_at"] == minutes(123).isoformat()
    # and at 11:03 it goes through
    clock.move_to(minutes(123))
    _discharge_vitals(clinician_api, esk_session)
    assert post(clinician_api, esk_session, "discharge", DISCHARGE).status_code == 200


def test_arrival_cannot_be_charted_more_than_two_hours_before_the_booked_start(desk_api, esk_session, clock):
    clock.move_to(minutes(3))
    response = post(desk_api, esk_session, "check-in", {**CHECKLIST, "late_reason": LATE,
                                                        "checked_in_at": minutes(-535).isoformat()})  # 00:05
    assert response.status_code == 400
    assert "checked_in_at" in response.json()["fields"]


def test_a_back_dated_infusion_end_does_not_shorten_recovery(clinician_api, iv_session, clock):
    # given an infusion started at 09:10
    _dose_now(clinician_api, iv_session, clock, None, body={"weight_kg": "70", "mg_per_kg": "0.50"})
    # when its end is entered at 10:30 as 09:50 (a late entry, with its reason)
    clock.move_to(minutes(90))
    ended = post(clinician_api, iv_session, "infusion-end", {"ended_at": minutes(50).isoformat(), "late_reason": LATE})
    assert ended.status_code == 200, ended.json()
    _discharge_vitals(clinician_api, iv_session)
    # then recovery (30 minutes) counts from 10:30, the moment it was entered
    refused = post(clinician_api, iv_session, "discharge", {"resolution_attested": True, "driver": "Partner"})
    assert refused.json()["code"] == "observation_not_complete"
    clock.move_to(minutes(120))
    _discharge_vitals(clinician_api, iv_session)
    assert post(clinician_api, iv_session, "discharge", {"resolution_attested": True, "driver": "Partner"}
                ).status_code == 200


def test_a_late_entry_without_its_reason_is_a_400_naming_the_field(clinician_api, esk_session, clock, prescriber):
    _dose_now(clinician_api, esk_session, clock, prescriber)
    clock.move_to(minutes(80))
    response = post(clinician_api, esk_session, "vitals", {"kind": "post_dose_40", **NORMAL,
                                                           "taken_at": minutes(50).isoformat()})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["late_reason"]


# --- finding 2: no allowance lets discharge precede the end of observation ----------------------------


def test_a_discharge_time_one_minute_ahead_is_refused_after_119_real_minutes(clinician_api, esk_session, clock,
                                                                              prescriber):
    _dose_now(clinician_api, esk_session, clock, prescriber)
    clock.move_to(minutes(10 + 119))
    _discharge_vitals(clinician_api, esk_session)
    response = post(clinician_api, esk_session, "discharge", {**DISCHARGE,
                                                              "discharged_at": minutes(10 + 120).isoformat()})
    assert response.status_code == 400
    assert response.json()["fields"] == {"discharged_at": ["Cannot be in the future."]}
    esk_session.refresh_from_db()
    assert esk_session.status == SessionStatus.IN_TREATMENT


def test_a_back_dated_discharge_time_before_the_end_is_refused_even_later(clinician_api, esk_session, clock,
                                                                           prescriber):
    _dose_now(clinician_api, esk_session, clock, prescriber)
    clock.move_to(minutes(10 + 125))
    _discharge_vitals(clinician_api, esk_session)
    response = post(clinician_api, esk_session, "discharge", {**DISCHARGE,
                                                              "discharged_at": minutes(10 + 119).isoformat()})
    assert response.status_code == 409
    assert response.json()["code"] == "observation_not_complete"


# --- the other write paths: the chart page, the admin, the services, the demo loader ------------------


def test_the_chart_page_refuses_an_early_or_future_discharge(client, staff_clinician, esk_session, clock, prescriber):
    # given a dose at 09:10 charted through the page, by a clinician naming the prescriber on site
    client.force_login(staff_clinician)

    def step(name, body):
        body = with_lot(esk_session, body) if name == "dose" else body
        return client.post(f"/sessions/{esk_session.pk}/chart/{name}/", body)

    assert step("check-in", {name: "on" for name in CHECKLIST}).status_code == 302
    assert step("vitals", {"kind": "pre_dose", **NORMAL}).status_code == 302
    clock.move_to(minutes(10))
    assert step("dose", {"dose_mg": "56", "prescriber_on_site": prescriber.pk}
                ).status_code == 302
    clock.move_to(minutes(10 + 119))
    client.force_login(staff_clinician)  # the web session ended while the clock stood still for two hours
    assert step("vitals", {"kind": "discharge", **NORMAL}).status_code == 302
    body = {"resolution_attested": "on", "driver": "Sister", "could_have_left_after_minutes": "90"}
    # when discharging now, and with a time one minute ahead
    early = step("discharge", body)
    ahead = step("discharge", {**body, "discharged_at": "11:10"})
    # then both are refused in place, and the session is still in treatment
    assert early.status_code == 409 and 'data-code="observation_not_complete"' in early.content.decode()
    assert ahead.status_code == 400 and 'id="discharge-time-error"' in ahead.content.decode()
    esk_session.refresh_from_db()
    assert esk_session.status == SessionStatus.IN_TREATMENT


def test_the_admin_cannot_change_a_discharge_time(client, esk_session, clock, prescriber):
    # given a manager in the admin, and a session in treatment
    manager = UserFactory(username="admin_boss", roles=[MANAGER])
    manager.is_staff = True
    manager.save()
    client.force_login(manager)
    url = f"/admin/scheduling/session/{esk_session.pk}/change/"
    # when the manager posts a discharge time
    response = client.post(url, {"discharged_at_0": "2026-03-03", "discharged_at_1": "09:15:00",
                                 "status": "discharged"})
    # then the admin refuses it and nothing changes
    assert response.status_code == 403
    esk_session.refresh_from_db()
    assert esk_session.discharged_at is None and esk_session.status != SessionStatus.DISCHARGED
    assert client.get(url).status_code == 200  # it may still be read


def test_the_service_refuses_a_discharge_before_the_end_whatever_now_it_is_told(esk_session, clock, staff_clinician,
                                                                                prescriber):
    # given a dose charted at 09:10 but entered at 09:40 (late)
    charting.check_in(by=staff_clinician, session=esk_session, **CHECKLIST)
    charting.record_vitals(by=staff_clinician, session=esk_session, kind=VitalsKind.PRE_DOSE, **NORMAL)
    charting.record_dose(by=staff_clinician, session=esk_session, dose_mg=56, lot=lot_for(esk_session),
                         prescriber_on_site=prescriber, started_at=minutes(10), late_reason=LATE, now=minutes(40))
    charting.record_vitals(by=staff_clinician, session=esk_session, kind=VitalsKind.DISCHARGE, now=minutes(135),
                           **NORMAL)
    # when discharging at 11:15 (125 minutes after the charted device, 95 after its entry)
    with pytest.raises(Conflict) as refused:
        charting.discharge(by=staff_clinician, session=esk_session, now=minutes(135), **DISCHARGE)
    # then
    assert refused.value.code == "observation_not_complete"


def test_the_demo_loader_charts_sessions_as_they_happened(db, site, chair, staff_clinician, now):
    from scheduling.demo.charting import chart_recent_sessions
    from tests.factories import SessionRowFactory

    # given three esketamine sessions of one course that the history loader wrote as discharged, days ago
    first = SessionRowFactory(chair=chair, start=minutes(-7 * 24 * 60), status=SessionStatus.DISCHARGED)
    for days in (4, 2):
        SessionRowFactory(chair=chair, course=first.course, start=minutes(-days * 24 * 60),
                          status=SessionStatus.DISCHARGED)
    patient = first.patient
    patient.sex = "female"
    for name in MEDICINE_FIELDS:
        setattr(patient, name, "no")
    patient.save()
    # when the demo charts them
    charted = chart_recent_sessions(staff_clinician)
    # then every chart obeys the rules it shows
    assert charted == 3
    for session in Session.objects.filter(course=first.course).select_related("dose"):
        dose = session.dose
        ends = wait_ends_at(counted_from=dose.started_at, entered_at=dose.recorded_at, minutes=120)
        assert session.discharged_at >= ends and session.discharge_entered_at >= ends
        assert dose.prescriber_on_site == staff_clinician
        times = [device.given_at for device in dose.devices_given.order_by("number")]
        assert len(times) == dose.devices
        assert all(b - a >= timedelta(minutes=5) for a, b in zip(times, times[1:], strict=False))
        discharge_vitals = session.vitals.get(kind=VitalsKind.DISCHARGE)
        assert timedelta(0) <= session.discharged_at - discharge_vitals.taken_at <= timedelta(minutes=15)
        assert RemsForm.objects.get(session=session).missing in ([], ["Blood pressure at about 40 minutes"])


# --- the rule as a property ---------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entered_late=st.integers(min_value=0, max_value=90), real=st.integers(min_value=0, max_value=260),
       back=st.integers(min_value=-5, max_value=200))
def test_discharge_succeeds_only_when_both_the_charted_and_the_real_time_have_reached_the_end(
        esk_session, clock, staff_clinician, prescriber, entered_late, real, back):
    # given a first device charted at 09:10 and entered ``entered_late`` minutes later
    device, entered = minutes(10), minutes(10 + entered_late)
    ends = wait_ends_at(counted_from=device, entered_at=entered, minutes=120)
    now = entered + timedelta(minutes=real)
    charted = now - timedelta(minutes=back)
    with transaction.atomic():
        session = Session.objects.get(pk=esk_session.pk)
        charting.check_in(by=staff_clinician, session=session, now=minutes(0), **CHECKLIST)
        charting.record_vitals(by=staff_clinician, session=session, kind=VitalsKind.PRE_DOSE, now=minutes(1),
                               **NORMAL)
        charting.record_dose(by=staff_clinician, session=session, dose_mg=56, lot=lot_for(session), started_at=device,
                             prescriber_on_site=prescriber, late_reason=LATE, now=entered)
        if charted >= device:
            charting.record_vitals(by=staff_clinician, session=session, kind=VitalsKind.DISCHARGE,
                                   taken_at=charted if charted <= now else now, late_reason=LATE, now=now, **NORMAL)
        # when discharging at ``now`` with ``charted`` as the discharge time
        try:
            charting.discharge(by=staff_clinician, session=session, discharged_at=charted, late_reason=LATE,
                               now=now, **DISCHARGE)
            discharged = True
        except (Conflict, Invalid) as refusal:
            assert not isinstance(refusal, ClinicError) or refusal.code in (
                "observation_not_complete", "invalid", "discharge_vitals_missing"), refusal.code
            discharged = False
        transaction.set_rollback(True)
    # then it went through exactly when both times are at or after the end (and the charted one not ahead)
    assert discharged == (charted >= ends and now >= ends and charted <= now)
