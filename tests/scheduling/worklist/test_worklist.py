"""The worklist: items open and close themselves as the facts change, and the desk works them through the API.

The clinic is the frozen New York site of ``conftest``: now is Monday 2 March 2026, 09:00 local.
"""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from protocols.models import CourseStatus, Protocol
from scheduling.booking import services as booking
from scheduling.models import (
    URGENCY,
    Chair,
    Outreach,
    RemsForm,
    RemsFormStatus,
    Session,
    SessionStatus,
    WorkItem,
    WorkKind,
)
from scheduling.worklist import sweep
from scheduling.worklist.sweep import refresh_worklist
from tests.factories import PatientFactory, TreatmentCourseFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
TODAY = date(2026, 3, 2)  # Monday
TOMORROW = date(2026, 3, 3)
ESKETAMINE_CHAIR_TIME = timedelta(minutes=150)
# The sweep's queries whatever the number of courses: savepoint, advisory lock, courses, phases, latest and
# next session, locations, session dates, tomorrow's sessions, REMS forms due and overdue (a locations query
# each), open items, items people resolved, insert, outreach already planned, insert, release.
REFRESH_MAX_QUERIES = 19
LIST_MAX_QUERIES = 3  # the locations' time zones (for snoozes), the count, the page


def at(day: date, hour: int = 9) -> datetime:
    """``hour`` o'clock in New York on ``day``."""
    return datetime.combine(day, time(hour), tzinfo=NEW_YORK)


def open_items(kind: str, **filters) -> list[WorkItem]:
    return list(WorkItem.objects.open().filter(kind=kind, **filters))


def course_starting(start: date, **patient) -> object:
    """An esketamine-trd course from ``start`` for a new patient (``patient`` overrides the patient's fields)."""
    return TreatmentCourseFactory(patient=PatientFactory(**patient),
                                  protocol=Protocol.objects.get(slug="esketamine-trd"), start_date=start)


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


def test_a_no_show_opens_no_show_rebook_until_a_new_session_is_booked(esk_course, site, chair, desk_user, now):
    # given a session on Tuesday morning that the patient missed
    session = booking.book_session(by=desk_user, course=esk_course, chair=chair, start=local(site, TOMORROW, 9))
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


def test_an_unenrolled_patient_with_a_booking_opens_rems_enrolment_missing(site, chair, desk_user, now):
    # given an esketamine course of a patient not REMS-enrolled, with a session booked Wednesday
    course = course_starting(TOMORROW, rems_enrolled_on=None, rems_patient_id="")
    session = booking.book_session(by=desk_user, course=course, chair=chair, start=local(site, date(2026, 3, 4), 9))
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


def test_an_enrolled_patient_or_an_iv_course_has_no_rems_enrolment_item(site, iv_chair, desk_user, now):
    # given an IV course of a patient who is not REMS-enrolled, booked Wednesday
    course = TreatmentCourseFactory(patient=PatientFactory(rems_enrolled_on=None, rems_patient_id=""),
                                    protocol=Protocol.objects.get(slug="ketamine-iv-series"), start_date=TOMORROW)
    booking.book_session(by=desk_user, course=course, chair=iv_chair, start=local(site, date(2026, 3, 4), 9))
    # when
    refresh_worklist()
    # then
    assert open_items(WorkKind.REMS_ENROLMENT_MISSING) == []


def test_a_rems_form_not_submitted_six_days_after_the_session_opens_rems_form_due(site, desk_user, now):
    # given a session discharged six days ago (Tuesday 24 February) whose form is a draft
    course = course_starting(date(2026, 2, 20))
    session = booking.record_past_session(by=desk_user, course=course, day=date(2026, 2, 24), location=site)
    form = RemsForm.objects.create(session=session)
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


def test_a_rems_form_four_days_after_the_session_is_not_due_yet(site, desk_user, now):
    course = course_starting(date(2026, 2, 20))
    RemsForm.objects.create(session=booking.record_past_session(by=desk_user, course=course, day=date(2026, 2, 26),
                                                                 location=site))
    refresh_worklist()
    assert open_items(WorkKind.REMS_FORM_DUE) == []


def test_a_booked_session_tomorrow_opens_unconfirmed_tomorrow_until_the_patient_confirms(
        esk_course, site, chair, desk_user, now):
    # given a session tomorrow, booked and not confirmed
    session = booking.book_session(by=desk_user, course=esk_course, chair=chair, start=local(site, TOMORROW, 9))
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


