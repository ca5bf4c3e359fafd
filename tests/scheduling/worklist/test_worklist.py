"""The worklist: items open and close themselves as the facts change, with a fixed number of queries.

The clinic is the frozen New York site of tests/conftest.py: now is Monday 2 March 2026, 09:00 local.
The desk works the items through the API in test_worklist_api.py.
"""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from protocols.models import CourseStatus
from scheduling.booking import services as booking
from scheduling.models import (
    URGENCY,
    Outreach,
    RemsForm,
    RemsFormStatus,
    Session,
    SessionStatus,
    WorkItem,
    WorkKind,
)
from scheduling.worklist import sweep
from scheduling.worklist.services import resolve_item
from scheduling.worklist.sweep import refresh_worklist
from tests.factories import (
    ChairFactory,
    PatientFactory,
    RemsFormFactory,
    SessionRowFactory,
    TreatmentCourseFactory,
    standard_protocol,
)
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
TODAY = date(2026, 3, 2)  # Monday
TOMORROW = date(2026, 3, 3)
# The sweep's queries whatever the number of courses: savepoint, advisory lock, courses, phases, latest and
# next session, locations, session dates, tomorrow's sessions, REMS forms due and overdue (a locations query
# each), the courses' prior authorisations, open items, items people resolved, insert, outreach already
# planned, insert, release.
REFRESH_MAX_QUERIES = 20



def at(day: date, hour: int = 9) -> datetime:
    """``hour`` o'clock in New York on ``day``."""
    return datetime.combine(day, time(hour), tzinfo=NEW_YORK)


def open_items(kind: str, **filters) -> list[WorkItem]:
    return list(WorkItem.objects.open().filter(kind=kind, **filters))


def course_starting(start: date, **patient) -> object:
    """An esketamine-trd course from ``start`` for a new patient (``patient`` overrides the patient's fields)."""
    return TreatmentCourseFactory(patient=PatientFactory(**patient), protocol=standard_protocol("esketamine-trd"),
                                  start_date=start)


# --- items open and close as the facts change ----------------------------------------------------------


def test_a_course_due_in_two_days_with_nothing_booked_opens_due_unbooked(now):
    # given a course whose first session is due from Wednesday, two days away
    course = course_starting(date(2026, 3, 4))
    # when
    counts = refresh_worklist()
    # then
    [item] = open_items(WorkKind.DUE_UNBOOKED)
    assert (item.subject, item.course, item.patient, item.due_on) == (f"course:{course.pk}", course, course.patient,
                                                                      date(2026, 3, 4))
    assert item.urgency == URGENCY[WorkKind.DUE_UNBOOKED]
    assert "Session 1" in item.detail and "nothing is booked" in item.detail
    assert counts["opened"] == 1


def test_a_course_whose_window_opens_later_than_the_setting_has_no_item(now, settings):
    # given a window opening on Wednesday and a desk that wants only one day's notice
    settings.WORKLIST_DUE_SOON_DAYS = 1
    course_starting(date(2026, 3, 4))
    # when
    refresh_worklist()
    # then
    assert open_items(WorkKind.DUE_UNBOOKED) == []


def test_booking_closes_due_unbooked_and_cancelling_opens_a_new_one(now, site, chair, desk_user):
    # given an open due_unbooked item
    course = course_starting(date(2026, 3, 4))
    refresh_worklist()
    [first] = open_items(WorkKind.DUE_UNBOOKED)
    # when the desk books the session
    session = booking.book_session(by=desk_user, course=course, chair=chair, start=local(site, date(2026, 3, 4), 9))
    counts = refresh_worklist(course_ids=[course.pk])
    # then the item closed itself, saying why
    first.refresh_from_db()
    assert first.closed_at == now
    assert first.resolution == "resolved itself: a session was booked"
    assert counts["closed"] == 1
    assert open_items(WorkKind.DUE_UNBOOKED) == []
    # when the session is cancelled
    booking.cancel_session(by=desk_user, session=session, reason="patient is ill")
    refresh_worklist(course_ids=[course.pk])
    # then a new item is open and the closed one is kept as history
    [second] = open_items(WorkKind.DUE_UNBOOKED)
    assert second.pk != first.pk
    assert WorkItem.objects.filter(kind=WorkKind.DUE_UNBOOKED, subject=f"course:{course.pk}").count() == 2


