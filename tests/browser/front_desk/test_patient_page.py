"""The patient page at the desk: today's sessions to check in, tables that fit their cards, phones as dialled.

Runs at both desk widths (``width``); the server's clock is set to a wall-clock
time at the site (``local_clock``) so "today" is the site's.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def morning(local_clock, site) -> datetime:
    """09:00 at the site today (asked for before ``desk`` signs in, so the sign-in is not hours old)."""
    return local_clock(time(9, 0))


@pytest.fixture
def today_at_ten(morning, book, chair, patient, desk_user, site):
    """Session 1 of a new esketamine course for ``patient``, today at 10:00 at the site."""
    return book(chair, datetime.combine(morning.date(), time(10), tzinfo=site.zone), patient=patient, by=desk_user)


@pytest.fixture
def later(today_at_ten, book, chair, desk_user, site):
    """Session 2 of the same course, 3 days later at 11:00 (not today: nothing to check in yet)."""
    day = site.local(today_at_ten.start).date() + timedelta(days=3)
    return book(chair, datetime.combine(day, time(11), tzinfo=site.zone), course=today_at_ten.course, by=desk_user)


def test_a_session_of_today_links_to_its_check_in(today_at_ten, later, desk, patient, width):
    # when
    desk.goto(f"/patients/{patient.pk}/")

    # then: only today's session offers a check-in, and it opens the session's check-in form
    rows = desk.get_by_test_id("upcoming-session")
    expect(rows).to_have_count(2)
    today_row = desk.locator(f'[data-testid=upcoming-session][data-session-id="{today_at_ten.pk}"]')
    later_row = desk.locator(f'[data-testid=upcoming-session][data-session-id="{later.pk}"]')
    expect(later_row.get_by_test_id("session-check-in")).to_have_count(0)
    link = today_row.get_by_test_id("session-check-in")
    expect(link).to_have_attribute("href", f"/sessions/{today_at_ten.pk}/#check-in")
    desk.screenshot(path=f"/tmp/h3-patient-page-{width}.png", full_page=True)
    link.click()
    expect(desk).to_have_url(re.compile(rf"/sessions/{today_at_ten.pk}/#check-in$"))


def test_the_upcoming_sessions_fit_their_card(today_at_ten, later, desk, patient, width):
    # when
    desk.goto(f"/patients/{patient.pk}/")

    # then: no column is cut off or pushed past the card's edge, and the page does not scroll sideways
    table = desk.get_by_test_id("upcoming-sessions")
    card = desk.locator("section", has=table)
    table_box, card_box = table.bounding_box(), card.bounding_box()
    assert table_box["x"] + table_box["width"] <= card_box["x"] + card_box["width"] + 0.5
    assert desk.evaluate("document.documentElement.scrollWidth") <= width
    for row in (today_at_ten, later):
        cells = desk.locator(f'[data-testid=upcoming-session][data-session-id="{row.pk}"] td')
        for index in range(cells.count()):
            box = cells.nth(index).bounding_box()
            assert box["x"] + box["width"] <= card_box["x"] + card_box["width"] + 0.5


def test_the_patients_phones_read_as_dialled(desk, patient, width):
    # given
    patient.phone, patient.emergency_contact_name, patient.emergency_contact_phone = (
        "+13125552000", "Sam Okonkwo", "+442071838750")
    patient.save()

    # when
    desk.goto(f"/patients/{patient.pk}/")

    # then: the clinic's own country without its code; another country with it
    expect(desk.get_by_test_id("patient-phone")).to_have_text("(312) 555-2000")
    expect(desk.get_by_test_id("patient-contact")).to_contain_text("Sam Okonkwo +44 20 7183 8750")
    expect(desk.get_by_test_id("patient-contact")).not_to_contain_text("+1312")
