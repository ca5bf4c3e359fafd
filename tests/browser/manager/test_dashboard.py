"""The clinic's numbers in a real browser at 1440 and 1024 pixels: every chart drawn, the tables, another period
and site, a refused period, no CSP report, no accessibility violation; and on paper, one or two pages.

The figures are a known November (tests/scheduling/reports/numbers_sample.py) for whatever period and site are
asked, so every chart has marks to find; the figures' own counting is tested in tests/scheduling/reports/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from scheduling.models import Location
from scheduling.pages import numbers as numbers_page
from tests.browser.accessibility import blocking_violations
from tests.browser.conftest import sign_in
from tests.browser.manager.conftest import LANDS_ON_MANAGE, MANAGER_PASSWORD
from tests.factories import LocationFactory
from tests.scheduling.reports.numbers_sample import november, tables_with_charts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
# Chromium writes each page of a PDF as an object of this type ("/Pages" is the tree that holds them).
PDF_PAGE = re.compile(rb"/Type\s*/Page\b(?!s)")


@pytest.fixture
def known_numbers(monkeypatch):
    """November's numbers under the label of the period and the name of the site asked for."""

    def clinic_numbers(*, period, location_id):
        location = Location.objects.get(pk=location_id) if location_id else None
        numbers = november(location={"id": location.pk, "name": location.name} if location else None)
        numbers["period"], numbers["previous_period"] = period.as_dict(), period.previous().as_dict()
        return numbers

    monkeypatch.setattr(numbers_page, "clinic_numbers", clinic_numbers)


def watch_for_csp_reports(page) -> list[str]:
    reports: list[str] = []
    page.on("console", lambda message: reports.append(message.text)
            if "Content Security Policy" in message.text else None)
    return reports


def test_the_manager_opens_her_numbers_from_her_home_and_finds_every_chart_drawn(boss, known_numbers, site, width):
    # given a second site, and the manager on her home, the numbers first on it
    LocationFactory(name="Westside", time_zone="America/Los_Angeles")
    reports = watch_for_csp_reports(boss)
    first_card = boss.locator(".home-sections > section").first
    expect(first_card).to_have_attribute("data-testid", "home-numbers")

    # when she opens them
    first_card.get_by_role("link", name="Open this month's numbers").click()

    # then every figure is there, each chart drawn with its marks, each table with its caption and CSV link
    expect(boss.get_by_test_id("numbers-heading")).to_contain_text("All sites")
    expect(boss.get_by_test_id("figure")).to_have_count(len(november()["figures"]))
    for figure, table in tables_with_charts(november()):
        block = boss.locator(f'[data-figure="{figure}"] [data-table="{table}"]')
        chart = block.locator('svg[role="img"]')
        expect(chart).to_have_count(1)
        assert chart.locator(".mark").count() > 0, (figure, table)
        assert chart.bounding_box()["width"] > 300, (figure, table)
        expect(block.locator("table caption")).to_be_visible()
        expect(block.get_by_test_id("csv-link")).to_have_attribute("href", re.compile(rf"/{figure}/{table}\.csv\?"))
    heat_cells = boss.locator('[data-table="by_weekday_hour"] svg .mark')
    expect(heat_cells).to_have_count(50)
    heat_words = boss.locator('[data-table="by_weekday_hour"] svg text')
    expect(heat_words.filter(has_text=re.compile(r"^20\.0$"))).to_have_count(10)  # Monday's ten hours
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/numbers-{width}.png", full_page=True)

    # when she asks for a week, by keyboard
    boss.get_by_label("Period", exact=True).select_option("week")
    boss.get_by_label("A day in it").fill("2026-11-04")
    boss.get_by_label("A day in it").press("Enter")
    # then
    expect(boss.get_by_test_id("numbers-heading")).to_contain_text("Week of 2 November 2026")
    expect(boss).to_have_url(re.compile(r"period=week&anchor=2026-11-04"))

    # when she steps back a week
    boss.get_by_test_id("previous-period").click()
    expect(boss.get_by_test_id("numbers-heading")).to_contain_text("Week of 26 October 2026")

    # when she picks one site
    boss.get_by_label("Site", exact=True).select_option(label="Midtown")
    boss.get_by_role("button", name="Show the numbers").click()
    expect(boss.get_by_test_id("numbers-heading")).to_contain_text("Midtown · Week of 26 October 2026")
    expect(boss.locator('[data-figure="texts"] svg .mark')).not_to_have_count(0)

    # when she asks for custom days that end before they start
    boss.get_by_label("Period", exact=True).select_option("custom")
    boss.get_by_label("First day").fill("2026-11-20")
    boss.get_by_label("Last day").fill("2026-11-10")
    boss.get_by_role("button", name="Show the numbers").click()
    # then the reason is beside the last day, and nothing else is shown
    expect(boss.get_by_test_id("numbers-error")).to_be_visible()
    expect(boss.get_by_test_id("error-end")).to_have_text("The last day must be on or after the first day.")
    expect(boss.get_by_label("Last day")).to_have_attribute("aria-invalid", "true")
    expect(boss.get_by_test_id("figure")).to_have_count(0)
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/numbers-refused-{width}.png", full_page=True)
    assert reports == []


def test_the_dashboard_prints_on_one_or_two_pages(new_browser, manager_user, known_numbers, site):
    # given the month's numbers for all sites
    page = new_browser()
    sign_in(page, manager_user.username, MANAGER_PASSWORD, lands_on=LANDS_ON_MANAGE)
    page.goto("/manage/numbers/?period=month&anchor=2026-11-01")
    expect(page.get_by_test_id("figure")).to_have_count(len(november()["figures"]))
    # when printed
    page.emulate_media(media="print")
    page.screenshot(path="/tmp/numbers-print.png", full_page=True)
    # then no form or navigation on paper, every chart there
    expect(page.get_by_test_id("numbers-form")).to_be_hidden()
    expect(page.locator("header.top")).to_be_hidden()
    for chart in page.locator('svg[role="img"]').all():
        expect(chart).to_be_visible()
    for paper in ("A4", "Letter"):
        pages = len(PDF_PAGE.findall(page.pdf(format=paper)))
        assert 1 <= pages <= 2, (paper, pages)
