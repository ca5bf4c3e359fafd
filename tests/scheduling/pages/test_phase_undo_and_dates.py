"""Book the phase (suggested, previewed, confirmed), the Undo after a booking, and local dates on the
booking pages.

"Now" is Monday 2 March 2026, 09:00 in New York; ``esk_course`` starts Tuesday 3 March (session 1
due 3-10 March, target the 3rd); Midtown is open Monday to Saturday 08:00-18:00.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduling.booking.undo import BOOKED_IN_ERROR
from scheduling.models import Session, SessionStatus
from tests.factories import PatientFactory
from tests.scheduling.conftest import TUESDAY, local

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
TUESDAY_FRIDAY = ["1", "4"]


def phase_form(chair, first_date="2026-03-03", clock="09:00", weekdays=TUESDAY_FRIDAY, **extra) -> dict:
    return {"chair": chair.pk, "first_date": first_date, "time": clock, "weekdays": weekdays, **extra}


# -- book the phase ----------------------------------------------------------------------------------


def test_the_phase_form_suggests_the_cadence_on_open_days_from_the_target(desk, now, site, chair, esk_course):
    # when
    html = desk.get(f"/courses/{esk_course.pk}/book-phase/").content.decode()
    # then: Tuesday 3 March and Tuesdays and Fridays, 3 and 4 days apart; Sunday shown closed
    assert 'name="first_date" value="2026-03-03"' in html
    assert 'value="09:00"' in html
    assert 'value="1" checked' in html and 'value="4" checked' in html
    assert html.count(" checked>") == 2
    assert "Sunday (closed at Midtown)" in html


def test_a_change_of_chair_suggests_again_for_its_site(desk, now, site, chair, esk_course):
    # when
    response = desk.get(f"/courses/{esk_course.pk}/book-phase/", {"chair": chair.pk}, **HTMX)
    # then
    html = response.content.decode()
    assert "<html" not in html and 'id="phase-booking"' in html
    assert "Suggested again for Midtown" in html


def test_the_suggested_phase_fits_and_only_then_can_be_booked(desk, now, site, chair, esk_course):
    # when
    form = desk.get(f"/courses/{esk_course.pk}/book-phase/").content.decode()
    preview = desk.post(f"/courses/{esk_course.pk}/book-phase/preview/", phase_form(chair), **HTMX).content.decode()
    # then
    assert 'data-testid="phase-confirm"' not in form
    assert 'data-count="8" data-problems="0"' in preview
    assert "Book all 8 sessions" in preview
    assert not Session.objects.exists()


def test_a_preview_with_a_problem_offers_its_alternative_but_no_confirmation(desk, now, site, chair, esk_course,
                                                                           book):
    # given Friday 6 March at 09:00 is taken on the only chair
    book(chair, local(site, TUESDAY + timedelta(days=3), 9))
    # when
    html = desk.post(f"/courses/{esk_course.pk}/book-phase/preview/", phase_form(chair), **HTMX).content.decode()
    # then
    assert 'data-count="8" data-problems="1"' in html
    assert 'data-testid="use-alternative"' in html
    assert 'data-testid="phase-confirm"' not in html


def test_one_click_on_an_alternative_plans_the_series_again_there(desk, now, site, chair, esk_course, book):
    # given Friday 6 March at 09:00 is taken, and the preview's alternative is that day at 11:45
    book(chair, local(site, TUESDAY + timedelta(days=3), 9))
    # when
    response = desk.post(f"/courses/{esk_course.pk}/book-phase/preview/",
                         phase_form(chair, alternative=f"{chair.pk}|2026-03-06T11:45|2026-03-06"), **HTMX)
    # then: the whole series at 11:45, and it fits
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="time" value="11:45"' in html
    assert 'data-count="8" data-problems="0"' in html
    assert "Book all 8 sessions" in html


def test_an_alternative_on_another_weekday_swaps_that_weekday(desk, now, site, chair, esk_course, book):
    # when: Friday's occurrence moves to Saturday 7 March
    html = desk.post(f"/courses/{esk_course.pk}/book-phase/preview/",
                     phase_form(chair, alternative=f"{chair.pk}|2026-03-07T09:00|2026-03-06"), **HTMX).content.decode()
    # then
    assert 'id="phase-weekday-5" name="weekdays" value="5" checked' in html
    assert 'value="4" checked' not in html


# -- a booking's confirmation and Undo ----------------------------------------------------------------


def test_a_booking_is_confirmed_in_words_with_an_undo(desk, now, site, chair, esk_course):
    # when
    response = desk.post(f"/courses/{esk_course.pk}/book/", {"slot": f"{chair.pk}|2026-03-03T14:15"}, follow=True)
    # then
    html = response.content.decode()
    session = Session.objects.get(course=esk_course)
    assert "on Tue Mar 3 at 14:15 (Chair 1, Midtown)." in html
    assert f'<input type="hidden" name="undo" value="{session.pk}">' in html
    assert 'data-testid="undo-booking"' in html


def test_undo_withdraws_the_booking_and_returns_to_booking(desk, now, site, chair, esk_course):
    # given
    desk.post(f"/courses/{esk_course.pk}/book/", {"slot": f"{chair.pk}|2026-03-03T14:15"})
    session = Session.objects.get(course=esk_course)
    # when
    response = desk.post(f"/courses/{esk_course.pk}/book/", {"undo": session.pk}, follow=True)
    # then
    session.refresh_from_db()
    assert response.redirect_chain == [(f"/courses/{esk_course.pk}/book/", 302)]
    assert (session.status, session.cancel_reason, session.late_cancel) == (SessionStatus.CANCELLED,
                                                                            BOOKED_IN_ERROR, False)
    assert "Undone: the booking of" in response.content.decode()


def test_undo_too_late_is_refused_in_the_services_words(desk, clock, now, site, chair, esk_course):
    # given a booking an hour old
    desk.post(f"/courses/{esk_course.pk}/book/", {"slot": f"{chair.pk}|2026-03-03T14:15"})
    session = Session.objects.get(course=esk_course)
    clock.shift(timedelta(hours=1))
    desk.force_login(desk.signed_in_as)
    # when
    response = desk.post(f"/courses/{esk_course.pk}/book/", {"undo": session.pk})
    # then
    assert response.status_code == 409
    assert "cancel it with a reason instead" in response.content.decode()
    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED


def test_undo_of_another_courses_session_is_not_found(desk, now, site, chair, esk_course, book):
    other = book(chair, local(site, TUESDAY, 9))
    response = desk.post(f"/courses/{esk_course.pk}/book/", {"undo": other.pk})
    assert response.status_code == 404


# -- local dates ---------------------------------------------------------------------------------------


def test_at_half_past_eleven_at_night_in_new_york_a_course_starts_today(desk, clock, site):
    # given 23:30 on Monday 2 March in New York: already Tuesday in UTC
    clock.move_to(datetime(2026, 3, 3, 4, 30, tzinfo=UTC))
    desk.force_login(desk.signed_in_as)
    patient = PatientFactory()
    # when
    html = desk.get(f"/patients/{patient.pk}/start-course/").content.decode()
    # then
    assert 'name="start_date" value="2026-03-02"' in html


def test_at_half_past_eleven_at_night_a_window_ending_today_is_not_overdue(desk, clock, site, chair, esk_course):
    # given session 1's window ends Tuesday 10 March; it is 23:30 that day in New York
    clock.move_to(datetime(2026, 3, 11, 3, 30, tzinfo=UTC))
    desk.force_login(desk.signed_in_as)
    # when
    html = desk.get(f"/courses/{esk_course.pk}/book/").content.decode()
    # then
    assert "The window has passed" not in html
