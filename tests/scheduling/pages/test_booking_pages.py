"""Booking from the pages: book next, book the phase, and starting a course.

"Now" is Monday 2 March 2026, 09:00 in New York (tests/conftest.py). ``esk_course`` starts
Tuesday 3 March, so session 1 is due 3-10 March, target the 3rd. ``desk`` is the front desk's
browser, ``nurse`` a clinician's (tests/scheduling/pages/conftest.py).
"""

from __future__ import annotations

from datetime import date

import pytest

from protocols.models import TreatmentCourse
from scheduling.models import Session
from tests.factories import (
    PatientFactory,
)
from tests.scheduling.conftest import TUESDAY, local

pytestmark = pytest.mark.django_db


HTMX = {"HTTP_HX_REQUEST": "true"}
MONDAY_THURSDAY = ["0", "3"]


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


def test_a_slot_taken_meanwhile_shows_the_reason_and_fresh_slots(desk, now, site, chair, esk_course, desk_user, book):
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
                                                                      desk_user, book):
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
