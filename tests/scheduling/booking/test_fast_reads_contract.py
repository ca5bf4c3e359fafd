"""Each hand-written read of a booking answers what its ORM twin answers, column by column.

``scheduling.booking.fast_reads`` builds model instances from its own SQL (``clinic.rows``). Every
concrete column of every instance it builds, the related rows it attaches and the facts it reads beside
them are compared here with the ORM's reading of the same rows (``..._by_orm``), on what a clinic has:
cancelled and no-show sessions, recorded history, a course with no sessions, a session being moved, a
site without a reminder policy.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from clinic.roles import CLINICIAN, FRONT_DESK
from patients.models import Patient
from protocols.models import Protocol, TreatmentCourse
from scheduling.booking import fast_reads
from scheduling.booking import services as booking
from scheduling.booking.selectors import course_dates
from scheduling.models import Chair, Closure, ReminderPolicy, SessionStatus
from tests.factories import TreatmentCourseFactory, UserFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

FEB_2 = date(2026, 2, 2)  # a Monday four weeks before "now", Monday 2 March 2026
TODAY = date(2026, 3, 2)
TUESDAY = date(2026, 3, 3)


def columns(instance) -> dict[str, tuple[type, object]]:
    """Every concrete column of ``instance`` by attname, with its type: a float where the ORM gives a
    Decimal, or text where it gives a date, is a difference even when the two compare equal."""
    return {field.attname: (type(value := getattr(instance, field.attname)), value)
            for field in instance._meta.concrete_fields}


def assert_same_row(built, read) -> None:
    """``built`` is the row ``read`` is: same model, nothing deferred, every column, and saved (not being
    added) on the same database, as ``from_db`` leaves an instance."""
    assert type(built) is type(read)
    assert built.get_deferred_fields() == read.get_deferred_fields() == set()
    assert columns(built) == columns(read)
    assert (built._state.adding, built._state.db) == (read._state.adding, read._state.db) == (False, "default")


def esketamine_course(**fields) -> TreatmentCourse:
    return TreatmentCourseFactory(protocol=Protocol.objects.get(slug="esketamine-trd"), **fields)


# --- course_for_booking ------------------------------------------------------------------------------


@pytest.fixture
def history_course(now, site, chair, chair2, session_on, staff_clinician):
    """An esketamine course started Monday 2 February with a session in every state: recorded history
    (3 Feb, no chair), discharged (5 and 12 Feb), cancelled (9 Feb), no-show (10 Feb), checked in today,
    booked (Wed 4 Mar) and confirmed (Fri 6 Mar)."""
    course = esketamine_course(start_date=FEB_2)
    booking.record_past_session(by=staff_clinician, course=course, day=date(2026, 2, 3), location=site, dose_mg=56)
    session_on(course, date(2026, 2, 5), SessionStatus.DISCHARGED, clinician=staff_clinician)
    session_on(course, date(2026, 2, 9), SessionStatus.CANCELLED)
    session_on(course, date(2026, 2, 10), SessionStatus.NO_SHOW, on=chair2)
    session_on(course, date(2026, 2, 12), SessionStatus.DISCHARGED, clinician=staff_clinician)
    session_on(course, TODAY, SessionStatus.CHECKED_IN, clinician=staff_clinician)
    session_on(course, date(2026, 3, 4), SessionStatus.BOOKED)
    session_on(course, date(2026, 3, 6), SessionStatus.CONFIRMED, hour=14)
    return course


def test_the_course_comes_with_its_patient_protocol_and_phases_as_the_orm_reads_them(
        history_course, django_assert_num_queries):
    # given the ORM's reading of the course
    read = fast_reads.course_for_booking_by_orm(history_course.pk)
    # when the statement reads it
    with django_assert_num_queries(1):
        built = fast_reads.course_for_booking(history_course.pk)
    # then every row is the ORM's, and nothing is left to read
    assert_same_row(built.course, read.course)
    with django_assert_num_queries(0):
        patient, protocol = built.course.patient, built.course.protocol
        phases, rule = list(protocol.phases.all()), protocol.rule()
    assert_same_row(patient, read.course.patient)
    assert_same_row(protocol, read.course.protocol)
    read_phases = list(read.course.protocol.phases.all())
    assert [phase.order for phase in phases] == [phase.order for phase in read_phases] == [1, 2, 3]
    for built_phase, read_phase in zip(phases, read_phases, strict=True):
        assert_same_row(built_phase, read_phase)
    assert rule == read.course.protocol.rule()


def test_the_dates_are_those_of_course_dates_without_cancelled_or_no_show_sessions(history_course):
    # when
    built = fast_reads.course_for_booking(history_course.pk)
    # then
    assert built.dates == fast_reads.course_for_booking_by_orm(history_course.pk).dates == course_dates(
        history_course.pk)
    assert built.completed_dates == (date(2026, 2, 3), date(2026, 2, 5), date(2026, 2, 12))
    assert built.booked_dates == (TODAY, date(2026, 3, 4), date(2026, 3, 6))


def test_a_course_with_no_sessions_has_no_dates(esk_course):
    # when
    built = fast_reads.course_for_booking(esk_course.pk)
    # then
    assert built.dates == fast_reads.course_for_booking_by_orm(esk_course.pk).dates == ((), ())
    assert_same_row(built.course, fast_reads.course_for_booking_by_orm(esk_course.pk).course)


def test_a_move_leaves_the_moved_session_out_of_the_dates(history_course):
    # given the session booked for Wednesday 4 March, being moved
    moving = history_course.sessions.get(local_date=date(2026, 3, 4))
    # when
    built = fast_reads.course_for_booking(history_course.pk, exclude_session_id=moving.pk)
    # then
    read = fast_reads.course_for_booking_by_orm(history_course.pk, exclude_session_id=moving.pk)
    assert built.dates == read.dates == course_dates(history_course.pk, exclude_session_id=moving.pk)
    assert built.booked_dates == (TODAY, date(2026, 3, 6))


def test_an_unknown_course_is_refused_as_the_orm_refuses_it(db):
    # when / then
    with pytest.raises(TreatmentCourse.DoesNotExist):
        fast_reads.course_for_booking(2_000_000_000)
    with pytest.raises(TreatmentCourse.DoesNotExist):
        fast_reads.course_for_booking_by_orm(2_000_000_000)


# --- chair_with_location -----------------------------------------------------------------------------


def test_the_chair_comes_with_its_location_as_select_related_reads_it(iv_chair, django_assert_num_queries):
    # given
    read = fast_reads.chair_with_location_by_orm(iv_chair.pk)
    # when
    with django_assert_num_queries(1):
        built = fast_reads.chair_with_location(iv_chair.pk)
    # then
    assert_same_row(built, read)
    with django_assert_num_queries(0):
        location = built.location
    assert_same_row(location, read.location)


def test_an_unknown_chair_is_refused_as_the_orm_refuses_it(db):
    # when / then
    with pytest.raises(Chair.DoesNotExist):
        fast_reads.chair_with_location(2_000_000_000)
    with pytest.raises(Chair.DoesNotExist):
        fast_reads.chair_with_location_by_orm(2_000_000_000)


# --- slot_facts --------------------------------------------------------------------------------------


def _policy(location) -> ReminderPolicy | None:
    try:
        return location.reminder_policy
    except ReminderPolicy.DoesNotExist:
        return None


def slot_facts_checked(django_assert_num_queries, *, course, chair, hour: int = 9,
                       exclude_session_id: int | None = None) -> fast_reads.SlotFacts:
    """The statement's facts of booking ``course`` on ``chair`` on Tuesday at ``hour``, once they are checked
    to be its ORM twin's, field by field."""
    start = local(chair.location, TUESDAY, hour)
    slot = {"course": course, "chair": chair, "start": start, "local_day": TUESDAY,
            "occupied_until": start + timedelta(minutes=course.protocol.chair_minutes + 15),
            "exclude_session_id": exclude_session_id}
    read = fast_reads.slot_facts_by_orm(**slot)
    with django_assert_num_queries(1):
        built = fast_reads.slot_facts(**slot)
    assert_same_row(built.location, read.location)
    with django_assert_num_queries(0):
        policy = _policy(built.location)
    if policy is None:
        assert _policy(read.location) is None
    else:
        assert_same_row(policy, read.location.reminder_policy)
    assert built.calendar == read.calendar
    assert ((built.chair_taken, built.patient_taken, built.day_taken)
            == (read.chair_taken, read.patient_taken, read.day_taken))
    return built


