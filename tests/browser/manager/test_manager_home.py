"""The manager lands on her home, not on the patient list or the Django admin, and reads the clinic from it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import blocking_violations
from tests.factories import ChairFactory, ClosureFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_manager_lands_on_her_home_with_manage_in_the_navigation(boss):
    expect(boss.get_by_role("heading", level=1)).to_have_text("Manage the clinic")
    expect(boss.get_by_test_id("nav-manage")).to_have_attribute("aria-current", "page")
    expect(boss.get_by_test_id("nav-admin")).to_have_count(0)
    expect(boss.get_by_test_id("home-admin-link")).to_have_count(0)


def test_her_name_and_sign_out_stay_whole_in_the_top_bar(boss, width):
    # A manager has more pages than the desk: at 1024 px the name goes to a second line, not cut to "M…".
    name = boss.locator(".whoami > span")
    expect(name).to_have_text("Mia Moreno · Manager")
    assert name.evaluate("element => element.scrollWidth <= element.clientWidth")
    brand = boss.locator(".brand")
    assert brand.evaluate("element => element.scrollWidth <= element.clientWidth")
    sign_out = boss.get_by_role("button", name="Sign out").bounding_box()
    assert sign_out["x"] + sign_out["width"] <= width


def test_the_home_gives_each_sites_facts_and_opens_its_page(boss, site, site_today, width):
    # given two chairs in service and one out, and a closure next week
    ChairFactory(location=site, name="Chair 1")
    ChairFactory(location=site, name="Chair 2")
    ChairFactory(location=site, name="Chair 3", active=False)
    ClosureFactory(location=site, date=site_today + timedelta(days=7), reason="Staff training")
    # when the manager looks at her home
    boss.reload()
    card = boss.get_by_test_id("home-site").filter(has_text="Midtown")
    # then
    expect(card.get_by_test_id("home-site-chairs")).to_have_text("2")
    expect(card.get_by_test_id("home-site-today")).to_contain_text("00:00–23:59")
    expect(card.get_by_test_id("home-site-closure")).to_contain_text("Staff training")
    expect(card.get_by_test_id("home-site-rems")).to_have_text("Certified")
    expect(boss.get_by_test_id("home-site-texts")).to_have_text("Midtown: the defaults")
    expect(boss.get_by_test_id("home-staff-count").first).to_contain_text("Front desk")
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h3-home-{width}.png", full_page=True)
    # when she opens the site
    card.get_by_role("link", name="Midtown").click()
    # then
    expect(boss.get_by_test_id("site-heading")).to_contain_text("Midtown")
