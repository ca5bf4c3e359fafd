"""The day board, who am I, and the clinician's private calendar feed."""

from __future__ import annotations

from datetime import date

import pytest
from icalendar import Calendar

from clinic.roles import CLINICIAN
from scheduling.booking import services as booking
from scheduling.booking.calendar_feed import feed_for
from scheduling.models import CalendarFeed, Session
from tests.factories import ChairFactory, SessionRowFactory, UserFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

TUESDAY = date(2026, 3, 3)
WEDNESDAY = date(2026, 3, 4)
# After the clocks go forward on Sunday 8 March.
NEXT_TUESDAY = date(2026, 3, 10)
# Measured: the location with its hours and closures, the chairs, the sessions with
# patient, course, protocol, clinician, chair and location joined in, and the
# observation state (doses, vital signs, unacknowledged outcome alerts).
BOARD_MAX_QUERIES = 8


def unbooked_sessions(placements) -> list[Session]:
    """Sessions written straight to the table (no booking rules): ``placements`` are (chair, start) pairs."""
    return [SessionRowFactory(chair=chair, start=start) for chair, start in placements]


def board(api, location, day: str):
    return api.get(f"/api/locations/{location.pk}/board/", {"date": day})


# -- the day board ----------------------------------------------------------------------------------


def test_the_board_lists_the_locations_chairs(desk_api, site, chair, chair2, iv_chair, other_site):
    # given a chair at another location
    ChairFactory(location=other_site, name="West 1")
    # when
    response = board(desk_api, site, "2026-03-03")
    # then
    assert response.status_code == 200, response.json()
    assert [row["name"] for row in response.json()["chairs"]] == ["Chair 1", "Chair 2", "Infusion 1"]


def test_the_board_shows_a_session_in_local_time_with_patient_protocol_and_clinician(
        desk_api, front_desk, site, chair, staff_clinician, now, book):
    # given
    session = book(chair, local(site, TUESDAY, 9), by=front_desk)
    # when
    response = board(desk_api, site, "2026-03-03")
    # then
    assert response.status_code == 200, response.json()
    [row] = response.json()["sessions"]
    assert row["id"] == session.pk
    assert (row["start_local"], row["end_local"]) == ("2026-03-03T09:00:00-05:00", "2026-03-03T11:30:00-05:00")
    assert (row["patient_name"], row["patient_mrn"]) == (session.patient.display_name, session.patient.mrn)
    assert (row["protocol"], row["clinician_name"], row["chair_name"], row["status"]) == (
        "esketamine-trd", "Ana Ortiz", "Chair 1", "booked")


def test_the_board_after_the_spring_clock_change_shows_daylight_time(desk_api, front_desk, site, chair, now, book):
    # given
    book(chair, local(site, NEXT_TUESDAY, 9), by=front_desk)
    # when
    response = board(desk_api, site, "2026-03-10")
    # then
    assert response.status_code == 200, response.json()
    assert [row["start_local"] for row in response.json()["sessions"]] == ["2026-03-10T09:00:00-04:00"]


def test_the_board_shows_only_that_locations_local_day(desk_api, site, chair, other_site, now):
    # given
    west = ChairFactory(location=other_site, name="West 1")
    on_the_day, evening_before, next_day = unbooked_sessions([
        (chair, local(site, TUESDAY, 8)),
        (chair, local(site, date(2026, 3, 2), 20)),  # 01:00 UTC on Tuesday, still Monday in New York
        (chair, local(site, WEDNESDAY, 8)),
    ])
    unbooked_sessions([(west, local(other_site, TUESDAY, 10))])
    # when
    response = board(desk_api, site, "2026-03-03")
    # then
    assert response.status_code == 200, response.json()
    assert [row["id"] for row in response.json()["sessions"]] == [on_the_day.pk]


def test_the_board_refuses_a_date_that_is_not_a_date(desk_api, site):
    response = board(desk_api, site, "bad")
    assert response.status_code == 400
    assert "date" in response.json()["fields"]


def test_the_board_keeps_its_query_count_when_sessions_grow_tenfold(
        desk_api, site, staff_clinician, now, django_assert_max_num_queries, django_assert_num_queries):
    # given ten chairs, three sessions on the day with a clinician
    bays = [ChairFactory(location=site, name=f"Bay {n}") for n in range(10)]
    times = [(8, 0), (10, 45), (13, 30)]  # 150 minutes + 15 turnover apart

    def fill(chairs):
        created = unbooked_sessions([(bay, local(site, TUESDAY, *at)) for bay in chairs for at in times])
        Session.objects.filter(pk__in=[s.pk for s in created]).update(clinician=staff_clinician)

    fill(bays[:1])
    board(desk_api, site, "2026-03-03")  # the first request also loads the user's roles
    with django_assert_max_num_queries(BOARD_MAX_QUERIES) as with_three:
        assert len(board(desk_api, site, "2026-03-03").json()["sessions"]) == 3
    # when
    fill(bays[1:])
    # then
    with django_assert_num_queries(len(with_three)):
        response = board(desk_api, site, "2026-03-03")
    assert len(response.json()["sessions"]) == 30


# -- /api/me/ ---------------------------------------------------------------------------------------


