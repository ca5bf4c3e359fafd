"""The slot grid on the book-next page: the whole open day, a week at a time, filters, one click books, Undo.

The site here keeps real hours (08:00-18:00, every day, so the target day is
always open): the grid's rows run 08:00-15:30, the last start of a 150-minute
esketamine session. ``course`` starts tomorrow at the site (session 1 due from
tomorrow, target tomorrow). Each test runs at 1440 and 1024 pixels.
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from playwright.sync_api import expect

from scheduling.models import Session, SessionStatus
from scheduling.pages import day_words
from tests.browser.accessibility import blocking_violations
from tests.factories import opening_hours

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def site_hours():
    return opening_hours(range(7), time(8), time(18))


def test_the_grid_shows_the_whole_day_and_one_click_books_an_afternoon_that_can_be_undone(desk, course, chair,
                                                                                           site, width):
    # given
    target = course.start_date
    desk.goto(f"/courses/{course.pk}/book/")
    grid = desk.get_by_test_id("slot-grid")
    expect(grid.locator("[data-testid=grid-day][data-target=true]")).to_have_attribute("data-day", target.isoformat())
    expect(grid.get_by_role("rowheader", name="15:30")).to_be_visible()
    assert blocking_violations(desk) == []
    desk.screenshot(path=f"/tmp/h2-grid-{width}.png", full_page=True)
    afternoon = grid.get_by_role("button", name=f"Book {day_words(target)} at 14:15, Chair 1", exact=True)

    # when
    afternoon.click()

    # then: booked where the cell said, confirmed in words
    expect(desk.get_by_test_id("messages")).to_contain_text(f"on {day_words(target)} at 14:15 (Chair 1, {site.name})")
    session = Session.objects.get(course=course)
    assert site.local(session.start).replace(tzinfo=None).isoformat(timespec="minutes") == f"{target}T14:15"
    desk.screenshot(path=f"/tmp/h2-booked-{width}.png", full_page=True)

    # when: it was a mistake
    desk.get_by_test_id("undo-booking").click()

    # then
    expect(desk.get_by_test_id("messages")).to_contain_text("Undone")
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    expect(desk.get_by_test_id("slot-grid").locator(f'[data-start="{target}T14:15"]')).to_have_count(1)


def test_the_grid_filters_by_time_of_day_and_chair_and_goes_week_to_week(desk, course, chair, site, width, book):
    # given a second chair, and Chair 1 busy on the target day from 13:00
    from tests.factories import ChairFactory

    chair2 = ChairFactory(location=site, name="Chair 2", serves_esketamine=True)
    book(chair, site.at(course.start_date, time(13)))
    desk.goto(f"/courses/{course.pk}/book/")
    grid = desk.get_by_test_id("slot-grid")

    # when: afternoons only
    grid.get_by_label("Time of day").select_option(label="Afternoon (12:00-17:00)")

    # then
    expect(grid.get_by_role("rowheader").first).to_have_text("12:00")
    expect(grid.get_by_role("rowheader", name="08:00")).to_have_count(0)

    # when: Chair 1 only
    grid.get_by_label("Chair", exact=True).select_option(label="Chair 1")

    # then: its afternoon on the target day is taken, Chair 2 is not offered
    day = course.start_date.isoformat()
    expect(grid.locator(f'[data-testid=grid-slot][data-start="{day}T14:15"]')).to_have_count(0)
    expect(grid.locator(f'[data-testid=grid-slot][data-chair-id="{chair2.pk}"]')).to_have_count(0)
    expect(grid.get_by_label("Time of day")).to_have_value("afternoon")
    desk.screenshot(path=f"/tmp/h2-grid-filtered-{width}.png", full_page=True)

    # when: the next week, then back
    grid.get_by_role("button", name="Next week →").click()
    monday = course.start_date - timedelta(days=course.start_date.weekday()) + timedelta(days=7)
    expect(grid).to_have_attribute("data-week", monday.isoformat())
    expect(grid.locator("[data-testid=grid-day][data-target=true]")).to_have_count(0)
    grid.get_by_role("button", name="Back to the target week").click()

    # then: the filters held all along
    expect(grid.locator("[data-testid=grid-day][data-target=true]")).to_have_attribute("data-day", day)
    expect(grid.get_by_label("Chair", exact=True)).to_have_value(str(chair.pk))
    expect(grid.get_by_role("rowheader").first).to_have_text("12:00")


def test_the_grid_for_a_move_moves_the_session_where_the_cell_says(desk, course, chair, site, book, desk_user,
                                                                   width):
    # given session 1 on its target day at 09:00
    session = book(chair, site.at(course.start_date, time(9)), course=course, by=desk_user)
    desk.goto(f"/slot-grid/?course={course.pk}&session={session.pk}&compact=1")
    grid = desk.get_by_test_id("slot-grid")
    expect(grid.get_by_test_id("grid-window")).to_contain_text("Moving session 1")
    assert blocking_violations(desk) == []
    desk.screenshot(path=f"/tmp/h2-grid-move-{width}.png", full_page=True)

    # when: the same day, in the afternoon
    grid.get_by_role("button", name=f"Move to {day_words(course.start_date)} at 15:00, Chair 1", exact=True).click()

    # then: moved through the move's own service, and the board shows it
    expect(desk.get_by_test_id("messages")).to_contain_text("Moved")
    session.refresh_from_db()
    assert site.local(session.start).time() == time(15)
