"""The week view in the browser, at 1440 and 1024 pixels: book on free time, drag a session, move it by keyboard.

The browser's site is open 00:00-23:59 every day, so each chair's row spans the whole day; ``course``
starts tomorrow, so its session 1 is due from tomorrow. Every action goes through the booking or
reschedule service; a refusal shows in the side panel and leaves the week where it was.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from scheduling.models import Session
from tests.browser.accessibility import blocking_violations
from tests.browser.conftest import DESK_PASSWORD, LANDS_ON_BOARD, sign_in
from tests.factories import ChairFactory, TreatmentCourseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path("/tmp")


@pytest.fixture
def chair2(site):
    return ChairFactory(location=site, name="Chair 2", serves_esketamine=True)


@pytest.fixture
def tomorrow(site_today):
    return site_today + timedelta(days=1)


@pytest.fixture
def booked(book, chair, site, course, tomorrow):
    """Session 1 of ``course`` tomorrow at 10:00 on Chair 1."""
    return book(chair, datetime.combine(tomorrow, time(10), tzinfo=site.zone), course=course)


def week_of(site, day) -> str:
    return reverse("board-week", kwargs={"location_id": site.pk, "day": day})


def track(page, chair, day):
    return page.locator(f'[data-testid="week-track"][data-chair-id="{chair.pk}"][data-day="{day.isoformat()}"]')


def x_at(box: dict, page, wall_clock: time) -> float:
    """Where ``wall_clock`` lies across a track ``box`` (the week's axis is in ``data-axis-*``, minutes)."""
    body = page.get_by_test_id("week-body")
    start, end = int(body.get_attribute("data-axis-start")), int(body.get_attribute("data-axis-end"))
    minute = wall_clock.hour * 60 + wall_clock.minute
    return box["width"] * (minute - start) / (end - start)


def shot(page, name: str, width: int) -> None:
    page.screenshot(path=str(SHOTS / f"h4-{name}-{width}.png"), full_page=True)


def test_a_click_on_free_time_books_a_patient_due_that_day(desk, width, site, chair, course, patient, tomorrow):
    # given
    desk.goto(week_of(site, tomorrow))
    row = track(desk, chair, tomorrow)
    box = row.bounding_box()

    # when: a click a few minutes past 10:00 on tomorrow's Chair 1
    row.click(position={"x": x_at(box, desk, time(10, 5)), "y": box["height"] / 2})

    # then the form is for that chair and quarter hour, listing the patient due then
    panel = desk.get_by_test_id("week-panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text(re.compile(r"Book Chair 1, .* at 10:00"))
    due = panel.get_by_test_id("week-due-course")
    expect(due).to_have_count(1)
    expect(due).to_contain_text(patient.display_name)
    shot(desk, "book-form", width)

    # when
    due.get_by_role("radio").check()
    panel.get_by_test_id("week-book-submit").click()

    # then: booked through the service, said in the panel, and on the week
    expect(panel.get_by_test_id("week-done")).to_contain_text(f"Booked {patient.display_name}")
    session = Session.objects.get(course=course)
    assert site.local(session.start).replace(tzinfo=None) == datetime.combine(tomorrow, time(10))
    expect(row.get_by_test_id("week-session")).to_contain_text(patient.display_name)
    shot(desk, "booked", width)


def test_dragging_a_session_moves_it_and_a_refused_drop_stays_in_the_panel(desk, width, site, chair, chair2,
                                                                           booked, book, tomorrow):
    # given
    desk.goto(week_of(site, tomorrow))
    block = desk.locator(f'[data-testid="week-session"][data-session-id="{booked.pk}"]')
    target = track(desk, chair2, tomorrow)
    box = target.bounding_box()

    # when: dragged by its left edge to 14:00 on Chair 2
    block.drag_to(target, source_position={"x": 4, "y": 8},
                  target_position={"x": x_at(box, desk, time(14)) + 4, "y": box["height"] / 2})

    # then
    panel = desk.get_by_test_id("week-panel")
    expect(panel.get_by_test_id("week-done")).to_contain_text("Moved")
    booked.refresh_from_db()
    assert (booked.chair_id, site.local(booked.start).time()) == (chair2.pk, time(14))
    expect(target.get_by_test_id("week-session")).to_have_count(1)

    # given another patient at 10:00 on Chair 1
    other = book(chair, datetime.combine(tomorrow, time(10), tzinfo=site.zone),
                 course=TreatmentCourseFactory(start_date=tomorrow))
    desk.reload()
    block = desk.locator(f'[data-testid="week-session"][data-session-id="{booked.pk}"]')
    first = track(desk, chair, tomorrow)
    box = first.bounding_box()

    # when: dropped on top of that session
    block.drag_to(first, source_position={"x": 4, "y": 8},
                  target_position={"x": x_at(box, desk, time(11)) + 4, "y": box["height"] / 2})

    # then: the refusal in the service's words, the week untouched
    expect(panel.get_by_test_id("error")).to_contain_text("That chair is already booked at that time.")
    expect(desk.get_by_test_id("week-body")).to_be_visible()
    expect(first.locator(f'[data-session-id="{other.pk}"]')).to_be_visible()
    booked.refresh_from_db()
    assert (booked.chair_id, site.local(booked.start).time()) == (chair2.pk, time(14))
    shot(desk, "drag-refused", width)


def test_a_session_moves_from_the_keyboard_and_escape_closes_the_form(desk, width, site, chair, chair2, booked,
                                                                      tomorrow):
    # given
    desk.goto(week_of(site, tomorrow))
    block = desk.locator(f'[data-testid="week-session"][data-session-id="{booked.pk}"]')
    panel = desk.get_by_test_id("week-panel")

    # when: Escape before moving
    block.focus()
    desk.keyboard.press("Enter")
    expect(desk.locator("#week-move-day")).to_be_focused()
    desk.keyboard.press("Escape")

    # then: nothing moved, focus back on the session
    expect(panel).to_be_hidden()
    expect(block).to_be_focused()

    # when: Enter, a new time and chair, Enter
    desk.keyboard.press("Enter")
    expect(desk.locator("#week-move-day")).to_be_focused()
    desk.keyboard.press("Tab")
    desk.locator("#week-move-time").fill("15:30")
    desk.locator("#week-move-chair").select_option(label="Chair 2")
    shot(desk, "move-form", width)
    desk.locator("#week-move-time").press("Enter")

    # then
    expect(panel.get_by_test_id("week-done")).to_contain_text("Moved")
    booked.refresh_from_db()
    assert (booked.chair_id, site.local(booked.start).time()) == (chair2.pk, time(15, 30))
    expect(track(desk, chair2, tomorrow).get_by_test_id("week-session")).to_have_count(1)
    shot(desk, "moved-by-keyboard", width)


def test_a_move_refused_from_the_keyboard_is_shown_beside_the_form(desk, width, site, chair, booked, tomorrow):
    # given
    desk.goto(week_of(site, tomorrow))
    desk.locator(f'[data-testid="week-session"][data-session-id="{booked.pk}"]').focus()
    desk.keyboard.press("Enter")

    # when: a day weeks outside its due window
    desk.locator("#week-move-day").fill((tomorrow + timedelta(days=30)).isoformat())
    desk.locator("#week-move-day").press("Enter")

    # then
    panel = desk.get_by_test_id("week-panel")
    expect(panel.get_by_test_id("error")).to_contain_text("a clinician may book outside it with a reason")
    expect(desk.get_by_test_id("week-body")).to_be_visible()
    shot(desk, "move-refused", width)


def test_every_sites_week_counts_and_links_to_each_sites_day_and_week(desk, width, site, chair, booked, tomorrow):
    # given
    desk.goto(reverse("board-week-all", kwargs={"day": tomorrow}))
    cell = desk.locator(f'[data-testid="week-all-site"][data-location-id="{site.pk}"] '
                        f'[data-testid="week-all-day"][data-day="{tomorrow.isoformat()}"]')

    # then
    expect(cell).to_contain_text("1 booked")
    expect(cell).to_contain_text("h free")
    shot(desk, "all-sites", width)

    # when
    cell.get_by_role("link").click()

    # then
    expect(desk).to_have_url(re.compile(rf"/board/{site.pk}/{tomorrow.isoformat()}/$"))


@pytest.fixture
def late_desk(local_clock, new_browser, desk_user, width):
    """The front desk signed in at 23:30 at the site, when UTC is already on tomorrow's date."""
    local_clock(time(23, 30))
    page = new_browser()
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, desk_user.username, DESK_PASSWORD, lands_on=LANDS_ON_BOARD)
    return page


def test_at_half_past_eleven_the_week_marks_the_sites_today(late_desk, width, site, chair, site_today):
    # when
    late_desk.goto(week_of(site, site_today))

    # then: today is the site's date, its day all but gone
    today = late_desk.locator(f'[data-testid="week-day"][data-day="{site_today.isoformat()}"]')
    expect(today).to_contain_text("today")
    expect(today.get_by_test_id("week-free")).to_have_count(1)
    expect(today.get_by_test_id("week-free")).to_have_attribute("data-start-minute", str(23 * 60 + 30))


def test_the_week_pages_and_panels_have_no_serious_accessibility_violation(desk, width, site, chair, booked,
                                                                           tomorrow):
    # given
    found = {}
    desk.goto(week_of(site, tomorrow))
    found["site week"] = blocking_violations(desk)
    desk.locator(f'[data-testid="week-session"][data-session-id="{booked.pk}"]').click()
    expect(desk.get_by_test_id("week-move-form")).to_be_visible()
    found["move panel"] = blocking_violations(desk)
    desk.keyboard.press("Escape")
    desk.get_by_test_id("week-free").first.focus()
    desk.keyboard.press("Enter")
    expect(desk.get_by_test_id("week-book-form")).to_be_visible()
    found["book panel"] = blocking_violations(desk)
    desk.goto(reverse("board-week-all", kwargs={"day": tomorrow}))
    found["all sites"] = blocking_violations(desk)

    # then
    assert {name: lines for name, lines in found.items() if lines} == {}
