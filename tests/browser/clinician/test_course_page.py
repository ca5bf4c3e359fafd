"""The course's page in a real browser at the two widths a desk uses (1440 and 1024 pixels).

A clinician pauses a course and resumes it, each with a reason, and reads both in the course's
history; the front desk sees where the course stands and no action it may not take. axe finds no
serious or critical violation on either. Roles and refusals without a browser:
tests/scheduling/pages/test_course_page.py.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from protocols import services
from tests.browser.accessibility import blocking_violations
from tests.browser.front_desk.conftest import WIDTHS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ACTIONS = ("pause", "resume", "discontinue", "maintenance-frequency", "restart-phase")


@pytest.mark.parametrize("width", WIDTHS, ids=lambda width: f"{width}px")
def test_a_clinician_pauses_and_resumes_a_course_with_reasons(nurse, width, course):
    # given the course's page
    nurse.set_viewport_size({"width": width, "height": 900})
    nurse.goto(f"/courses/{course.id}/")
    expect(nurse.get_by_test_id("course-status")).to_have_text("Active")
    assert blocking_violations(nurse) == []

    # when the clinician pauses it with a reason
    nurse.get_by_label("Reason (optional, kept in the history)").fill("Travelling for two weeks")
    nurse.get_by_role("button", name="Pause the course").click()
    # then the page says what changed, and the history says who and why
    expect(nurse.get_by_test_id("course-done")).to_contain_text("Paused: the course keeps its place in the protocol")
    expect(nurse.get_by_test_id("course-status")).to_contain_text("Paused since")
    latest = nurse.get_by_test_id("history-row").first
    expect(latest).to_contain_text("Paused")
    expect(latest).to_contain_text("Ana Ortiz")
    expect(latest.get_by_test_id("history-reason")).to_have_text("Travelling for two weeks")
    expect(nurse.get_by_test_id("action-pause")).to_have_count(0)
    assert blocking_violations(nurse) == []
    nurse.screenshot(path=f"/tmp/h9-course-paused-{width}.png", full_page=True)

    # when she resumes it with a reason
    nurse.get_by_test_id("resume-reason").fill("Back home; ready to continue")
    nurse.get_by_role("button", name="Resume the course").click()
    # then
    expect(nurse.get_by_test_id("course-done")).to_contain_text("Resumed: the course is active again.")
    expect(nurse.get_by_test_id("course-status")).to_have_text("Active")
    latest = nurse.get_by_test_id("history-row").first
    expect(latest.get_by_test_id("history-what")).to_have_text("Resumed")
    expect(latest.get_by_test_id("history-reason")).to_have_text("Back home; ready to continue")
    expect(nurse.get_by_test_id("history-row")).to_have_count(3)  # started, paused, resumed


@pytest.mark.parametrize("width", WIDTHS, ids=lambda width: f"{width}px")
def test_the_front_desk_sees_the_course_but_no_clinicians_action(page, width, course):
    # when the front desk opens the course's page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"/courses/{course.id}/")
    # then it shows where the course stands and its plan, and offers no action
    expect(page.get_by_test_id("course-phase")).to_have_text("Induction")
    expect(page.get_by_test_id("course-next-due")).to_contain_text("Session 1 due")
    expect(page.get_by_test_id("plan-step").first).to_be_visible()
    expect(page.get_by_test_id("no-actions")).to_be_visible()
    for action in ACTIONS:
        expect(page.get_by_test_id(f"action-{action}")).to_have_count(0)
    assert blocking_violations(page) == []
    page.screenshot(path=f"/tmp/h9-course-desk-{width}.png", full_page=True)


@pytest.mark.parametrize("width", WIDTHS, ids=lambda width: f"{width}px")
def test_a_pause_from_a_stale_page_is_refused_in_its_form_in_the_apis_words(nurse, width, course, desk_user):
    # given the clinician's page, opened before a colleague paused the course
    nurse.set_viewport_size({"width": width, "height": 900})
    nurse.goto(f"/courses/{course.id}/")
    services.pause_course(by=desk_user, course=course)
    # when she pauses it too, with a reason
    nurse.get_by_test_id("pause-reason").fill("Unwell this week")
    nurse.get_by_role("button", name="Pause the course").click()
    # then the refusal stands in the pause form, her reason kept, and the page shows the course as it is now
    form = nurse.get_by_test_id("action-pause")
    expect(form.get_by_test_id("error")).to_have_text("This course is paused, so it cannot be paused.")
    expect(form.get_by_test_id("error")).to_be_focused()
    expect(form.get_by_test_id("pause-reason")).to_have_value("Unwell this week")
    expect(nurse.get_by_test_id("course-status")).to_contain_text("Paused since")
    expect(nurse.get_by_test_id("action-resume")).to_be_visible()
    assert blocking_violations(nurse) == []
    nurse.screenshot(path=f"/tmp/h9-course-refused-{width}.png", full_page=True)
