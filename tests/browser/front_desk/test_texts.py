"""Texts that finish the job, clicked through at the desk's two widths.

A patient replies R; the desk answers it from the worklist by moving the
visit, or by cancelling it and booking anew: either way the item closes
itself and one text tells the new time. And staff write to a patient from the
"Text the patient" section, under every text rule.

The SMS backend is the outbox (what the demo shows at /outbox/); a worker is
stood in for by running each task the server publishes at once, in the server.
"""

from __future__ import annotations

import re
from datetime import time

import pytest
from playwright.sync_api import expect

from clinic import queueing
from scheduling.messaging import inbound
from scheduling.models import Session, SessionStatus, WorkItem, WorkKind
from tests.browser.accessibility import blocking_violations
from tests.browser.conftest import DESK_PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CLINIC_NUMBER = "+15555550100"


@pytest.fixture
def outbox(settings):
    """Texts go to the outbox (``clinic.models.OutboxMessage``), which the desk reads at /outbox/."""
    settings.SMS_BACKEND = "outbox"


@pytest.fixture
def worker(monkeypatch):
    """Every task the server publishes runs at once, in the server, as a worker would run it."""

    def run_now(task, calls: list[tuple]) -> int:
        for args in calls:
            task(*args)
        return len(calls)

    monkeypatch.setattr(queueing, "publish", run_now)


@pytest.fixture
def asked_to_move(course, chair, desk_user, book, outbox, worker):
    """The course's first visit, tomorrow at 10:00; the patient replied R: the desk has an item for it."""
    book(chair, chair.location.at(course.start_date, time(10)), course=course, by=desk_user)
    inbound.handle_inbound(from_phone=course.patient.phone, to_phone=CLINIC_NUMBER, body="R please",
                           provider_id="SMbrowser-r")
    return WorkItem.objects.get(kind=WorkKind.RESCHEDULE_REQUEST, closed_at__isnull=True)


@pytest.fixture
def desk_at(new_browser, width, desk_user, local_clock):
    """``desk_at(time(23, 30))``: the server's clock at that wall-clock time at the site, then the desk signs in.

    The clock moves before the browser opens a page: a page already signed in would be polling, and a
    clock moved on by hours ends its sign-in mid-poll, racing the next navigation.
    """

    def move(wall_clock: time):
        local_clock(wall_clock)
        page = new_browser()
        page.set_viewport_size({"width": width, "height": 900})
        sign_in(page, desk_user.username, DESK_PASSWORD)
        return page

    return move


def item_row(page, item):
    return page.locator(f'[data-testid=worklist-item][data-item-id="{item.pk}"]')


def test_an_r_answered_by_moving_the_visit_closes_itself_and_texts_the_new_time(desk, width, asked_to_move,
                                                                                 course, site):
    # given: the request on the worklist, with the visit it is about and the phone to call
    session = asked_to_move.session
    desk.get_by_test_id("nav-worklist").click()
    row = item_row(desk, asked_to_move)
    expect(row.get_by_test_id("worklist-visit")).to_contain_text(
        f"{session.local_date:%a %b} {session.local_date.day} at 10:00, Midtown")
    expect(row.get_by_test_id("worklist-phone")).to_have_text(re.compile(r"^\(\d{3}\) \d{3}-\d{4}$"))
    desk.screenshot(path=f"/tmp/h5-worklist-r-{width}.png", full_page=True)
    assert blocking_violations(desk) == []

    # when: the desk moves the visit to 14:00 the same day
    row.get_by_test_id("worklist-move").click()
    new_start = f"{session.local_date.isoformat()}T14:00"
    desk.get_by_label(re.compile(r"^New start")).fill(new_start)
    desk.get_by_role("button", name="Move session").click()

    # then: back on the worklist, the request is answered and gone
    expect(desk).to_have_url(re.compile(r"/worklist/$"))
    expect(desk.get_by_test_id("messages")).to_contain_text("Moved")
    expect(row).to_have_count(0)
    asked_to_move.refresh_from_db()
    assert asked_to_move.resolution.startswith(f"Moved to {session.local_date:%a %-d %b} at 14:00 (Midtown)")
    # and one text tells the patient the new time
    desk.goto("/outbox/")
    new_time = desk.get_by_role("cell", name=re.compile(r"your visit has moved to .* at 2:00 PM"))
    expect(new_time).to_have_count(1)


def test_an_r_answered_by_a_move_in_the_board_panel_texts_the_new_time(desk, asked_to_move, site):
    # given: the visit on its day's board, opened in the side panel
    session = asked_to_move.session
    desk.goto(f"/board/{site.pk}/{session.local_date.isoformat()}/")
    desk.locator(f'[data-testid=board-session][data-session-id="{session.pk}"]').click()
    panel = desk.get_by_test_id("session-panel")

    # when
    panel.get_by_label(re.compile(r"^New start")).fill(f"{session.local_date.isoformat()}T15:30")
    panel.get_by_role("button", name="Move session").click()

    # then
    expect(panel.get_by_test_id("panel-done")).to_be_visible()
    asked_to_move.refresh_from_db()
    assert asked_to_move.closed_at is not None
    desk.goto("/outbox/")
    expect(desk.get_by_role("cell", name=re.compile(r"your visit has moved to .* at 3:30 PM"))).to_have_count(1)


