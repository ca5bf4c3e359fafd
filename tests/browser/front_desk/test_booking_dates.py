"""Dates on the booking pages are the site's, not UTC's: at 23:30 in New York it is still today there.

``late_evening`` puts the server's clock at 23:30 at the site before the desk
signs in (in UTC it is already tomorrow). Each test runs at 1440 and 1024 pixels.
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from playwright.sync_api import expect

from protocols.models import TreatmentCourse
from scheduling.pages import day_words

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def late_evening(local_clock, site):
    """23:30 at the site, today; ask for it before ``desk``."""
    instant = local_clock(time(23, 30))
    return site.local_date(instant)


def test_at_half_past_eleven_at_night_a_course_starts_today_and_is_booked_from_today(late_evening, desk, patient,
                                                                                     chair, site, width):
    # given
    today = late_evening
    desk.goto(f"/patients/{patient.pk}/start-course/")

    # then: the start date is today at the site
    expect(desk.get_by_label("Start date")).to_have_value(today.isoformat())
    desk.screenshot(path=f"/tmp/h2-start-course-{width}.png", full_page=True)

    # when
    desk.get_by_label("Protocol").select_option(label="Esketamine for treatment-resistant depression "
                                                      "(esketamine-trd)")
    desk.get_by_role("button", name="Start course").click()

    # then: session 1 is due from today; today's times have passed, so the grid offers tomorrow
    course = TreatmentCourse.objects.get(patient=patient)
    assert course.start_date == today
    desk.get_by_test_id("book-next").click()
    expect(desk.get_by_test_id("due-window")).to_have_attribute("data-earliest", today.isoformat())
    grid = desk.get_by_test_id("slot-grid")
    expect(grid.get_by_test_id("grid-window")).to_contain_text(f"target {day_words(today)}.")
    expect(grid.locator(f'[data-testid=grid-slot][data-start^="{today.isoformat()}"]')).to_have_count(0)
    tomorrow = (today + timedelta(days=1)).isoformat()  # shown: the grid opens on the week with time left
    expect(grid.locator(f'[data-testid=grid-slot][data-start^="{tomorrow}T00:00"]')).to_have_count(1)
    expect(desk.get_by_text("The window has passed")).to_have_count(0)
    desk.screenshot(path=f"/tmp/h2-book-next-late-{width}.png", full_page=True)
