"""Outcome measures at sessions: recording one, and the PHQ-9 item-9 alert that blocks dosing until acknowledged.

"Now" is Monday 2 March 2026, 09:00 in New York (tests/conftest.py). ``jan_course``
starts on Monday 5 January, so its sessions, and the measures taken at them, are past.
The cadence is in test_measure_cadence.py, per-course outcomes in test_course_outcomes.py and
the API in tests/scheduling/api/test_measures_api.py.
"""

from __future__ import annotations

from datetime import date, timedelta

import pghistory.models
import pytest

from clinic.errors import Conflict, Invalid, NotAllowed
from patients.measures import MeasureInputError
from patients.models import OutcomeMeasure
from scheduling.charting import outcomes
from scheduling.models import SessionMeasure, SessionStatus
from tests.factories import PHQ9_CLEAR, PatientFactory
from tests.scheduling.charting.chart_steps import PHQ9_ITEM9, phq9_at
from tests.scheduling.conftest import JAN_5

pytestmark = pytest.mark.django_db


# -- recording ---------------------------------------------------------------------------------------


def test_recording_a_measure_at_a_session_stores_the_score_and_the_link(jan_course, clinician, session_on):
    # given
    session = session_on(jan_course, JAN_5, SessionStatus.DISCHARGED)
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


def test_a_session_must_be_the_patients_own(jan_course, clinician, session_on):
    # given another patient's session
    session = session_on(jan_course, JAN_5, SessionStatus.DISCHARGED)
    stranger = PatientFactory()
    # when
    with pytest.raises(Invalid) as refused:
        outcomes.record_measure(by=clinician, patient=stranger, instrument="phq9", items=PHQ9_CLEAR,
                                taken_at=session.start, session=session)
    # then
    assert list(refused.value.fields) == ["session"]
    assert not OutcomeMeasure.objects.exists()


def test_a_measure_at_a_session_is_taken_on_the_sessions_day(jan_course, clinician, session_on):
    # given
    session = session_on(jan_course, JAN_5, SessionStatus.DISCHARGED)
    # when
    with pytest.raises(Invalid) as refused:
        outcomes.record_measure(by=clinician, patient=jan_course.patient, instrument="phq9", items=PHQ9_CLEAR,
                                taken_at=session.start + timedelta(days=1), session=session)
    # then
    assert list(refused.value.fields) == ["taken_at"]


def test_a_cancelled_session_cannot_have_a_measure(jan_course, clinician, session_on):
    session = session_on(jan_course, JAN_5, SessionStatus.CANCELLED)
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


def test_answers_that_cannot_be_scored_save_nothing(jan_course, clinician, session_on):
    session = session_on(jan_course, JAN_5, SessionStatus.DISCHARGED)
    with pytest.raises(MeasureInputError):
        phq9_at(session, clinician, items=[0] * 8)
    assert not OutcomeMeasure.objects.exists()
    assert not SessionMeasure.objects.exists()


# -- the item-9 alert --------------------------------------------------------------------------------


def test_item_9_above_zero_leaves_an_alert_that_blocks_until_acknowledged(jan_course, clinician, session_on):
    # given
    session = session_on(jan_course, JAN_5, SessionStatus.DISCHARGED)
    # when
    measure = phq9_at(session, clinician, items=PHQ9_ITEM9)
    # then
    assert measure.item9_positive is True
    assert outcomes.unacknowledged_item9_alert(jan_course.patient) == measure


def test_a_clear_item_9_leaves_no_alert(jan_course, clinician, session_on):
    phq9_at(session_on(jan_course, JAN_5, SessionStatus.DISCHARGED), clinician)
    assert outcomes.unacknowledged_item9_alert(jan_course.patient) is None


def test_a_clinician_acknowledges_the_alert_with_an_assessment(jan_course, clinician, now, session_on):
    # given
    measure = phq9_at(session_on(jan_course, JAN_5, SessionStatus.DISCHARGED), clinician, items=PHQ9_ITEM9)
    # when
    acknowledged = outcomes.acknowledge_item9_alert(by=clinician, measure=measure, note="  No plan or intent.  ")
    # then
    acknowledged.refresh_from_db()
    assert acknowledged.alert_acknowledged_at == now
    assert acknowledged.alert_acknowledged_by == clinician
    assert acknowledged.alert_note == "No plan or intent."
    assert outcomes.unacknowledged_item9_alert(jan_course.patient) is None


def test_an_older_unacknowledged_alert_still_blocks_after_a_clear_phq9(jan_course, clinician, session_on):
    # given an alert on 5 January nobody acknowledged, then a clear PHQ-9 on 12 January
    flagged = phq9_at(session_on(jan_course, JAN_5, SessionStatus.DISCHARGED), clinician, items=PHQ9_ITEM9)
    phq9_at(session_on(jan_course, date(2026, 1, 12), SessionStatus.DISCHARGED), clinician)
    # when
    alert = outcomes.unacknowledged_item9_alert(jan_course.patient)
    # then
    assert alert == flagged


def test_front_desk_cannot_acknowledge_an_alert(jan_course, clinician, front_desk, session_on):
    measure = phq9_at(session_on(jan_course, JAN_5, SessionStatus.DISCHARGED), clinician, items=PHQ9_ITEM9)
    with pytest.raises(NotAllowed) as refused:
        outcomes.acknowledge_item9_alert(by=front_desk, measure=measure, note="Looks fine.")
    assert refused.value.code == "clinician_only"
    assert outcomes.unacknowledged_item9_alert(jan_course.patient) == measure


def test_an_acknowledgement_needs_a_note(jan_course, clinician, session_on):
    measure = phq9_at(session_on(jan_course, JAN_5, SessionStatus.DISCHARGED), clinician, items=PHQ9_ITEM9)
    with pytest.raises(Invalid) as refused:
        outcomes.acknowledge_item9_alert(by=clinician, measure=measure, note="   ")
    assert list(refused.value.fields) == ["note"]


def test_acknowledging_twice_is_a_conflict_and_keeps_the_first(jan_course, clinician, session_on):
    # given
    measure = phq9_at(session_on(jan_course, JAN_5, SessionStatus.DISCHARGED), clinician, items=PHQ9_ITEM9)
    outcomes.acknowledge_item9_alert(by=clinician, measure=measure, note="First assessment.")
    # when
    with pytest.raises(Conflict) as refused:
        outcomes.acknowledge_item9_alert(by=clinician, measure=measure, note="Second assessment.")
    # then
    assert refused.value.code == "invalid_state"
    measure.refresh_from_db()
    assert measure.alert_note == "First assessment."


def test_the_acknowledgement_is_kept_in_the_measures_audit_history(jan_course, clinician, session_on):
    # given
    measure = phq9_at(session_on(jan_course, JAN_5, SessionStatus.DISCHARGED), clinician, items=PHQ9_ITEM9)
    # when
    outcomes.acknowledge_item9_alert(by=clinician, measure=measure, note="Assessed; safe to dose.")
    # then
    events = list(pghistory.models.Events.objects.tracks(measure).order_by("pgh_id"))
    assert [event.pgh_label for event in events] == ["insert", "update"]
    assert events[1].pgh_diff["alert_note"] == ["", "Assessed; safe to dose."]


def test_a_measure_without_an_alert_cannot_be_acknowledged(jan_course, clinician, session_on):
    measure = phq9_at(session_on(jan_course, JAN_5, SessionStatus.DISCHARGED), clinician)
    with pytest.raises(Conflict) as refused:
        outcomes.acknowledge_item9_alert(by=clinician, measure=measure, note="Nothing to see.")
    assert refused.value.code == "invalid_state"
