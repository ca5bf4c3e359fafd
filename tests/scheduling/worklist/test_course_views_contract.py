"""The sweep's hand-written read of every active course answers what the ORM answers, course by course.

``course_views.swept_courses`` reads the courses, their patients and their sessions in one statement and
builds light instances from it (``clinic.rows``); ``course_views_for`` turns them into the views the
sweep works from. Here each is compared with the ORM's reading of the same rows: the course's and the
patient's columns, the session dates (``session_dates_by_course``), the latest kept and the next
upcoming session, and the view ``course_view`` builds through the ORM for one course. The clinic has
courses with no sessions, only a cancelled one, recorded history, no-shows and a site in another zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from protocols.models import CourseStatus, Protocol, TreatmentCourse
from scheduling.booking import services as booking
from scheduling.booking.selectors import session_dates_by_course
from scheduling.models import UPCOMING_STATUSES, Chair, Session, SessionStatus
from scheduling.worklist.course_views import (
    SWEEP_COURSE_FIELDS,
    SWEEP_PATIENT_FIELDS,
    course_view,
    course_views_for,
    swept_courses,
)
from tests.factories import PatientFactory, TreatmentCourseFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)
# The reads are asked at "now" (09:00 in New York), and late that evening, when it is already Tuesday in UTC
# (a course with no site) but still Monday in New York and Los Angeles.
MOMENTS = {"morning": datetime(2026, 3, 2, 14, tzinfo=UTC), "evening": datetime(2026, 3, 3, 3, 30, tzinfo=UTC)}
PATIENT_FACTS = ("is_rems_enrolled", "can_receive_texts", "is_archived")


def course_on(slug: str, start: date, **fields) -> TreatmentCourse:
    return TreatmentCourseFactory(protocol=Protocol.objects.get(slug=slug), start_date=start, **fields)


@pytest.fixture
def clinic(now, site, other_site, chair, chair2, staff_clinician, session_on):
    """Active courses of every shape, and one paused course the sweep leaves alone."""
    west_chair = Chair.objects.create(location=other_site, name="West 1", serves_esketamine=False,
                                      has_infusion_pump=True)
    untouched = course_on("esketamine-trd", date(2026, 3, 4))
    history = course_on("esketamine-trd", date(2026, 2, 2))
    booking.record_past_session(by=staff_clinician, course=history, day=date(2026, 2, 3), location=site, dose_mg=56)
    session_on(history, date(2026, 2, 5), SessionStatus.DISCHARGED)
    session_on(history, date(2026, 2, 9), SessionStatus.CANCELLED)
    session_on(history, date(2026, 2, 10), SessionStatus.NO_SHOW, on=chair2)
    session_on(history, date(2026, 2, 12), SessionStatus.DISCHARGED)
    session_on(history, TODAY, SessionStatus.CHECKED_IN)
    session_on(history, date(2026, 3, 4), SessionStatus.BOOKED)
    session_on(history, date(2026, 3, 6), SessionStatus.CONFIRMED, hour=14)
    lapsed = course_on("esketamine-trd", date(2026, 1, 5), patient=PatientFactory(sms_consent=False))
    session_on(lapsed, date(2026, 1, 6), SessionStatus.DISCHARGED)
    session_on(lapsed, date(2026, 2, 27), SessionStatus.CANCELLED)
    only_cancelled = course_on("esketamine-trd", date(2026, 2, 23), patient=PatientFactory(phone=""))
    session_on(only_cancelled, date(2026, 2, 24), SessionStatus.CANCELLED)
    forgotten = course_on("esketamine-trd", date(2026, 2, 16))
    session_on(forgotten, date(2026, 2, 17), SessionStatus.DISCHARGED, on=chair2)
    session_on(forgotten, date(2026, 2, 26), SessionStatus.BOOKED, on=chair2)  # past, never checked in
    west = course_on("ketamine-iv-series", date(2026, 2, 16), patient=PatientFactory(rems_enrolled_on=None))
    session_on(west, date(2026, 2, 17), SessionStatus.DISCHARGED, on=west_chair)
    session_on(west, date(2026, 2, 19), SessionStatus.NO_SHOW, on=west_chair)
    paused = course_on("esketamine-trd", date(2026, 2, 2), status=CourseStatus.PAUSED, paused_at=MOMENTS["morning"])
    session_on(paused, date(2026, 2, 3), SessionStatus.DISCHARGED, on=chair2)
    return {"untouched": untouched, "history": history, "lapsed": lapsed, "only_cancelled": only_cancelled,
            "forgotten": forgotten, "west": west, "paused": paused}


def loaded(instance, names) -> dict[str, tuple[type, object]]:
    """The columns ``names`` (attnames) of ``instance``, with their types."""
    return {name: (type(value := getattr(instance, name)), value) for name in names}


def attnames(model) -> set[str]:
    return {field.attname for field in model._meta.concrete_fields}


def last_kept(course_id: int) -> dict | None:
    """The ORM's latest session of the course that was not cancelled."""
    return (Session.objects.filter(course_id=course_id).exclude(status=SessionStatus.CANCELLED)
            .order_by("-start", "-id").values("id", "status", "local_date", "location_id").first())


def upcoming(course_id: int, now: datetime) -> dict | None:
    """The ORM's next booked or confirmed session of the course from ``now``."""
    return (Session.objects.filter(course_id=course_id, status__in=UPCOMING_STATUSES, start__gte=now)
            .order_by("start", "id").values("id", "local_date", "location_id").first())


