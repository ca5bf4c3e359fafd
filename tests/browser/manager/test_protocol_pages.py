"""The Protocols pages in a real browser at 1440 and 1024 pixels: a manager reads a protocol's rules in words,
copies it as a new version, and changes the copy within the rules (the esketamine observation floor holds).
axe finds no serious or critical violation. Rules and refusals without a browser:
tests/scheduling/pages/test_protocol_pages.py."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from protocols.models import Protocol
from tests.browser.accessibility import blocking_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_manager_reads_a_protocol_copies_it_and_changes_the_copy_within_the_rules(boss, width):
    # given the list of protocols
    boss.goto("/manage/protocols/")
    row = boss.locator('[data-slug="esketamine-trd"]')
    expect(row).to_contain_text("Induction: 8 sessions, 2–5 days, target 3/4")
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h4-protocol-list-{width}.png", full_page=True)

    # when she opens esketamine-trd
    row.get_by_role("link").click()
    # then its phases and rules read in words, and it changes only through a copy
    expect(boss.get_by_test_id("protocol-phase").first).to_contain_text(
        "Each session 2 to 5 days after the previous session, aiming for 3 or 4, alternating.")
    expect(boss.get_by_test_id("protocol-in-use")).to_contain_text("it changes only through a copy")
    expect(boss.get_by_test_id("protocol-draft")).to_have_count(0)
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h4-protocol-detail-{width}.png", full_page=True)

    # when she copies it
    boss.get_by_test_id("protocol-copy").click()
    # then the copy opens, not offered yet, with its settings and phases to change
    expect(boss.get_by_test_id("protocol-done")).to_contain_text("This is the new version, not offered")
    expect(boss.get_by_test_id("protocol-heading")).to_contain_text("esketamine-trd-v2")
    expect(boss.get_by_label("Offered for new courses")).not_to_be_checked()

    # when she lowers the observation under the label's two hours
    boss.get_by_label("Observation minutes").fill("90")
    boss.get_by_test_id("protocol-settings-save").click()
    # then it is refused beside the field
    expect(boss.get_by_test_id("error-observation_minutes")).to_contain_text("at least 120 minutes")
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h4-protocol-draft-refused-{width}.png", full_page=True)

    # when she keeps two hours and gives the chair 165 minutes
    boss.get_by_label("Observation minutes").fill("120")
    boss.get_by_label("Chair minutes").fill("165")
    boss.get_by_test_id("protocol-settings-save").click()
    # then
    expect(boss.get_by_test_id("protocol-done")).to_have_text("Settings saved.")
    expect(boss.get_by_test_id("protocol-rules")).to_contain_text("165 minutes")
    assert Protocol.objects.get(slug="esketamine-trd-v2").chair_minutes == 165
    assert Protocol.objects.get(slug="esketamine-trd").chair_minutes == 150

    # when a phase's target falls outside its window
    boss.get_by_label("Phase 1: Target days").fill("9")
    boss.get_by_test_id("protocol-phases-save").click()
    # then it is refused beside it, and the phases are unchanged
    expect(boss.get_by_test_id("protocol-phases-form")).to_contain_text(
        "The target must lie between the earliest and the latest day.")
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h4-protocol-phases-refused-{width}.png", full_page=True)
    assert Protocol.objects.get(slug="esketamine-trd-v2").phases.get(order=1).target_days == 3