def test_a_session_the_day_after_tomorrow_is_not_unconfirmed_tomorrow(esk_course, site, chair, desk_user, now):
    booking.book_session(by=desk_user, course=esk_course, chair=chair, start=local(site, date(2026, 3, 4), 9))
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
    from scheduling.worklist.services import resolve_item

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
    protocol = Protocol.objects.get(slug="esketamine-trd")
    for n in range(start, start + units):
        chair = Chair.objects.create(location=site, name=f"Bay {n}")
        due = course_starting(date(2026, 2, 20))
        tomorrow = course_starting(TOMORROW, rems_enrolled_on=None, rems_patient_id="")
        missed = TreatmentCourseFactory(patient=PatientFactory(), protocol=protocol, start_date=date(2026, 2, 25))
        rows = [
            (due, date(2026, 2, 23), SessionStatus.DISCHARGED, None),
            (due, date(2026, 2, 27), SessionStatus.DISCHARGED, None),
            (tomorrow, TOMORROW, SessionStatus.BOOKED, chair),
            (missed, date(2026, 2, 27), SessionStatus.NO_SHOW, chair),
        ]
        sessions = Session.objects.bulk_create([
            Session(course=course, patient=course.patient, location=site, chair=seat, start=local(site, day, 9),
                    end=local(site, day, 9) + ESKETAMINE_CHAIR_TIME,
                    occupied_until=local(site, day, 9) + ESKETAMINE_CHAIR_TIME + timedelta(minutes=15),
                    local_date=day, status=status, recorded_history=seat is None)
            for course, day, status, seat in rows
        ])
        RemsForm.objects.create(session=sessions[0])


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


# --- the API ---------------------------------------------------------------------------------------------


def make_item(kind: str, *, location=None, due_on=None, subject=None, **fields) -> WorkItem:
    patient = fields.pop("patient", None) or PatientFactory()
    return WorkItem.objects.create(kind=kind, subject=subject or f"test:{WorkItem.objects.count() + 1}",
                                   urgency=URGENCY[kind], patient=patient, location=location, due_on=due_on,
                                   **fields)


def listed(api, **query) -> list[dict]:
    response = api.get("/api/worklist/", query)
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def test_the_list_is_sorted_by_urgency_then_due_date(desk_api, site, now):
    # given
    make_item(WorkKind.DUE_UNBOOKED, location=site, due_on=date(2026, 3, 3))
    make_item(WorkKind.REMS_FORM_DUE, location=site, due_on=date(2026, 3, 5))
    make_item(WorkKind.LAPSED, location=site, due_on=date(2026, 2, 1))
    make_item(WorkKind.REMS_FORM_DUE, location=site, due_on=date(2026, 3, 4))
    # when
    rows = listed(desk_api)
    # then
    assert [(row["kind"], row["due_on"]) for row in rows] == [
        ("lapsed", "2026-02-01"), ("rems_form_due", "2026-03-04"), ("rems_form_due", "2026-03-05"),
        ("due_unbooked", "2026-03-03"),
    ]


def test_a_listed_item_names_the_patient_course_session_and_location(desk_api, esk_course, site, chair, desk_user,
                                                                     now):
    # given
    session = booking.book_session(by=desk_user, course=esk_course, chair=chair, start=local(site, TOMORROW, 9))
    refresh_worklist()
    # when
    [row] = listed(desk_api, kind="unconfirmed_tomorrow")
    # then
    assert row["patient"] == esk_course.patient_id
    assert row["patient_name"] == esk_course.patient.display_name
    assert (row["course"], row["protocol"], row["session"]) == (esk_course.pk, "esketamine-trd", session.pk)
    assert (row["location"], row["location_name"]) == (site.pk, "Midtown")
    assert row["label"] == "Unconfirmed for tomorrow"
    assert row["due_on"] == "2026-03-03" and row["opened_at"] and row["detail"]
    assert row["assigned_to"] is None and row["snoozed_until"] is None


def test_the_list_filters_by_kind_and_location(desk_api, site, other_site, now):
    # given
    here = make_item(WorkKind.OVERDUE, location=site)
    make_item(WorkKind.OVERDUE, location=other_site)
    make_item(WorkKind.DUE_UNBOOKED, location=site)
    # when
    rows = listed(desk_api, kind="overdue", location=site.pk)
    # then
    assert [row["id"] for row in rows] == [here.pk]


def test_an_unknown_kind_is_a_400(desk_api, now):
    response = desk_api.get("/api/worklist/", {"kind": "gossip"})
    assert response.status_code == 400
    assert "kind" in response.json()["fields"]


def test_the_desk_assigns_an_item_and_lists_its_own(desk_api, front_desk, site, now):
    # given
    item = make_item(WorkKind.OVERDUE, location=site)
    make_item(WorkKind.OVERDUE, location=site)
    # when
    response = desk_api.post(f"/api/worklist/{item.pk}/assign/", {"user": front_desk.pk}, format="json")
    # then
    assert response.status_code == 200, response.json()
    assert response.json()["assigned_to"] == front_desk.pk
    assert [row["id"] for row in listed(desk_api, assigned_to="me")] == [item.pk]
    assert len(listed(desk_api, assigned_to="none")) == 1


def test_an_item_cannot_be_given_to_someone_without_a_clinic_role(desk_api, no_role_user, site, now):
    item = make_item(WorkKind.OVERDUE, location=site)
    response = desk_api.post(f"/api/worklist/{item.pk}/assign/", {"user": no_role_user.pk}, format="json")
    assert response.status_code == 400
    assert "user" in response.json()["fields"]