@pytest.mark.parametrize("moment", MOMENTS)
def test_every_active_course_is_swept_with_the_columns_dates_and_sessions_the_orm_reads(
        clinic, moment, django_assert_num_queries):
    # given
    now = MOMENTS[moment]
    # when
    with django_assert_num_queries(1):
        swept = swept_courses(None, now)
    # then every active course, in id order, and no other
    active = TreatmentCourse.objects.filter(status=CourseStatus.ACTIVE).order_by("pk")
    assert [course.pk for course, *_ in swept] == list(active.values_list("pk", flat=True))
    for course, dates, last, coming in swept:
        read = TreatmentCourse.objects.select_related("patient").get(pk=course.pk)
        # the course's sweep columns are the ORM's, and every other column is deferred, not wrong
        assert loaded(course, SWEEP_COURSE_FIELDS) == loaded(read, SWEEP_COURSE_FIELDS)
        assert course.get_deferred_fields() == attnames(TreatmentCourse) - set(SWEEP_COURSE_FIELDS)
        assert (course._state.adding, course._state.db) == (read._state.adding, read._state.db)
        with django_assert_num_queries(0):
            patient = course.patient
        assert loaded(patient, SWEEP_PATIENT_FIELDS) == loaded(read.patient, SWEEP_PATIENT_FIELDS)
        assert patient.get_deferred_fields() == attnames(type(patient)) - set(SWEEP_PATIENT_FIELDS)
        # and the sessions are the ORM's
        assert dates == session_dates_by_course([course.pk])[course.pk]
        assert last == last_kept(course.pk)
        assert coming == upcoming(course.pk, now)


def test_the_edges_are_what_the_clinic_holds(clinic):
    # when
    swept = {course.pk: (dates, last, coming)
             for course, dates, last, coming in swept_courses(None, MOMENTS["morning"])}
    # then
    history, lapsed = clinic["history"], clinic["lapsed"]
    assert swept[clinic["untouched"].pk] == (((), ()), None, None)
    assert swept[clinic["only_cancelled"].pk] == (((), ()), None, None)
    assert swept[history.pk][0] == ((date(2026, 2, 3), date(2026, 2, 5), date(2026, 2, 12)),
                                    (TODAY, date(2026, 3, 4), date(2026, 3, 6)))
    assert (swept[history.pk][1]["status"], swept[history.pk][2]["local_date"]) == ("confirmed", date(2026, 3, 4))
    assert swept[lapsed.pk][1]["local_date"] == date(2026, 1, 6) and swept[lapsed.pk][2] is None
    forgotten = swept[clinic["forgotten"].pk]
    assert (forgotten[1]["status"], forgotten[1]["local_date"], forgotten[2]) == ("booked", date(2026, 2, 26), None)
    assert clinic["paused"].pk not in swept


def test_some_courses_are_swept_alone_and_an_inactive_one_not_at_all(clinic):
    # when
    swept = swept_courses([clinic["history"].pk, clinic["paused"].pk], MOMENTS["morning"])
    # then
    assert [course.pk for course, *_ in swept] == [clinic["history"].pk]


@pytest.mark.parametrize("moment", MOMENTS)
def test_each_view_of_the_sweep_is_the_view_course_view_builds_through_the_orm(
        clinic, moment, django_assert_num_queries):
    # given
    now = MOMENTS[moment]
    # when
    views = course_views_for(None, now)
    # then
    assert len(views) == 6
    for view in views:
        read = course_view(TreatmentCourse.objects.select_related("patient", "protocol").get(pk=view.course.pk),
                           now=now)
        assert view.today == read.today
        if read.location is None:
            assert view.location is None
        else:
            assert loaded(view.location, attnames(type(view.location))) == loaded(
                read.location, attnames(type(read.location)))
        outlook, expected = view.outlook, read.outlook
        assert ((outlook.sessions_completed, outlook.phase, outlook.phase_index, outlook.next_due, outlook.timing)
                == (expected.sessions_completed, expected.phase, expected.phase_index, expected.next_due,
                    expected.timing))
        # the sweep projects the next session only
        assert outlook.plan == expected.plan[:1]
        assert ((view.timing, view.window, view.booked, view.due_unbooked, view.wants_outreach)
                == (read.timing, read.window, read.booked, read.due_unbooked, read.wants_outreach))
        with django_assert_num_queries(0):
            facts = [view.patient_fact(name) for name in PATIENT_FACTS]
        assert facts == [read.patient_fact(name) for name in PATIENT_FACTS]


def test_the_views_differ_where_the_clinic_does(clinic):
    # The guard of the comparison above: the courses are not all alike.
    views = {view.course.pk: view for view in course_views_for(None, MOMENTS["evening"])}
    assert views[clinic["west"].pk].location.time_zone == "America/Los_Angeles"
    assert views[clinic["only_cancelled"].pk].location is None
    assert views[clinic["only_cancelled"].pk].today == date(2026, 3, 3)  # UTC's date: the course has no site
    assert views[clinic["history"].pk].today == TODAY  # New York's
    assert views[clinic["history"].pk].booked and not views[clinic["untouched"].pk].booked
    assert not views[clinic["lapsed"].pk].patient_fact("can_receive_texts")
    assert not views[clinic["west"].pk].patient_fact("is_rems_enrolled")
