"""My schedule looks ahead, clicked through at the two widths a clinician's screen has (1440 and 1024 pixels).

A session of hers is booked eight days from the site's today: the week after today shows it, a
day at a time or by the date picker, and "My week" opens the front desk's week filtered to her.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import blocking_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(params=(1440, 1024), ids=lambda width: f"{width}px")
def width(request) -> int:
    return request.param


@pytest.fixture
def ahead(book, chair, site, site_today, clinician_user):
    """A session of the clinician's eight days from the site's today, at 10:00 there."""
    day = site_today + timedelta(days=8)
    return book(chair, datetime.combine(day, time(10), tzinfo=site.zone), clinician=clinician_user)


def test_my_schedule_steps_ahead_by_week_and_day_and_jumps_by_date(nurse, width, ahead, site_today):
    nurse.set_viewport_size({"width": width, "height": 900})
    row = nurse.locator(f'[data-testid=schedule-row][data-session-id="{ahead.pk}"]')
    expect(nurse.get_by_role("heading", name=re.compile(r"^Today"))).to_be_visible()
    expect(row).to_have_count(0)
    assert blocking_violations(nurse) == []
    nurse.screenshot(path=f"/tmp/h8-schedule-today-{width}.png", full_page=True)
    # when she steps a week ahead, the session eight days away is in the six days after it
    nurse.get_by_test_id("schedule-next-week").click()
    week_later = site_today + timedelta(days=7)
    expect(nurse).to_have_url(re.compile(rf"\?day={week_later:%Y-%m-%d}$"))
    expect(row).to_be_visible()
    expect(row.get_by_text("Mine", exact=True)).to_be_visible()
    # a day further on it is the day itself
    nurse.get_by_test_id("schedule-next-day").click()
    expect(nurse.get_by_test_id("schedule-day").first).to_contain_text(
        f"{ahead.local_date:%B} {ahead.local_date.day}")
    expect(nurse.locator(f'[data-testid=schedule-day] [data-session-id="{ahead.pk}"]')).to_be_visible()
    nurse.screenshot(path=f"/tmp/h8-schedule-ahead-{width}.png", full_page=True)
    # back a day, then "Today"
    nurse.get_by_test_id("schedule-previous-day").click()
    expect(nurse).to_have_url(re.compile(rf"\?day={week_later:%Y-%m-%d}$"))
    nurse.get_by_test_id("schedule-today").click()
    expect(nurse.get_by_role("heading", name=re.compile(r"^Today"))).to_be_visible()
    # the date picker goes straight to the session's day
    nurse.get_by_label("Day", exact=True).fill(f"{ahead.local_date:%Y-%m-%d}")
    nurse.get_by_test_id("schedule-go").click()
    expect(nurse.locator(f'[data-testid=schedule-day] [data-session-id="{ahead.pk}"]')).to_be_visible()
    assert blocking_violations(nurse) == []


def test_my_week_is_the_week_view_filtered_to_me(nurse, width, ahead, site, clinician_user):
    nurse.set_viewport_size({"width": width, "height": 900})
    nurse.goto(f"/schedule/?day={ahead.local_date:%Y-%m-%d}")
    nurse.get_by_test_id("schedule-my-week").click()
    expect(nurse).to_have_url(re.compile(
        rf"/week/{site.pk}/{ahead.local_date:%Y-%m-%d}/\?clinician={clinician_user.pk}$"))
    expect(nurse.get_by_test_id("week-clinician")).to_have_value(str(clinician_user.pk))
    nurse.screenshot(path=f"/tmp/h8-my-week-{width}.png", full_page=True)
