"""A site's page in a real browser at 1440 and 1024 pixels: chairs, hours and closures, and a refusal beside its field.

Rules and statuses without a browser: tests/scheduling/pages/test_site_settings.py.
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import blocking_violations
from tests.factories import ChairFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_manager_adds_a_chair_sets_hours_and_closes_a_day(boss, site, site_today, width):
    # given the site's page
    boss.goto(f"/manage/sites/{site.id}/")
    expect(boss.get_by_test_id("no-chairs")).to_be_visible()
    assert blocking_violations(boss) == []

    # when she adds an infusion chair
    boss.get_by_test_id("chair-new-name").fill("Infusion 1")
    boss.get_by_test_id("chair-new-esketamine").uncheck()
    boss.get_by_test_id("chair-new-pump").check()
    boss.get_by_role("button", name="Add the chair").click()
    # then
    expect(boss.get_by_test_id("site-done")).to_have_text("Chair added.")
    chair = boss.locator('[data-testid="chair"][data-chair="Infusion 1"]')
    expect(chair.get_by_test_id("chair-pump")).to_be_checked()
    expect(chair.get_by_test_id("chair-esketamine")).not_to_be_checked()

    # when she closes Sundays and opens Mondays 08:00-18:00
    sunday = boss.locator('[data-testid="hours-row"][data-weekday="6"]')
    sunday.get_by_test_id("closed").check()
    boss.get_by_label("Monday opens").fill("08:00")
    boss.get_by_label("Monday closes").fill("18:00")
    boss.get_by_role("button", name="Save opening hours").click()
    # then
    expect(boss.get_by_test_id("site-done")).to_have_text("Opening hours saved.")
    expect(boss.get_by_label("Monday opens")).to_have_value("08:00")
    expect(boss.get_by_label("Closed on Sundays")).to_be_checked()

    # when she closes the site a week from today
    day = site_today + timedelta(days=7)
    boss.get_by_test_id("closure-date").fill(day.isoformat())
    boss.get_by_test_id("closure-reason").fill("Staff training")
    boss.get_by_role("button", name="Add the closure").click()
    # then
    expect(boss.get_by_test_id("site-done")).to_contain_text("Closure added")
    expect(boss.get_by_test_id("closure")).to_contain_text("Staff training")
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h3-site-{width}.png", full_page=True)


def test_a_refused_change_says_why_beside_its_field_and_lists_the_sessions(boss, site, course, book, site_today,
                                                                           width):
    # given a session booked tomorrow at 10:00 on Chair 1
    chair = ChairFactory(location=site, name="Chair 1")
    session = book(chair, site.at(site_today + timedelta(days=1), time(10)), course=course)
    boss.goto(f"/manage/sites/{site.id}/")

    # when she takes the chair out of service
    boss.get_by_role("button", name="Take out of service (Chair 1)").click()
    # then the refusal sits beside the button, with the session it would strand, and the chair stays in service
    error = boss.locator(f"#chair-{chair.id}-active-error")
    expect(error).to_contain_text("Chair 1 has 1 booked session: move or cancel them first.")
    expect(boss.get_by_role("button", name="Take out of service (Chair 1)")).to_have_attribute(
        "aria-describedby", f"chair-{chair.id}-active-error")
    expect(boss.get_by_test_id("session-in-the-way")).to_contain_text(session.patient.display_name)
    expect(boss.get_by_test_id("session-in-the-way").get_by_role("link")).to_have_attribute(
        "href", f"/sessions/{session.id}/")
    expect(boss.get_by_test_id("chair-state")).to_have_text("In service · 1 booked ahead")
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h3-site-refused-{width}.png", full_page=True)

    # when she closes the site on that day
    boss.get_by_test_id("closure-date").fill((site_today + timedelta(days=1)).isoformat())
    boss.get_by_test_id("closure-reason").fill("Flood")
    boss.get_by_role("button", name="Add the closure").click()
    # then the date is refused beside its field, the reason typed kept
    expect(boss.locator("#closure-date-error")).to_contain_text("1 booked session: move or cancel them first.")
    expect(boss.get_by_test_id("closure-reason")).to_have_value("Flood")
    expect(boss.get_by_test_id("closure")).to_have_count(0)


def test_a_manager_adds_a_site_from_her_home_after_a_refused_name(boss, site, width):
    # given the list of sites, opened from the home
    boss.get_by_test_id("home-sites-link").click()
    expect(boss.get_by_test_id("site-row")).to_have_count(1)
    assert blocking_violations(boss) == []
    boss.get_by_test_id("site-new").click()

    # when she names the new site with a drug's name
    boss.get_by_test_id("site-name").fill("Ketamine Lakeview")
    boss.get_by_test_id("site-time-zone").select_option("America/Chicago")
    boss.get_by_test_id("site-phone").fill("(312) 555-0100")
    boss.get_by_test_id("site-create").click()
    # then the name is refused beside its field, what she typed kept
    expect(boss.locator("#site-name-error")).to_contain_text("ketamine")
    expect(boss.get_by_test_id("site-time-zone")).to_have_value("America/Chicago")
    expect(boss.get_by_test_id("site-phone")).to_have_value("(312) 555-0100")
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h3-site-new-refused-{width}.png", full_page=True)

    # when she gives it a plain name
    boss.get_by_test_id("site-name").fill("Lakeview")
    boss.get_by_test_id("site-create").click()
    # then she is on its page, invited to add chairs and hours, its phone as dialled
    expect(boss.get_by_test_id("site-done")).to_contain_text("Site added")
    expect(boss.get_by_test_id("site-heading")).to_contain_text("Lakeview")
    expect(boss.get_by_test_id("site-phone")).to_have_value("(312) 555-0100")
    expect(boss.get_by_test_id("no-chairs")).to_be_visible()
