"""Bad dates and times, API and web pages alike: each is a clear 4xx, never a 5xx, never a shifted time.

Dates and times in wrong formats and out of range, and wall-clock times that do not
exist or happen twice (DST). The world is in tests/clinic/bad_input/conftest.py; text,
pages, bodies and numbers are in test_text_pages_and_bodies.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import time_machine

from clinic.roles import CLINICIAN, FRONT_DESK
from patients.models import Patient
from scheduling.booking import services as booking
from scheduling.charting import services as charting
from scheduling.models import Session, WorkItem
from scheduling.worklist import sweep
from tests.clinic.bad_input.conftest import assert_field_error, new_course
from tests.factories import PatientFactory, UserFactory

# Every test here runs at "now", Monday 2 March 2026, 09:00 in New York.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("now")]

TUESDAY = date(2026, 3, 3)
SPRING_FORWARD = date(2026, 3, 8)
FALL_BACK = date(2026, 11, 1)
CHECKLIST = {"fasted_food_2h": True, "fasted_drink_30m": True, "nasal_medicines_ok": True,
             "ride_home_arranged": True}


# --- dates and times --------------------------------------------------------------------------------

BAD_DATETIMES = [
    "03/03/2026 09:00",           # US order
    "3 March 2026 9am",
    "2026-03-03T25:00",           # no such hour
    "2026-03-03T09:61",
    "2026-02-30T09:00",           # no such day
    "2026-03-03T09:00+25:00",     # no such offset
    "2026-03-03T09:00:00 America/New_York",
    "tomorrow",
    "",
    20260303,
    None,
    ["2026-03-03T09:00"],
    {"date": "2026-03-03"},
]


@pytest.mark.parametrize("start", BAD_DATETIMES, ids=repr)
def test_a_booking_time_in_a_wrong_format_is_a_400_naming_start(desk_api, chair, start):
    course = new_course(TUESDAY)
    response = desk_api.post("/api/sessions/", {"course": course.pk, "chair": chair.pk, "start": start},
                             format="json")
    assert_field_error(response, "start")
    assert not Session.objects.exists()


def test_a_booking_time_in_full_width_digits_is_read_as_the_same_time(desk_api, chair):
    """Python reads any Unicode digit; ０９:００ is nine o'clock, booked as such, not misread."""
    course = new_course(TUESDAY)
    response = desk_api.post("/api/sessions/", {"course": course.pk, "chair": chair.pk,
                                                "start": "2026-03-03T０９:００"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["start_local"] == "2026-03-03T09:00:00-05:00"


OUT_OF_RANGE_DATETIMES = [
    "9999-12-31T23:30:00",        # naive: New York time, after the last UTC instant Python has
    "9999-12-31T23:59:59Z",       # the end would pass the year 9999
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00",        # before the first UTC instant
    "0001-01-01T00:00:00+14:00",
    "1969-12-31T23:59:59Z",       # in the past: a refusal, not a crash
]


@pytest.mark.parametrize("start", OUT_OF_RANGE_DATETIMES)
def test_a_booking_time_out_of_range_is_refused_not_a_crash(desk_api, chair, start):
    course = new_course(TUESDAY)
    response = desk_api.post("/api/sessions/", {"course": course.pk, "chair": chair.pk, "start": start},
                             format="json")
    assert response.status_code in (400, 409), response.content[:500]
    assert response.json()["code"] not in ("", "out_of_range"), response.json()
    assert not Session.objects.exists()


@pytest.mark.parametrize("start", ["9999-12-31T23:30:00", "0001-01-01T00:00:00", "3000-01-01T09:00",
                                   "2026-03-08T02:30"])
def test_a_move_or_a_series_out_of_range_or_in_the_dst_gap_is_a_400(desk_api, chair, start):
    session = booking.book_session(by=UserFactory(password=None), course=new_course(TUESDAY), chair=chair,
                                    start=chair.location.at(TUESDAY, time(9)))
    moved = desk_api.post(f"/api/sessions/{session.pk}/reschedule/", {"start": start}, format="json")
    assert_field_error(moved, "start")
    series = desk_api.post("/api/sessions/series/", {"course": new_course(TUESDAY).pk, "chair": chair.pk,
                                                     "first_start": start, "weekdays": [0, 3], "dry_run": True},
                           format="json")
    assert_field_error(series, "first_start")


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "3000-01-01", "1899-12-31"])
def test_a_course_or_a_recorded_session_on_an_extreme_date_is_refused_not_a_crash(desk_api, clinician_api, site,
                                                                                 day):
    patient = PatientFactory()
    started = clinician_api.post("/api/courses/", {"patient": patient.pk, "protocol": "esketamine-trd",
                                                   "start_date": day}, format="json")
    assert started.status_code in (400, 409), started.content[:300]
    assert started.json()["code"] != "out_of_range", started.json()  # refused by a rule, not the safety net
    course = new_course(TUESDAY)
    recorded = clinician_api.post("/api/sessions/history/", {"course": course.pk, "date": day, "location": site.pk},
                                  format="json")
    assert recorded.status_code in (400, 409), recorded.content[:300]
    assert recorded.json()["code"] != "out_of_range", recorded.json()