def test_a_free_slot_at_a_site_without_a_reminder_policy(esk_course, chair, closure, django_assert_num_queries):
    # when
    facts = slot_facts_checked(django_assert_num_queries, course=esk_course, chair=chair)
    # then
    assert _policy(facts.location) is None
    assert facts.calendar.closures == {closure.date} and set(facts.calendar.hours) == {0, 1, 2, 3, 4, 5}
    assert (facts.chair_taken, facts.patient_taken, facts.day_taken) == (False, False, False)


def test_a_site_with_its_reminder_policy_and_closures(esk_course, site, chair, django_assert_num_queries):
    # given a policy and two closures
    ReminderPolicy.objects.create(location=site, daily_cap=2)
    Closure.objects.create(location=site, date=date(2026, 12, 25), reason="Christmas")
    Closure.objects.create(location=site, date=date(2026, 7, 3), reason="Independence Day (observed)")
    # when
    facts = slot_facts_checked(django_assert_num_queries, course=esk_course, chair=chair)
    # then
    assert _policy(facts.location).daily_cap == 2
    assert facts.calendar.closures == {date(2026, 12, 25), date(2026, 7, 3)}


def test_the_chair_is_taken_by_another_patients_overlapping_session(
        esk_course, chair, session_on, django_assert_num_queries):
    # given another patient on the chair from 10:00, inside 09:00-11:45
    session_on(esketamine_course(start_date=TUESDAY), TUESDAY, hour=10)
    # when
    facts = slot_facts_checked(django_assert_num_queries, course=esk_course, chair=chair)
    # then
    assert (facts.chair_taken, facts.patient_taken, facts.day_taken) == (True, False, False)


