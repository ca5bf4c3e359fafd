"""The front desk's web pages: the day board, the session panel, the patient page, booking, the worklist.

"Now" is Monday 2 March 2026, 09:00 in New York (see conftest). ``esk_course``
starts Tuesday 3 March, so session 1 is due 3-10 March, target the 3rd.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER
from patients.models import PatientAccess
from protocols.models import Protocol, TreatmentCourse
from scheduling.booking import services as booking
from scheduling.models import (
    Direction,
    MessagePurpose,
    Session,
    SessionStatus,
    TextMessage,
    WorkItem,
    WorkKind,
)
from tests.factories import PatientFactory, TreatmentCourseFactory, UserFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 3, 2)
TUESDAY = date(2026, 3, 3)
WEDNESDAY = date(2026, 3, 4)
HTMX = {"HTTP_HX_REQUEST": "true"}
MONDAY_THURSDAY = ["0", "3"]
# Measured: the session and user of the request, the user's roles, the location with its hours and
# closures, the chairs, the sessions with everything a block shows, their observation state
# (doses, vitals, alerts), the location switcher, and saving the session (in a savepoint).
BOARD_MAX_QUERIES = 15


def new_course(start_date: date, *, slug="esketamine-trd", patient=None) -> TreatmentCourse:
    return TreatmentCourseFactory(patient=patient or PatientFactory(), protocol=Protocol.objects.get(slug=slug),
                                  start_date=start_date)


def book(chair, start, *, by, patient=None) -> Session:
    """Book session 1 of a new course for (another) patient, due on the day of ``start``."""
    course = new_course(chair.location.local_date(start), patient=patient)
    return booking.book_session(by=by, course=course, chair=chair, start=start)


@pytest.fixture
def desk(client, front_desk):
    client.force_login(front_desk)
    return client


@pytest.fixture
def nurse(client, clinician):
    client.force_login(clinician)
    return client


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
def test_every_page_renders_for_each_clinic_role(client, now, site, chair, esk_course, front_desk, role):
    # given
    session = book(chair, local(site, TUESDAY, 12), by=front_desk)
    client.force_login(UserFactory(roles=[role]))
    # when
    responses = {url: client.get(url) for url in page_urls(site, session, esk_course)}
    # then
    assert {url: response.status_code for url, response in responses.items()} == {url: 200 for url in responses}


def test_every_page_sends_an_anonymous_visitor_to_the_login_page(client, now, site, chair, esk_course, front_desk):
    # given
    session = book(chair, local(site, TUESDAY, 12), by=front_desk)
    # when
    responses = [client.get(url) for url in page_urls(site, session, esk_course)]
    # then
    assert {(response.status_code, response["Location"].split("?")[0]) for response in responses} == {
        (302, "/login/")}


def test_a_user_without_a_clinic_role_is_refused(client, now, site, chair, esk_course, front_desk, no_role_user):
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


def test_the_board_shows_the_days_sessions_in_local_time(desk, now, site, chair, front_desk):
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


def test_the_board_shows_only_that_days_sessions(desk, now, site, chair, front_desk):
    # given
    tuesday = book(chair, local(site, TUESDAY, 9), by=front_desk)
    wednesday = book(chair, local(site, WEDNESDAY, 9), by=front_desk)
    # when
    html = desk.get(f"/board/{site.pk}/2026-03-03/").content.decode()
    # then
    assert tuesday.patient.display_name in html
    assert wednesday.patient.display_name not in html


def test_an_evening_session_is_on_its_new_york_day_not_its_utc_day(desk, now, site, chair, front_desk):
    # given: 19:30 on Tuesday in New York is 00:30 on Wednesday in UTC
    site.hours.update(closes=time(23))
    session = book(chair, local(site, TUESDAY, 19, 30), by=front_desk)
    # when
    tuesday = desk.get(f"/board/{site.pk}/2026-03-03/").content.decode()
    wednesday = desk.get(f"/board/{site.pk}/2026-03-04/").content.decode()
    # then
    assert f'data-session-id="{session.pk}"' in tuesday
    assert f'data-session-id="{session.pk}"' not in wednesday


def test_a_block_starts_at_its_row_and_spans_its_chair_time_and_turnover(desk, now, site, chair, front_desk):
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


def test_a_booking_made_at_another_desk_shows_on_the_next_refresh(desk, now, site, chair, desk_user):
    # given
    before = desk.get(f"/board/{site.pk}/2026-03-03/body/", **HTMX).content.decode()
    # when
    session = book(chair, local(site, TUESDAY, 13), by=desk_user)
    after = desk.get(f"/board/{site.pk}/2026-03-03/body/", **HTMX).content.decode()
    # then
    assert session.patient.display_name not in before
    assert session.patient.display_name in after


def test_cancelled_sessions_leave_the_grid_and_are_listed_below_it(desk, now, site, chair, front_desk):
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
        desk, now, site, chair, chair2, iv_chair, front_desk, staff_clinician, django_assert_max_num_queries):
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


# -- the session panel: move, cancel -----------------------------------------------------------------


def test_the_session_panel_offers_to_move_and_cancel(desk, now, site, chair, front_desk):
    # given
    session = book(chair, local(site, TUESDAY, 9), by=front_desk)
    # when
    html = desk.get(f"/sessions/{session.pk}/", **HTMX).content.decode()
    # then
    assert "<html" not in html
    assert 'id="reschedule-start"' in html and 'value="2026-03-03T09:00"' in html
    assert 'id="cancel-reason"' in html
    assert f'href="/patients/{session.patient_id}/"' in html
    assert 'data-testid="reschedule-slot"' in html


def test_moving_a_session_from_the_panel_redraws_the_board(desk, now, site, chair, front_desk):
    # given
    session = book(chair, local(site, TUESDAY, 9), by=front_desk)
    # when
    response = desk.post(f"/sessions/{session.pk}/reschedule/",
                         {"start": "2026-03-03T13:00", "chair": chair.pk}, **HTMX)
    # then
    session.refresh_from_db()
    assert response.status_code == 200
    assert session.start == local(site, TUESDAY, 13)
    assert response["HX-Trigger"] == "board-changed"
    assert "Moved" in response.content.decode() and "Tue Mar 3 at 13:00" in response.content.decode()


def test_a_refused_move_shows_the_services_reason_and_keeps_the_session(desk, now, site, chair, front_desk):
    # given
    session = book(chair, local(site, TUESDAY, 9), by=front_desk)
    other = book(chair, local(site, TUESDAY, 13), by=front_desk)
    # when
    response = desk.post(f"/sessions/{session.pk}/reschedule/",
                         {"start": "2026-03-03T12:00", "chair": chair.pk}, **HTMX)
    # then
    session.refresh_from_db()
    html = response.content.decode()
    assert response.status_code == 409
    assert "That chair is already booked at that time." in html
    assert 'value="2026-03-03T12:00"' in html  # what was typed stays
    assert session.start == local(site, TUESDAY, 9)
    assert other.start == local(site, TUESDAY, 13)


def test_a_move_from_the_patient_page_goes_back_there(desk, now, site, chair, front_desk):
    # given
    session = book(chair, local(site, TUESDAY, 9), by=front_desk)
    back = f"/patients/{session.patient_id}/"
    # when
    response = desk.post(f"/sessions/{session.pk}/reschedule/", {"start": "2026-03-03T13:00", "next": back})
    # then
    assert response.status_code == 302
    assert response["Location"] == back


def test_cancelling_needs_a_reason_in_the_apis_words(desk, now, site, chair, front_desk):
    # given
    session = book(chair, local(site, TUESDAY, 9), by=front_desk)
    # when
    response = desk.post(f"/sessions/{session.pk}/cancel/", {"reason": "  "}, **HTMX)
    # then
    session.refresh_from_db()
    assert response.status_code == 400
    assert "Say why the session is cancelled." in response.content.decode()
    assert "A reason is required." in response.content.decode()
    assert session.status == SessionStatus.BOOKED


def test_cancelling_with_a_reason_frees_the_chair(desk, now, site, chair, front_desk):
    # given
    session = book(chair, local(site, TUESDAY, 9), by=front_desk)
    # when
    response = desk.post(f"/sessions/{session.pk}/cancel/", {"reason": "Patient has the flu"})
    # then
    session.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"/board/{site.pk}/2026-03-03/"
    assert (session.status, session.cancel_reason) == (SessionStatus.CANCELLED, "Patient has the flu")


def test_opening_a_session_logs_a_read_of_the_patients_record(desk, now, site, chair, front_desk):
    # given
    session = book(chair, local(site, TUESDAY, 9), by=front_desk)
    # when
    desk.get(f"/sessions/{session.pk}/")
    # then
    assert PatientAccess.objects.filter(patient=session.patient, user=front_desk, channel="web").count() == 1


# -- the patient page ---------------------------------------------------------------------------------


def test_the_patient_page_shows_the_course_plan_sessions_and_buttons(desk, now, site, chair, esk_course,
                                                                     front_desk):
    # given
    booking.book_session(by=front_desk, course=esk_course, chair=chair, start=local(site, TUESDAY, 9))
    # when
    response = desk.get(f"/patients/{esk_course.patient_id}/")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/courses/{esk_course.pk}/book/"' in html
    assert f'href="/courses/{esk_course.pk}/book-phase/"' in html
    assert f'href="/patients/{esk_course.patient_id}/start-course/"' in html
    assert 'data-status="booked" data-number="1"' in html
    assert 'data-status="projected" data-number="2"' in html
    assert "Tue Mar 3, 2026 09:00" in html  # the upcoming session, New York time
    assert "Session 1 due Tue Mar 3 – Tue Mar 10, target Tue Mar 3" in html


def test_the_patient_page_lists_past_sessions_with_their_local_date_and_status(desk, now, site, chair,
                                                                               front_desk):
    # given: booked last week and missed
    patient = PatientFactory()
    course = new_course(date(2026, 2, 23), patient=patient)
    missed = Session.objects.create(
        course=course, patient=patient, location=site, chair=chair, start=local(site, date(2026, 2, 24), 17),
        end=local(site, date(2026, 2, 24), 19, 30), occupied_until=local(site, date(2026, 2, 24), 19, 45),
        local_date=date(2026, 2, 24), status=SessionStatus.NO_SHOW)
    # when
    html = desk.get(f"/patients/{patient.pk}/").content.decode()
    # then
    assert f'data-testid="past-session" data-session-id="{missed.pk}"' in html
    assert "Tue Feb 24, 2026 17:00" in html
    assert "No-show" in html


def test_the_patient_page_shows_texts_newest_first(desk, now, patient):
    # given
    TextMessage.objects.create(patient=patient, direction=Direction.OUTBOUND, purpose=MessagePurpose.REMINDER,
                               phone=patient.phone, body="Reminder of your visit", at=now - timedelta(hours=2))
    TextMessage.objects.create(patient=patient, direction=Direction.INBOUND, purpose=MessagePurpose.REPLY,
                               phone=patient.phone, body="C", at=now - timedelta(hours=1))
    # when
    html = desk.get(f"/patients/{patient.pk}/").content.decode()
    # then
    assert html.index('data-direction="inbound"') < html.index('data-direction="outbound"')
    assert "Reminder of your visit" in html


def test_opening_the_patient_page_logs_a_read(desk, now, patient, front_desk):
    desk.get(f"/patients/{patient.pk}/")
    assert PatientAccess.objects.filter(patient=patient, user=front_desk, channel="web").count() == 1


def test_html_in_a_patients_name_is_escaped_on_the_board_and_panel(desk, now, site, chair, front_desk):
    # given
    patient = PatientFactory(first_name="<script>alert(1)</script>")
    session = book(chair, local(site, TUESDAY, 9), by=front_desk, patient=patient)
    # when
    pages = [desk.get(f"/board/{site.pk}/2026-03-03/"), desk.get(f"/sessions/{session.pk}/"),
             desk.get(f"/patients/{patient.pk}/")]
    # then
    for response in pages:
        assert b"<script>alert(1)" not in response.content
        assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content


# -- book next ----------------------------------------------------------------------------------------


def test_book_next_shows_the_due_window_in_words_and_free_slots(desk, now, site, chair, esk_course):
    # when
    response = desk.get(f"/courses/{esk_course.pk}/book/")
    # then
    html = response.content.decode()
    assert "Session 1 due Tue Mar 3 – Tue Mar 10, target Tue Mar 3" in html
    assert f'value="{chair.pk}|2026-03-03T08:00"' in html
    assert 'data-testid="slot-day" data-day="2026-03-03"' in html


def test_one_click_on_a_slot_books_it_and_returns_to_the_patient(desk, now, site, chair, esk_course, front_desk):
    # when
    response = desk.post(f"/courses/{esk_course.pk}/book/", {"slot": f"{chair.pk}|2026-03-03T08:00"}, follow=True)
    # then
    session = Session.objects.get(course=esk_course)
    assert response.redirect_chain == [(f"/patients/{esk_course.patient_id}/", 302)]
    assert (session.chair, session.start, session.booked_by) == (chair, local(site, TUESDAY, 8), front_desk)
    assert "Booked" in response.content.decode() and "Tue Mar 3 at 08:00" in response.content.decode()


def test_a_slot_taken_meanwhile_shows_the_reason_and_fresh_slots(desk, now, site, chair, esk_course, desk_user):
    # given: another desk books the 08:00 slot first
    book(chair, local(site, TUESDAY, 8), by=desk_user)
    # when
    response = desk.post(f"/courses/{esk_course.pk}/book/",
                         {"slot": f"{chair.pk}|2026-03-03T08:00", "location": site.pk})
    # then
    html = response.content.decode()
    assert response.status_code == 409
    assert "That chair is already booked at that time." in html
    assert "Fresh free slots" in html
    assert f'value="{chair.pk}|2026-03-03T08:00"' not in html
    assert f'value="{chair.pk}|2026-03-03T10:45"' in html  # after the other session and its turnover
    assert f'<option value="{site.pk}" selected>' in html  # the location filter is kept
    assert not Session.objects.filter(course=esk_course).exists()


def test_only_a_clinician_sees_the_override_reason(desk, now, client, clinician, esk_course, site, chair):
    # when
    desk_html = desk.get(f"/courses/{esk_course.pk}/book/").content.decode()
    client.force_login(clinician)
    clinician_html = client.get(f"/courses/{esk_course.pk}/book/").content.decode()
    # then
    assert 'id="book-override"' not in desk_html
    assert 'id="book-override"' in clinician_html


def test_the_front_desk_is_refused_outside_the_due_window_in_the_apis_words(desk, now, site, chair, esk_course):
    # when
    response = desk.post(f"/courses/{esk_course.pk}/book/", {"chair": chair.pk, "start": "2026-03-16T09:00"})
    # then
    assert response.status_code == 409
    assert ("Session 1 is due Tue Mar 3 to Tue Mar 10 (target Tue Mar 3); a clinician may book outside it with a "
            "reason.") in response.content.decode()


def test_a_clinician_books_outside_the_window_with_a_reason(nurse, now, site, chair, esk_course):
    # when
    response = nurse.post(f"/courses/{esk_course.pk}/book/", {
        "chair": chair.pk, "start": "2026-03-16T09:00", "override_reason": "Patient travelling"})
    # then
    assert response.status_code == 302
    assert Session.objects.get(course=esk_course).override_reason == "Patient travelling"


# -- book the phase -----------------------------------------------------------------------------------


def phase_form(chair, first_date="2026-03-05", clock="09:00", weekdays=MONDAY_THURSDAY) -> dict:
    return {"chair": chair.pk, "first_date": first_date, "time": clock, "weekdays": weekdays}


def test_the_phase_preview_lists_the_eight_induction_sessions(desk, now, site, chair, esk_course):
    # when
    response = desk.post(f"/courses/{esk_course.pk}/book-phase/preview/", phase_form(chair), **HTMX)
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="occurrence"') == 8
    assert 'data-count="8" data-problems="0"' in html
    assert 'data-start="2026-03-05T09:00"' in html and 'data-start="2026-03-30T09:00"' in html
    assert not Session.objects.exists()


def test_book_all_books_the_eight_sessions(desk, now, site, chair, esk_course):
    # when
    response = desk.post(f"/courses/{esk_course.pk}/book-phase/", phase_form(chair))
    # then
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{esk_course.patient_id}/"
    sessions = Session.objects.filter(course=esk_course).order_by("start")
    assert sessions.count() == 8
    assert [session.local_date for session in sessions][:2] == [date(2026, 3, 5), date(2026, 3, 9)]


def test_a_phase_with_a_taken_day_shows_the_problem_and_books_nothing(desk, now, site, chair, esk_course,
                                                                      desk_user):
    # given: Monday 9 March at 09:00 is taken on that chair
    book(chair, local(site, date(2026, 3, 9), 9), by=desk_user)
    # when
    preview = desk.post(f"/courses/{esk_course.pk}/book-phase/preview/", phase_form(chair), **HTMX)
    booking = desk.post(f"/courses/{esk_course.pk}/book-phase/", phase_form(chair))
    # then
    assert 'data-count="8" data-problems="1"' in preview.content.decode()
    assert "That chair is already booked at that time." in preview.content.decode()
    assert booking.status_code == 409
    assert "Some sessions of the series cannot be booked as proposed; nothing was booked." in booking.content.decode()
    assert 'data-code="chair_conflict"' in booking.content.decode()
    assert not Session.objects.filter(course=esk_course).exists()


def test_a_phase_without_weekdays_is_refused_at_the_weekdays(desk, now, site, chair, esk_course):
    # when
    response = desk.post(f"/courses/{esk_course.pk}/book-phase/preview/", phase_form(chair, weekdays=[]), **HTMX)
    # then
    assert response.status_code == 400
    assert "Weekdays are numbers 0 (Monday) to 6 (Sunday)." in response.content.decode()


# -- start a course -----------------------------------------------------------------------------------


def test_starting_a_course_opens_the_patient_page(desk, now, patient, esketamine_trd):
    # when
    response = desk.post(f"/patients/{patient.pk}/start-course/",
                         {"protocol": esketamine_trd.pk, "start_date": "2026-03-03"})
    # then
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient.pk}/"
    assert TreatmentCourse.objects.get(patient=patient).start_date == date(2026, 3, 3)


def test_a_hard_stop_is_refused_in_plain_words(desk, now, esketamine_trd):
    # given
    patient = PatientFactory(aneurysmal_vascular_disease=True)
    # when
    response = desk.post(f"/patients/{patient.pk}/start-course/",
                         {"protocol": esketamine_trd.pk, "start_date": "2026-03-03"})
    # then
    html = response.content.decode()
    assert response.status_code == 409
    assert "cannot start this treatment" in html
    assert ("Aneurysmal vascular disease (aorta, intracranial or peripheral arteries) is a contraindication to "
            "esketamine.") in html
    assert "No override is possible" in html
    assert not TreatmentCourse.objects.filter(patient=patient).exists()


def test_an_override_request_asks_the_front_desk_for_a_clinician(desk, now, esketamine_trd):
    # given
    patient = PatientFactory(pregnant=True)
    # when
    response = desk.post(f"/patients/{patient.pk}/start-course/",
                         {"protocol": esketamine_trd.pk, "start_date": "2026-03-03"})
    # then
    html = response.content.decode()
    assert response.status_code == 409
    assert "Pregnancy: esketamine needs a clinician&#x27;s override with a reason." in html
    assert "Ask a clinician to start this course with an override." in html
    assert 'id="course-override"' not in html


def test_a_clinician_starts_a_course_with_an_override_reason(nurse, now, esketamine_trd):
    # given
    patient = PatientFactory(pregnant=True)
    # when
    response = nurse.post(f"/patients/{patient.pk}/start-course/", {
        "protocol": esketamine_trd.pk, "start_date": "2026-03-03", "override_reason": "Benefit outweighs risk"})
    # then
    assert response.status_code == 302
    assert TreatmentCourse.objects.get(patient=patient).override_reason == "Benefit outweighs risk"


# -- the worklist -------------------------------------------------------------------------------------


@pytest.fixture
def work_item(esk_course, site):
    return WorkItem.objects.create(kind=WorkKind.DUE_UNBOOKED, subject=f"course:{esk_course.pk}",
                                   urgency=8, patient=esk_course.patient, course=esk_course, location=site,
                                   detail="Session 1 is due.", due_on=TUESDAY)


def test_the_worklist_lists_open_items_with_a_book_link(desk, now, work_item):
    # when
    html = desk.get("/worklist/").content.decode()
    # then
    assert f'data-item-id="{work_item.pk}"' in html
    assert f'href="/courses/{work_item.course_id}/book/"' in html


def test_the_worklist_filters_by_kind(desk, now, work_item):
    html = desk.get("/worklist/", {"kind": WorkKind.OVERDUE}).content.decode()
    assert f'data-item-id="{work_item.pk}"' not in html


def test_assign_to_me_updates_the_row(desk, now, work_item, front_desk):
    # when
    response = desk.post(f"/worklist/{work_item.pk}/assign/", {"user": "me"}, **HTMX)
    # then
    work_item.refresh_from_db()
    assert work_item.assigned_to == front_desk
    assert response.content.decode().lstrip().startswith(f'<tr id="work-item-{work_item.pk}"')
    assert response["HX-Trigger"] == "worklist-changed"


def test_snoozing_to_a_past_date_is_refused_in_the_apis_words(desk, now, work_item):
    # when
    response = desk.post(f"/worklist/{work_item.pk}/snooze/", {"until": "2026-03-01"}, **HTMX)
    # then
    assert response.status_code == 400
    assert "Snooze until a future date." in response.content.decode()


def test_resolving_with_a_note_closes_the_item(desk, now, work_item):
    # when
    response = desk.post(f"/worklist/{work_item.pk}/resolve/", {"note": "Called, booked by phone"}, **HTMX)
    # then
    work_item.refresh_from_db()
    assert work_item.closed_at is not None
    assert "Closed: Called, booked by phone" in response.content.decode()


def test_the_navigation_badge_counts_open_items(desk, now, work_item):
    html = desk.get("/worklist/count/").content.decode()
    assert 'data-count="1"' in html
