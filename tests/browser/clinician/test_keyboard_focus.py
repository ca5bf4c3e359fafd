"""The clinician's pages with the keyboard, at the two widths (1440 and 1024 pixels).

The observation board refreshes itself every 5 seconds: a clinician who has tabbed to a patient's
Chart link keeps her place across the refresh. On the chart, the PHQ-9's running score sticks to
the bottom of the screen: an answer reached with Tab stands above it, never hidden under it.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.clinician.chart_steps import book_started, chart_before
from tests.browser.clinician.clinic_states import check_in_with_vitals
from tests.browser.front_desk.conftest import WIDTHS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# The observation board polls every 5 seconds.
BOARD_REFRESH_MS = 15_000


@pytest.mark.parametrize("width", WIDTHS, ids=lambda width: f"{width}px")
def test_the_chart_link_keeps_the_focus_across_the_boards_refresh(nurse, width, course_today, chair, site, desk_user,
                                                                  clinician_user):
    # given a patient in observation, and the clinician on the board with the keyboard on her Chart link
    session = book_started(course_today, chair, desk_user, minutes_ago=30)
    chart_before(session, clinician_user, dose_at=10)
    nurse.set_viewport_size({"width": width, "height": 900})
    nurse.goto(f"/observation/{site.pk}/")
    link = nurse.locator(f'[data-testid=observation-row][data-session-id="{session.pk}"]').get_by_test_id(
        "observation-chart-link")
    link.focus()
    expect(link).to_be_focused()
    updated = nurse.get_by_test_id("observation-updated").inner_text()

    # when the board refreshes itself
    expect(nurse.get_by_test_id("observation-updated")).not_to_have_text(updated, timeout=BOARD_REFRESH_MS)

    # then the focus is still on her patient's Chart link, and Enter opens the chart
    expect(link).to_be_focused()
    nurse.keyboard.press("Enter")
    expect(nurse.get_by_test_id("chart-title")).to_contain_text("Harriet Okonkwo")


@pytest.mark.parametrize("width", WIDTHS, ids=lambda width: f"{width}px")
def test_a_phq9_answer_reached_with_tab_is_not_under_the_running_score(nurse, width, course_today, chair, desk_user,
                                                                       clinician_user):
    # given a patient checked in whose PHQ-9 is due: the form is open, its score stuck to the screen's bottom
    session = book_started(course_today, chair, desk_user, minutes_ago=10)
    check_in_with_vitals(session, clinician_user)
    nurse.set_viewport_size({"width": width, "height": 900})
    nurse.goto(f"/sessions/{session.pk}/chart/")
    score = nurse.get_by_test_id("phq9-score")
    items = nurse.get_by_test_id("phq9-item")
    expect(items).to_have_count(9)

    # when she tabs from the first answer of each item to the next item, down the form
    items.first.get_by_label("0 Not at all").focus()
    for number in range(2, 10):
        nurse.keyboard.press("Tab")  # a radio group is one stop: Tab goes on to the next item
        answer = items.nth(number - 1).get_by_label("0 Not at all")
        expect(answer).to_be_focused()
        # then the answer she is on stands clear of the running score
        assert answer.bounding_box()["y"] + answer.bounding_box()["height"] <= score.bounding_box()["y"], number