def test_the_patient_is_taken_on_another_chair_and_the_course_day_by_a_later_session(
        esk_course, chair, chair2, iv_chair, session_on, django_assert_num_queries):
    # given the patient's infusion course at 10:00 on another chair, and this course's session at 15:00
    infusion = TreatmentCourseFactory(patient=esk_course.patient, protocol=Protocol.objects.get(
        slug="ketamine-iv-series"), start_date=TUESDAY)
    session_on(infusion, TUESDAY, hour=10, on=iv_chair)
    session_on(esk_course, TUESDAY, hour=15, on=chair2)
    # when
    facts = slot_facts_checked(django_assert_num_queries, course=esk_course, chair=chair)
    # then
    assert (facts.chair_taken, facts.patient_taken, facts.day_taken) == (False, True, True)


def test_cancelled_and_no_show_sessions_hold_nothing(esk_course, chair, chair2, session_on,
                                                     django_assert_num_queries):
    # given the course's own cancelled session on the chair, and its no-show on another chair, both at 09:00
    session_on(esk_course, TUESDAY, SessionStatus.CANCELLED)
    session_on(esk_course, TUESDAY, SessionStatus.NO_SHOW, on=chair2)
    # when
    facts = slot_facts_checked(django_assert_num_queries, course=esk_course, chair=chair)
    # then
    assert (facts.chair_taken, facts.patient_taken, facts.day_taken) == (False, False, False)


def test_the_session_being_moved_does_not_take_its_own_slot(esk_course, chair, session_on,
                                                            django_assert_num_queries):
    # given the course's session on the chair at 09:00
    moving = session_on(esk_course, TUESDAY)
    # when it is moved an hour later on the same chair, and when another session would be booked there
    moved = slot_facts_checked(django_assert_num_queries, course=esk_course, chair=chair, hour=10,
                               exclude_session_id=moving.pk)
    booked = slot_facts_checked(django_assert_num_queries, course=esk_course, chair=chair, hour=10)
    # then only the move is free
    assert (moved.chair_taken, moved.patient_taken, moved.day_taken) == (False, False, False)
    assert (booked.chair_taken, booked.patient_taken, booked.day_taken) == (True, True, True)


# --- lock_clinicians ---------------------------------------------------------------------------------


@pytest.fixture
def staff(site, other_site, staff_clinician):
    """``site``'s staff: two active clinicians (Ortiz, Kim), an inactive clinician and a front-desk user; and a
    clinician who works only at ``other_site``."""
    kim = UserFactory(username="dr_kim", first_name="Min", last_name="Kim", roles=[CLINICIAN])
    gone = UserFactory(username="dr_gone", roles=[CLINICIAN], is_active=False)
    desk = UserFactory(username="desk_midtown", roles=[FRONT_DESK])
    elsewhere = UserFactory(username="dr_west", roles=[CLINICIAN])
    site.staff.add(kim, gone, desk)
    other_site.staff.add(elsewhere)
    return {"ortiz": staff_clinician, "kim": kim, "gone": gone, "desk": desk, "elsewhere": elsewhere}


