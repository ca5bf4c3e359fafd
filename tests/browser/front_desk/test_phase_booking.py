"""Booking a phase at a desk: suggested on the site's open days, previewed, an alternative in one click, confirmed.

The site here is closed on Sundays (open Monday to Saturday 08:00-18:00). The
course starts on the next Thursday, so induction's twice-weekly cadence from a
Thursday would reach for Sunday; the suggestion must be Monday and Thursday.
Each test runs at 1440 and 1024 pixels.
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from playwright.sync_api import expect

from protocols.models import Protocol
from scheduling.models import Session
from tests.browser.accessibility import blocking_violations
from tests.factories import TreatmentCourseFactory, opening_hours

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

THURSDAY = 3


@pytest.fixture
def site_hours():
    return opening_hours(range(6), time(8), time(18))


@pytest.fixture
def thursday_course(patient, site_today, desk_user):
    """An esketamine-trd course starting on the first Thursday after tomorrow: session 1's target day."""
    start = site_today + timedelta(days=1)
    start += timedelta(days=(THURSDAY - start.weekday()) % 7)
    return TreatmentCourseFactory(patient=patient, protocol=Protocol.objects.get(slug="esketamine-trd"),
                                  start_date=start, created_by=desk_user)


def test_the_phase_is_suggested_on_open_days_an_alternative_is_one_click_and_booking_waits_for_a_fit(
        desk, thursday_course, chair, site, book, width):
    # given: the second session's day (the Monday after) is taken at 09:00 on the only chair
    first = thursday_course.start_date
    book(chair, site.at(first + timedelta(days=4), time(9)))
    desk.goto(f"/courses/{thursday_course.pk}/book-phase/")

    # then: Thursday and Monday from the target day at 09:00; Sunday is shown closed and left out
    expect(desk.get_by_label("First date")).to_have_value(first.isoformat())
    expect(desk.get_by_label("Time (local)")).to_have_value("09:00")
    expect(desk.get_by_label("Thursday")).to_be_checked()
    expect(desk.get_by_label("Monday")).to_be_checked()
    expect(desk.get_by_label("Sunday (closed at Midtown)")).not_to_be_checked()
    expect(desk.get_by_role("button", name="Book all")).to_have_count(0)

    # when
    desk.get_by_role("button", name="Preview").click()

    # then: one problem, with its nearest free time as a button
    summary = desk.get_by_test_id("preview-summary")
    expect(summary).to_have_attribute("data-problems", "1")
    alternative = desk.get_by_test_id("use-alternative")
    expect(alternative).to_have_count(1)
    expect(desk.get_by_role("button", name="Book all")).to_have_count(0)
    assert blocking_violations(desk) == []
    desk.screenshot(path=f"/tmp/h2-phase-problem-{width}.png", full_page=True)

    # when: one click on the alternative
    alternative.click()

    # then: the series planned again at that time; it fits and may now be booked
    expect(summary).to_have_attribute("data-problems", "0")
    expect(desk.get_by_label("Time (local)")).not_to_have_value("09:00")
    desk.screenshot(path=f"/tmp/h2-phase-fits-{width}.png", full_page=True)
    assert not Session.objects.filter(course=thursday_course).exists(), "a preview must not book anything"

    # when
    desk.get_by_role("button", name="Book all 8 sessions").click()

    # then
    expect(desk.get_by_test_id("messages")).to_contain_text("Booked 8 sessions")
    days = [session.local_date for session in Session.objects.filter(course=thursday_course).order_by("start")]
    assert len(days) == 8 and all(day.weekday() != 6 for day in days)
