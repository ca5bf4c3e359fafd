"""The front desk's web pages: who may open them, and the day board.

"Now" is Monday 2 March 2026, 09:00 in New York (tests/conftest.py). ``esk_course`` starts
Tuesday 3 March, so session 1 is due 3-10 March, target the 3rd. ``desk`` is the front desk's
browser, ``nurse`` a clinician's (tests/scheduling/pages/conftest.py).
The session panel and the patient page are in test_session_and_patient_pages.py, booking and
starting a course in test_booking_pages.py, the worklist in test_worklist_page.py.
"""

from __future__ import annotations

from datetime import date, time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER
from scheduling.booking import services as booking
from tests.factories import (
    UserFactory,
)
from tests.scheduling.conftest import TUESDAY, local

pytestmark = pytest.mark.django_db


MONDAY = date(2026, 3, 2)
WEDNESDAY = date(2026, 3, 4)
HTMX = {"HTTP_HX_REQUEST": "true"}
# Measured: the session and user of the request, the user's roles, the location with its hours and
# closures, the chairs, the sessions with everything a block shows, their observation state
# (doses, vitals, alerts), the day's freed-time offers (one grouped query), the location switcher, and
# saving the session (in a savepoint).
BOARD_MAX_QUERIES = 16


def page_urls(site, session, course) -> list[str]:
    return [
        f"/board/{site.pk}/2026-03-03/",
        f"/board/{site.pk}/2026-03-03/body/",
        f"/sessions/{session.pk}/",
        f"/patients/{course.patient_id}/",
        f"/patients/{course.patient_id}/start-course/",
        f"/courses/{course.pk}/book/",
        f"/courses/{course.pk}/book-phase/",
        "/worklist/",
        "/worklist/count/",
    ]


# -- who may open the pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", [FRONT_DESK, CLINICIAN, MANAGER])
def test_every_page_renders_for_each_clinic_role(client, now, site, chair, esk_course, front_desk, role, book):
    # given
    session = book(chair, local(site, TUESDAY, 12), by=front_desk)
    client.force_login(UserFactory(roles=[role]))
    # when
    responses = {url: client.get(url) for url in page_urls(site, session, esk_course)}
    # then
    assert {url: response.status_code for url, response in responses.items()} == {url: 200 for url in responses}


def test_every_page_sends_an_anonymous_visitor_to_the_login_page(client, now, site, chair, esk_course, front_desk,
                                                                 book):
    # given
    session = book(chair, local(site, TUESDAY, 12), by=front_desk)
    # when
    responses = [client.get(url) for url in page_urls(site, session, esk_course)]
    # then
    assert {(response.status_code, response["Location"].split("?")[0]) for response in responses} == {
        (302, "/login/")}


def test_a_user_without_a_clinic_role_is_refused(client, now, site, chair, esk_course, front_desk, no_role_user, book):
    # given
    session = book(chair, local(site, TUESDAY, 12), by=front_desk)
    client.force_login(no_role_user)
    # when
    statuses = {client.get(url).status_code for url in page_urls(site, session, esk_course)}
    # then
    assert statuses == {403}


def test_the_front_desk_lands_on_todays_board_of_their_first_location(desk, now, site, other_site, front_desk):
    # given
    site.staff.add(front_desk)
    # when
    response = desk.get("/", follow=True)
    # then
    assert response.redirect_chain[-1][0] == f"/board/{site.pk}/2026-03-02/"
    assert response.status_code == 200


def test_a_clinician_lands_on_their_schedule(nurse, now):
    # Issue 8: "My schedule" is the clinicians' landing page (it was the patient list before it existed).
    response = nurse.get("/")
    assert response["Location"] == "/schedule/"


# -- the day board ------------------------------------------------------------------------------------


def test_the_board_shows_the_days_sessions_in_local_time(desk, now, site, chair, front_desk, book):
    # given
    session = book(chair, local(site, TUESDAY, 9), by=front_desk)
    # when
    response = desk.get(f"/board/{site.pk}/2026-03-03/")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert session.patient.display_name in html
    assert "09:00–11:30" in html
    assert 'data-start="2026-03-03T09:00"' in html
    assert "esketamine-trd" in html


def test_the_board_shows_only_that_days_sessions(desk, now, site, chair, front_desk, book):
    # given
    tuesday = book(chair, local(site, TUESDAY, 9), by=front_desk)
    wednesday = book(chair, local(site, WEDNESDAY, 9), by=front_desk)
    # when
    html = desk.get(f"/board/{site.pk}/2026-03-03/").content.decode()
    # then
    assert tuesday.patient.display_name in html
    assert wednesday.patient.display_name not in html


def test_an_evening_session_is_on_its_new_york_day_not_its_utc_day(desk, now, site, chair, front_desk, book):
    # given: 19:30 on Tuesday in New York is 00:30 on Wednesday in UTC
    site.hours.update(closes=time(23))
    session = book(chair, local(site, TUESDAY, 19, 30), by=front_desk)
    # when
    tuesday = desk.get(f"/board/{site.pk}/2026-03-03/").content.decode()
    wednesday = desk.get(f"/board/{site.pk}/2026-03-04/").content.decode()
    # then
    assert f'data-session-id="{session.pk}"' in tuesday
    assert f'data-session-id="{session.pk}"' not in wednesday