BAD_DATES = ["17/05/1980", "1980-13-01", "1980-02-30", "1980-5-17x", "", "May 17th", 19800517, True, []]


@pytest.mark.parametrize("value", BAD_DATES, ids=repr)
def test_a_date_of_birth_in_a_wrong_format_is_a_400_naming_it(desk_api, value):
    response = desk_api.post("/api/patients/", {"first_name": "Dana", "last_name": "Reyes", "date_of_birth": value},
                             format="json")
    assert_field_error(response, "date_of_birth")
    assert not Patient.objects.exists()


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "2026-03-03"])
def test_a_date_of_birth_out_of_range_is_a_400_naming_it(desk_api, value):
    response = desk_api.post("/api/patients/", {"first_name": "Dana", "last_name": "Reyes", "date_of_birth": value},
                             format="json")
    if value == "0001-01-01":  # a very old patient is odd, not invalid: stored as sent
        assert response.status_code == 201, response.json()
        assert response.json()["date_of_birth"] == value
    else:
        assert_field_error(response, "date_of_birth")


QUERY_DATES = ["bad", "2026-13-01", "03/03/2026", "9999-12-31", "0001-01-01", "1e9", "\x00", "２０２６-03-03"]


@pytest.mark.parametrize("value", QUERY_DATES, ids=repr)
def test_dates_in_query_parameters_are_read_or_refused_never_a_crash(desk_api, site, value):
    course = new_course(TUESDAY)
    for url, params in [
        (f"/api/locations/{site.pk}/board/", {"date": value}),
        ("/api/sessions/", {"date": value}),
        ("/api/sessions/", {"date_from": value, "date_to": value}),
        ("/api/availability/", {"course": course.pk, "from": value}),
        ("/api/availability/", {"course": course.pk, "to": value}),
    ]:
        response = desk_api.get(url, params)
        assert response.status_code in (200, 400), (url, params, response.status_code, response.content[:300])
        if response.status_code == 400:
            assert response.json()["fields"], (url, response.json())


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-02-30", "2026-3-3"])
def test_the_day_board_page_at_an_impossible_or_extreme_date_is_not_a_crash(client, staff, site, day):
    client.force_login(staff[FRONT_DESK])
    response = client.get(f"/board/{site.pk}/{day}/")
    assert response.status_code in (200, 400, 404), response.status_code


@pytest.mark.parametrize("until", ["9999-12-31", "0001-01-01", "31/12/2026", "", None, 42])
def test_snoozing_a_work_item_until_a_bad_date_is_a_400(desk_api, site, until):
    new_course(TUESDAY)

    sweep.refresh_worklist()
    item = WorkItem.objects.first()
    response = desk_api.post(f"/api/worklist/{item.pk}/snooze/", {"until": until}, format="json")
    assert response.status_code in (200, 400), response.content[:300]
    if until in ("9999-12-31",):
        assert response.status_code == 200  # far, but a real date: snoozed
    else:
        assert_field_error(response, "until")


