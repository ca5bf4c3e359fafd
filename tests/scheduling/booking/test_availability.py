"""Finding free slots: inside the due window, target day first, with every rule booking applies."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from patients.models import Patient
from scheduling.booking import services as booking
from scheduling.booking.availability import find_slots
from scheduling.models import Session, SessionStatus
from tests.factories import ChairFactory, SessionRowFactory, TreatmentCourseFactory, standard_protocol
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 3, 2)
TUESDAY = date(2026, 3, 3)
WEDNESDAY = date(2026, 3, 4)
THURSDAY = date(2026, 3, 5)
FRIDAY = date(2026, 3, 6)
SATURDAY = date(2026, 3, 7)
ESKETAMINE_CHAIR_TIME = timedelta(minutes=150)
# Measured: the course, its session dates, the protocol's phases, the locations with their hours
# and closures, the chairs, the sites' clinicians, the busy sessions.
AVAILABILITY_MAX_QUERIES = 7


def local_starts(slots, site, day: date | None = None) -> list[time]:
    return [site.local(slot.start).time() for slot in slots
            if day is None or site.local_date(slot.start) == day]


def days_in_order(slots, site) -> list[date]:
    """The distinct local days of ``slots`` in the order the search offers them."""
    days: list[date] = []
    for slot in slots:
        day = site.local_date(slot.start)
        if day not in days:
            days.append(day)
    return days


# -- due window and order ---------------------------------------------------------------------------


def test_every_slot_lies_in_the_courses_due_window(esk_course, site, chair):
    # given session 1 is due 3-10 March, and today (2 March) still has free hours
    # when
    slots = find_slots(course=esk_course, limit=200)
    # then
    assert slots
    assert {site.local_date(slot.start) for slot in slots} <= {TUESDAY + timedelta(days=n) for n in range(8)}
    assert all(slot.within_due_window for slot in slots)


def test_the_first_slot_is_on_the_target_day_at_opening(esk_course, site, chair):
    slots = find_slots(course=esk_course, limit=1)
    assert [site.local(slot.start) for slot in slots] == [local(site, TUESDAY, 8)]


def test_the_target_day_comes_first_then_the_days_nearest_it(esk_course, site, chair, front_desk):
    # given session 1 booked on Tuesday: session 2 is due Thu 5 - Sun 8, target Fri 6 (Sunday closed)
    booking.book_session(by=front_desk, course=esk_course, chair=chair, start=local(site, TUESDAY, 9))
    # when
    slots = find_slots(course=esk_course, limit=200)
    # then
    assert days_in_order(slots, site) == [FRIDAY, THURSDAY, SATURDAY]


def test_a_slot_outside_the_due_window_is_flagged(esk_course, site, chair):
    # given a search after the window closes on 10 March
    day = date(2026, 3, 12)
    # when
    slots = find_slots(course=esk_course, date_from=day, date_to=day)
    # then
    assert slots
    assert not any(slot.within_due_window for slot in slots)


def test_a_slot_ends_by_closing_time(esk_course, site, chair):
    slots = find_slots(course=esk_course, date_from=TUESDAY, date_to=TUESDAY, limit=200)
    assert max(local_starts(slots, site)) == time(15, 30)
    assert all(slot.end - slot.start == ESKETAMINE_CHAIR_TIME for slot in slots)


# -- turnover ---------------------------------------------------------------------------------------


def test_a_slot_starting_inside_the_turnover_after_another_session_is_not_offered(
        esk_course, site, chair, front_desk, book):
    # given another patient on the chair 08:00-10:30, turnover to 10:45
    book(chair, local(site, TUESDAY, 8), by=front_desk)
    # when
    slots = find_slots(course=esk_course, date_from=TUESDAY, date_to=TUESDAY, limit=200)
    # then
    starts = local_starts(slots, site, TUESDAY)
    assert time(10, 30) not in starts
    assert time(10, 15) not in starts


def test_the_first_slot_after_another_session_starts_when_its_turnover_ends(esk_course, site, chair, front_desk, book):
    # given another patient on the chair 08:00-10:30, turnover to 10:45
    book(chair, local(site, TUESDAY, 8), by=front_desk)
    # when
    slots = find_slots(course=esk_course, date_from=TUESDAY, date_to=TUESDAY, limit=1)
    # then
    assert local_starts(slots, site) == [time(10, 45)]


def test_a_slot_whose_turnover_would_run_into_the_next_session_is_not_offered(
        esk_course, site, chair, front_desk, book):
    # given another patient on the chair from 14:00; a slot at 11:15 ends 13:45 and is clean by 14:00
    book(chair, local(site, TUESDAY, 14), by=front_desk)
    # when
    slots = find_slots(course=esk_course, date_from=TUESDAY, date_to=TUESDAY, limit=200)
    # then
    starts = local_starts(slots, site, TUESDAY)
    assert time(11, 15) in starts
    assert time(11, 30) not in starts


def test_a_cancelled_session_does_not_hold_its_chair(esk_course, site, chair, front_desk, book):
    # given
    session = book(chair, local(site, TUESDAY, 8), by=front_desk)
    booking.cancel_session(by=front_desk, session=session, reason="Patient unwell")
    # when
    slots = find_slots(course=esk_course, date_from=TUESDAY, date_to=TUESDAY, limit=1)
    # then
    assert local_starts(slots, site) == [time(8)]


def test_no_slot_overlaps_the_patients_own_session_on_another_modality(esk_course, site, chair, iv_chair,
                                                                       front_desk, book):
    # given the same patient has an IV infusion on Tuesday 08:00-09:30 (+15 turnover)
    book(iv_chair, local(site, TUESDAY, 8), by=front_desk, patient=esk_course.patient, slug="ketamine-iv-series")
    # when
    slots = find_slots(course=esk_course, date_from=TUESDAY, date_to=TUESDAY, limit=1)
    # then
    assert local_starts(slots, site) == [time(9, 45)]


def test_no_slot_is_offered_on_a_day_the_course_already_has_a_session(esk_course, site, chair, front_desk, book):
    # given session 1 on Tuesday morning
    book(chair, local(site, TUESDAY, 8), by=front_desk, course=esk_course)
    # when
    slots = find_slots(course=esk_course, date_from=TUESDAY, date_to=THURSDAY, limit=200)
    # then
    assert {site.local_date(slot.start) for slot in slots} == {WEDNESDAY, THURSDAY}


# -- closures, modality, REMS -----------------------------------------------------------------------


def test_no_slot_is_offered_on_a_closure_day(esk_course, site, chair, closure):
    # when
    slots = find_slots(course=esk_course, date_from=TUESDAY, date_to=THURSDAY, limit=200)
    # then
    assert closure.date == WEDNESDAY
    assert {site.local_date(slot.start) for slot in slots} == {TUESDAY, THURSDAY}


def test_an_iv_course_is_offered_only_chairs_with_an_infusion_pump(iv_course, site, chair, chair2, iv_chair):
    # given Chair 1 serves esketamine only; Chair 2 and Infusion 1 have pumps
    # when
    slots = find_slots(course=iv_course, date_from=TUESDAY, date_to=TUESDAY, limit=200)
    # then
    assert {slot.chair for slot in slots} == {chair2, iv_chair}


def test_an_esketamine_course_is_offered_only_chairs_that_serve_esketamine(esk_course, site, chair, iv_chair):
    slots = find_slots(course=esk_course, date_from=TUESDAY, date_to=TUESDAY, limit=200)
    assert {slot.chair for slot in slots} == {chair}


def test_esketamine_is_never_offered_at_a_site_that_is_not_rems_certified(esk_course, site, chair, other_site):
    # given an esketamine chair at the uncertified Westside site too
    ChairFactory(location=other_site, name="West 1", serves_esketamine=True)
    # when
    slots = find_slots(course=esk_course, date_from=TUESDAY, date_to=TUESDAY, limit=200)
    # then
    assert slots
    assert {slot.chair.location for slot in slots} == {site}


def test_asking_for_an_uncertified_site_by_name_offers_no_esketamine_slot(esk_course, other_site):
    # given
    ChairFactory(location=other_site, name="West 1", serves_esketamine=True)
    # when
    slots = find_slots(course=esk_course, location=other_site, date_from=TUESDAY, date_to=TUESDAY)
    # then
    assert slots == []


def test_iv_ketamine_is_offered_at_a_site_that_is_not_rems_certified(iv_course, other_site):
    # given
    pump = ChairFactory(location=other_site, name="West IV", serves_esketamine=False, has_infusion_pump=True)
    # when
    slots = find_slots(course=iv_course, location=other_site, date_from=TUESDAY, date_to=TUESDAY, limit=1)
    # then
    assert [(slot.chair, other_site.local(slot.start).time()) for slot in slots] == [(pump, time(9))]


def test_an_inactive_chair_is_not_offered(esk_course, site, chair, chair2):
    # given
    chair.active = False
    chair.save()
    # when
    slots = find_slots(course=esk_course, date_from=TUESDAY, date_to=TUESDAY, limit=200)
    # then
    assert {slot.chair for slot in slots} == {chair2}


# -- clinician capacity -----------------------------------------------------------------------------


def test_no_slot_while_the_only_clinician_has_no_room(esk_course, site, chair, chair2, staff_clinician, front_desk,
                                                      book):
    # given one patient per clinician, and the only clinician treats someone 10:00-12:30 on Chair 2
    site.max_in_treatment_per_clinician = 1
    site.save()
    book(chair2, local(site, TUESDAY, 10), by=front_desk)
    # when
    slots = find_slots(course=esk_course, date_from=TUESDAY, date_to=TUESDAY, limit=200)
    # then Chair 1 is free all day, but not a slot overlaps 10:00-12:30
    starts = local_starts(slots, site, TUESDAY)
    assert time(10) not in starts
    assert time(8) not in starts  # 08:00-10:30 overlaps the other treatment
    assert min(starts) == time(12, 30)


def test_a_slot_is_offered_with_the_clinician_while_they_have_room(esk_course, site, chair, chair2,
                                                                   staff_clinician, front_desk, book):
    # given two patients per clinician, and the only clinician treats someone 10:00-12:30 on Chair 2
    site.max_in_treatment_per_clinician = 2
    site.save()
    book(chair2, local(site, TUESDAY, 10), by=front_desk)
    # when
    slots = find_slots(course=esk_course, date_from=TUESDAY, date_to=TUESDAY, limit=200)
    # then
    at_ten = [slot for slot in slots if site.local(slot.start).time() == time(10)]
    assert [(slot.chair, slot.clinician) for slot in at_ten] == [(chair, staff_clinician)]


# -- the past and the limit -------------------------------------------------------------------------


def test_no_slot_is_offered_in_the_past(site, chair, now):
    # given a course due from today; it is 09:00 in New York
    course = TreatmentCourseFactory(protocol=standard_protocol("esketamine-trd"), start_date=MONDAY)
    # when
    slots = find_slots(course=course, date_from=MONDAY, date_to=MONDAY, limit=200)
    # then
    assert slots
    assert min(slot.start for slot in slots) == now
    assert min(local_starts(slots, site)) == time(9)


def test_the_search_returns_at_most_limit_slots(esk_course, site, chair, chair2):
    slots = find_slots(course=esk_course, limit=3)
    assert len(slots) == 3


def test_every_slot_offered_on_a_busy_day_can_be_booked(esk_course, site, chair, chair2, staff_clinician,
                                                         front_desk, book):
    # given one patient per clinician, and other patients on both chairs through the day
    site.max_in_treatment_per_clinician = 1
    site.save()
    book(chair, local(site, TUESDAY, 8), by=front_desk)
    book(chair2, local(site, TUESDAY, 13), by=front_desk, slug="ketamine-iv-series")
    slots = find_slots(course=esk_course, date_from=TUESDAY, date_to=TUESDAY, limit=200)
    assert slots
    for slot in slots:
        # when
        session = booking.book_session(by=front_desk, course=esk_course, chair=slot.chair, start=slot.start)
        # then
        assert (session.chair, session.clinician) == (slot.chair, slot.clinician)
        session.delete()


@pytest.mark.parametrize("stop", ["pause", "discontinue", "archive_patient"])
def test_a_course_that_cannot_be_booked_is_offered_no_slot(esk_course, site, chair, front_desk, now, stop):
    # given booking refuses the course (course_not_active or patient_archived)
    if stop == "pause":
        esk_course.pause()
    elif stop == "discontinue":
        esk_course.discontinue(by=front_desk, reason="Moved away")
    else:  # archive_patient
        Patient.objects.filter(pk=esk_course.patient_id).update(archived_at=now)
        esk_course.patient.refresh_from_db()
    esk_course.save()
    # when
    slots = find_slots(course=esk_course)
    # then every slot offered would be refused, so none is
    assert slots == []


# -- the API ----------------------------------------------------------------------------------------


def availability(api, course, params=None):
    return api.get("/api/availability/", {"course": course.pk, **(params or {})})


def test_the_api_returns_each_slot_with_chair_clinician_and_window_flag(desk_api, esk_course, site, chair,
                                                                        staff_clinician):
    # when
    response = availability(desk_api, esk_course, {"from": "2026-03-03", "to": "2026-03-10", "limit": 1})
    # then
    assert response.status_code == 200, response.json()
    [slot] = response.json()
    assert {"start", "end", "chair", "clinician", "within_due_window"} <= set(slot)
    start = local(site, TUESDAY, 8)
    assert datetime.fromisoformat(slot["start"]) == start
    assert datetime.fromisoformat(slot["end"]) == start + ESKETAMINE_CHAIR_TIME
    assert (slot["chair"], slot["clinician"], slot["within_due_window"]) == (chair.pk, staff_clinician.pk, True)


def test_the_api_honours_from_to_and_limit(desk_api, esk_course, site, chair, chair2):
    # when
    response = availability(desk_api, esk_course, {"from": "2026-03-12", "to": "2026-03-13", "limit": 5})
    # then
    assert response.status_code == 200, response.json()
    slots = response.json()
    assert len(slots) == 5
    assert {site.local_date(datetime.fromisoformat(slot["start"])) for slot in slots} <= {
        date(2026, 3, 12), date(2026, 3, 13)}
    assert not any(slot["within_due_window"] for slot in slots)


def test_the_api_refuses_a_from_that_is_not_a_date_naming_from(desk_api, esk_course):
    response = availability(desk_api, esk_course, {"from": "next tuesday"})
    assert response.status_code == 400
    # The client sent "from": the error must name the parameter it knows.
    assert "from" in response.json()["fields"]


def test_the_api_refuses_a_to_that_is_not_a_date(desk_api, esk_course):
    response = availability(desk_api, esk_course, {"to": "2026-02-30"})
    assert response.status_code == 400
    assert "to" in response.json()["fields"]


def test_the_api_refuses_from_after_to(desk_api, esk_course):
    response = availability(desk_api, esk_course, {"from": "2026-03-10", "to": "2026-03-03"})
    assert response.status_code == 400
    assert "to" in response.json()["fields"]


def test_the_api_needs_a_course(desk_api):
    response = desk_api.get("/api/availability/")
    assert response.status_code == 400
    assert "course" in response.json()["fields"]


# -- query count ------------------------------------------------------------------------------------


def fill_other_chairs(site, bays, courses, days) -> None:
    """Write one 08:00 session per course per day, course i on bay i: no chair or patient overlaps."""
    for day in days:
        for bay, course in zip(bays, courses, strict=True):
            SessionRowFactory(course=course, chair=bay, start=local(site, day, 8), status=SessionStatus.BOOKED)


def test_availability_keeps_its_query_count_when_sessions_grow_tenfold(
        desk_api, esk_course, site, chair, staff_clinician, django_assert_max_num_queries,
        django_assert_num_queries):
    # given ten other patients, each with a session on their own bay on the first day of the search
    bays = [ChairFactory(location=site, name=f"Bay {n}") for n in range(10)]
    courses = TreatmentCourseFactory.create_batch(len(bays), protocol=standard_protocol("esketamine-trd"),
                                                  start_date=TUESDAY)
    fill_other_chairs(site, bays, courses, [TUESDAY])
    query = {"from": "2026-03-03", "to": "2026-03-12", "limit": 50}
    availability(desk_api, esk_course, query)  # the first request also loads the user's roles
    with django_assert_max_num_queries(AVAILABILITY_MAX_QUERIES) as with_ten:
        assert availability(desk_api, esk_course, query).status_code == 200
    # when the same patients have sessions on nine more days of the search
    fill_other_chairs(site, bays, courses, [TUESDAY + timedelta(days=n) for n in range(1, 10)])
    assert Session.objects.count() == 100
    # then
    with django_assert_num_queries(len(with_ten)):
        assert availability(desk_api, esk_course, query).status_code == 200
