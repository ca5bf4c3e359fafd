"""The clinical-safety findings on charting, each a rule with no way around it (docs/DOMAIN.md).

A finding that appears mid-course, vitals at their moment, late entries on an ended
chart, leaving before discharge, concomitant medicines, each device's time and the
prescriber on site.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from clinic.roles import CLINICIAN, PRESCRIBER
from protocols.selectors import course_outlook
from scheduling.models import RemsForm, SessionStatus
from tests.factories import UserFactory
from tests.scheduling.conftest import TUESDAY_NINE
from tests.scheduling.stock.dose_lots import with_lot

pytestmark = pytest.mark.django_db

NORMAL = {"systolic": 122, "diastolic": 78, "heart_rate": 72, "spo2": 98}
CHECKLIST = {"fasted_food_2h": True, "fasted_drink_30m": True, "nasal_medicines_ok": True,
             "ride_home_arranged": True}
DISCHARGE = {"resolution_attested": True, "driver": "Sister, Maria", "could_have_left_after_minutes": 90}
ANSWERED = {"sex": "female", "takes_benzodiazepines": "no", "takes_sedative_hypnotics": "no",
            "takes_psychostimulants": "yes", "takes_maois": "no", "takes_opioids": "no"}


def minutes(n: float):
    return TUESDAY_NINE + timedelta(minutes=n)


@pytest.fixture
def prescriber(db):
    return UserFactory(username="dr_presc", roles=[CLINICIAN, PRESCRIBER])


def post(api, session, step, body=None):
    if step == "dose":  # a dose draws from the site's stock: the lot (and an IV waste's witness) come along
        body = with_lot(session, body or {})
    return api.post(f"/api/sessions/{session.pk}/{step}/", body or {}, format="json")


def answered(patient):
    for name, value in ANSWERED.items():
        setattr(patient, name, value)
    patient.save()


def dosed(api, session, clock, prescriber, **dose):
    assert post(api, session, "check-in", CHECKLIST).status_code == 200
    assert post(api, session, "vitals", {"kind": "pre_dose", **NORMAL}).status_code == 201
    clock.move_to(minutes(10))
    response = post(api, session, "dose", {"dose_mg": "56",
                                           "prescriber_on_site": prescriber.pk, **dose})
    assert response.status_code == 201, response.json()
    return response


# --- 5. a finding that appears mid-course ---------------------------------------------------------


def test_a_clinician_overrides_a_finding_that_appeared_mid_course_at_check_in(desk_api, clinician_api, clinician,
                                                                              esk_session, clock):
    # given a pregnancy recorded after the course started
    patient = esk_session.patient
    patient.pregnant = True
    patient.save()
    # when the desk checks in, with or without a reason, and then a clinician with a reason
    refused = post(desk_api, esk_session, "check-in", CHECKLIST)
    not_theirs = post(desk_api, esk_session, "check-in", {**CHECKLIST, "override_reason": "Discussed"})
    reason = "Discussed risks with obstetrics; patient consents to continue"
    done = post(clinician_api, esk_session, "check-in", {**CHECKLIST, "override_reason": reason})
    # then only the clinician's override checks the patient in, and the course's history records it
    assert refused.status_code == 409 and refused.json()["code"] == "override_required"
    assert not_theirs.status_code == 403 and not_theirs.json()["code"] == "override_needs_clinician"
    assert done.status_code == 200, done.json()
    esk_session.refresh_from_db()
    course = esk_session.course
    course.refresh_from_db()
    assert "pregnant" in course.override_findings and reason in course.override_reason
    assert course.override_by == clinician
    assert (esk_session.eligibility_override_findings, esk_session.eligibility_override_reason,
            esk_session.eligibility_override_by) == (["pregnant"], reason, clinician)
    assert any(reason in (event.override_reason or "") for event in course.events.all())


def test_a_hard_stop_stops_check_in_even_with_a_reason(clinician_api, esk_session, clock):
    patient = esk_session.patient
    patient.arteriovenous_malformation = True
    patient.save()
    response = post(clinician_api, esk_session, "check-in", {**CHECKLIST, "override_reason": "Please"})
    assert response.status_code == 409 and response.json()["code"] == "not_eligible"


def test_the_chart_page_offers_the_override_and_takes_it(client, staff_clinician, esk_session, clock):
    patient = esk_session.patient
    patient.pregnant = True
    patient.save()
    client.force_login(staff_clinician)
    url = f"/sessions/{esk_session.pk}/chart/check-in/"
    refused = client.post(url, {name: "on" for name in CHECKLIST})
    assert refused.status_code == 409 and 'id="check-in-override"' in refused.content.decode()
    done = client.post(url, {**{name: "on" for name in CHECKLIST}, "override_reason": "Reviewed with OB"})
    assert done.status_code == 302
    esk_session.refresh_from_db()
    assert esk_session.status == SessionStatus.CHECKED_IN


# --- 7. vitals belong to their moment -----------------------------------------------------------------


def test_a_40_minute_reading_outside_35_to_50_minutes_needs_a_reason_and_does_not_fill_the_form(
        clinician_api, esk_session, clock, prescriber):
    answered(esk_session.patient)
    dosed(clinician_api, esk_session, clock, prescriber)
    clock.move_to(minutes(15))  # 5 minutes after the first device
    refused = post(clinician_api, esk_session, "vitals", {"kind": "post_dose_40", **NORMAL})
    assert refused.status_code == 400 and list(refused.json()["fields"]) == ["timing_reason"]
    taken = post(clinician_api, esk_session, "vitals", {"kind": "post_dose_40", **NORMAL,
                                                        "timing_reason": "Patient felt faint"})
    assert taken.status_code == 201
    assert taken.json()["observation"]["bp_checkpoint"] == "upcoming"  # not "done"
    clock.move_to(minutes(130))
    post(clinician_api, esk_session, "vitals", {"kind": "discharge", **NORMAL})
    post(clinician_api, esk_session, "assessment", {"sedation": "none", "dissociation": "mild",
                                                   "respiratory": "normal"})
    assert post(clinician_api, esk_session, "discharge", DISCHARGE).status_code == 200
    form = RemsForm.objects.get(session=esk_session)
    assert form.missing == ["Blood pressure at about 40 minutes"]


def test_pre_dose_vitals_are_before_the_first_device(clinician_api, esk_session, clock, prescriber):
    dosed(clinician_api, esk_session, clock, prescriber)
    clock.move_to(minutes(20))
    response = post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL})
    assert response.status_code == 400 and "taken_at" in response.json()["fields"]


def test_discharge_vitals_two_hours_before_discharge_do_not_count(clinician_api, esk_session, clock, prescriber):
    dosed(clinician_api, esk_session, clock, prescriber)
    post(clinician_api, esk_session, "vitals", {"kind": "discharge", **NORMAL})  # at 09:10
    clock.move_to(minutes(131))
    response = post(clinician_api, esk_session, "discharge", DISCHARGE)
    assert response.status_code == 409 and response.json()["code"] == "discharge_vitals_missing"


# --- 10. late entries on an ended chart complete a draft form ------------------------------------------


def test_a_discharged_chart_takes_a_late_40_minute_reading_and_the_form_shows_it_late(
        clinician_api, client, staff_clinician, esk_session, clock, prescriber):
    # given a discharged session whose form lacks the 40-minute blood pressure
    answered(esk_session.patient)
    dosed(clinician_api, esk_session, clock, prescriber)
    clock.move_to(minutes(131))
    post(clinician_api, esk_session, "assessment", {"sedation": "none", "dissociation": "mild",
                                                   "respiratory": "normal"})
    post(clinician_api, esk_session, "vitals", {"kind": "discharge", **NORMAL})
    assert post(clinician_api, esk_session, "discharge", DISCHARGE).status_code == 200
    form = RemsForm.objects.get(session=esk_session)
    assert form.missing == ["Blood pressure at about 40 minutes"]
    # when the reading taken at 09:50 on paper is entered at 11:30, late, with its reason
    clock.move_to(minutes(150))
    without = post(clinician_api, esk_session, "vitals", {"kind": "post_dose_40", **NORMAL,
                                                          "taken_at": minutes(50).isoformat()})
    late = post(clinician_api, esk_session, "vitals", {"kind": "post_dose_40", **NORMAL,
                                                       "taken_at": minutes(50).isoformat(),
                                                       "late_reason": "Written on the paper chart"})
    # then the reason is required, the form is complete, and the chart, the form and its page show it late
    assert without.status_code == 400 and list(without.json()["fields"]) == ["late_reason"]
    assert late.status_code == 201, late.json()
    form.refresh_from_db()
    assert (form.status, form.missing) == ("ready", [])
    entries = late.json()["late_entries"]
    assert [entry["reason"] for entry in entries] == ["Written on the paper chart"]
    client.force_login(staff_clinician)
    page = client.get(f"/rems/{form.pk}/").content.decode()
    assert 'data-testid="rems-late-entry"' in page and "Written on the paper chart" in page
    chart = client.get(f"/sessions/{esk_session.pk}/chart/").content.decode()
    assert 'data-testid="late-entries-item"' in chart


def test_a_reading_after_the_patient_left_is_refused(clinician_api, esk_session, clock, prescriber):
    dosed(clinician_api, esk_session, clock, prescriber)
    clock.move_to(minutes(131))
    post(clinician_api, esk_session, "assessment", {"sedation": "none", "dissociation": "none",
                                                   "respiratory": "normal"})
    post(clinician_api, esk_session, "vitals", {"kind": "discharge", **NORMAL})
    post(clinician_api, esk_session, "discharge", DISCHARGE)
    clock.move_to(minutes(140))
    response = post(clinician_api, esk_session, "vitals", {"kind": "other", **NORMAL})
    assert response.status_code == 400 and "taken_at" in response.json()["fields"]


# --- 11. leaving before discharge --------------------------------------------------------------------


def test_a_patient_transferred_to_emergency_care_counts_as_dosed_and_still_needs_a_rems_form(
        clinician_api, esk_session, clock, prescriber):
    # given a patient dosed at 09:10
    answered(esk_session.patient)
    dosed(clinician_api, esk_session, clock, prescriber)
    # when at 09:40 the clinician records a transfer to emergency care
    clock.move_to(minutes(40))
    incomplete = post(clinician_api, esk_session, "leave", {"kind": "emergency_transfer", "reason": "",
                                                            "left_with": ""})
    response = post(clinician_api, esk_session, "leave", {
        "kind": "emergency_transfer", "reason": "SpO2 84% despite oxygen",
        "left_with": "Ambulance to Mount Sinai, with the clinic nurse"})
    # then it is recorded; the dose counts for the protocol; the REMS form asks for the adverse event
    assert incomplete.status_code == 400 and set(incomplete.json()["fields"]) == {"reason", "left_with"}
    assert response.status_code == 200, response.json()
    esk_session.refresh_from_db()
    assert esk_session.status == SessionStatus.DISCHARGED and esk_session.discharged_at is None
    assert esk_session.left_at == minutes(40)
    assert response.json()["observation"]["stage"] == "left"
    assert response.json()["left_before_discharge"]["kind"] == "emergency_transfer"
    assert course_outlook(esk_session.course, esk_session.local_date).sessions_completed == 1
    form = RemsForm.objects.get(session=esk_session)
    assert form.missing == ["Serious adverse event (the patient was transferred to emergency care)"]
    # and once the adverse event is charted (late is allowed on an ended chart) the form is complete
    assert post(clinician_api, esk_session, "assessment", {
        "sedation": "moderate", "dissociation": "moderate", "respiratory": "depressed", "adverse_event": True,
        "adverse_event_serious": True, "adverse_event_description": "Respiratory depression",
        "assessed_at": minutes(35).isoformat()}).status_code == 201
    form.refresh_from_db()
    assert form.status == "ready"


def test_the_chart_page_records_a_patient_leaving_against_advice(client, staff_clinician, esk_session, clock,
                                                                 prescriber):
    # given a patient dosed at 09:10, charted through the page
    client.force_login(staff_clinician)

    def step(name, body):
        body = with_lot(esk_session, body) if name == "dose" else body
        return client.post(f"/sessions/{esk_session.pk}/chart/{name}/", body)

    step("check-in", {name: "on" for name in CHECKLIST})
    step("vitals", {"kind": "pre_dose", **NORMAL})
    clock.move_to(minutes(10))
    assert step("dose", {"dose_mg": "56"}).status_code == 302
    # when at 09:45 the clinician records that she left against advice, first without saying how
    clock.move_to(minutes(45))
    client.force_login(staff_clinician)  # the web session idled out while the clock stood still
    refused = step("leave", {"kind": "against_advice", "reason": "Wanted to go home"})
    done = step("leave", {"kind": "against_advice", "reason": "Wanted to go home",
                          "left_with": "Her husband drove her"})
    # then the refusal names the field in place, and the chart shows how the session ended
    assert refused.status_code == 400 and 'id="leave-with-error"' in refused.content.decode()
    assert done.status_code == 302
    chart = client.get(f"/sessions/{esk_session.pk}/chart/").content.decode()
    assert 'data-testid="left-before-discharge"' in chart and "Her husband drove her" in chart
    assert "Left before discharge" in chart


def test_leaving_before_dosing_is_not_this_record(clinician_api, esk_session, clock):
    post(clinician_api, esk_session, "check-in", CHECKLIST)
    response = post(clinician_api, esk_session, "leave", {"kind": "against_advice", "reason": "Changed mind",
                                                          "left_with": "Alone, by taxi"})
    assert response.status_code == 409 and response.json()["code"] == "invalid_state"


# --- 12. concomitant medicines: yes / no / not asked --------------------------------------------------


def test_a_patient_who_left_is_shown_as_left_on_the_board_the_patient_page_and_the_api(
        clinician_api, clinician, client, esk_session, clock, prescriber):
    # given a patient dosed at 09:10 who left against advice at 09:45
    answered(esk_session.patient)
    dosed(clinician_api, esk_session, clock, prescriber)
    clock.move_to(minutes(45))
    left = post(clinician_api, esk_session, "leave", {"kind": "against_advice", "reason": "Wanted to go home",
                                                      "left_with": "Her husband drove her"})
    assert left.status_code == 200, left.json()
    # when the desk and the clinician look at the session elsewhere
    client.force_login(clinician)
    board = client.get(f"/board/{esk_session.location_id}/{esk_session.local_date.isoformat()}/").content.decode()
    patient_page = client.get(f"/patients/{esk_session.patient_id}/").content.decode()
    api = clinician_api.get(f"/api/sessions/{esk_session.pk}/").json()
    # then none of them calls it a discharge
    assert "Left before discharge" in board
    assert "Left before discharge" in patient_page
    assert (api["status"], api["left_before_discharge"]) == ("discharged", True)


def test_medicines_not_asked_leave_the_rems_form_incomplete(clinician_api, desk_api, esk_session, clock,
                                                            prescriber):
    patient = esk_session.patient
    assert desk_api.get(f"/api/patients/{patient.pk}/").json()["takes_opioids"] == "not_asked"
    dosed(clinician_api, esk_session, clock, prescriber)
    clock.move_to(minutes(50))
    post(clinician_api, esk_session, "vitals", {"kind": "post_dose_40", **NORMAL})
    post(clinician_api, esk_session, "assessment", {"sedation": "none", "dissociation": "mild",
                                                   "respiratory": "normal"})
    clock.move_to(minutes(131))
    post(clinician_api, esk_session, "vitals", {"kind": "discharge", **NORMAL})
    assert post(clinician_api, esk_session, "discharge", DISCHARGE).status_code == 200
    form = RemsForm.objects.get(session=esk_session)
    assert any(item.startswith("Concomitant medicines not asked") for item in form.missing)
    # when the desk records the answers, the form's content reads them
    assert desk_api.patch(f"/api/patients/{patient.pk}/", ANSWERED, format="json").status_code == 200
    content = clinician_api.get(f"/api/rems-forms/{form.pk}/").json()["content"]
    assert content["concomitant_medicines"]["psychostimulants"] == "yes"
    assert content["concomitant_medicines"]["opioids"] == "no"


# --- 16. each device's time, 5 minutes' rest ----------------------------------------------------------


def test_each_device_is_timed_and_less_than_5_minutes_rest_needs_a_reason(clinician_api, esk_session, clock,
                                                                          prescriber):
    post(clinician_api, esk_session, "check-in", CHECKLIST)
    post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL})
    clock.move_to(minutes(20))
    times = [minutes(10).isoformat(), minutes(13).isoformat()]
    body = {"dose_mg": "56", "prescriber_on_site": prescriber.pk, "device_times": times}
    refused = post(clinician_api, esk_session, "dose", body)
    assert refused.status_code == 400 and "rest_reason" in refused.json()["fields"]
    given = post(clinician_api, esk_session, "dose", {**body, "rest_reason": "Patient asked to finish quickly"})
    assert given.status_code == 201, given.json()
    devices = given.json()["dose"]["devices_given"]
    assert [d["number"] for d in devices] == [1, 2]
    assert devices[1]["rest_reason"] == "Patient asked to finish quickly"


def test_the_next_device_is_recorded_when_given(clinician_api, esk_session, clock, prescriber):
    dosed(clinician_api, esk_session, clock, prescriber)
    clock.move_to(minutes(12))
    assert post(clinician_api, esk_session, "device", {}).status_code == 400  # 2 minutes' rest, no reason
    clock.move_to(minutes(15))
    second = post(clinician_api, esk_session, "device", {})
    assert second.status_code == 201
    assert [d["number"] for d in second.json()["dose"]["devices_given"]] == [1, 2]
    assert post(clinician_api, esk_session, "device", {}).json()["code"] == "devices_complete"


# --- 17. the prescriber on site -------------------------------------------------------------------------


def test_an_esketamine_dose_names_a_prescriber_on_site(api_as, esk_session, clock, prescriber):
    # given a clinician who is not a prescriber
    nurse = UserFactory(username="rn_only", roles=[CLINICIAN])
    api = api_as(nurse)
    post(api, esk_session, "check-in", CHECKLIST)
    post(api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL})
    body = {"dose_mg": "56"}
    # when dosing naming no one, naming themself, and naming a prescriber
    missing = post(api, esk_session, "dose", body)
    not_one = post(api, esk_session, "dose", {**body, "prescriber_on_site": nurse.pk})
    named = post(api, esk_session, "dose", {**body, "prescriber_on_site": prescriber.pk})
    # then only the dose naming a prescriber is recorded
    assert missing.status_code == 400 and list(missing.json()["fields"]) == ["prescriber_on_site"]
    assert not_one.status_code == 400 and list(not_one.json()["fields"]) == ["prescriber_on_site"]
    assert named.status_code == 201 and named.json()["dose"]["prescriber_on_site"] == prescriber.pk


def test_a_prescriber_dosing_is_the_prescriber_on_site_when_naming_no_one(clinician_api, clinician, esk_session,
                                                                          clock):
    post(clinician_api, esk_session, "check-in", CHECKLIST)
    post(clinician_api, esk_session, "vitals", {"kind": "pre_dose", **NORMAL})
    dosed = post(clinician_api, esk_session, "dose", {"dose_mg": "56"})
    assert dosed.status_code == 201 and dosed.json()["dose"]["prescriber_on_site"] == clinician.pk
