"""The front desk's day, clicked through in a real browser: sign in, find, start, book, move, cancel, worklist.

Each test builds its clinic in ``conftest.py`` (a New York site open every day
00:00-23:45, one chair, a REMS-enrolled MDD patient, a front-desk user) and
uses the real clock: ``course`` starts tomorrow at the site, so its first
session is always due in the future.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from protocols.models import TreatmentCourse
from scheduling.models import Location, Session, SessionStatus, WorkItem, WorkKind
from scheduling.worklist.sweep import refresh_worklist
from tests.browser.conftest import ESKETAMINE_TRD
from tests.factories import PatientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# The board polls every 20 seconds; another desk's booking must show within 30.
BOARD_REFRESH_MS = 30_000


def board_path(site: Location, day) -> str:
    return f"/board/{site.pk}/{day.isoformat()}/"


def wall_clock(site: Location, instant: datetime) -> str:
    """``instant`` as the pages write it in ``data-start``: local time at the site, to the minute."""
    return site.local(instant).strftime("%Y-%m-%dT%H:%M")


def test_front_desk_signs_in_and_lands_on_todays_board(new_browser, desk_user, site, chair, site_today):
    # given
    page = new_browser()
    page.goto("/login/")

    # when
    page.get_by_label("Username").fill(desk_user.username)
    page.get_by_label("Password").fill("front-desk-browser-2026")
    page.get_by_role("button", name="Sign in").click()

    # then
    expect(page).to_have_url(re.compile(re.escape(board_path(site, site_today)) + "$"))
    for testid in ("nav-board", "nav-patients", "nav-worklist"):
        expect(page.get_by_test_id(testid)).to_be_visible()
    expect(page.get_by_test_id("board-now-line")).to_be_visible()


def test_typing_part_of_a_name_finds_the_patient_and_opens_their_page(page, patient):
    # given
    PatientFactory(first_name="Bernard", last_name="Lindqvist")
    page.get_by_test_id("nav-patients").click()

    # when: no Enter, the results follow the typing
    page.get_by_label("Find a patient by name, MRN or phone").press_sequentially("okonk", delay=50)

    # then
    results = page.get_by_test_id("patient-result")
    expect(results).to_have_count(1)
    expect(results).to_have_attribute("data-patient-id", str(patient.pk))
    results.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.pk}/$"))
    expect(page.get_by_test_id("patient-name")).to_contain_text("Harriet Okonkwo")


def test_front_desk_starts_an_esketamine_course_for_an_eligible_patient(page, patient, site_today):
    # given
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="Start a course").click()

    # when
    page.get_by_label("Protocol").select_option(label=ESKETAMINE_TRD)
    page.get_by_label("Start date").fill((site_today + timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Start course").click()

    # then
    expect(page.get_by_test_id("messages")).to_contain_text("Started")
    expect(page.get_by_test_id("error")).to_have_count(0)
    course = TreatmentCourse.objects.get(patient=patient)
    assert course.protocol.slug == "esketamine-trd"
    assert course.start_date == site_today + timedelta(days=1)
    expect(page.get_by_test_id("book-next")).to_be_visible()


def test_one_click_on_a_suggested_slot_books_the_next_session(page, course, chair, site):
    # given
    page.goto(f"/patients/{course.patient_id}/")
    page.get_by_test_id("book-next").click()
    expect(page.get_by_test_id("due-window")).to_have_attribute("data-earliest", course.start_date.isoformat())
    slot = page.get_by_test_id("slot").first
    start, chair_id = slot.get_attribute("data-start"), slot.get_attribute("data-chair-id")

    # when
    slot.click()

    # then: booked where the button said, shown on the patient page and on that day's board
    expect(page.get_by_test_id("messages")).to_contain_text("Booked")
    session = Session.objects.get(course=course)
    assert (wall_clock(site, session.start), str(session.chair_id)) == (start, chair_id)
    expect(page.locator(f'[data-testid=upcoming-session][data-session-id="{session.pk}"]')).to_be_visible()
    page.goto(board_path(site, session.local_date))
    block = page.locator(f'[data-testid=board-session][data-session-id="{session.pk}"]')
    expect(block).to_have_attribute("data-start", start)
    expect(block).to_contain_text("Harriet Okonkwo")


def test_the_induction_phase_is_previewed_and_booked_all_at_once(page, course, chair):
    # given
    page.goto(f"/patients/{course.patient_id}/")
    page.get_by_test_id("book-phase").click()

    # when
    page.get_by_role("button", name="Preview").click()

    # then: eight sessions, all of them fit
    summary = page.get_by_test_id("preview-summary")
    expect(summary).to_have_attribute("data-count", "8")
    expect(summary).to_have_attribute("data-problems", "0")
    expect(page.get_by_test_id("occurrence")).to_have_count(8)
    assert not Session.objects.filter(course=course).exists(), "a preview must not book anything"

    # when
    page.get_by_role("button", name="Book all").click()

    # then
    expect(page).to_have_url(re.compile(rf"/patients/{course.patient_id}/$"))
    expect(page.get_by_test_id("messages")).to_contain_text("Booked 8 sessions")
    booked = Session.objects.filter(course=course).standing()
    assert booked.count() == 8
    assert booked.values("local_date").distinct().count() == 8


def test_a_session_is_moved_from_the_board_panel(page, course, chair, site, desk_user, book):
    # given
    session = book(chair, chair.location.at(course.start_date, time(10)), course=course, by=desk_user)
    page.goto(board_path(site, session.local_date))
    block = page.locator(f'[data-testid=board-session][data-session-id="{session.pk}"]')
    block.click()
    panel = page.get_by_test_id("session-panel")
    expect(panel.get_by_role("heading", name="Harriet Okonkwo")).to_be_visible()
    new_start = f"{session.local_date.isoformat()}T14:00"

    # when
    panel.get_by_label(re.compile(r"^New start")).fill(new_start)
    panel.get_by_role("button", name="Move session").click()

    # then
    expect(panel.get_by_test_id("panel-done")).to_be_visible()
    expect(block).to_have_attribute("data-start", new_start)
    session.refresh_from_db()
    assert session.start == site.at(session.local_date, time(14))
    assert session.status == SessionStatus.BOOKED



def test_a_session_is_moved_to_a_suggested_slot_from_the_patient_page(page, course, chair, site, desk_user, book):
    # given
    session = book(chair, chair.location.at(course.start_date, time(10)), course=course, by=desk_user)
    page.goto(f"/patients/{course.patient_id}/")
    page.get_by_test_id("session-change").click()
    slot = page.get_by_test_id("grid-slot").first
    new_start = slot.get_attribute("data-start")
    assert new_start != wall_clock(site, session.start)

    # when
    slot.click()

    # then: back on the patient page, which lists the session at its new time
    expect(page).to_have_url(re.compile(rf"/patients/{course.patient_id}/$"))
    expect(page.get_by_test_id("messages")).to_contain_text("Moved")
    session.refresh_from_db()
    assert wall_clock(site, session.start) == new_start
    assert Session.objects.filter(course=course).count() == 1

def test_a_cancelled_session_leaves_the_board_with_its_reason(page, course, chair, site, desk_user, book):
    # given
    session = book(chair, chair.location.at(course.start_date, time(10)), course=course, by=desk_user)
    page.goto(board_path(site, session.local_date))
    page.locator(f'[data-testid=board-session][data-session-id="{session.pk}"]').click()
    panel = page.get_by_test_id("session-panel")

    # when
    panel.get_by_label("Reason for cancelling").fill("Patient has the flu")
    panel.get_by_role("button", name="Cancel session").click()
    panel.get_by_test_id("cancel-confirm-yes").click()  # the panel asks first

    # then
    expect(panel.get_by_test_id("panel-status")).to_contain_text("Cancelled")
    expect(page.get_by_test_id("board-session")).to_have_count(0)
    released = page.locator(f'[data-testid=board-released-session][data-session-id="{session.pk}"]')
    expect(released).to_contain_text("Patient has the flu")
    session.refresh_from_db()
    assert (session.status, session.cancel_reason) == (SessionStatus.CANCELLED, "Patient has the flu")


def test_a_worklist_item_resolved_with_a_note_leaves_the_list(page, course, site):
    # given: the sweep finds the course due and unbooked
    refresh_worklist()
    item = WorkItem.objects.open().get(course=course, kind=WorkKind.DUE_UNBOOKED)
    page.get_by_test_id("nav-worklist").click()
    expect(page.get_by_test_id("worklist-count")).to_have_attribute("data-count", "1")
    row = page.locator(f'[data-testid=worklist-item][data-item-id="{item.pk}"]')

    # when
    row.locator("summary", has_text="More").click()
    row.get_by_label("Resolution note").fill("Called, she will ring back Monday")
    row.get_by_role("button", name="Resolve").click()

    # then
    expect(row.get_by_test_id("worklist-resolved")).to_contain_text("Called, she will ring back Monday")
    with page.expect_response(re.compile(r"/worklist/count/$")):  # the badge fills itself after the page loads
        page.reload()
    expect(page.get_by_test_id("worklist-item")).to_have_count(0)
    expect(page.get_by_test_id("worklist-count")).to_have_count(0)
    item.refresh_from_db()
    assert item.closed_at is not None
    assert item.resolution == "Called, she will ring back Monday"


def test_the_second_desk_to_click_a_slot_sees_why_and_fresh_slots(new_desk, desk_user, second_desk_user, course,
                                                                  chair, site):
    # given: two desks on the same Book next page, filtered to the site
    first, second = new_desk(desk_user), new_desk(second_desk_user)
    for desk in (first, second):
        desk.goto(f"/courses/{course.pk}/book/")
        desk.get_by_label("Location", exact=True).select_option(label=site.name)
        desk.get_by_role("button", name="Show slots").click()
    taken = first.get_by_test_id("slot").first
    start, chair_id = taken.get_attribute("data-start"), taken.get_attribute("data-chair-id")
    same_slot = second.locator(f'[data-testid=slot][data-start="{start}"][data-chair-id="{chair_id}"]')
    expect(same_slot).to_have_count(1)
    taken.click()
    expect(first.get_by_test_id("messages")).to_contain_text("Booked")

    # when
    same_slot.click()

    # then
    error = second.get_by_test_id("error")
    expect(error).to_contain_text("That chair is already booked at that time.")
    expect(error).to_have_attribute("data-code", "chair_conflict")
    expect(second.get_by_role("heading", name="Fresh free slots")).to_be_visible()
    expect(second.get_by_test_id("slot").first).to_be_visible()
    expect(same_slot).to_have_count(0)
    expect(second.get_by_label("Location", exact=True)).to_have_value(str(site.pk))
    assert Session.objects.filter(chair=chair).count() == 1


def test_the_board_shows_another_desks_booking_without_a_reload(page, course, chair, site, desk_user, book):
    # given
    page.goto(board_path(site, course.start_date))
    assert page.evaluate("typeof window.htmx") == "object", "htmx did not load: the board cannot poll"
    expect(page.get_by_test_id("board-session")).to_have_count(0)
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)

    # when
    session = book(chair, chair.location.at(course.start_date, time(11)), course=course, by=desk_user)

    # then
    block = page.locator(f'[data-testid=board-session][data-session-id="{session.pk}"]')
    expect(block).to_be_visible(timeout=BOARD_REFRESH_MS)
    expect(block).to_contain_text("Harriet Okonkwo")
    assert navigations == [], "the board reloaded instead of refreshing itself"

