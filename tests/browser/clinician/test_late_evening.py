"""The clinician's pages at 23:30 in New York, when it is already tomorrow in UTC, at 1440 and 1024 pixels.

My schedule and the observation board name the site's today; tomorrow's chart says when its check-in
opens instead of offering a form the clinic would refuse, and a past day's booking never checked in
says so. My schedule's days line their columns up, each time on one line.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from scheduling.models import SessionStatus
from tests.browser.accessibility import blocking_violations
from tests.browser.clinician.chart_steps import book_started, chart_before
from tests.browser.clinician.clinic_states import new_course
from tests.browser.clinician.conftest import CLINICIAN_PASSWORD
from tests.browser.conftest import LANDS_ON_SCHEDULE, sign_in
from tests.browser.front_desk.conftest import WIDTHS, local_clock  # noqa: F401 (the fixture, for this module)
from tests.factories import ChairFactory, SessionRowFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Each header's left edge and each time cell's lines, in every day's table of my schedule.
SCHEDULE_LAYOUT = """() => [...document.querySelectorAll("table.schedule")].map(table => ({
  columns: [...table.querySelectorAll("thead th")].map(th => Math.round(th.getBoundingClientRect().left)),
  timeLines: [...table.querySelectorAll("tbody tr td:first-child")].map(td => {
    const range = document.createRange();
    range.selectNodeContents(td);
    return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size;
  }),
}))"""


@pytest.fixture
def site(site):
    """The site in New York: at 23:30 there it is 04:30 the next day in UTC."""
    site.time_zone = "America/New_York"
    site.save()
    return site


@pytest.fixture
def late_evening(local_clock, site) -> date:  # noqa: F811 (local_clock is the front desk's fixture)
    """Today at the site, with the server's clock at 23:30 there; ask for it before the browser signs in."""
    return site.local_date(local_clock(time(23, 30)))


def _day_words(day: date) -> str:
    return f"{day:%A, %B} {day.day}"


@pytest.fixture
def evening_clinic(late_evening, site, desk_user, clinician_user, book):
    """Today: Dana discharged, Chloe booked at 21:00 and not yet in; Esther booked tomorrow at 09:00."""
    today, tomorrow = late_evening, late_evening + timedelta(days=1)
    chairs = [ChairFactory(location=site, name=f"Chair {number}") for number in (1, 2, 3)]
    discharged = book_started(new_course("Dana", today, desk_user), chairs[0], desk_user, minutes_ago=200)
    chart_before(discharged, clinician_user, dose_at=10, discharge_at=140)
    waiting = book_started(new_course("Chloe", today, desk_user), chairs[1], desk_user, minutes_ago=150)
    tomorrows = book(chairs[2], datetime.combine(tomorrow, time(9), tzinfo=site.zone),
                     course=new_course("Esther", tomorrow, desk_user), clinician=clinician_user)
    return {"discharged": discharged, "waiting": waiting, "tomorrow": tomorrows}


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def late_nurse(request, evening_clinic, new_browser, clinician_user):
    """The clinician signed in at 23:30, ``request.param`` pixels wide, on her schedule of the evening's clinic."""
    page = new_browser()
    page.set_viewport_size({"width": request.param, "height": 900})
    sign_in(page, clinician_user.username, CLINICIAN_PASSWORD, lands_on=LANDS_ON_SCHEDULE)
    return page