def test_a_refresh_with_nothing_changed_opens_and_closes_nothing(now):
    # given
    course_starting(date(2026, 3, 4))
    refresh_worklist()
    # when
    counts = refresh_worklist()
    # then
    assert (counts["opened"], counts["closed"]) == (0, 0)
    assert WorkItem.objects.count() == 1


def test_the_full_sweep_holds_the_collector_off_and_a_course_refresh_does_not(now, monkeypatch):
    # given: what the collector was doing while the sweep compared its answer with the stored items
    course = course_starting(date(2026, 3, 4))
    seen = []
    reconcile = sweep._reconcile
    monkeypatch.setattr(sweep, "_reconcile", lambda *args: seen.append(gc.isenabled()) or reconcile(*args))
    # when
    refresh_worklist()
    refresh_worklist(course_ids=[course.pk])
    # then
    assert seen == [False, True]
    assert gc.isenabled()


def test_a_failing_sweep_gives_the_collector_back(now, monkeypatch):
    # given
    course_starting(date(2026, 3, 4))
    monkeypatch.setattr(sweep, "_reconcile", lambda *args: 1 / 0)
    # when
    with pytest.raises(ZeroDivisionError):
        refresh_worklist()
    # then
    assert gc.isenabled()


def test_a_course_is_overdue_the_day_after_its_latest_day_and_lapsed_fifteen_days_after(esk_course):
    # given session 1 due Tuesday 3 to Tuesday 10 March, never booked
    refresh_worklist()
    # when the day after the latest day comes
    with time_machine.travel(at(date(2026, 3, 11)), tick=False):
        refresh_worklist()
    # then
    [overdue] = open_items(WorkKind.OVERDUE)
    assert overdue.due_on == date(2026, 3, 10)
    assert open_items(WorkKind.DUE_UNBOOKED) == []
    assert WorkItem.objects.get(kind=WorkKind.DUE_UNBOOKED).resolution == "resolved itself: the course is now overdue"
    # when 15 days past the latest day
    with time_machine.travel(at(date(2026, 3, 25)), tick=False):
        refresh_worklist()
    # then
    [lapsed] = open_items(WorkKind.LAPSED)
    assert lapsed.due_on == date(2026, 3, 10)
    assert "clinician" in lapsed.detail
    overdue.refresh_from_db()
    assert overdue.resolution == "resolved itself: the course is now lapsed"


def test_fourteen_days_past_the_latest_day_is_still_overdue_not_lapsed(esk_course):
    with time_machine.travel(at(date(2026, 3, 24)), tick=False):
        refresh_worklist()
    assert len(open_items(WorkKind.OVERDUE)) == 1
    assert open_items(WorkKind.LAPSED) == []


def test_an_assignment_follows_the_course_from_due_to_overdue(esk_course, desk_user, now):
    # given the desk took the due item
    refresh_worklist()
    WorkItem.objects.filter(kind=WorkKind.DUE_UNBOOKED).update(assigned_to=desk_user)
    # when the course becomes overdue
    with time_machine.travel(at(date(2026, 3, 11)), tick=False):
        refresh_worklist()
    # then
    assert open_items(WorkKind.OVERDUE)[0].assigned_to == desk_user


def test_a_no_show_opens_no_show_rebook_until_a_new_session_is_booked(esk_course, site, chair, desk_user, now, book):
    # given a session on Tuesday morning that the patient missed
    session = book(chair, local(site, TOMORROW, 9), course=esk_course, by=desk_user)
    with time_machine.travel(at(TOMORROW, 12), tick=False):
        booking.mark_no_show(by=desk_user, session=session)
        # when
        refresh_worklist()
        # then
        [item] = open_items(WorkKind.NO_SHOW_REBOOK)
        assert (item.session, item.location, item.subject) == (session, site, f"course:{esk_course.pk}")
        assert item.due_on == date(2026, 3, 10)  # rebook within the window
        # when the desk books again
        booking.book_session(by=desk_user, course=esk_course, chair=chair, start=local(site, date(2026, 3, 5), 9))
        refresh_worklist(course_ids=[esk_course.pk])
    # then
    assert open_items(WorkKind.NO_SHOW_REBOOK) == []
    assert WorkItem.objects.get(kind=WorkKind.NO_SHOW_REBOOK).resolution == \
        "resolved itself: a new session was booked"


