"""Outcome measures at sessions: recording, the item-9 alert, the cadence, per-course outcomes and the API.

"Now" is Monday 2 March 2026, 09:00 in New York (see conftest). Courses here
start in January so their sessions, and the measures taken at them, are past.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pghistory.models
import pytest

from clinic.errors import Conflict, Invalid, NotAllowed
from patients.measures import MeasureInputError
from patients.models import OutcomeMeasure, PatientAccess
from protocols.models import Protocol
from scheduling.charting import outcomes
from scheduling.demo.measures import create_demo_measures
from scheduling.models import Session, SessionMeasure, SessionStatus
from tests.factories import PatientFactory, TreatmentCourseFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

JAN_5 = date(2026, 1, 5)  # a Monday
PHQ9_CLEAR = [1, 1, 1, 1, 1, 1, 1, 1, 0]  # total 8, item 9 at 0
PHQ9_ITEM9 = [2, 2, 2, 2, 2, 2, 2, 2, 1]  # total 17, item 9 at 1
# The patient measures endpoint, whatever the number of measures or courses: patient, access-log
# insert, measures (with session links and staff), courses, course outcomes.
PATIENT_MEASURES_MAX_QUERIES = 5
# The measure list, any page size: count, page (with session links and staff), one access-log insert.
MEASURE_LIST_MAX_QUERIES = 3
# measures_due for any number of sessions: courses, protocols, phases, locations, completed sessions, PHQ-9s.
MEASURES_DUE_MAX_QUERIES = 6


@pytest.fixture
def jan_course(db, now):
    """An esketamine-trd course that started on Monday 5 January 2026."""
    return TreatmentCourseFactory(patient=PatientFactory(), protocol=Protocol.objects.get(slug="esketamine-trd"),
                                  start_date=JAN_5)


def session_on(course, chair, day: date, status=SessionStatus.DISCHARGED, hour: int = 9) -> Session:
    """A session written straight to the table (no booking rules) at ``hour`` local time on ``day``."""
    start = local(chair.location, day, hour)
    end = start + timedelta(minutes=course.protocol.chair_minutes)
    return Session.objects.create(course=course, patient=course.patient, location=chair.location, chair=chair,
                                  start=start, end=end, occupied_until=end + timedelta(minutes=15),
                                  local_date=day, status=status)


def phq9_at(session: Session, by, items=PHQ9_CLEAR) -> OutcomeMeasure:
    return outcomes.record_measure(by=by, patient=session.patient, instrument="phq9", items=items,
                                   taken_at=session.start + timedelta(minutes=5), session=session)


def post_measure(api, **body):
    return api.post("/api/measures/", body, format="json")


# -- recording ---------------------------------------------------------------------------------------


def test_recording_a_measure_at_a_session_stores_the_score_and_the_link(jan_course, chair, clinician):
    # given
    session = session_on(jan_course, chair, JAN_5)
    # when
    measure = phq9_at(session, clinician, items=[3, 3, 3, 2, 2, 2, 1, 1, 0])
    # then
    measure.refresh_from_db()
    assert (measure.total, measure.band, measure.item9_positive) == (17, "moderately_severe", False)
    assert measure.items == [3, 3, 3, 2, 2, 2, 1, 1, 0]
    assert measure.recorded_by == clinician
    assert SessionMeasure.objects.get(measure=measure).session == session


def test_a_measure_between_visits_has_no_session(jan_course, front_desk, now):
    # when
    measure = outcomes.record_measure(by=front_desk, patient=jan_course.patient, instrument="gad7",
                                      items=[1, 1, 1, 1, 1, 1, 1])
    # then
    assert measure.taken_at == now
    assert not SessionMeasure.objects.filter(measure=measure).exists()


def test_a_measure_cannot_be_taken_in_the_future(jan_course, clinician, now):
    with pytest.raises(Invalid) as refused:
        outcomes.record_measure(by=clinician, patient=jan_course.patient, instrument="phq9", items=PHQ9_CLEAR,
                                taken_at=now + timedelta(minutes=1))
    assert list(refused.value.fields) == ["taken_at"]
    assert not OutcomeMeasure.objects.exists()


def test_a_session_must_be_the_patients_own(jan_course, chair, clinician):
    # given another patient's session
    session = session_on(jan_course, chair, JAN_5)
    stranger = PatientFactory()
    # when
    with pytest.raises(Invalid) as refused:
        outcomes.record_measure(by=clinician, patient=stranger, instrument="phq9", items=PHQ9_CLEAR,
                                taken_at=session.start, session=session)
    # then
    assert list(refused.value.fields) == ["session"]
    assert not OutcomeMeasure.objects.exists()


def test_a_measure_at_a_session_is_taken_on_the_sessions_day(jan_course, chair, clinician):
    # given
    session = session_on(jan_course, chair, JAN_5)
    # when
    with pytest.raises(Invalid) as refused:
        outcomes.record_measure(by=clinician, patient=jan_course.patient, instrument="phq9", items=PHQ9_CLEAR,
                                taken_at=session.start + timedelta(days=1), session=session)
    # then
    assert list(refused.value.fields) == ["taken_at"]


def test_a_cancelled_session_cannot_have_a_measure(jan_course, chair, clinician):
    session = session_on(jan_course, chair, JAN_5, status=SessionStatus.CANCELLED)
    with pytest.raises(Conflict) as refused:
        phq9_at(session, clinician)
    assert refused.value.code == "invalid_state"


def test_the_madrs_is_clinician_rated(jan_course, front_desk, clinician):
    # when front desk types one in
    with pytest.raises(NotAllowed) as refused:
        outcomes.record_measure(by=front_desk, patient=jan_course.patient, instrument="madrs", items=[2] * 10)
    # then
    assert refused.value.code == "clinician_only"
    assert outcomes.record_measure(by=clinician, patient=jan_course.patient, instrument="madrs",
                                   items=[2] * 10).band == "moderate"


def test_a_manager_cannot_record_a_measure(jan_course, manager):
    with pytest.raises(NotAllowed):
        outcomes.record_measure(by=manager, patient=jan_course.patient, instrument="phq9", items=PHQ9_CLEAR)


def test_answers_that_cannot_be_scored_save_nothing(jan_course, chair, clinician):
    session = session_on(jan_course, chair, JAN_5)
    with pytest.raises(MeasureInputError):
        phq9_at(session, clinician, items=[0] * 8)
    assert not OutcomeMeasure.objects.exists()
    assert not SessionMeasure.objects.exists()


# -- the item-9 alert --------------------------------------------------------------------------------


def test_item_9_above_zero_leaves_an_alert_that_blocks_until_acknowledged(jan_course, chair, clinician):
    # given
    session = session_on(jan_course, chair, JAN_5)
    # when
    measure = phq9_at(session, clinician, items=PHQ9_ITEM9)
    # then
    assert measure.item9_positive is True
    assert outcomes.unacknowledged_item9_alert(jan_course.patient) == measure


def test_a_clear_item_9_leaves_no_alert(jan_course, chair, clinician):
    phq9_at(session_on(jan_course, chair, JAN_5), clinician)
    assert outcomes.unacknowledged_item9_alert(jan_course.patient) is None


def test_a_clinician_acknowledges_the_alert_with_an_assessment(jan_course, chair, clinician, now):
    # given
    measure = phq9_at(session_on(jan_course, chair, JAN_5), clinician, items=PHQ9_ITEM9)
    # when
    acknowledged = outcomes.acknowledge_item9_alert(by=clinician, measure=measure, note="  No plan or intent.  ")
    # then
    acknowledged.refresh_from_db()
    assert acknowledged.alert_acknowledged_at == now
    assert acknowledged.alert_acknowledged_by == clinician
    assert acknowledged.alert_note == "No plan or intent."
    assert outcomes.unacknowledged_item9_alert(jan_course.patient) is None


def test_an_older_unacknowledged_alert_still_blocks_after_a_clear_phq9(jan_course, chair, clinician):
    # given an alert on 5 January nobody acknowledged, then a clear PHQ-9 on 12 January
    flagged = phq9_at(session_on(jan_course, chair, JAN_5), clinician, items=PHQ9_ITEM9)
    phq9_at(session_on(jan_course, chair, date(2026, 1, 12)), clinician)
    # when
    alert = outcomes.unacknowledged_item9_alert(jan_course.patient)
    # then
    assert alert == flagged


def test_front_desk_cannot_acknowledge_an_alert(jan_course, chair, clinician, front_desk):
    measure = phq9_at(session_on(jan_course, chair, JAN_5), clinician, items=PHQ9_ITEM9)
    with pytest.raises(NotAllowed) as refused:
        outcomes.acknowledge_item9_alert(by=front_desk, measure=measure, note="Looks fine.")
    assert refused.value.code == "clinician_only"
    assert outcomes.unacknowledged_item9_alert(jan_course.patient) == measure


def test_an_acknowledgement_needs_a_note(jan_course, chair, clinician):
    measure = phq9_at(session_on(jan_course, chair, JAN_5), clinician, items=PHQ9_ITEM9)
    with pytest.raises(Invalid) as refused:
        outcomes.acknowledge_item9_alert(by=clinician, measure=measure, note="   ")
    assert list(refused.value.fields) == ["note"]


def test_acknowledging_twice_is_a_conflict_and_keeps_the_first(jan_course, chair, clinician):
    # given
    measure = phq9_at(session_on(jan_course, chair, JAN_5), clinician, items=PHQ9_ITEM9)
    outcomes.acknowledge_item9_alert(by=clinician, measure=measure, note="First assessment.")
    # when
    with pytest.raises(Conflict) as refused:
        outcomes.acknowledge_item9_alert(by=clinician, measure=measure, note="Second assessment.")
    # then
    assert refused.value.code == "invalid_state"
    measure.refresh_from_db()
    assert measure.alert_note == "First assessment."


def test_the_acknowledgement_is_kept_in_the_measures_audit_history(jan_course, chair, clinician):
    # given
    measure = phq9_at(session_on(jan_course, chair, JAN_5), clinician, items=PHQ9_ITEM9)
    # when
    outcomes.acknowledge_item9_alert(by=clinician, measure=measure, note="Assessed; safe to dose.")
    # then
    events = list(pghistory.models.Events.objects.tracks(measure).order_by("pgh_id"))
    assert [event.pgh_label for event in events] == ["insert", "update"]
    assert events[1].pgh_diff["alert_note"] == ["", "Assessed; safe to dose."]


def test_a_measure_without_an_alert_cannot_be_acknowledged(jan_course, chair, clinician):
    measure = phq9_at(session_on(jan_course, chair, JAN_5), clinician)
    with pytest.raises(Conflict) as refused:
        outcomes.acknowledge_item9_alert(by=clinician, measure=measure, note="Nothing to see.")
    assert refused.value.code == "invalid_state"


# -- the cadence -------------------------------------------------------------------------------------


def test_the_first_session_of_a_course_is_due_a_phq9_even_after_an_intake_phq9(esk_course, chair, clinician, now):
    # given a PHQ-9 at intake this morning, and session 1 booked for tomorrow, the start date
    outcomes.record_measure(by=clinician, patient=esk_course.patient, instrument="phq9", items=PHQ9_CLEAR)
    session = session_on(esk_course, chair, date(2026, 3, 3), status=SessionStatus.BOOKED)
    # when
    due = outcomes.measure_due(session)
    # then the course's baseline is taken at its first session
    assert due is True


def test_an_induction_session_3_days_after_a_phq9_is_not_due(jan_course, chair, clinician):
    # given session 1 on Monday 5 January with its PHQ-9
    phq9_at(session_on(jan_course, chair, JAN_5), clinician)
    # when
    second = session_on(jan_course, chair, date(2026, 1, 8))
    # then
    assert outcomes.measure_due(second) is False


def test_an_induction_session_6_days_after_a_phq9_is_not_due(jan_course, chair, clinician):
    phq9_at(session_on(jan_course, chair, JAN_5), clinician)
    assert outcomes.measure_due(session_on(jan_course, chair, date(2026, 1, 11))) is False


def test_an_induction_session_7_days_after_a_phq9_is_due(jan_course, chair, clinician):
    # given session 1 with a PHQ-9 and session 2 three days later without one
    phq9_at(session_on(jan_course, chair, JAN_5), clinician)
    session_on(jan_course, chair, date(2026, 1, 8))
    # when
    third = session_on(jan_course, chair, date(2026, 1, 12))
    # then
    assert outcomes.measure_due(third) is True


def test_a_gad7_does_not_stand_in_for_the_weekly_phq9(jan_course, chair, clinician):
    # given session 1 with only a GAD-7
    first = session_on(jan_course, chair, JAN_5)
    outcomes.record_measure(by=clinician, patient=jan_course.patient, instrument="gad7", items=[1] * 7,
                            taken_at=first.start, session=first)
    # when / then
    assert outcomes.measure_due(session_on(jan_course, chair, date(2026, 1, 8))) is True


def test_the_phq9_taken_at_the_session_itself_does_not_change_the_answer(jan_course, chair, clinician):
    # given session 1, then session 2 with a week's gap since any PHQ-9
    phq9_at(session_on(jan_course, chair, JAN_5), clinician)
    second = session_on(jan_course, chair, date(2026, 1, 12))
    assert outcomes.measure_due(second) is True
    # when its PHQ-9 is recorded
    phq9_at(second, clinician)
    # then
    assert outcomes.measure_due(second) is True


def test_a_maintenance_session_is_always_due(jan_course, chair, clinician):
    # given the 8 induction sessions given, the last with a PHQ-9 the day before session 9
    days = [JAN_5 + timedelta(days=offset) for offset in (0, 3, 7, 10, 14, 17, 21, 24)]
    induction = [session_on(jan_course, chair, day) for day in days]
    phq9_at(induction[-1], clinician)
    # when
    ninth = session_on(jan_course, chair, days[-1] + timedelta(days=1), status=SessionStatus.BOOKED)
    # then
    assert outcomes.measure_due(ninth) is True


def test_cancelled_sessions_do_not_count_toward_the_phase(jan_course, chair, clinician):
    # given 7 given sessions and one cancelled: the next is still session 8, in induction
    days = [JAN_5 + timedelta(days=offset) for offset in (0, 3, 7, 10, 14, 17, 21)]
    given = [session_on(jan_course, chair, day) for day in days]
    session_on(jan_course, chair, date(2026, 1, 28), status=SessionStatus.CANCELLED)
    phq9_at(given[-1], clinician)
    # when
    eighth = session_on(jan_course, chair, date(2026, 1, 29))
    # then
    assert outcomes.measure_due(eighth) is False


def test_a_cancelled_session_is_never_due(esk_course, chair):
    session = session_on(esk_course, chair, date(2026, 3, 3), status=SessionStatus.CANCELLED)
    assert outcomes.measure_due(session) is False


def test_the_cadence_of_many_sessions_takes_a_fixed_number_of_queries(
        jan_course, chair, clinician, django_assert_max_num_queries):
    # given ten sessions of two courses
    other = TreatmentCourseFactory(patient=PatientFactory(), protocol=jan_course.protocol, start_date=JAN_5)
    sessions = []
    for offset in (0, 3, 7, 10, 14):
        sessions.append(session_on(jan_course, chair, JAN_5 + timedelta(days=offset), hour=8))
        sessions.append(session_on(other, chair, JAN_5 + timedelta(days=offset), hour=12))
    # PHQ-9s on 5 and 12 January for the first course, on 8 January for the other
    for index in (0, 4, 3):
        phq9_at(sessions[index], clinician)
    fresh = list(Session.objects.filter(pk__in=[s.pk for s in sessions]))
    # when
    with django_assert_max_num_queries(MEASURES_DUE_MAX_QUERIES):
        answers = outcomes.measures_due(fresh)
    # then
    due_days = sorted((s.course_id == jan_course.pk, s.local_date.day) for s in fresh if answers[s.pk])
    assert due_days == [(False, 5), (False, 8), (False, 15), (False, 19), (True, 5), (True, 12), (True, 19)]


# -- per-course outcomes -----------------------------------------------------------------------------


def test_course_outcomes_give_baseline_latest_change_and_flags(jan_course, chair, clinician):
    # given a PHQ-9 before the course (not the baseline), then 20 -> 14 -> 10 at sessions
    outcomes.record_measure(by=clinician, patient=jan_course.patient, instrument="phq9", items=[3] * 8 + [0],
                            taken_at=datetime(2025, 12, 20, 15, tzinfo=UTC))
    first = session_on(jan_course, chair, JAN_5)
    middle = session_on(jan_course, chair, date(2026, 1, 12))
    last = session_on(jan_course, chair, date(2026, 1, 19))
    phq9_at(first, clinician, items=[3, 3, 3, 3, 2, 2, 2, 2, 0])
    phq9_at(middle, clinician, items=[2, 2, 2, 2, 2, 2, 1, 1, 0])
    phq9_at(last, clinician, items=[2, 2, 1, 1, 1, 1, 1, 1, 0])
    # when
    result = outcomes.course_outcomes(jan_course)
    # then
    phq9 = result["phq9"]
    assert phq9["baseline"]["total"] == 20
    assert phq9["baseline"]["session"] == first.pk
    assert phq9["latest"]["total"] == 10
    assert phq9["latest"]["date"] == date(2026, 1, 19)
    assert phq9["change"] == -10
    assert phq9["response"] is True
    assert phq9["remission"] is False
    assert [(p["total"], p["band"], p["session"]) for p in phq9["points"]] == [
        (20, "severe", first.pk), (14, "moderate", middle.pk), (10, "moderate", last.pk)]
    assert list(result) == ["phq9"]


def test_remission_at_the_latest_measure(jan_course, chair, clinician):
    phq9_at(session_on(jan_course, chair, JAN_5), clinician, items=[2] * 8 + [0])
    phq9_at(session_on(jan_course, chair, date(2026, 1, 12)), clinician, items=[1, 1, 1, 1, 0, 0, 0, 0, 0])
    phq9 = outcomes.course_outcomes(jan_course)["phq9"]
    assert (phq9["change"], phq9["response"], phq9["remission"]) == (-12, True, True)


def test_a_baseline_alone_earns_neither_flag(jan_course, chair, clinician):
    # given a single low PHQ-9
    phq9_at(session_on(jan_course, chair, JAN_5), clinician, items=[1, 1, 1, 0, 0, 0, 0, 0, 0])
    # when
    phq9 = outcomes.course_outcomes(jan_course)["phq9"]
    # then
    assert phq9["baseline"] == phq9["latest"]
    assert (phq9["change"], phq9["response"], phq9["remission"]) == (0, False, False)


def test_instruments_are_summarised_separately(jan_course, chair, clinician):
    session = session_on(jan_course, chair, JAN_5)
    phq9_at(session, clinician)
    outcomes.record_measure(by=clinician, patient=jan_course.patient, instrument="madrs", items=[3] * 10,
                            taken_at=session.start, session=session)
    result = outcomes.course_outcomes(jan_course)
    assert sorted(result) == ["madrs", "phq9"]
    assert result["madrs"]["baseline"]["total"] == 30


def test_a_measure_at_another_courses_session_does_not_count(jan_course, chair, iv_chair, clinician):
    # given the same patient on IV ketamine too, with a PHQ-9 at an IV session
    iv = TreatmentCourseFactory(patient=jan_course.patient, protocol=Protocol.objects.get(slug="ketamine-iv-series"),
                                start_date=JAN_5)
    phq9_at(session_on(iv, iv_chair, date(2026, 1, 6)), clinician, items=[3] * 8 + [0])
    phq9_at(session_on(jan_course, chair, date(2026, 1, 7)), clinician)
    # when
    result = outcomes.course_outcomes(jan_course)
    # then
    assert [p["total"] for p in result["phq9"]["points"]] == [8]


# -- the API -----------------------------------------------------------------------------------------


def test_front_desk_records_a_phq9_and_gets_score_band_and_no_alert(desk_api, jan_course):
    # when
    response = post_measure(desk_api, patient=jan_course.patient.pk, instrument="phq9", items=PHQ9_CLEAR)
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["total"], body["band"], body["alerts"], body["session"]) == (8, "mild", [], None)


def test_the_api_reports_the_item9_alert(clinician_api, jan_course, chair):
    # given
    session = session_on(jan_course, chair, JAN_5)
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


def test_another_patients_session_is_a_400_naming_session(desk_api, jan_course, chair):
    session = session_on(jan_course, chair, JAN_5)
    response = post_measure(desk_api, patient=PatientFactory().pk, instrument="phq9", items=PHQ9_CLEAR,
                            session=session.pk, taken_at=session.start.isoformat())
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["session"]


def test_front_desk_cannot_record_a_madrs(desk_api, jan_course):
    response = post_measure(desk_api, patient=jan_course.patient.pk, instrument="madrs", items=[1] * 10)
    assert response.status_code == 403
    assert response.json()["code"] == "clinician_only"


def test_acknowledging_over_the_api(clinician_api, desk_api, jan_course, chair, clinician):
    # given
    measure = phq9_at(session_on(jan_course, chair, JAN_5), clinician, items=PHQ9_ITEM9)
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


def test_the_list_filters_by_patient_instrument_and_session(desk_api, jan_course, chair, clinician):
    # given
    session = session_on(jan_course, chair, JAN_5)
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


def test_the_patients_measures_show_each_course_with_its_outcomes(desk_api, jan_course, chair, clinician, front_desk):
    # given
    phq9_at(session_on(jan_course, chair, JAN_5), clinician, items=[2] * 8 + [0])
    phq9_at(session_on(jan_course, chair, date(2026, 1, 12)), clinician, items=[1] * 8 + [0])
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
        desk_api, jan_course, chair, clinician, django_assert_max_num_queries, django_assert_num_queries):
    # given three measured sessions
    url = f"/api/patients/{jan_course.patient.pk}/measures/"

    def measured_sessions(days):
        for day in days:
            phq9_at(session_on(jan_course, chair, day), clinician)

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


# -- demo data ---------------------------------------------------------------------------------------


def test_the_demo_shows_response_remission_and_an_acknowledged_alert_and_runs_twice(now, clinician):
    # given three courses, each with ten sessions given since 5 January
    protocol = Protocol.objects.get(slug="esketamine-trd")
    offsets = (0, 3, 7, 10, 14, 17, 21, 24, 31, 38)
    courses = []
    for _ in range(3):
        course = TreatmentCourseFactory(patient=PatientFactory(), protocol=protocol, start_date=JAN_5)
        Session.objects.bulk_create([
            Session(course=course, patient=course.patient, start=datetime.combine(day, datetime.min.time(), UTC)
                    + timedelta(hours=12), end=datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=15),
                    occupied_until=datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=15),
                    local_date=day, status=SessionStatus.DISCHARGED, recorded_history=True)
            for day in (JAN_5 + timedelta(days=offset) for offset in offsets)
        ])
        courses.append(course)
    # when
    created = create_demo_measures(courses, by=clinician)
    again = create_demo_measures(courses, by=clinician)
    # then
    assert created == 18  # baseline, weekly in induction (days 7, 14, 21), every maintenance session
    assert again == 0
    flags = [(o["phq9"]["response"], o["phq9"]["remission"])
             for o in (outcomes.course_outcomes(course) for course in courses)]
    assert flags == [(True, True), (True, False), (False, False)]
    assert all(15 <= outcomes.course_outcomes(c)["phq9"]["baseline"]["total"] <= 22 for c in courses)
    alerts = OutcomeMeasure.objects.filter(item9_positive=True)
    assert alerts.count() == 1
    assert alerts.get().alert_acknowledged_at is not None
    assert all(outcomes.measure_due(link.session) for link in SessionMeasure.objects.select_related("session"))