@pytest.fixture
def clinician_bookings(now, staff, chair, chair2, iv_chair, session_on):
    """On Tuesday: Ortiz 06:30-09:00 (booked, its turnover to 09:15), 08:00-10:30 (booked), 09:00
    (cancelled) and 14:00 (booked); Kim 10:00 (an infusion, booked); the inactive clinician 11:00 (booked).
    Each for a patient of its own."""
    def course():
        return esketamine_course(start_date=TUESDAY)

    infusion = TreatmentCourseFactory(protocol=Protocol.objects.get(slug="ketamine-iv-series"), start_date=TUESDAY)
    return {
        "ortiz_dawn": session_on(course(), TUESDAY, hour=6, minute=30, clinician=staff["ortiz"]),
        "ortiz_early": session_on(course(), TUESDAY, hour=8, on=chair2, clinician=staff["ortiz"]),
        "ortiz_cancelled": session_on(course(), TUESDAY, SessionStatus.CANCELLED, clinician=staff["ortiz"]),
        "ortiz_afternoon": session_on(course(), TUESDAY, hour=14, clinician=staff["ortiz"]),
        "kim": session_on(infusion, TUESDAY, hour=10, on=iv_chair, clinician=staff["kim"]),
        "gone": session_on(course(), TUESDAY, hour=11, clinician=staff["gone"]),
    }


def locked_checked(django_assert_num_queries, *, site, clinician=None,
                   exclude_session_id: int | None = None) -> fast_reads.LockedClinicians:
    """The statements' clinicians for a session on Tuesday 09:00-11:30 at ``site``, once they are checked to be
    the ORM twin's, column by column."""
    span = {"location": site, "start": local(site, TUESDAY, 9), "end": local(site, TUESDAY, 11, 30),
            "clinician": clinician, "exclude_session_id": exclude_session_id}
    read = fast_reads.lock_clinicians_by_orm(**span)
    with django_assert_num_queries(2 if read.users else 1):
        built = fast_reads.lock_clinicians(**span)
    assert list(built.users) == list(read.users)
    for pk, user in built.users.items():
        assert_same_row(user, read.users[pk])
    assert built.busy == read.busy
    return built


def test_the_sites_active_clinicians_are_locked_with_what_each_has_booked_over_the_session(
        site, staff, clinician_bookings, django_assert_num_queries):
    # when
    locked = locked_checked(django_assert_num_queries, site=site)
    # then the inactive clinician, the desk and the other site's clinician are left out
    ortiz, kim = staff["ortiz"], staff["kim"]
    assert list(locked.users) == sorted([ortiz.pk, kim.pk])
    # and the session that ends as this one starts, the cancelled one and the afternoon one count for nothing
    early, infusion = clinician_bookings["ortiz_early"], clinician_bookings["kim"]
    assert locked.busy == {ortiz.pk: ((early.start, early.end),), kim.pk: ((infusion.start, infusion.end),)}


def test_a_named_clinician_is_locked_alone_even_when_inactive(site, staff, clinician_bookings,
                                                              django_assert_num_queries):
    # when
    locked = locked_checked(django_assert_num_queries, site=site, clinician=staff["gone"])
    # then
    gone = clinician_bookings["gone"]
    assert locked.busy == {staff["gone"].pk: ((gone.start, gone.end),)}


def test_the_session_being_moved_is_not_counted_against_its_clinician(site, staff, clinician_bookings,
                                                                     django_assert_num_queries):
    # when Kim's infusion is the session being moved
    locked = locked_checked(django_assert_num_queries, site=site, clinician=staff["kim"],
                            exclude_session_id=clinician_bookings["kim"].pk)
    # then
    assert locked.busy == {staff["kim"].pk: ()}


def test_a_site_without_clinicians_locks_no_one(other_site, staff, django_assert_num_queries):
    # given other_site, whose only staff member is a clinician, made a front-desk user instead
    staff["elsewhere"].groups.clear()
    # when
    locked = locked_checked(django_assert_num_queries, site=other_site)
    # then
    assert locked.users == {} and locked.busy == {}


def test_a_row_read_before_a_change_is_not_the_row_read_after_it(esk_course):
    # given the patient as the statement read it, then renamed
    built = fast_reads.course_for_booking(esk_course.pk).course.patient
    Patient.objects.filter(pk=built.pk).update(preferred_name="Lex")
    # when / then the comparison every test above relies on sees the one changed column
    with pytest.raises(AssertionError):
        assert_same_row(built, fast_reads.course_for_booking_by_orm(esk_course.pk).course.patient)