def test_me_tells_a_clinician_their_roles_locations_and_calendar_feed(api_as, site, staff_clinician):
    # when
    response = api_as(staff_clinician).get("/api/me/")
    # then
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["name"], body["roles"]) == ("Ana Ortiz", [CLINICIAN])
    assert body["locations"] == [{"id": site.pk, "name": "Midtown", "time_zone": "America/New_York"}]
    token = CalendarFeed.objects.get(user=staff_clinician).token
    assert body["calendar_feed"] == f"http://testserver/ical/clinician/{token}.ics"


def test_the_feed_address_me_gives_works(api_as, client, staff_clinician):
    # given
    address = api_as(staff_clinician).get("/api/me/").json()["calendar_feed"]
    # when
    response = client.get(address)
    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")


def test_me_gives_front_desk_no_calendar_feed(desk_api, front_desk, site):
    # given
    site.staff.add(front_desk)
    # when
    response = desk_api.get("/api/me/")
    # then
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["roles"], body["calendar_feed"]) == (["front_desk"], None)
    assert [row["name"] for row in body["locations"]] == ["Midtown"]
    assert not CalendarFeed.objects.filter(user=front_desk).exists()


# -- the calendar feed ------------------------------------------------------------------------------


@pytest.fixture
def clinicians_sessions(site, chair, iv_chair, staff_clinician, front_desk, named_patient, now, book):
    """Two standing sessions of the clinician for one patient, a cancelled one, and another clinician's."""
    esketamine = book(chair, local(site, TUESDAY, 9), by=front_desk, patient=named_patient)
    infusion = book(iv_chair, local(site, WEDNESDAY, 13), by=front_desk, patient=named_patient,
                    slug="ketamine-iv-series")
    cancelled = book(chair, local(site, NEXT_TUESDAY, 9), by=front_desk)
    booking.cancel_session(by=front_desk, session=cancelled, reason="Patient travelling")
    colleague = UserFactory(username="dr_lee", roles=[CLINICIAN])
    book(chair, local(site, WEDNESDAY, 9), by=front_desk, clinician=colleague)
    assert {esketamine.clinician, infusion.clinician} == {staff_clinician}
    return [esketamine, infusion]


def ical(client, user):
    return client.get(f"/ical/clinician/{feed_for(user).token}.ics")


def unfolded(content: bytes) -> bytes:
    """iCalendar folds lines at 75 octets; unfold so a split word cannot hide from a search."""
    return content.replace(b"\r\n ", b"").replace(b"\r\n\t", b"")


def test_the_feed_parses_with_one_event_per_standing_session_of_the_clinician(
        client, staff_clinician, clinicians_sessions):
    # when
    response = ical(client, staff_clinician)
    # then
    assert response.status_code == 200
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert sorted(str(event["uid"]) for event in events) == sorted(
        f"session-{session.pk}@clinic" for session in clinicians_sessions)
    by_uid = {str(event["uid"]): event for event in events}
    for session in clinicians_sessions:
        event = by_uid[f"session-{session.pk}@clinic"]
        assert (event.decoded("dtstart"), event.decoded("dtend")) == (session.start, session.end)


def test_the_feed_names_the_patient_by_initials_and_mrn(client, staff_clinician, clinicians_sessions):
    # when
    events = Calendar.from_ical(ical(client, staff_clinician).content).walk("VEVENT")
    # then
    assert {str(event["summary"]) for event in events} == {"Session: MO M004711"}


@pytest.mark.parametrize("word", ["Marguerite", "Okonkwo", "ketamine", "esketamine", "Spravato", "depress"])
def test_the_feed_carries_no_patient_name_drug_or_diagnosis(client, staff_clinician, clinicians_sessions, word):
    # when
    content = unfolded(ical(client, staff_clinician).content)
    # then
    assert b"M004711" in content
    assert word.lower().encode() not in content.lower()


def test_a_wrong_token_is_not_found(client, staff_clinician, clinicians_sessions):
    # given
    feed_for(staff_clinician)
    # when
    response = client.get(f"/ical/clinician/{CalendarFeed.new_token()}.ics")
    # then
    assert response.status_code == 404
    assert b"BEGIN:VCALENDAR" not in response.content


def test_the_feed_of_a_deactivated_clinician_is_not_found(client, staff_clinician):
    # given
    token = feed_for(staff_clinician).token
    staff_clinician.is_active = False
    staff_clinician.save()
    # when
    response = client.get(f"/ical/clinician/{token}.ics")
    # then
    assert response.status_code == 404


def test_rotating_the_token_retires_the_old_address(api_as, client, staff_clinician):
    # given
    old_address = api_as(staff_clinician).get("/api/me/").json()["calendar_feed"]
    assert client.get(old_address).status_code == 200
    # when
    response = api_as(staff_clinician).post("/api/me/calendar-token/")
    # then
    assert response.status_code == 200, response.json()
    assert client.get(old_address).status_code == 404


def test_rotating_the_token_gives_a_new_address_that_works(api_as, client, staff_clinician):
    # given
    old_address = api_as(staff_clinician).get("/api/me/").json()["calendar_feed"]
    # when
    new_address = api_as(staff_clinician).post("/api/me/calendar-token/").json()["calendar_feed"]
    # then
    assert new_address != old_address
    assert client.get(new_address).status_code == 200
    assert api_as(staff_clinician).get("/api/me/").json()["calendar_feed"] == new_address


def test_front_desk_cannot_rotate_a_calendar_token(desk_api, front_desk):
    response = desk_api.post("/api/me/calendar-token/")
    assert response.status_code == 403
    assert not CalendarFeed.objects.filter(user=front_desk).exists()
