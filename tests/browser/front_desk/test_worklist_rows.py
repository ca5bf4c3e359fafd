"""A worklist row says who has it, and its button follows: "Assign to me", then "Unassign", in place."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from scheduling.models import WorkItem, WorkKind
from scheduling.worklist.sweep import refresh_worklist
from tests.browser.accessibility import blocking_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def due_item(course) -> WorkItem:
    """The sweep finds ``course`` due with nothing booked: one item on the worklist."""
    refresh_worklist()
    return WorkItem.objects.open().get(course=course, kind=WorkKind.DUE_UNBOOKED)


def test_assign_to_me_becomes_unassign_and_back_in_place(desk, width, due_item, desk_user):
    # given
    desk.get_by_test_id("nav-worklist").click()
    row = desk.locator(f'[data-testid=worklist-item][data-item-id="{due_item.pk}"]')
    expect(row.get_by_test_id("worklist-assigned")).to_have_text("—")

    # when
    row.get_by_role("button", name="Assign to me").click()

    # then: the row says so and offers to give it back; nothing else on the page moved
    expect(row.get_by_test_id("worklist-done")).to_have_text("Assigned to you.")
    expect(row.get_by_test_id("worklist-assigned")).to_have_text("You")
    expect(row.get_by_test_id("worklist-assign-me")).to_have_count(0)
    expect(row.get_by_test_id("worklist-unassign")).to_be_visible()
    desk.screenshot(path=f"/tmp/h5-worklist-assigned-{width}.png", full_page=True)
    assert blocking_violations(desk) == []
    due_item.refresh_from_db()
    assert due_item.assigned_to == desk_user
    # and a reload shows the same
    desk.reload()
    expect(row.get_by_test_id("worklist-unassign")).to_be_visible()

    # when
    row.get_by_test_id("worklist-unassign").click()

    # then
    expect(row.get_by_test_id("worklist-done")).to_have_text("Unassigned.")
    expect(row.get_by_test_id("worklist-assigned")).to_have_text("—")
    expect(row.get_by_test_id("worklist-assign-me")).to_be_visible()
    due_item.refresh_from_db()
    assert due_item.assigned_to is None


def test_an_item_someone_else_has_names_them_and_can_be_taken_over(desk, due_item, second_desk_user, desk_user):
    # given: Tom has it
    WorkItem.objects.filter(pk=due_item.pk).update(assigned_to=second_desk_user)
    desk.goto("/worklist/")
    row = desk.locator(f'[data-testid=worklist-item][data-item-id="{due_item.pk}"]')
    expect(row.get_by_test_id("worklist-assigned")).to_have_text("Tom Desk")

    # when
    row.get_by_role("button", name="Assign to me").click()

    # then
    expect(row.get_by_test_id("worklist-assigned")).to_have_text("You")
    due_item.refresh_from_db()
    assert due_item.assigned_to == desk_user
