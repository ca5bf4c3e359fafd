"""The front desk's session panel (move, cancel) and the patient page.

"Now" is Monday 2 March 2026, 09:00 in New York (tests/conftest.py). ``esk_course`` starts
Tuesday 3 March, so session 1 is due 3-10 March, target the 3rd. ``desk`` is the front desk's
browser, ``nurse`` a clinician's (tests/scheduling/pages/conftest.py).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from patients.models import PatientAccess
from scheduling.models import Direction, MessagePurpose, SessionStatus
from tests.factories import (
    PatientFactory,
    SessionRowFactory,
    TextMessageFactory,
    TreatmentCourseFactory,
    standard_protocol,
)
from tests.scheduling.conftest import TUESDAY, local

pytestmark = pytest.mark.django_db


HTMX = {"HTTP_HX_REQUEST": "true"}


# -- the session panel: move, cancel -----------------------------------------------------------------


def test_the_session_panel_offers_to_move_and_cancel(desk, now, site, chair, front_desk, book):
    # given
    session = book(chair, local(site, TUESDAY, 9), by=front_desk)
    # when
    html = desk.get(f"/sessions/{session.pk}/", **HTMX).content.decode()
    # then
    assert "<html" not in html
    assert 'id="reschedule-start"' in html and 'value="2026-03-03T09:00"' in html
    assert 'id="cancel-reason"' in html
    assert f'href="/patients/{session.patient_id}/"' in html
    assert 'data-testid="reschedule-grid"' in html and "/slot-grid/?course=" in html


def test_moving_a_session_from_the_panel_redraws_the_board(desk, now, site, chair, front_desk, book):
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


def test_a_refused_move_shows_the_services_reason_and_keeps_the_session(desk, now, site, chair, front_desk, book):
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


def test_a_move_from_the_patient_page_goes_back_there(desk, now, site, chair, front_desk, book):
    # given
    session = book(chair, local(site, TUESDAY, 9), by=front_desk)
    back = f"/patients/{session.patient_id}/"
    # when
    response = desk.post(f"/sessions/{session.pk}/reschedule/", {"start": "2026-03-03T13:00", "next": back})
    # then
    assert response.status_code == 302
    assert response["Location"] == back


def test_cancelling_needs_a_reason_in_the_apis_words(desk, now, site, chair, front_desk, book):
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


def test_cancelling_with_a_reason_frees_the_chair(desk, now, site, chair, front_desk, book):
    # given
    session = book(chair, local(site, TUESDAY, 9), by=front_desk)
    # when
    response = desk.post(f"/sessions/{session.pk}/cancel/", {"reason": "Patient has the flu"})
    # then
    session.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"/board/{site.pk}/2026-03-03/"
    assert (session.status, session.cancel_reason) == (SessionStatus.CANCELLED, "Patient has the flu")


def test_opening_a_session_logs_a_read_of_the_patients_record(desk, now, site, chair, front_desk, book):
    # given
    session = book(chair, local(site, TUESDAY, 9), by=front_desk)
    # when
    desk.get(f"/sessions/{session.pk}/")
    # then
    assert PatientAccess.objects.filter(patient=session.patient, user=front_desk, channel="web").count() == 1


# -- the patient page ---------------------------------------------------------------------------------


def test_the_patient_page_shows_the_course_plan_sessions_and_buttons(desk, now, site, chair, esk_course,
                                                                     front_desk, book):
    # given
    book(chair, local(site, TUESDAY, 9), course=esk_course, by=front_desk)
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
    assert "Session 1 booked for Tue Mar 3 (due Tue Mar 3 – Tue Mar 10, target Tue Mar 3)" in html


def test_the_patient_page_lists_past_sessions_with_their_local_date_and_status(desk, now, site, chair,
                                                                               front_desk):
    # given: booked last week and missed
    patient = PatientFactory()
    course = TreatmentCourseFactory(patient=patient, protocol=standard_protocol("esketamine-trd"),
                                    start_date=date(2026, 2, 23))
    missed = SessionRowFactory(course=course, chair=chair, start=local(site, date(2026, 2, 24), 17),
                               status=SessionStatus.NO_SHOW)
    assert (missed.end, missed.local_date) == (local(site, date(2026, 2, 24), 19, 30), date(2026, 2, 24))
    # when
    html = desk.get(f"/patients/{patient.pk}/").content.decode()
    # then
    assert f'data-testid="past-session" data-session-id="{missed.pk}"' in html
    assert "Tue Feb 24, 2026 17:00" in html
    assert "No-show" in html


def test_the_patient_page_shows_texts_newest_first(desk, now, patient):
    # given
    TextMessageFactory(patient=patient, direction=Direction.OUTBOUND, purpose=MessagePurpose.REMINDER,
                       body="Reminder of your visit", at=now - timedelta(hours=2))
    TextMessageFactory(patient=patient, direction=Direction.INBOUND, purpose=MessagePurpose.REPLY, body="C",
                       at=now - timedelta(hours=1))
    # when
    html = desk.get(f"/patients/{patient.pk}/").content.decode()
    # then
    assert html.index('data-direction="inbound"') < html.index('data-direction="outbound"')
    assert "Reminder of your visit" in html


def test_opening_the_patient_page_logs_a_read(desk, now, patient, front_desk):
    desk.get(f"/patients/{patient.pk}/")
    assert PatientAccess.objects.filter(patient=patient, user=front_desk, channel="web").count() == 1


def test_html_in_a_patients_name_is_escaped_on_the_board_and_panel(desk, now, site, chair, front_desk, book):
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