def test_a_block_starts_at_its_row_and_spans_its_chair_time_and_turnover(desk, now, site, chair, front_desk, book):
    # given: the grid starts at opening, 08:00, in 5-minute rows below the chair names (row 1)
    session = book(chair, local(site, TUESDAY, 9, 15), by=front_desk)
    # when
    html = desk.get(f"/board/{site.pk}/2026-03-03/").content.decode()
    # then: 09:15 is 15 rows below 08:00; 150 minutes in the chair + 15 of turnover are 33 rows
    assert f'data-session-id="{session.pk}"' in html
    assert "grid-column: 2; grid-row: 17 / span 33;" in html
    assert '<span class="session-main" style="flex: 150;">' in html
    assert '<span class="turnover" style="flex: 15;"' in html


def test_the_board_draws_a_line_at_the_current_time_today_only(desk, now, site, chair):
    # when
    today = desk.get(f"/board/{site.pk}/2026-03-02/").content.decode()
    tomorrow = desk.get(f"/board/{site.pk}/2026-03-03/").content.decode()
    # then
    assert 'data-testid="board-now-line"' in today
    assert 'aria-label="Now, 09:00"' in today
    assert 'data-testid="board-now-line"' not in tomorrow


def test_the_board_says_when_the_location_is_closed(desk, now, site, closure, chair):
    # when
    closed = desk.get(f"/board/{site.pk}/2026-03-04/").content.decode()
    sunday = desk.get(f"/board/{site.pk}/2026-03-08/").content.decode()
    # then
    assert "Midtown is closed on Wednesday, March 4</strong>: Staff training." in closed
    assert "Midtown is closed on Sundays." in sunday


def test_the_board_body_polls_itself_every_20_seconds(desk, now, site, chair):
    # when
    full = desk.get(f"/board/{site.pk}/2026-03-03/").content.decode()
    body = desk.get(f"/board/{site.pk}/2026-03-03/body/", **HTMX).content.decode()
    # then
    assert f'hx-get="/board/{site.pk}/2026-03-03/body/" hx-trigger="every 20s, board-changed from:body"' in full
    assert body.lstrip().startswith('<section id="board-body"')
    assert "<html" not in body


def test_a_booking_made_at_another_desk_shows_on_the_next_refresh(desk, now, site, chair, desk_user, book):
    # given
    before = desk.get(f"/board/{site.pk}/2026-03-03/body/", **HTMX).content.decode()
    # when
    session = book(chair, local(site, TUESDAY, 13), by=desk_user)
    after = desk.get(f"/board/{site.pk}/2026-03-03/body/", **HTMX).content.decode()
    # then
    assert session.patient.display_name not in before
    assert session.patient.display_name in after


def test_cancelled_sessions_leave_the_grid_and_are_listed_below_it(desk, now, site, chair, front_desk, book):
    # given
    session = book(chair, local(site, TUESDAY, 9), by=front_desk)
    booking.cancel_session(by=front_desk, session=session, reason="Flu")
    # when
    html = desk.get(f"/board/{site.pk}/2026-03-03/").content.decode()
    # then
    assert 'data-testid="board-session"' not in html
    assert 'data-testid="board-released-session"' in html
    assert "Cancelled: Flu" in html


def test_the_date_picker_and_location_switcher_open_the_chosen_board(desk, now, site, other_site):
    response = desk.get(f"/board/{site.pk}/", {"date": "2026-03-05", "location": other_site.pk})
    assert response["Location"] == f"/board/{other_site.pk}/2026-03-05/"


def test_an_impossible_date_on_the_board_is_not_found(desk, now, site):
    assert desk.get(f"/board/{site.pk}/2026-02-30/").status_code == 404


def test_the_board_needs_the_same_number_of_queries_for_one_or_many_sessions(
        desk, now, site, chair, chair2, iv_chair, front_desk, staff_clinician, django_assert_max_num_queries, book):
    # given
    url = f"/board/{site.pk}/2026-03-03/"
    book(chair, local(site, TUESDAY, 8), by=front_desk)
    with CaptureQueriesContext(connection) as one:
        desk.get(url)
    for start_hour in (10, 13):
        book(chair, local(site, TUESDAY, start_hour, 45 if start_hour == 10 else 30), by=front_desk)
    for start_hour in (8, 11, 14):
        book(chair2, local(site, TUESDAY, start_hour), by=front_desk)
    # when
    with django_assert_max_num_queries(BOARD_MAX_QUERIES):
        response = desk.get(url)
    with CaptureQueriesContext(connection) as many:
        desk.get(url)
    # then
    assert response.content.decode().count('data-testid="board-session"') == 6
    assert len(many) == len(one)
