"""Outcome measures through the API: recording, the item-9 alert, acknowledging, lists and their query counts.

"Now" is Monday 2 March 2026, 09:00 in New York (tests/conftest.py). ``jan_course``
starts on Monday 5 January, so its sessions, and the measures taken at them, are past.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from patients.models import OutcomeMeasure, PatientAccess
from scheduling.charting import outcomes
from scheduling.models import SessionStatus
from tests.factories import PHQ9_CLEAR, PatientFactory
from tests.scheduling.charting.chart_steps import PHQ9_ITEM9, phq9_at
from tests.scheduling.conftest import JAN_5

pytestmark = pytest.mark.django_db

# The patient measures endpoint, whatever the number of measures or courses: patient, access-log
# insert, measures (with session links and staff), courses, course outcomes.
PATIENT_MEASURES_MAX_QUERIES = 5
# The measure list, any page size: count, page (with session links and staff), one access-log insert.
MEASURE_LIST_MAX_QUERIES = 3


def post_measure(api, **body):
    return api.post("/api/measures/", body, format="json")


# -- the API -----------------------------------------------------------------------------------------


def test_front_desk_records_a_phq9_and_gets_score_band_and_no_alert(desk_api, jan_course):
    # when
    response = post_measure(desk_api, patient=jan_course.patient.pk, instrument="phq9", items=PHQ9_CLEAR)
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["total"], body["band"], body["alerts"], body["session"]) == (8, "mild", [], None)


def test_the_api_reports_the_item9_alert(clinician_api, jan_course, session_on):
    # given
    session = session_on(jan_course, JAN_5, SessionStatus.DISCHARGED)
    # when
    response = post_measure(clinician_api, patient=jan_course.patient.pk, instrument="phq9", items=PHQ9_ITEM9,
                            session=session.pk, taken_at=session.start.isoformat())
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["alerts"] == ["item9_positive"]
    assert body["alert_open"] is True
    assert body["session"] == session.pk


def test_a_manager_may_read_but_not_record(manager_api, jan_course):
    assert post_measure(manager_api, patient=jan_course.patient.pk, instrument="phq9",
                        items=PHQ9_CLEAR).status_code == 403
    assert manager_api.get("/api/measures/").status_code == 200


@pytest.mark.parametrize("items", [
    [1] * 8,  # too few
    [0, 0, 0, 0, 0, 0, 0, 0, 4],  # out of range
    [0, 0, 0, 0, 0, 0, 0, 0, -1],  # negative
    ["a", 0, 0, 0, 0, 0, 0, 0, 0],  # not a number
    [1.5, 0, 0, 0, 0, 0, 0, 0, 0],  # not whole
    [None, 0, 0, 0, 0, 0, 0, 0, 0],
    [True, 0, 0, 0, 0, 0, 0, 0, 0],
    [[1], 0, 0, 0, 0, 0, 0, 0, 0],
    "111111111",
    {"1": 1},
    None,
])
def test_answers_that_cannot_be_scored_are_a_400_naming_items(desk_api, jan_course, items):
    # when
    response = post_measure(desk_api, patient=jan_course.patient.pk, instrument="phq9", items=items)
    # then
    assert response.status_code == 400, response.json()
    assert list(response.json()["fields"]) == ["items"]
    assert not OutcomeMeasure.objects.exists()


def test_a_form_post_with_repeated_items_is_scored(desk_api, jan_course):
    # when the answers come as a form, one field per answer
    response = desk_api.post("/api/measures/", {"patient": jan_course.patient.pk, "instrument": "gad7",
                                                "items": ["1", "2", "3", "0", "0", "1", "2"]}, format="multipart")
    # then
    assert response.status_code == 201, response.json()
    assert (response.json()["total"], response.json()["band"]) == (9, "mild")


def test_a_missing_answer_list_is_a_400_naming_items(desk_api, jan_course):
    response = post_measure(desk_api, patient=jan_course.patient.pk, instrument="phq9")
    assert response.status_code == 400
    assert "items" in response.json()["fields"]


def test_an_out_of_range_answer_is_named_in_the_message(desk_api, jan_course):
    response = post_measure(desk_api, patient=jan_course.patient.pk, instrument="phq9",
                            items=[0, 0, 5, 0, 0, 0, 0, 0, 0])
    assert response.json()["fields"]["items"] == ["Item 3 must be 0 to 3."]


@pytest.mark.parametrize(("body", "field"), [
    ({"instrument": "phq8", "items": PHQ9_CLEAR}, "instrument"),
    ({"instrument": "phq9", "items": PHQ9_CLEAR, "taken_at": "yesterday"}, "taken_at"),
    ({"instrument": "phq9", "items": PHQ9_CLEAR, "taken_at": "2026-03-03T09:00:00Z"}, "taken_at"),
    ({"instrument": "phq9", "items": PHQ9_CLEAR, "session": 999999}, "session"),
    ({"instrument": "phq9", "items": PHQ9_CLEAR, "patient": 999999}, "patient"),
    ({"instrument": "phq9", "items": PHQ9_CLEAR, "patient": "x"}, "patient"),
])
def test_bad_fields_are_a_400_naming_the_field(desk_api, jan_course, body, field):
    response = post_measure(desk_api, **{"patient": jan_course.patient.pk, **body})
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]


def test_another_patients_session_is_a_400_naming_session(desk_api, jan_course, session_on):
    session = session_on(jan_course, JAN_5, SessionStatus.DISCHARGED)
    response = post_measure(desk_api, patient=PatientFactory().pk, instrument="phq9", items=PHQ9_CLEAR,
                            session=session.pk, taken_at=session.start.isoformat())
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["session"]


def test_front_desk_cannot_record_a_madrs(desk_api, jan_course):
    response = post_measure(desk_api, patient=jan_course.patient.pk, instrument="madrs", items=[1] * 10)
    assert response.status_code == 403
    assert response.json()["code"] == "clinician_only"


def test_acknowledging_over_the_api(clinician_api, desk_api, jan_course, clinician, session_on):
    # given
    measure = phq9_at(session_on(jan_course, JAN_5, SessionStatus.DISCHARGED), clinician, items=PHQ9_ITEM9)
    url = f"/api/measures/{measure.pk}/acknowledge/"
    # when front desk tries, a clinician forgets the note, then acknowledges, then tries again
    by_desk = desk_api.post(url, {"note": "ok"}, format="json")
    without_note = clinician_api.post(url, {}, format="json")
    acknowledged = clinician_api.post(url, {"note": "Passive thoughts, no plan; safety plan reviewed."},
                                      format="json")
    again = clinician_api.post(url, {"note": "Again."}, format="json")
    # then
    assert (by_desk.status_code, by_desk.json()["code"]) == (403, "clinician_only")
    assert (without_note.status_code, list(without_note.json()["fields"])) == (400, ["note"])
    assert acknowledged.status_code == 200, acknowledged.json()
    assert acknowledged.json()["alert_open"] is False
    assert acknowledged.json()["alert_acknowledged_by"] == clinician.pk
    assert (again.status_code, again.json()["code"]) == (409, "invalid_state")


def test_the_list_filters_by_patient_instrument_and_session(desk_api, jan_course, clinician, session_on):
    # given
    session = session_on(jan_course, JAN_5, SessionStatus.DISCHARGED)
    at_session = phq9_at(session, clinician)
    gad7 = outcomes.record_measure(by=clinician, patient=jan_course.patient, instrument="gad7", items=[0] * 7)
    other = outcomes.record_measure(by=clinician, patient=PatientFactory(), instrument="phq9", items=PHQ9_CLEAR)

    def ids(**params):
        response = desk_api.get("/api/measures/", params)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    # when / then
    assert ids() == {at_session.pk, gad7.pk, other.pk}
    assert ids(patient=jan_course.patient.pk) == {at_session.pk, gad7.pk}
    assert ids(patient=jan_course.patient.pk, instrument="phq9") == {at_session.pk}
    assert ids(session=session.pk) == {at_session.pk}


@pytest.mark.parametrize("params", [{"instrument": "phq8"}, {"patient": "x"}, {"session": "x"}])
def test_a_bad_list_filter_is_a_400(desk_api, params):
    response = desk_api.get("/api/measures/", params)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == list(params)


def test_the_patients_measures_show_each_course_with_its_outcomes(desk_api, jan_course, clinician, front_desk,
                                                                  session_on):
    # given
    phq9_at(session_on(jan_course, JAN_5, SessionStatus.DISCHARGED), clinician, items=[2] * 8 + [0])
    phq9_at(session_on(jan_course, date(2026, 1, 12), SessionStatus.DISCHARGED), clinician, items=[1] * 8 + [0])
    # when
    response = desk_api.get(f"/api/patients/{jan_course.patient.pk}/measures/")
    # then
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [m["total"] for m in body["measures"]] == [16, 8]
    [course] = body["courses"]
    assert (course["course"], course["protocol"]) == (jan_course.pk, "esketamine-trd")
    phq9 = course["outcomes"]["phq9"]
    assert (phq9["baseline"]["total"], phq9["latest"]["total"], phq9["change"]) == (16, 8, -8)
    assert (phq9["response"], phq9["remission"]) == (True, False)
    assert PatientAccess.objects.filter(patient=jan_course.patient, user=front_desk).count() == 1


def test_an_unknown_patient_is_a_404(desk_api):
    response = desk_api.get("/api/patients/999999/measures/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_patients_measures_keep_their_query_count_when_measures_grow_tenfold(
        desk_api, jan_course, clinician, django_assert_max_num_queries, django_assert_num_queries, session_on):
    # given three measured sessions
    url = f"/api/patients/{jan_course.patient.pk}/measures/"

    def measured_sessions(days):
        for day in days:
            phq9_at(session_on(jan_course, day, SessionStatus.DISCHARGED), clinician)

    measured_sessions([JAN_5 + timedelta(days=7 * n) for n in range(3)])
    desk_api.get(url)  # the first request also loads the user's roles
    with django_assert_max_num_queries(PATIENT_MEASURES_MAX_QUERIES) as with_three:
        assert len(desk_api.get(url).json()["measures"]) == 3
    # when
    measured_sessions([JAN_5 + timedelta(days=7 * n + 1) for n in range(3)]
                      + [JAN_5 + timedelta(days=7 * n + 2) for n in range(3)]
                      + [JAN_5 + timedelta(days=7 * n + 3) for n in range(3)]
                      + [JAN_5 + timedelta(days=7 * n + 4) for n in range(3)])
    outcomes.record_measure(by=clinician, patient=jan_course.patient, instrument="gad7", items=[1] * 7)
    for _ in range(14):
        outcomes.record_measure(by=clinician, patient=jan_course.patient, instrument="phq9", items=PHQ9_CLEAR)
    # then
    with django_assert_num_queries(len(with_three)):
        response = desk_api.get(url)
    assert len(response.json()["measures"]) == 30


def test_the_measure_list_keeps_its_query_count_when_measures_grow(
        desk_api, jan_course, clinician, django_assert_max_num_queries, django_assert_num_queries):
    # given
    def record(count):
        for _ in range(count):
            outcomes.record_measure(by=clinician, patient=PatientFactory(), instrument="phq9", items=PHQ9_CLEAR)

    record(2)
    desk_api.get("/api/measures/")
    with django_assert_max_num_queries(MEASURE_LIST_MAX_QUERIES) as with_two:
        desk_api.get("/api/measures/")
    # when
    record(18)
    # then
    with django_assert_num_queries(len(with_two)):
        assert len(desk_api.get("/api/measures/").json()["results"]) == 20


def test_the_schema_describes_the_measure_endpoints(manager_api):
    response = manager_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths["/api/measures/"]) >= {"get", "post"}
    assert "post" in paths["/api/measures/{id}/acknowledge/"]
    assert "get" in paths["/api/patients/{id}/measures/"]
    items = response.json()["components"]["schemas"]["RecordMeasureRequest"]["properties"]["items"]
    assert items["type"] == "array"
    assert items["items"]["type"] == "integer"