def test_an_unenrolled_patient_with_a_booking_opens_rems_enrolment_missing(site, chair, desk_user, now, book):
    # given an esketamine course of a patient not REMS-enrolled, with a session booked Wednesday
    course = course_starting(TOMORROW, rems_enrolled_on=None, rems_patient_id="")
    session = book(chair, local(site, date(2026, 3, 4), 9), course=course, by=desk_user)
    # when
    refresh_worklist()
    # then
    [item] = open_items(WorkKind.REMS_ENROLMENT_MISSING)
    assert (item.session, item.due_on, item.location) == (session, date(2026, 3, 4), site)
    # when the enrolment is recorded
    course.patient.rems_enrolled_on, course.patient.rems_patient_id = date(2026, 2, 20), "REMS-991"
    course.patient.save()
    refresh_worklist()
    # then
    assert open_items(WorkKind.REMS_ENROLMENT_MISSING) == []
    assert WorkItem.objects.get(kind=WorkKind.REMS_ENROLMENT_MISSING).resolution == \
        "resolved itself: the patient is REMS-enrolled"


def test_an_enrolled_patient_or_an_iv_course_has_no_rems_enrolment_item(site, iv_chair, desk_user, now, book):
    # given an IV course of a patient who is not REMS-enrolled, booked Wednesday
    book(iv_chair, local(site, date(2026, 3, 4), 9), by=desk_user, slug="ketamine-iv-series",
         patient=PatientFactory(rems_enrolled_on=None, rems_patient_id=""))
    # when
    refresh_worklist()
    # then
    assert open_items(WorkKind.REMS_ENROLMENT_MISSING) == []


def test_a_rems_form_not_submitted_six_days_after_the_session_opens_rems_form_due(site, clinician, now):
    # given a session discharged six days ago (Tuesday 24 February) whose form is a draft
    course = course_starting(date(2026, 2, 20))
    session = booking.record_past_session(by=clinician, course=course, day=date(2026, 2, 24), location=site)
    form = RemsFormFactory(session=session)
    # when
    refresh_worklist()
    # then
    [item] = open_items(WorkKind.REMS_FORM_DUE)
    assert (item.subject, item.session, item.due_on, item.course) == (f"form:{form.pk}", session,
                                                                      date(2026, 3, 3), course)
    # when the form is submitted
    RemsForm.objects.filter(pk=form.pk).update(status=RemsFormStatus.SUBMITTED, submitted_at=now,
                                               confirmation_number="C-1")
    refresh_worklist(course_ids=[course.pk])
    # then
    assert open_items(WorkKind.REMS_FORM_DUE) == []
    assert WorkItem.objects.get(kind=WorkKind.REMS_FORM_DUE).resolution == "resolved itself: the form was submitted"


def test_a_rems_form_four_days_after_the_session_is_not_due_yet(site, clinician, now):
    course = course_starting(date(2026, 2, 20))
    RemsFormFactory(session=booking.record_past_session(by=clinician, course=course, day=date(2026, 2, 26),
                                                         location=site))
    refresh_worklist()
    assert open_items(WorkKind.REMS_FORM_DUE) == []


def test_a_booked_session_tomorrow_opens_unconfirmed_tomorrow_until_the_patient_confirms(
        esk_course, site, chair, desk_user, now, book):
    # given a session tomorrow, booked and not confirmed
    session = book(chair, local(site, TOMORROW, 9), course=esk_course, by=desk_user)
    # when
    refresh_worklist()
    # then
    [item] = open_items(WorkKind.UNCONFIRMED_TOMORROW)
    assert (item.subject, item.session, item.due_on, item.location) == (f"session:{session.pk}", session, TOMORROW,
                                                                        site)
    # when the patient confirms
    Session.objects.filter(pk=session.pk).update(status=SessionStatus.CONFIRMED, confirmed_at=now)
    refresh_worklist()
    # then
    assert open_items(WorkKind.UNCONFIRMED_TOMORROW) == []
    assert WorkItem.objects.get(kind=WorkKind.UNCONFIRMED_TOMORROW).resolution == \
        "resolved itself: the patient confirmed"


def test_a_session_the_day_after_tomorrow_is_not_unconfirmed_tomorrow(esk_course, site, chair, desk_user, now, book):
    book(chair, local(site, date(2026, 3, 4), 9), course=esk_course, by=desk_user)
    refresh_worklist()
    assert open_items(WorkKind.UNCONFIRMED_TOMORROW) == []


