"""The board on the floor, at 1440 and 1024 pixels: it opens at now, its now label is legible, every chair fits.

``local_clock`` puts the server at a wall-clock time at the site before the
desk signs in (front_desk/conftest.py), so "today" and "now" are the site's.
"""

from __future__ import annotations

from datetime import time

import pytest
from playwright.sync_api import expect

from tests.factories import ChairFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def six_chairs(site):
    """The demo's Midtown: four esketamine chairs and two infusion chairs."""
    chairs = [ChairFactory(location=site, name=f"Chair {number}", serves_esketamine=True, has_infusion_pump=False)
              for number in range(1, 5)]
    chairs += [ChairFactory(location=site, name=f"Infusion {number}", serves_esketamine=False, has_infusion_pump=True)
               for number in (1, 2)]
    return chairs


@pytest.fixture
def evening(local_clock):
    """20:00 at the site, set before the desk signs in."""
    return local_clock(time(20, 0))


def overlaps(one: dict, other: dict) -> bool:
    return (one["x"] < other["x"] + other["width"] and other["x"] < one["x"] + one["width"]
            and one["y"] < other["y"] + other["height"] and other["y"] < one["y"] + one["height"])


def test_at_eight_in_the_evening_the_board_opens_at_now(evening, six_chairs, desk, width):
    # when: the desk lands on today's board
    now_line = desk.get_by_test_id("board-now-line")

    # then: the now line is in sight inside the board's own scroll, without anyone scrolling
    expect(now_line).to_be_visible()
    box = desk.locator(".board-scroll").bounding_box()
    line = now_line.bounding_box()
    assert box["y"] < line["y"] < box["y"] + box["height"], (box, line)
    assert desk.locator(".board-scroll").evaluate("element => element.scrollTop") > 0
    desk.screenshot(path=f"/tmp/h1-board-evening-{width}.png", full_page=True)


def test_the_now_label_keeps_clear_of_the_hour_labels(evening, six_chairs, desk):
    # given
    label = desk.get_by_test_id("board-now-line").locator("span")
    expect(label).to_have_text("20:00")

    # then
    now_box = label.bounding_box()
    hour_boxes = [element.bounding_box() for element in desk.locator(".time-label").all()]
    assert hour_boxes and not [box for box in hour_boxes if overlaps(now_box, box)]


def test_the_board_keeps_its_place_when_it_redraws(evening, six_chairs, desk):
    # given the desk has scrolled to the morning
    scroll = desk.locator(".board-scroll")
    scroll.evaluate("element => { element.scrollTop = 300; }")

    # when the body redraws (as after a change in the panel, or the 20-second refresh)
    with desk.expect_response(lambda response: response.url.endswith("/body/")):
        desk.evaluate("htmx.trigger(document.body, 'board-changed')")
    expect(desk.get_by_test_id("board-updated")).to_be_visible()

    # then
    # (a function, not a string: the page's CSP forbids eval, which a string predicate needs)
    desk.wait_for_function("() => document.querySelector('.board-scroll').scrollTop === 300")


def test_every_chair_fits_beside_the_panel_without_a_sideways_scroll(evening, six_chairs, desk, width):
    # given
    heads = desk.get_by_test_id("board-chair")
    expect(heads).to_have_count(6)

    # then: no horizontal scroll inside the board, and the infusion chairs are in sight
    scroll = desk.locator(".board-scroll")
    assert scroll.evaluate("element => element.scrollWidth <= element.clientWidth")
    assert desk.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for head in heads.all():
        expect(head).to_be_in_viewport()
    panel = desk.get_by_test_id("session-panel").bounding_box()
    last_chair = heads.last.bounding_box()
    assert last_chair["x"] + last_chair["width"] <= panel["x"]


def test_the_top_navigation_stays_on_one_line(evening, desk, width):
    # given
    header = desk.locator("header.top")
    links = header.locator("nav a").all()

    # then: every link on one row, and the bar one line high
    tops = {round(link.bounding_box()["y"]) for link in links}
    assert len(tops) == 1, tops
    assert header.bounding_box()["height"] < 60
    signed_in = header.locator(".whoami").bounding_box()
    assert signed_in["x"] + signed_in["width"] <= width
