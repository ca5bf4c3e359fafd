"""The week pages: a site's week, every site's week, booking on free time and moving a session from the panel.

The clinic day of tests/scheduling/conftest.py: Midtown (New York, Monday to Saturday 08:00-18:00), now
Monday 2 March 2026 09:00 there; ``esk_course`` is due from Tuesday 3 March.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.roles import CLINICIAN
from scheduling.models import Session
from tests.factories import SessionRowFactory, TreatmentCourseFactory, UserFactory
from tests.scheduling.conftest import TUESDAY, local

MONDAY = date(2026, 3, 2)


def _week(site, day=MONDAY, query=""):
    return reverse("board-week", kwargs={"location_id": site.pk, "day": day}) + query


def _book(site):
    return reverse("board-week-book", kwargs={"location_id": site.pk})


def _move(session):
    return reverse("board-week-move", kwargs={"session_id": session.pk})


HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def booked(session_on, esk_course, staff_clinician):
    """``esk_course``'s session 1 on Tuesday 10:00 on Chair 1, with Dr Ortiz."""
    return session_on(esk_course, TUESDAY, hour=10, clinician=staff_clinician)


def test_a_sites_week_shows_days_by_chairs_with_sessions_free_time_and_closed_days(desk, site, chair, chair2,
                                                                                   closure, booked, now):
    response = desk.get(_week(site, TUESDAY))

    assert response.status_code == 200
    page = response.content.decode()
    assert "week of Mar 2 – Mar 8, 2026" in page
    assert page.count('data-testid="week-day"') == 7
    assert booked.patient.display_name in page and f'data-session-id="{booked.pk}"' in page
    assert "Closed: Staff training" in page  # Wednesday's closure
    assert "Closed on Sundays" in page
    assert 'aria-label="Free 12:45–18:00, Chair 1, Tue Mar 3: book"' in page
    assert f"{_book(site)}?chair={chair.pk}&amp;start=2026-03-03T12:45" in page
    assert "open 08:00–18:00 · 1 booked · 17.2 h free" in page  # two chairs: 20 h less 2 h 45


def test_the_week_page_reads_in_the_same_number_of_queries_for_one_session_or_many(
        desk, site, chair, chair2, booked, session_on, now, django_assert_num_queries):
    with CaptureQueriesContext(connection) as first:
        assert desk.get(_week(site)).status_code == 200
    for day in (3, 5, 6):
        session_on(TreatmentCourseFactory(start_date=date(2026, 3, day)), date(2026, 3, day), on=chair2)
    with django_assert_num_queries(len(first.captured_queries)):
        assert desk.get(_week(site)).status_code == 200


def test_filtered_to_a_clinician_the_week_shows_only_their_sessions(desk, site, chair, chair2, booked, iv_course,
                                                                   session_on, staff_clinician, now):
    other = session_on(TreatmentCourseFactory(start_date=TUESDAY), TUESDAY, on=chair2,
                       clinician=UserFactory(roles=[CLINICIAN]))
    page = desk.get(_week(site, query=f"?clinician={staff_clinician.pk}")).content.decode()

    assert booked.patient.display_name in page
    assert other.patient.display_name not in page
    assert 'data-testid="week-busy"' in page
    assert f'<option value="{staff_clinician.pk}" selected>' in page
    assert f"?clinician={staff_clinician.pk}" in page  # the previous and next weeks keep the filter


def test_the_date_picker_and_site_choice_go_to_that_week(desk, site, now):
    response = desk.get(reverse("board-week-jump"), {"date": "2026-03-19", "location": site.pk, "clinician": "7"})
    assert response.url == _week(site, date(2026, 3, 19), "?clinician=7")
    assert desk.get(reverse("board-week-jump"), {"date": "2026-03-19", "location": "all"}).url == reverse(
        "board-week-all", kwargs={"day": date(2026, 3, 19)})


def test_every_sites_week_counts_booked_sessions_and_free_chair_hours(desk, site, chair, other_site, booked, now):
    response = desk.get(reverse("board-week-all", kwargs={"day": MONDAY}))

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('data-testid="week-all-site"') == 2
    assert 'data-day="2026-03-03" data-booked="1" data-free-minutes="435"' in page
    assert "7.2 h free" in page
    assert 'data-day="2026-03-08" data-booked="0" data-free-minutes="0"' in page and "Closed" in page
    assert reverse("board", kwargs={"location_id": site.pk, "day": TUESDAY}) in page
    assert _week(site) in page


def test_a_click_on_free_time_lists_the_patients_due_that_day(desk, site, chair, esk_course, now):
    response = desk.get(_book(site), {"chair": chair.pk, "start": "2026-03-03T13:00"}, **HTMX)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Book Chair 1, Tue Mar 3 at 13:00" in page
    assert f'data-course-id="{esk_course.pk}"' in page
    assert "Session 1 due Tue Mar 3 – Tue Mar 10, target Tue Mar 3" in page
    assert "No patient is due on Mon Mar 2" in desk.get(_book(site), {"chair": chair.pk,
                                                                       "start": "2026-03-02T13:00"}).content.decode()


