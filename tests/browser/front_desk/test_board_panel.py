"""The board's session panel at a desk: refusals in place, check-in, a cancel that asks first and can be undone.

Each test runs at 1440 and 1024 pixels (``desk``, front_desk/conftest.py). The
refusal tests run with DEBUG on, as ``make run`` does: that is where a 400
used to replace the whole board with a bare panel.
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from playwright.sync_api import expect

from scheduling.models import Session, SessionStatus
from tests.browser.accessibility import blocking_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def debug_on(settings):
    """DEBUG as ``make run`` has it (django-htmx's helpers switch on with it)."""
    settings.DEBUG = True


@pytest.fixture
def booked(course, chair, desk_user, book) -> Session:
    """Session 1 of ``course``, tomorrow at 10:00 at the site."""
    return book(chair, chair.location.at(course.start_date, time(10)), course=course, by=desk_user)


@pytest.fixture
def booked_today(patient, chair, desk_user, book, local_clock, site):
    """A session of a course that starts today, in 30 minutes, with the clock at 08:00 at the site.

    Ask for it before ``desk``: the clock moves before the desk signs in, so the sign-in stays fresh."""
    from protocols.models import Protocol
    from tests.factories import TreatmentCourseFactory

    now = local_clock(time(8, 0))
    course = TreatmentCourseFactory(patient=patient, protocol=Protocol.objects.get(slug="esketamine-trd"),
                                    start_date=site.local_date(now), created_by=desk_user)
    return book(chair, now + timedelta(minutes=30), course=course, by=desk_user)


def open_panel(desk, session: Session):
    desk.goto(f"/board/{session.location_id}/{session.local_date.isoformat()}/")
    desk.locator(f'[data-testid=board-session][data-session-id="{session.pk}"]').click()
    panel = desk.get_by_test_id("session-panel")
    expect(panel.get_by_test_id("session-panel-content")).to_have_attribute("data-session-id", str(session.pk))
    return panel


@pytest.mark.parametrize("reason", ["   ", "\n\t"], ids=["spaces", "whitespace"])
def test_a_blank_cancel_reason_is_refused_beside_the_field_and_the_board_stays(debug_on, desk, booked, reason,
                                                                                width):
    # given
    panel = open_panel(desk, booked)
    panel.get_by_label("Reason for cancelling").fill(reason)

    # when
    with desk.expect_response(lambda response: response.url.endswith("/cancel/")) as answer:
        panel.get_by_role("button", name="Cancel session").click()
        panel.get_by_test_id("cancel-confirm-yes").click()

    # then: a 400, shown inside the cancel form; the board, its styles and the navigation are all still there
    assert answer.value.status == 400
    cancel_form = panel.get_by_test_id("cancel-form")
    expect(cancel_form.get_by_test_id("error")).to_contain_text("Say why the session is cancelled.")
    expect(cancel_form.locator("#cancel-reason-error")).to_have_text("A reason is required.")
    expect(panel.get_by_label("Reason for cancelling")).to_have_attribute("aria-invalid", "true")
    expect(desk.get_by_test_id("board-body")).to_be_visible()
    expect(desk.get_by_test_id("nav-board")).to_be_visible()
    assert desk.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(246, 247, 250)"
    desk.screenshot(path=f"/tmp/h1-cancel-refused-{width}.png", full_page=True)
    booked.refresh_from_db()
    assert booked.status == SessionStatus.BOOKED


def test_a_move_with_no_date_is_refused_beside_the_field_and_the_board_stays(debug_on, desk, booked):
    # given
    panel = open_panel(desk, booked)
    panel.get_by_label("New start").fill("")

    # when
    with desk.expect_response(lambda response: response.url.endswith("/reschedule/")) as answer:
        panel.get_by_role("button", name="Move session").click()

    # then
    assert answer.value.status == 400
    move_form = panel.get_by_test_id("reschedule-form")
    expect(move_form.get_by_test_id("error")).to_be_visible()
    expect(move_form.locator("#reschedule-start-error")).to_be_visible()
    expect(panel.get_by_label("New start")).to_have_attribute("aria-invalid", "true")
    expect(desk.get_by_test_id("board-body")).to_be_visible()
    expect(desk.get_by_test_id("nav-board")).to_be_visible()


def test_an_error_page_from_the_server_leaves_the_board_and_says_what_happened(debug_on, desk, booked):
    # given the server answers with a whole error page, as Django's own 404 page is
    panel = open_panel(desk, booked)
    panel.get_by_label("Reason for cancelling").fill("Unwell")
    desk.route("**/cancel/", lambda route: route.fulfill(status=404, content_type="text/html",
                                                          body="<!doctype html><html><body><h1>Not Found</h1>"))

    # when
    panel.get_by_role("button", name="Cancel session").click()
    panel.get_by_test_id("cancel-confirm-yes").click()

    # then: not a bare error page in place of the board, but an alert in the form that asked
    expect(panel.get_by_test_id("cancel-form").get_by_test_id("request-failed")).to_contain_text("no longer there")
    expect(desk.get_by_test_id("board-body")).to_be_visible()
    expect(panel.get_by_label("Reason for cancelling")).to_have_value("Unwell")


def test_a_cancel_asks_first_and_can_be_undone(desk, booked, width):
    # given
    panel = open_panel(desk, booked)
    panel.get_by_label("Reason for cancelling").fill("Patient has the flu")

    # when the desk says no, nothing is sent
    panel.get_by_role("button", name="Cancel session").click()
    confirm = panel.get_by_test_id("cancel-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("Cancel Harriet Okonkwo's session")
    desk.screenshot(path=f"/tmp/h1-cancel-confirm-{width}.png", full_page=True)
    panel.get_by_test_id("cancel-confirm-no").click()
    expect(confirm).to_be_hidden()
    booked.refresh_from_db()
    assert booked.status == SessionStatus.BOOKED

    # when the desk says yes
    panel.get_by_role("button", name="Cancel session").click()
    panel.get_by_test_id("cancel-confirm-yes").click()

    # then: cancelled, gone from the grid, and an undo on offer
    expect(panel.get_by_test_id("panel-status")).to_contain_text("Cancelled")
    expect(desk.get_by_test_id("board-session")).to_have_count(0)
    desk.screenshot(path=f"/tmp/h1-cancelled-{width}.png", full_page=True)

    # when
    panel.get_by_role("button", name="Undo the cancel").click()

    # then: back on the board as it was
    expect(panel.get_by_test_id("panel-status")).to_have_text("Booked")
    expect(panel.get_by_test_id("panel-done")).to_contain_text("back")
    expect(desk.locator(f'[data-testid=board-session][data-session-id="{booked.pk}"]')).to_be_visible()
    restored = Session.objects.get(pk=booked.pk)
    assert (restored.status, restored.start, restored.cancel_reason) == (SessionStatus.BOOKED, booked.start, "")


def test_an_undo_is_refused_in_place_once_the_chair_is_taken(desk, booked, chair, book):
    # given a cancelled session whose chair another patient has taken since
    panel = open_panel(desk, booked)
    panel.get_by_label("Reason for cancelling").fill("Patient has the flu")
    panel.get_by_role("button", name="Cancel session").click()
    panel.get_by_test_id("cancel-confirm-yes").click()
    expect(panel.get_by_test_id("panel-status")).to_contain_text("Cancelled")
    book(chair, booked.start)

    # when
    panel.get_by_role("button", name="Undo the cancel").click()

    # then: a 409 with the booking's own words, inside the undo form
    expect(panel.get_by_test_id("undo-cancel-form").get_by_test_id("error")).to_have_attribute(
        "data-code", "chair_conflict")
    assert Session.objects.get(pk=booked.pk).status == SessionStatus.CANCELLED


def test_the_desk_checks_a_patient_in_from_the_board(booked_today, desk, width):
    # given
    panel = open_panel(desk, booked_today)
    check_in = panel.locator("#check-in")
    expect(check_in).to_be_visible()

    # when the ride home is not ticked: the service's refusal, in the form
    for label in ("No food for 2 hours", "No drink for 30 minutes", "Nasal steroid"):
        check_in.get_by_label(label).check()
    check_in.get_by_role("button", name="Check in").click()
    expect(check_in.get_by_test_id("error")).to_have_attribute("data-code", "ride_home_required")
    expect(check_in.get_by_label("No food for 2 hours")).to_be_checked()  # what was ticked stays
    desk.screenshot(path=f"/tmp/h1-check-in-refused-{width}.png", full_page=True)

    # when
    panel.locator("#check-in").get_by_label("Ride home arranged").check()
    panel.locator("#check-in").get_by_role("button", name="Check in").click()

    # then
    expect(panel.get_by_test_id("panel-status")).to_have_text("Checked in")
    block = desk.locator(f'[data-testid=board-session][data-session-id="{booked_today.pk}"]')
    expect(block).to_have_attribute("data-status", "checked_in")
    session = Session.objects.get(pk=booked_today.pk)
    assert (session.status, session.ride_home_arranged, session.checked_in_by_id) == (
        SessionStatus.CHECKED_IN, True, session.booked_by_id)


def test_the_session_page_opens_at_its_check_in_form(booked_today, desk):
    # when: the patient page's link to a session of today
    desk.goto(f"/sessions/{booked_today.pk}/#check-in")

    # then
    expect(desk.locator("#check-in")).to_be_in_viewport()
    desk.locator("#check-in").get_by_label("Ride home arranged").check()
    for label in ("No food for 2 hours", "No drink for 30 minutes", "Nasal steroid"):
        desk.locator("#check-in").get_by_label(label).check()
    desk.locator("#check-in").get_by_role("button", name="Check in").click()
    expect(desk.get_by_test_id("panel-status")).to_have_text("Checked in")


def test_no_check_in_is_offered_for_a_session_of_another_day(desk, booked):
    panel = open_panel(desk, booked)
    expect(panel.get_by_test_id("reschedule-form")).to_be_visible()
    expect(panel.locator("#check-in")).to_have_count(0)


def test_the_board_with_the_panel_open_the_confirmation_and_the_check_in_pass_axe(booked_today, desk):
    # given the board with today's session open in the panel, the cancel's confirmation showing
    panel = open_panel(desk, booked_today)
    panel.get_by_label("Reason for cancelling").fill("Unwell")
    panel.get_by_role("button", name="Cancel session").click()
    expect(panel.get_by_test_id("cancel-confirm")).to_be_visible()

    # then
    assert blocking_violations(desk) == []
    desk.goto(f"/sessions/{booked_today.pk}/#check-in")
    assert blocking_violations(desk) == []
