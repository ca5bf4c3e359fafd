"""Browser tests: Playwright drives the machine's Chromium against pytest-django's live server.

Every test is transactional (the live server answers from another thread, so
the rows a test builds must be committed) with ``serialized_rollback`` so
the rows the data migrations install (protocols, role groups) are put back
after each test's flush. Each test builds its own clinic: nothing here depends
on demo data. "Now" is the real time, so dates are picked relative to it.
"""

from __future__ import annotations

import os
import re
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from django.db import connections
from django.utils import timezone

from clinic.roles import FRONT_DESK
from protocols.models import Protocol, TreatmentCourse
from tests.factories import PatientFactory, TreatmentCourseFactory, UserFactory, opening_hours

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
DESK_PASSWORD = "front-desk-browser-2026"
ESKETAMINE_TRD = "Esketamine for treatment-resistant depression (esketamine-trd)"
# Where each role lands after signing in: the front desk on today's board, clinicians on their schedule.
LANDS_ON_BOARD = re.compile(r"/board/\d+/\d{4}-\d\d-\d\d/$")
LANDS_ON_SCHEDULE = re.compile(r"/schedule/$")

# --- the browser ------------------------------------------------------------------------------------


# Browser tests run in this many lanes, each on one xdist worker: a test module stays in its lane (its
# fixtures and pages are alike), lanes are balanced by test count. Two lanes, two Chromiums, on two cores:
# more would miss the pages' timeouts; one lane made the browser tests alone last longer than the rest.
BROWSER_LANES = 2


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items):
    """Put each browser test module in a lane (an ``xdist_group``), the same on every worker."""
    here = Path(__file__).parent
    by_module: dict[Path, list] = {}
    for item in items:
        if item.path.is_relative_to(here):
            by_module.setdefault(item.path, []).append(item)
    lanes = [0] * BROWSER_LANES
    # Largest modules first, each to the emptiest lane; ties by path, so every worker computes the same lanes.
    for _path, module_items in sorted(by_module.items(), key=lambda entry: (-len(entry[1]), str(entry[0]))):
        lane = lanes.index(min(lanes))
        lanes[lane] += len(module_items)
        for item in module_items:
            item.add_marker(pytest.mark.xdist_group(f"browser-{lane}"))


@pytest.fixture
def chromium(transactional_db):
    """The system Chromium, headless; skipped where it is missing, except on CI where that is a failure.

    One browser per test, started after the test's database is set up and stopped
    before it is flushed. Playwright's sync API keeps an asyncio loop running in
    this thread while the browser is open, and inside a running loop Django keys
    its connections by context, not thread: the test body gets a connection of
    its own (closed here), and Django refuses ORM calls as "async unsafe" unless
    told otherwise. The tests' ORM calls between page actions are synchronous and
    safe, so that guard is lifted, only while the browser runs. Keeping the
    database's setup and flush outside the loop is what lets ``serialized_rollback``
    put the data migrations' rows (protocols, role groups) back after each test.
    """
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: `apt-get install -y chromium` to run the browser tests"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            connections.close_all()  # the connections opened inside the loop's context


@pytest.fixture
def open_pages():
    """Every page a test opened, in order: the failure hook screenshots them."""
    return []


@pytest.fixture
def new_browser(chromium, live_server, open_pages):
    """``new_browser()`` opens a fresh browser window with its own cookies (another desk), not signed in."""
    contexts = []

    def open_window():
        context = chromium.new_context(viewport=VIEWPORT, base_url=live_server.url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        open_pages.append(page)
        return page

    yield open_window
    for context in contexts:
        context.close()


@pytest.fixture
def new_desk(new_browser):
    """``new_desk(user)`` opens a fresh browser signed in as ``user``, on the board it lands on (or ``lands_on``)."""

    def open_desk(user, password: str = DESK_PASSWORD, lands_on: re.Pattern = LANDS_ON_BOARD):
        page = new_browser()
        sign_in(page, user.username, password, lands_on=lands_on)
        return page

    return open_desk


@pytest.fixture
def page(new_desk, desk_user):
    """A browser signed in as the front desk, on the board it lands on."""
    return new_desk(desk_user)


def sign_in(page, username: str, password: str, lands_on: re.Pattern = LANDS_ON_BOARD) -> None:
    """Sign in through the form and wait for the page the role lands on (``LANDS_ON_SCHEDULE`` for clinicians)."""
    from playwright.sync_api import expect

    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(lands_on)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, save ``test-output/screenshots/<test>.png`` of every page the test had open."""
    outcome = yield
    report = outcome.get_result()
    pages = item.funcargs.get("open_pages") if hasattr(item, "funcargs") else None
    if not report.failed or not pages:
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", item.name)
    for number, open_page in enumerate(pages, start=1):
        path = SCREENSHOTS / (f"{name}.png" if number == 1 else f"{name}-{number}.png")
        try:
            open_page.screenshot(path=str(path), full_page=True)
        except Exception as error:  # a closed page or a dead browser must not hide the test's own failure
            report.sections.append(("screenshot", f"could not save {path}: {error}"))
        else:
            report.sections.append(("screenshot", str(path)))


# --- the clinic -------------------------------------------------------------------------------------


@pytest.fixture
def site_hours():
    """``site`` (tests/conftest.py) opens every day 00:00-23:59, so any real time of day has free slots and
    falls inside the day board (which draws its "now" line only while the site is open)."""
    return opening_hours(range(7), time(0), time(23, 59))


@pytest.fixture
def desk_user(site):
    """A front-desk user who works at ``site`` and signs in with ``DESK_PASSWORD``."""
    user = UserFactory(username="maria.desk", first_name="Maria", last_name="Desk", roles=[FRONT_DESK])
    user.set_password(DESK_PASSWORD)
    user.save()
    site.staff.add(user)
    return user


@pytest.fixture
def second_desk_user(site):
    user = UserFactory(username="tom.desk", first_name="Tom", last_name="Desk", roles=[FRONT_DESK])
    user.set_password(DESK_PASSWORD)
    user.save()
    site.staff.add(user)
    return user


@pytest.fixture
def site_today(site) -> date:
    """Today at the site (New York), which may differ from today in UTC."""
    return site.local_date(timezone.now())


@pytest.fixture
def patient(db):
    """A REMS-enrolled adult with major depressive disorder (the factory's defaults)."""
    return PatientFactory(first_name="Harriet", last_name="Okonkwo")


@pytest.fixture
def course(patient, site_today, desk_user) -> TreatmentCourse:
    """An esketamine-trd course starting tomorrow at the site: session 1 is due from tomorrow, never in the past."""
    return TreatmentCourseFactory(patient=patient, protocol=Protocol.objects.get(slug="esketamine-trd"),
                                  start_date=site_today + timedelta(days=1), created_by=desk_user)