def test_a_booking_form_for_a_time_that_cannot_be_read_says_so(desk, site, chair, now):
    response = desk.get(_book(site), {"chair": chair.pk, "start": "tomorrow"}, **HTMX)

    assert response.status_code == 400
    assert 'id="week-book-start-error"' in response.content.decode()


def test_a_session_with_no_chair_has_no_move_form(desk, site, esk_course, now):
    history = SessionRowFactory(course=esk_course, chair=None, location=site, start=local(site, date(2026, 2, 20), 9))
    assert desk.get(_move(history)).status_code == 404


def test_booking_from_the_week_goes_through_the_booking_service(desk, site, chair, esk_course, now):
    response = desk.post(_book(site), {"course": esk_course.pk, "chair": chair.pk, "start": "2026-03-03T13:00"},
                         **HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "week-changed"
    session = Session.objects.get(course=esk_course)
    assert session.start == local(site, TUESDAY, 13) and session.chair == chair
    assert "Booked" in response.content.decode()
    assert "Tue Mar 3 at 13:00 (Chair 1, Midtown)" in response.content.decode()


def test_a_refused_booking_is_shown_in_the_panel_with_the_services_words(desk, site, chair, esk_course, booked, now):
    response = desk.post(_book(site), {"course": TreatmentCourseFactory(start_date=TUESDAY).pk, "chair": chair.pk,
                                       "start": "2026-03-03T11:00"}, **HTMX)

    assert response.status_code == 409
    assert "HX-Trigger" not in response
    page = response.content.decode()
    assert 'data-code="chair_conflict"' in page and "That chair is already booked at that time." in page
    assert 'data-testid="week-book-form"' in page  # the form stays, what was typed kept
    assert 'value="2026-03-03T11:00"' in page


def test_booking_with_no_patient_chosen_is_refused_beside_the_list(desk, site, chair, esk_course, now):
    response = desk.post(_book(site), {"chair": chair.pk, "start": "2026-03-03T13:00"}, **HTMX)

    assert response.status_code == 400
    assert 'id="week-book-course-error"' in response.content.decode()
    assert not Session.objects.exists()


def test_without_htmx_a_booking_returns_to_the_week(desk, site, chair, esk_course, now):
    response = desk.post(_book(site), {"course": esk_course.pk, "chair": chair.pk, "start": "2026-03-03T13:00"})
    assert response.status_code == 302 and response.url == _week(site, TUESDAY)


def test_a_drop_moves_the_session_through_the_reschedule_service(desk, site, chair, chair2, booked, now):
    response = desk.post(_move(booked), {"start": "2026-03-04T14:15", "chair": chair2.pk}, **HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "week-changed"
    booked.refresh_from_db()
    assert booked.start == local(site, date(2026, 3, 4), 14, 15) and booked.chair == chair2
    assert "Moved" in response.content.decode()


def test_a_refused_drop_leaves_the_session_and_says_why(desk, site, chair, booked, now):
    response = desk.post(_move(booked), {"start": "2026-03-03T17:00", "chair": chair.pk}, **HTMX)

    assert response.status_code == 409
    assert "Midtown is closed for part of that time." in response.content.decode()
    assert 'value="17:00"' in response.content.decode()  # the time dropped on, for the form to adjust
    booked.refresh_from_db()
    assert booked.start == local(site, TUESDAY, 10)


def test_the_keyboard_form_moves_by_day_time_and_chair(desk, site, chair, chair2, booked, now):
    form = desk.get(_move(booked), **HTMX).content.decode()
    assert 'id="week-move-day"' in form and 'value="2026-03-03"' in form and 'value="10:00"' in form

    response = desk.post(_move(booked), {"day": "2026-03-05", "time": "09:30", "chair": chair2.pk}, **HTMX)
    assert response.status_code == 200
    booked.refresh_from_db()
    assert booked.start == local(site, date(2026, 3, 5), 9, 30) and booked.chair == chair2


def test_a_move_with_no_time_is_refused_beside_the_time(desk, site, chair, booked, now):
    response = desk.post(_move(booked), {"day": "2026-03-05", "time": "", "chair": chair.pk}, **HTMX)

    assert response.status_code == 400
    assert 'id="week-move-time-error"' in response.content.decode()


def test_a_move_outside_the_due_window_is_refused_with_the_window(desk, site, chair, booked, now):
    response = desk.post(_move(booked), {"day": "2026-03-20", "time": "10:00", "chair": chair.pk}, **HTMX)

    assert response.status_code == 409
    assert 'data-code="outside_due_window"' in response.content.decode()


@pytest.mark.parametrize("name", ["board-week", "board-week-all"])
def test_the_week_needs_a_clinic_role(client, no_role_user, site, name):
    kwargs = {"day": MONDAY} if name == "board-week-all" else {"location_id": site.pk, "day": MONDAY}
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 302  # to sign in
    client.force_login(no_role_user)
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 403