def test_an_r_answered_by_cancelling_and_booking_anew_closes_itself_and_texts_the_new_time(
        desk, width, asked_to_move, course, site):
    # given: the desk cancels the visit from its page; the patient still waits for a new time
    desk.goto("/worklist/")
    row = item_row(desk, asked_to_move)
    row.get_by_test_id("worklist-visit").get_by_role("link").click()
    desk.get_by_label("Reason for cancelling").fill("Patient asked for another day")
    desk.get_by_role("button", name="Cancel session").click()
    confirm = desk.get_by_test_id("cancel-confirm-yes")  # the board's script asks first, where it runs
    if confirm.is_visible():
        confirm.click()
    expect(desk.get_by_test_id("messages")).to_contain_text("Cancelled")
    desk.goto("/worklist/")
    expect(row.get_by_test_id("worklist-visit")).to_contain_text("(cancelled)")
    desk.screenshot(path=f"/tmp/h5-worklist-cancelled-{width}.png", full_page=True)
    assert blocking_violations(desk) == []

    # when: the desk books the course again from the row
    row.get_by_test_id("worklist-book").click()
    slot = desk.locator("[data-testid=slot], [data-testid=grid-slot]").first
    slot.click()

    # then: the request is answered by the new booking, and one text tells its time
    expect(desk.get_by_test_id("messages")).to_contain_text("Booked")
    again = Session.objects.get(course=course, status=SessionStatus.BOOKED)
    local = site.local(again.start)
    asked_to_move.refresh_from_db()
    assert asked_to_move.closed_at is not None
    assert asked_to_move.resolution.startswith(f"Rebooked to {local:%a %-d %b} at {local:%H:%M} (Midtown)")
    desk.goto("/worklist/")
    expect(item_row(desk, asked_to_move)).to_have_count(0)
    desk.goto("/outbox/")
    expect(desk.get_by_role("cell", name=re.compile(
        rf"your visit has moved to {local:%A %B} {local.day} at {local:%-I:%M %p}"))).to_have_count(1)


# --- "Text the patient" ------------------------------------------------------------------------------------


def test_the_desk_texts_a_patient_and_a_treatment_word_is_refused_beside_the_message(desk_at, width, patient,
                                                                                      outbox):
    # given: 10:00 in the morning at the desk's site (the patient has no visit yet)
    desk = desk_at(time(10))
    desk.goto(f"/patients/{patient.pk}/text/")
    section = desk.get_by_test_id("patient-text")
    message = section.get_by_label(re.compile("^Message to"))

    # when: the desk names the treatment
    message.fill("Your ketamine visit is confirmed")
    expect(section.get_by_test_id("text-count")).to_contain_text("1 text")
    section.get_by_role("button", name="Send text").click()

    # then: refused beside the message, in the service's words, and nothing sent
    error = section.get_by_test_id("error")
    expect(error).to_contain_text("must never name a treatment or diagnosis; remove: ketamine")
    expect(message).to_have_attribute("aria-invalid", "true")
    expect(message).to_have_value("Your ketamine visit is confirmed")
    desk.screenshot(path=f"/tmp/h5-text-refused-{width}.png", full_page=True)
    assert blocking_violations(desk) == []

    # when: it is written as a text may be, long enough for two parts
    message.fill("Please call us back about your visit on Thursday. " * 4)
    expect(section.get_by_test_id("text-count")).to_have_attribute("data-segments", "2")
    section.get_by_role("button", name="Send text").click()

    # then: sent once, and listed with who wrote it
    expect(section.get_by_test_id("text-result")).to_have_attribute("data-state", "sent")
    expect(section.get_by_test_id("desk-text")).to_have_count(1)
    expect(section.get_by_test_id("desk-text")).to_contain_text("Maria Desk")
    desk.screenshot(path=f"/tmp/h5-text-sent-{width}.png", full_page=True)
    assert blocking_violations(desk) == []
    desk.goto("/outbox/")
    expect(desk.get_by_role("cell", name=re.compile(r"^Riverside Wellness Clinic: Please call us back"))) \
        .to_have_count(1)


def test_a_patient_who_opted_out_cannot_be_texted(desk, patient, outbox):
    type(patient).objects.filter(pk=patient.pk).update(sms_opted_out_at="2026-01-05T12:00:00Z")
    desk.goto(f"/patients/{patient.pk}/text/")
    section = desk.get_by_test_id("patient-text")
    expect(section.get_by_test_id("text-refused")).to_have_attribute("data-code", "opted_out")
    expect(section.get_by_role("button", name="Send text")).to_have_count(0)


def test_in_quiet_hours_the_text_is_held_for_the_morning_and_can_be_withdrawn(desk_at, width, course, chair,
                                                                             desk_user, book, outbox):
    # given: the patient's visit is at the site, and it is 23:30 there
    book(chair, chair.location.at(course.start_date, time(10)), course=course, by=desk_user)
    desk = desk_at(time(23, 30))
    desk.goto(f"/patients/{course.patient_id}/text/")
    section = desk.get_by_test_id("patient-text")
    expect(section.get_by_test_id("text-quiet-hours")).to_contain_text("It is quiet hours at Midtown")
    expect(section.get_by_test_id("text-quiet-hours")).to_contain_text("at 8:00 AM")

    # when
    section.get_by_label(re.compile("^Message to")).fill("Please call us in the morning.")
    section.get_by_role("button", name="Queue text for 8:00 AM").click()

    # then: held, with when it goes, and nothing sent
    expect(section.get_by_test_id("text-result")).to_have_attribute("data-state", "pending")
    expect(section.get_by_test_id("text-result")).to_contain_text("goes")
    desk.screenshot(path=f"/tmp/h5-text-quiet-{width}.png", full_page=True)
    assert blocking_violations(desk) == []
    # when the desk thinks better of it
    section.get_by_test_id("text-withdraw").click()
    # then
    expect(section.get_by_test_id("desk-text")).to_have_attribute("data-state", "void")
    expect(section.get_by_test_id("desk-text")).to_contain_text("withdrawn by Maria Desk")