def test_my_schedule_and_the_observation_board_name_the_sites_today_at_2330(late_nurse, late_evening,
                                                                            evening_clinic, site):
    today, tomorrow = late_evening, late_evening + timedelta(days=1)
    assert timezone.now().date() == tomorrow  # in UTC it is already tomorrow
    page = late_nurse
    # my schedule, where she lands, is today's at the site, with today's sessions under "Today"
    expect(page.get_by_test_id("schedule-day").first).to_contain_text(_day_words(today))
    expect(page.get_by_role("heading", name=re.compile(r"^Today"))).to_be_visible()
    todays_table = page.locator("table[data-testid=schedule-day]")
    for session in (evening_clinic["discharged"], evening_clinic["waiting"]):
        expect(todays_table.locator(f'[data-session-id="{session.pk}"]')).to_be_visible()
    expect(todays_table.locator(f'[data-session-id="{evening_clinic["tomorrow"].pk}"]')).to_have_count(0)
    later = page.get_by_test_id(f"schedule-{tomorrow:%Y-%m-%d}")
    expect(later.locator(f'[data-session-id="{evening_clinic["tomorrow"].pk}"]')).to_be_visible()
    expect(page.get_by_role("heading", name=f"{tomorrow:%A, %b} {tomorrow.day}")).to_be_visible()
    # and its days' tables line their columns up, each time on one line
    tables = page.evaluate(SCHEDULE_LAYOUT)
    assert len(tables) == 2, tables
    assert tables[0]["columns"] == tables[1]["columns"], tables
    assert all(lines == 1 for table in tables for lines in table["timeLines"]), tables
    assert blocking_violations(page) == []

    # the observation board is today's too
    page.get_by_test_id("schedule-observation-link").click()
    expect(page.locator("#observation-title")).to_contain_text(_day_words(today))
    expect(page.locator("#observation-title")).not_to_contain_text(_day_words(tomorrow))


def test_tomorrows_chart_says_when_check_in_opens_instead_of_offering_it(late_nurse, late_evening, evening_clinic,
                                                                        site, desk_user):
    today, tomorrow = late_evening, late_evening + timedelta(days=1)
    page = late_nurse
    # when the clinician opens tomorrow's chart from her schedule at 23:30
    page.locator(f'[data-session-id="{evening_clinic["tomorrow"].pk}"]').get_by_test_id(
        "schedule-chart-link").click()
    # then it says the check-in opens tomorrow, and offers no check-in the clinic would refuse
    notice = page.get_by_test_id("check-in-not-today")
    expect(notice).to_contain_text(f"Check-in opens on the day of the session, {_day_words(tomorrow)}")
    expect(notice).to_contain_text(f"today at {site.name} is {_day_words(today)}")
    expect(page.get_by_test_id("check-in-form")).to_have_count(0)
    expect(page.locator('[data-testid=chart-step][data-step="check-in"]')).to_have_text(
        re.compile(rf"1\. Check-in: on {tomorrow:%a %b} {tomorrow.day}$"))
    expect(page.locator("[aria-current=step]")).to_have_count(0)
    expect(page.get_by_test_id("phq9-form")).to_be_hidden()  # due at the visit, not the evening before
    assert blocking_violations(page) == []
    page.screenshot(path=f"/tmp/h5-tomorrows-chart-{page.viewport_size['width']}.png", full_page=True)

    # while today's late arrival can still be checked in at 23:30
    page.goto(f"/sessions/{evening_clinic['waiting'].pk}/chart/")
    expect(page.get_by_test_id("check-in-form")).to_be_visible()
    expect(page.get_by_test_id("check-in-not-today")).to_have_count(0)
    expect(page.locator("[aria-current=step]")).to_have_text(re.compile(r"^1\. Check-in: next$"))

    # and a booking of yesterday never checked in says its day has passed
    missed = SessionRowFactory(chair=ChairFactory(location=site, name="Bay"), status=SessionStatus.BOOKED,
                               start=site.at(today - timedelta(days=1), time(10)))
    page.goto(f"/sessions/{missed.pk}/chart/")
    expect(page.get_by_test_id("check-in-not-today")).to_contain_text(
        f"This session's day, {_day_words(today - timedelta(days=1))}, has passed without a check-in")
    expect(page.get_by_test_id("check-in-form")).to_have_count(0)
    expect(page.locator('[data-testid=chart-step][data-step="check-in"]')).to_have_text(
        re.compile(r"1\. Check-in: not checked in$"))