def test_tomorrow_is_the_sessions_local_date_not_utc(esk_course, site, chair, desk_user):
    # given a session at 09:00 Tuesday in New York, and 20:30 on Monday there (already Tuesday in UTC)
    session = booking.book_session(by=desk_user, course=esk_course, chair=chair, start=local(site, TOMORROW, 9),
                                    now=at(TODAY))
    # when
    with time_machine.travel(datetime(2026, 3, 3, 1, 30, tzinfo=UTC), tick=False):
        refresh_worklist()
    # then
    assert [item.session for item in open_items(WorkKind.UNCONFIRMED_TOMORROW)] == [session]


def test_pausing_a_course_closes_its_course_items(esk_course, now):
    # given
    refresh_worklist()
    # when
    esk_course.status, esk_course.paused_at = CourseStatus.PAUSED, now
    esk_course.save()
    refresh_worklist(course_ids=[esk_course.pk])
    # then
    assert open_items(WorkKind.DUE_UNBOOKED) == []
    assert WorkItem.objects.get().resolution == "resolved itself: the course is paused"


def test_a_refresh_for_one_course_leaves_other_courses_items_alone(esk_course, now):
    # given two due courses with open items
    other = course_starting(TOMORROW)
    refresh_worklist()
    # when the other course is paused and only esk_course is refreshed
    other.status, other.paused_at = CourseStatus.PAUSED, now
    other.save()
    refresh_worklist(course_ids=[esk_course.pk])
    # then
    assert len(open_items(WorkKind.DUE_UNBOOKED)) == 2


def test_an_item_a_person_resolved_does_not_reopen_while_its_fact_stays_the_same(esk_course, desk_user, now):
    # given the desk resolved the due item ("patient will call back")
    refresh_worklist()
    resolve_item(by=desk_user, item=WorkItem.objects.get(), note="Patient will call back on Thursday.")
    # when
    counts = refresh_worklist()
    # then
    assert counts["opened"] == 0
    assert WorkItem.objects.open().count() == 0


# --- a fixed number of queries --------------------------------------------------------------------------


def populate(site, units: int, start: int = 0) -> None:
    """``units`` times: a due course with a REMS form due, a course booked tomorrow for an unenrolled patient,
    and a course whose last session was a no-show. Saved directly: this is about the sweep's queries."""
    for n in range(start, start + units):
        chair = ChairFactory(location=site, name=f"Bay {n}")
        due = course_starting(date(2026, 2, 20))
        tomorrow = course_starting(TOMORROW, rems_enrolled_on=None, rems_patient_id="")
        missed = course_starting(date(2026, 2, 25))
        rows = [
            (due, date(2026, 2, 23), SessionStatus.DISCHARGED, None),
            (due, date(2026, 2, 27), SessionStatus.DISCHARGED, None),
            (tomorrow, TOMORROW, SessionStatus.BOOKED, chair),
            (missed, date(2026, 2, 27), SessionStatus.NO_SHOW, chair),
        ]
        sessions = [SessionRowFactory(course=course, chair=seat, location=site, start=local(site, day, 9),
                                      status=status)
                    for course, day, status, seat in rows]
        RemsFormFactory(session=sessions[0])


def test_the_sweep_keeps_its_query_count_when_the_courses_grow_tenfold(
        site, now, django_assert_max_num_queries, django_assert_num_queries):
    # given three of each kind of course
    populate(site, 3)
    with django_assert_max_num_queries(REFRESH_MAX_QUERIES) as with_few:
        counts = refresh_worklist()
    assert counts["opened"] == 3 * 6 and counts["outreach"] == 3 * 2
    # when there are ten times as many
    populate(site, 27, start=3)
    # then the same number of queries opens the new items and plans their texts
    with django_assert_num_queries(len(with_few)):
        counts = refresh_worklist()
    assert counts["opened"] == 27 * 6 and counts["outreach"] == 27 * 2
    assert WorkItem.objects.open().count() == 30 * 6
    assert Outreach.objects.count() == 30 * 2


def test_closing_many_items_is_one_update(site, now, django_assert_max_num_queries, django_assert_num_queries):
    # given open items for three and then thirty units, all booked or confirmed away afterwards
    populate(site, 3)
    refresh_worklist()
    Session.objects.filter(status=SessionStatus.BOOKED).update(status=SessionStatus.CONFIRMED)
    with django_assert_max_num_queries(REFRESH_MAX_QUERIES) as with_few:
        assert refresh_worklist()["closed"] == 3
    populate(site, 27, start=3)
    refresh_worklist()
    # when
    Session.objects.filter(status=SessionStatus.BOOKED).update(status=SessionStatus.CONFIRMED)
    # then
    with django_assert_num_queries(len(with_few)):
        assert refresh_worklist()["closed"] == 27