@pytest.mark.parametrize("field,value", [
    ("taken_at", "9999-12-31T23:59:59Z"), ("taken_at", "0001-01-01T00:00:00Z"), ("taken_at", "noon"),
    ("taken_at", "2026-03-03T09:00:00"),
])
def test_recorded_times_out_of_range_or_malformed_are_a_400(clinician_api, chair, field, value):
    with time_machine.travel(datetime(2026, 3, 3, 14, 0, tzinfo=UTC), tick=False):
        session = booking.book_session(by=UserFactory(password=None), course=new_course(TUESDAY), chair=chair,
                                        start=chair.location.at(TUESDAY, time(9, 15)))
        charting.check_in(by=UserFactory(roles=[CLINICIAN], password=None), session=session, **CHECKLIST)
        response = clinician_api.post(f"/api/sessions/{session.pk}/vitals/",
                                      {"kind": "pre_dose", "systolic": 120, "diastolic": 80, "heart_rate": 70,
                                       "spo2": 98, field: value}, format="json")
    # A naive time is read in the server's zone (UTC): 09:00 UTC is before the 09:00 New York check-in.
    assert_field_error(response, field)


# --- DST: the hour that does not exist, and the hour that happens twice -----------------------------


def test_booking_in_the_spring_forward_gap_is_a_clear_400_not_a_shifted_time(desk_api, chair):
    """02:30 on Sunday 8 March 2026 never happens in New York: refused, never moved to 03:30 or 01:30."""
    course = new_course(SPRING_FORWARD)
    response = desk_api.post("/api/sessions/", {"course": course.pk, "chair": chair.pk,
                                                "start": "2026-03-08T02:30"}, format="json")
    assert_field_error(response, "start")
    assert "2026-03-08 02:30 does not exist in America/New_York" in response.json()["fields"]["start"][0]
    assert not Session.objects.exists()


def test_booking_in_the_spring_forward_gap_on_the_web_page_is_the_same_400(client, staff, chair):
    course = new_course(SPRING_FORWARD)
    client.force_login(staff[FRONT_DESK])
    response = client.post(f"/courses/{course.pk}/book/", {"chair": chair.pk, "start": "2026-03-08T02:30"})
    assert response.status_code == 400
    assert "does not exist in America/New_York" in response.content.decode()
    assert not Session.objects.exists()


def test_an_explicit_offset_names_an_instant_and_is_taken_as_such_even_on_the_gap_day(desk_api, chair):
    """02:30-05:00 is the instant 07:30 UTC, which New York calls 03:30 EDT: that instant is booked."""
    course = new_course(SPRING_FORWARD)
    response = desk_api.post("/api/sessions/", {"course": course.pk, "chair": chair.pk,
                                                "start": "2026-03-08T02:30:00-05:00"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["start"] == "2026-03-08T07:30:00Z"
    assert response.json()["start_local"] == "2026-03-08T03:30:00-04:00"


def test_booking_at_the_repeated_fall_back_hour_takes_the_first_one(desk_api, chair):
    """01:30 on Sunday 1 November 2026 happens twice in New York; without an offset the first (EDT) is booked.

    Documented on the field: a client wanting the second 01:30 sends the offset, -05:00.
    """
    course = new_course(FALL_BACK)
    response = desk_api.post("/api/sessions/", {"course": course.pk, "chair": chair.pk,
                                                "start": "2026-11-01T01:30"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["start"] == "2026-11-01T05:30:00Z"
    assert response.json()["start_local"] == "2026-11-01T01:30:00-04:00"


def test_the_second_fall_back_hour_is_booked_with_its_offset(desk_api, chair):
    course = new_course(FALL_BACK)
    response = desk_api.post("/api/sessions/", {"course": course.pk, "chair": chair.pk,
                                                "start": "2026-11-01T01:30:00-05:00"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["start"] == "2026-11-01T06:30:00Z"
    assert response.json()["start_local"] == "2026-11-01T01:30:00-05:00"


def test_the_fall_back_rule_is_in_the_schema(desk_api):
    schema = desk_api.get("/api/schema/?format=json").json()
    start = schema["components"]["schemas"]["BookSessionRequest"]["properties"]["start"]
    assert "first" in start["description"] and "offset" in start["description"]
