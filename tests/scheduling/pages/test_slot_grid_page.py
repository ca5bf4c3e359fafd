"""The slot grid page and partial, and the grid on the book-next page.

"Now" is Monday 2 March 2026, 09:00 in New York; ``esk_course`` starts Tuesday 3 March (session 1
due 3-10 March, target the 3rd); Midtown is open Monday to Saturday 08:00-18:00.
"""

from __future__ import annotations

import pytest

from scheduling.models import Session
from tests.scheduling.conftest import TUESDAY, local

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def grid(client, **params):
    return client.get("/slot-grid/", params, **HTMX)


def test_the_grid_offers_a_free_afternoon_as_a_labelled_slot_button(desk, now, site, chair, esk_course):
    # when
    response = grid(desk, course=esk_course.pk)
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{chair.pk}|2026-03-03T14:15"' in html
    assert 'aria-label="Book Tue Mar 3 at 14:15, Chair 1"' in html
    assert 'data-day="2026-03-03" data-state="open" data-target="true"' in html
    assert "<html" not in html  # a partial for htmx


def test_the_grid_without_htmx_is_a_page_whose_slots_book_the_next_session(desk, now, site, chair, esk_course):
    # when
    html = desk.get("/slot-grid/", {"course": esk_course.pk}).content.decode()
    # then
    assert "<html" in html
    assert f'action="/courses/{esk_course.pk}/book/"' in html
    assert 'name="slot"' in html


def test_the_part_of_day_and_chair_filters_narrow_the_grid(desk, now, site, chair, chair2, esk_course):
    # when
    html = grid(desk, course=esk_course.pk, grid_part="afternoon", grid_chair=chair2.pk).content.decode()
    # then
    assert f'value="{chair2.pk}|2026-03-03T12:00"' in html
    assert "2026-03-03T11:45" not in html
    assert f'value="{chair.pk}|' not in html


def test_another_week_is_shown_on_request_and_the_target_week_offered_back(desk, now, site, chair, esk_course):
    # when
    html = grid(desk, course=esk_course.pk, week="2026-03-10").content.decode()
    # then
    assert 'data-week="2026-03-09"' in html
    assert 'data-testid="grid-target-week"' in html
    assert f'value="{chair.pk}|2026-03-10T15:30"' in html  # the window's last day, its last start


def test_days_outside_the_window_are_free_but_not_bookable_by_the_front_desk(desk, now, site, chair, esk_course,
                                                                            staff_clinician):
    # when
    desk_html = grid(desk, course=esk_course.pk, week="2026-03-10").content.decode()
    desk.force_login(staff_clinician)
    nurse_html = grid(desk, course=esk_course.pk, week="2026-03-10").content.decode()
    # then: Wednesday 11 March is past the window's last day
    assert "2026-03-11T10:00" not in desk_html and 'data-testid="grid-free-outside"' in desk_html
    assert f'value="{chair.pk}|2026-03-11T10:00"' in nurse_html
    assert "(outside the due window)" in nurse_html


def test_a_filter_that_does_not_fit_is_refused_beside_it(desk, now, site, chair, esk_course):
    # when
    response = grid(desk, course=esk_course.pk, grid_chair="999999")
    # then
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="grid-chair-error"' in html and "Choose a chair from the list." in html
    assert 'data-testid="grid-slot"' in html  # the default grid is still there


def test_a_grid_without_a_course_is_a_bad_request(desk, now):
    response = grid(desk)
    assert response.status_code == 400
    assert "Say which course the grid is for." in response.content.decode()


def test_the_grid_for_a_move_offers_the_sessions_own_time_and_posts_to_the_move(desk, now, site, chair, esk_course,
                                                                               book):
    # given
    session = book(chair, local(site, TUESDAY, 9), course=esk_course)
    # when
    html = desk.get("/slot-grid/", {"course": esk_course.pk, "session": session.pk}).content.decode()
    # then
    assert f'action="/sessions/{session.pk}/reschedule/"' in html
    assert f'value="{chair.pk}|2026-03-03T09:00"' in html
    assert 'aria-label="Move to Tue Mar 3 at 09:00, Chair 1"' in html


def test_book_next_shows_the_grid_and_books_a_grid_slot(desk, now, site, chair, esk_course):
    # given
    page = desk.get(f"/courses/{esk_course.pk}/book/").content.decode()
    assert 'data-testid="slot-grid"' in page and f'value="{chair.pk}|2026-03-03T14:15"' in page
    # when: the grid's button submits the booking form with the grid's own fields beside it
    response = desk.post(f"/courses/{esk_course.pk}/book/", {
        "slot": f"{chair.pk}|2026-03-03T14:15", "grid_week": "2026-03-02", "grid_location": site.pk,
        "grid_chair": "", "grid_part": ""})
    # then
    assert response.status_code == 302
    assert Session.objects.get(course=esk_course).start == local(site, TUESDAY, 14, 15)


def test_a_refused_grid_slot_keeps_the_grids_week_and_filters(desk, now, site, chair, esk_course, book):
    # given another desk took Tuesday 14:15
    book(chair, local(site, TUESDAY, 14, 15))
    # when
    response = desk.post(f"/courses/{esk_course.pk}/book/", {
        "slot": f"{chair.pk}|2026-03-03T14:15", "grid_week": "2026-03-09", "grid_part": "afternoon"})
    # then
    html = response.content.decode()
    assert response.status_code == 409
    assert "That chair is already booked at that time." in html
    assert 'data-week="2026-03-09"' in html
    assert '<option value="afternoon" selected>' in html
