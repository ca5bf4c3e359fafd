"""The manager's reminder policies in a real browser at 1440 and 1024 pixels.

She sees each site with the policy in force (Midtown on the clinic's defaults, Uptown changed),
edits a text and watches its preview and SMS part count follow her typing, saves and reads
"Changed"; a cap of 0 is refused beside its field. axe finds no serious or critical violation.
Rules, refusals and roles without a browser: tests/scheduling/pages/test_reminder_policies.py.
"""

from __future__ import annotations

from datetime import time

import pytest
from playwright.sync_api import expect

from scheduling.models import ReminderPolicy
from tests.browser.accessibility import blocking_violations
from tests.factories import LocationFactory, ReminderPolicyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# A short same-day text: one part in GSM-7; with a typographic apostrophe it travels as UCS-2.
SHORT = "{clinic}: see you today at {time}. Reply C to confirm. {phone}"
LONG_UNICODE = SHORT + " We\u2019ll have your chair ready; arrange a ride home, you can\u2019t drive until tomorrow."


@pytest.fixture
def uptown(db):
    location = LocationFactory(name="Uptown", time_zone="America/Chicago")
    ReminderPolicyFactory(location=location, day_before_at=time(18))
    return location


def test_the_manager_sees_each_site_and_changes_a_text_with_its_preview(boss, site, uptown, width):
    # given the list of sites
    boss.goto("/manage/texts/")
    cards = boss.get_by_test_id("policy-site")
    expect(cards).to_have_count(2)
    midtown = cards.filter(has_text="Midtown")
    expect(midtown.get_by_test_id("policy-status")).to_have_text("Clinic defaults, not changed.")
    expect(midtown.get_by_test_id("policy-day-before")).to_have_text("at 17:00")
    expect(cards.filter(has_text="Uptown").get_by_test_id("policy-status")).to_contain_text("Changed")
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h1-policies-{width}.png", full_page=True)

    # when she opens Midtown's policy and types a shorter same-day text
    midtown.get_by_role("link", name="Change").click()
    expect(boss.get_by_test_id("policy-heading")).to_contain_text("Texts at Midtown")
    count = boss.get_by_test_id("preview-same_day").get_by_test_id("preview-count")
    expect(count).to_have_attribute("data-segments", "2")  # the default same-day text is two parts
    boss.get_by_label("Same-day text").fill(SHORT)
    # then the preview follows: the text as sent tomorrow at 10:30, one GSM-7 part
    preview = boss.get_by_test_id("preview-same_day")
    expect(preview.get_by_test_id("preview-text")).to_contain_text("see you today at 10:30 AM. Reply C to confirm.")
    expect(count).to_have_attribute("data-segments", "1")
    expect(count).to_have_attribute("data-unicode", "false")
    expect(boss.get_by_test_id("preview-status-same_day")).to_have_text(
        "Same-day reminder: 86 characters, 1 SMS part.")  # what a screen reader hears

    # when she adds a sentence with a typographic apostrophe
    boss.get_by_label("Same-day text").fill(LONG_UNICODE)
    # then it counts as Unicode, in more parts, and says which character did it
    expect(count).to_have_attribute("data-unicode", "true")
    expect(count).to_have_attribute("data-segments", "3")
    expect(preview.get_by_test_id("preview-unicode")).to_contain_text("\u2019")
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h1-policy-typing-{width}.png", full_page=True)

    # when she saves
    boss.get_by_label("Same-day text").fill(SHORT)
    expect(count).to_have_attribute("data-segments", "1")
    boss.get_by_test_id("policy-save").click()
    # then the page says it is saved and changed, and the site sends the new text
    expect(boss.get_by_test_id("policy-done")).to_contain_text("Saved")
    expect(boss.get_by_test_id("policy-status")).to_have_text("Changed from the clinic defaults: same-day text.")
    expect(boss.get_by_test_id("history-row")).to_have_count(1)
    expect(boss.get_by_test_id("history-who")).to_have_text("Mia Moreno")
    expect(boss.get_by_test_id("history-what")).to_have_text("same-day text")
    assert ReminderPolicy.objects.get(location=site).same_day_template == SHORT
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h1-policy-saved-{width}.png", full_page=True)
    boss.goto("/manage/texts/")
    expect(midtown.get_by_test_id("policy-status")).to_contain_text("Changed")


def test_a_wrong_value_is_refused_beside_its_field_and_the_defaults_can_be_restored(boss, site, width):
    # given Midtown's policy with a changed outreach text
    ReminderPolicyFactory(location=site, outreach_template="Time to book at {clinic}: {phone}")
    boss.goto(f"/manage/texts/{site.id}/")
    # when she sets a daily cap of 0 and a drug's name in the outreach text
    boss.get_by_label("At most, texts a day to one patient").fill("0")
    boss.get_by_label("Due-visit outreach text").fill("Time to book your ketamine visit at {clinic}: {phone}")
    # then the preview already says the text cannot be sent
    expect(boss.get_by_test_id("preview-outreach").get_by_test_id("preview-problem")).to_contain_text("ketamine")
    boss.get_by_test_id("policy-save").click()
    # then each refusal is beside its field, and what she typed is kept
    expect(boss.get_by_test_id("error")).to_contain_text("Not saved: 2 fields to correct")
    expect(boss.locator("#id_daily_cap-error")).to_contain_text("At least 1")
    expect(boss.locator("#id_outreach_template-error")).to_contain_text("remove: ketamine")
    expect(boss.get_by_label("At most, texts a day to one patient")).to_have_attribute("aria-invalid", "true")
    expect(boss.get_by_label("Due-visit outreach text")).to_have_value(
        "Time to book your ketamine visit at {clinic}: {phone}")
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h1-policy-refused-{width}.png", full_page=True)

    # when she gives up and restores the clinic's defaults
    boss.goto(f"/manage/texts/{site.id}/")
    boss.get_by_test_id("policy-restore").click()
    # then
    expect(boss.get_by_test_id("policy-done")).to_contain_text("Restored")
    expect(boss.get_by_test_id("policy-status")).to_have_text("Clinic defaults, not changed.")
    expect(boss.get_by_test_id("policy-restore")).to_have_count(0)
