"""The day sheet, printed: one site's day and one clinician's, with phones and rides home, and no navigation.

The clock is 08:00 at the site (``local_clock``), so the day's sessions are
booked ahead of it through the booking service and one is checked in.
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from playwright.sync_api import expect

from clinic.roles import CLINICIAN
from protocols.models import Protocol
from scheduling.charting import services as charting
from tests.browser.accessibility import blocking_violations
from tests.factories import ChairFactory, PatientFactory, TreatmentCourseFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CHECKLIST = {"fasted_food_2h": True, "fasted_drink_30m": True, "nasal_medicines_ok": True, "ride_home_arranged": True}


@pytest.fixture
def day_of_sessions(local_clock, site, chair, desk_user, book):
    """Three sessions today at the site: two with Dr Lee (the first checked in), one with Nurse Park."""
    now = local_clock(time(8, 0))
    today = site.local_date(now)
    lee = UserFactory(username="dr_lee", first_name="Jo", last_name="Lee", roles=[CLINICIAN])
    park = UserFactory(username="n_park", first_name="Kim", last_name="Park", roles=[CLINICIAN])
    site.staff.add(lee, park)
    other_chair = ChairFactory(location=site, name="Chair 2", serves_esketamine=True)
    protocol = Protocol.objects.get(slug="esketamine-trd")
    people = [PatientFactory(first_name=first, last_name=last, phone=phone) for first, last, phone in (
        ("Ada", "Quinn", "+13125552000"), ("Ben", "Ortiz", "+13125552001"), ("Cy", "Moss", "+13125552002"))]
    sessions = []
    for person, on, start, clinician in ((people[0], chair, now + timedelta(minutes=30), lee),
                                         (people[1], other_chair, now + timedelta(hours=1), park),
                                         (people[2], chair, now + timedelta(hours=5), lee)):
        course = TreatmentCourseFactory(patient=person, protocol=protocol, start_date=today, created_by=desk_user)
        sessions.append(book(on, start, course=course, by=desk_user, clinician=clinician))
    charting.check_in(by=desk_user, session=sessions[0], **CHECKLIST)
    return {"sessions": sessions, "lee": lee, "park": park, "today": today}


def test_the_site_day_sheet_prints_the_whole_day_without_navigation(day_of_sessions, desk, site, width):
    # given the board of today
    desk.get_by_test_id("board-day-sheet").click()
    rows = desk.get_by_test_id("day-sheet-row")

    # then: every session in time order, with what the floor needs
    expect(rows).to_have_count(3)
    first = rows.nth(0)
    expect(first).to_contain_text("08:30–11:00")
    expect(first).to_contain_text("Chair 1")
    expect(first).to_contain_text("Ada Quinn")
    expect(first).to_contain_text("esketamine-trd · session 1")
    expect(first).to_contain_text("Checked in")
    expect(first.get_by_test_id("day-sheet-phone")).to_have_text("(312) 555-2000")
    expect(first.get_by_test_id("day-sheet-ride")).to_have_text("Arranged (checked in)")
    expect(rows.nth(1).get_by_test_id("day-sheet-ride")).to_have_text("Ask at check-in")
    expect(rows.nth(1)).to_contain_text("Kim Park")

    assert blocking_violations(desk) == []

    # when printed
    desk.emulate_media(media="print")
    desk.screenshot(path=f"/tmp/h1-day-sheet-print-{width}.png", full_page=True)

    # then: no navigation or buttons on paper, every row there
    expect(desk.locator("header.top")).to_be_hidden()
    expect(desk.get_by_test_id("day-sheet-print")).to_be_hidden()
    for row in rows.all():
        expect(row).to_be_visible()
    pdf = desk.pdf(format="Letter", landscape=True)
    assert pdf.startswith(b"%PDF")


def test_a_clinicians_day_sheet_lists_only_their_sessions(day_of_sessions, desk, width):
    # given
    desk.get_by_test_id("board-day-sheet").click()

    # when
    desk.get_by_test_id("day-sheet-clinician").filter(has_text="Jo Lee").click()

    # then
    expect(desk.get_by_test_id("day-sheet-title")).to_contain_text("Jo Lee")
    rows = desk.get_by_test_id("day-sheet-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Ada Quinn")
    expect(rows.nth(1)).to_contain_text("Cy Moss")
    desk.screenshot(path=f"/tmp/h1-day-sheet-clinician-{width}.png", full_page=True)
    assert blocking_violations(desk) == []
