"""The manager lands on her home, not on the patient list or the Django admin."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_manager_lands_on_her_home_with_manage_in_the_navigation(boss):
    expect(boss.get_by_role("heading", level=1)).to_have_text("Manage the clinic")
    expect(boss.get_by_test_id("nav-manage")).to_have_attribute("aria-current", "page")
    expect(boss.get_by_test_id("nav-admin")).to_have_count(0)