def test_a_snoozed_item_is_hidden_until_its_date(desk_api, site, now):
    # given
    item = make_item(WorkKind.DUE_UNBOOKED, location=site)
    # when
    response = desk_api.post(f"/api/worklist/{item.pk}/snooze/", {"until": "2026-03-04"}, format="json")
    # then
    assert response.status_code == 200, response.json()
    assert response.json()["snoozed_until"] == "2026-03-04"
    assert listed(desk_api) == []
    assert [row["id"] for row in listed(desk_api, include_snoozed="true")] == [item.pk]
    assert desk_api.get("/api/worklist/counts/").json()["due_unbooked"] == 0
    with time_machine.travel(at(date(2026, 3, 3), 23), tick=False):  # Tuesday 23:00 New York: still hidden
        assert listed(desk_api) == []
    with time_machine.travel(at(date(2026, 3, 4), 0), tick=False):
        assert [row["id"] for row in listed(desk_api)] == [item.pk]


def test_snoozing_until_today_or_earlier_is_a_400(desk_api, site, now):
    item = make_item(WorkKind.DUE_UNBOOKED, location=site)
    response = desk_api.post(f"/api/worklist/{item.pk}/snooze/", {"until": "2026-03-02"}, format="json")
    assert response.status_code == 400
    assert "until" in response.json()["fields"]


def test_resolving_needs_a_note_and_closes_the_item_once(desk_api, front_desk, site, now):
    # given
    item = make_item(WorkKind.NO_SHOW_REBOOK, location=site)
    # when there is no note
    response = desk_api.post(f"/api/worklist/{item.pk}/resolve/", {"note": "  "}, format="json")
    # then
    assert response.status_code == 400
    assert "note" in response.json()["fields"]
    # when
    response = desk_api.post(f"/api/worklist/{item.pk}/resolve/", {"note": "Patient moved away."}, format="json")
    # then
    assert response.status_code == 200, response.json()
    item.refresh_from_db()
    assert (item.closed_at, item.closed_by, item.resolution) == (now, front_desk, "Patient moved away.")
    assert listed(desk_api) == []
    # when it is resolved again
    response = desk_api.post(f"/api/worklist/{item.pk}/resolve/", {"note": "Again."}, format="json")
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"


def test_a_closed_item_cannot_be_snoozed_or_assigned(desk_api, front_desk, site, now):
    item = make_item(WorkKind.OVERDUE, location=site, closed_at=now)
    assert desk_api.post(f"/api/worklist/{item.pk}/snooze/", {"until": "2026-03-09"}).status_code == 409
    assert desk_api.post(f"/api/worklist/{item.pk}/assign/", {"user": front_desk.pk}).status_code == 409


@pytest.mark.parametrize("role", ["desk_api", "clinician_api", "manager_api"])
def test_every_clinic_role_reads_and_works_the_list(role, request, site, now):
    # given
    api = request.getfixturevalue(role)
    item = make_item(WorkKind.OVERDUE, location=site)
    # then
    assert len(listed(api)) == 1
    assert api.post(f"/api/worklist/{item.pk}/snooze/", {"until": "2026-03-05"}).status_code == 200
    assert api.post(f"/api/worklist/{item.pk}/resolve/", {"note": "Called."}).status_code == 200


def test_a_user_without_a_role_or_signed_out_is_refused(api_as, no_role_user, site, now):
    # given
    item = make_item(WorkKind.OVERDUE, location=site)
    for api, status in ((api_as(no_role_user), 403), (api_as(None), 401)):
        # then
        assert api.get("/api/worklist/").status_code == status
        assert api.get("/api/worklist/counts/").status_code == status
        assert api.post(f"/api/worklist/{item.pk}/resolve/", {"note": "x"}).status_code == status
    item.refresh_from_db()
    assert item.closed_at is None


def test_counts_give_the_open_visible_items_by_kind(desk_api, site, now):
    # given
    make_item(WorkKind.OVERDUE, location=site)
    make_item(WorkKind.OVERDUE, location=site)
    make_item(WorkKind.LAPSED)
    make_item(WorkKind.LAPSED, closed_at=now)
    # when
    counts = desk_api.get("/api/worklist/counts/").json()
    # then
    assert (counts["overdue"], counts["lapsed"], counts["due_unbooked"], counts["total"]) == (2, 1, 0, 3)


def test_the_list_keeps_its_query_count_when_items_grow(desk_api, front_desk, site, esk_course, now,
                                                        django_assert_max_num_queries, django_assert_num_queries):
    # given three items, each with a patient, course, location and assignee
    def add(count):
        for _ in range(count):
            make_item(WorkKind.OVERDUE, location=site, course=esk_course, assigned_to=front_desk)

    add(3)
    listed(desk_api)  # the first request also loads the user's roles
    with django_assert_max_num_queries(LIST_MAX_QUERIES) as with_three:
        assert len(listed(desk_api)) == 3
    # when
    add(27)
    # then
    with django_assert_num_queries(len(with_three)):
        assert len(listed(desk_api)) == 25
