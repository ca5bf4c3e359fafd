"""The Staff pages in a real browser at 1440 and 1024 pixels: a manager adds a clinician at her site, marks her
a prescriber, removes a colleague's lost authenticator, sets a new password for a clinician who forgot hers, and
is refused taking away her own manager role.
axe finds no serious or critical violation on any of them. Rules and refusals without a browser:
tests/scheduling/pages/test_staff_pages.py."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from clinic.roles import CLINICIAN, is_prescriber
from tests.browser.accessibility import blocking_violations
from tests.browser.conftest import LANDS_ON_SCHEDULE, sign_in
from tests.factories import ChairFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_manager_adds_a_clinician_at_her_site_and_makes_her_a_prescriber(boss, width, site):
    # given the staff list, from the manager's home
    boss.goto("/manage/staff/")
    expect(boss.get_by_role("heading", level=1)).to_have_text("Staff")
    assert blocking_violations(boss) == []
    boss.get_by_test_id("staff-add").click()
    assert blocking_violations(boss) == []

    # when she gives a password too short, it is refused beside the field
    boss.get_by_label("Username").fill("nina.park")
    boss.get_by_label("First name").fill("Nina")
    boss.get_by_label("Last name").fill("Park")
    boss.get_by_label("Initial password", exact=True).fill("short-one")
    boss.get_by_label("Initial password again").fill("short-one")
    boss.get_by_label("Clinician: records sessions, doses and REMS forms").check()
    boss.get_by_label("Midtown").check()
    boss.get_by_test_id("staff-create").click()
    expect(boss.get_by_test_id("error-password1")).to_contain_text("at least 12 characters")
    expect(boss.get_by_test_id("form-errors")).to_be_visible()
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h4-staff-new-refused-{width}.png", full_page=True)

    # when she gives a good one
    boss.get_by_label("Initial password", exact=True).fill("quiet-harbour-lantern-42")
    boss.get_by_label("Initial password again").fill("quiet-harbour-lantern-42")
    boss.get_by_test_id("staff-create").click()
    # then the new clinician's page says so
    expect(boss.get_by_test_id("staff-done")).to_contain_text("Added.")
    expect(boss.get_by_test_id("staff-heading")).to_contain_text("Nina Park")
    expect(boss.get_by_label("Midtown")).to_be_checked()

    # when she marks her as a prescriber
    boss.get_by_label("Prescriber").check()
    boss.get_by_test_id("staff-save").click()
    # then it is saved and recorded
    expect(boss.get_by_test_id("staff-done")).to_have_text("Saved.")
    expect(boss.get_by_label("Prescriber")).to_be_checked()
    expect(boss.get_by_test_id("staff-history-row").first).to_contain_text("Marked as a prescriber.")
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h4-staff-detail-{width}.png", full_page=True)
    assert is_prescriber(get_user_model().objects.get(username="nina.park"))

    # and the list shows her with her role, site and mark
    boss.get_by_role("link", name="← Staff").click()
    row = boss.locator('[data-username="nina.park"]')
    expect(row.get_by_test_id("staff-roles")).to_contain_text("Clinician")
    expect(row.get_by_test_id("staff-prescriber")).to_be_visible()
    expect(row.get_by_test_id("staff-sites")).to_have_text("Midtown")
    boss.screenshot(path=f"/tmp/h4-staff-list-{width}.png", full_page=True)


def test_a_manager_removes_a_lost_authenticator(boss, width):
    # given a clinician with an authenticator
    nurse = UserFactory(username="dana.lee", first_name="Dana", last_name="Lee", roles=[CLINICIAN])
    TOTPDevice.objects.create(user=nurse, name="Authenticator app", confirmed=True)
    boss.goto(f"/manage/staff/{nurse.pk}/")
    expect(boss.get_by_test_id("staff-two-factor")).to_have_text("Set up")
    # when
    boss.get_by_test_id("staff-remove-authenticator").click()
    # then
    expect(boss.get_by_test_id("staff-done")).to_contain_text("Authenticator removed")
    expect(boss.get_by_test_id("staff-two-factor")).to_have_text("Not set up")
    expect(boss.get_by_test_id("staff-remove-authenticator")).to_have_count(0)
    assert not TOTPDevice.objects.filter(user=nurse).exists()
    assert blocking_violations(boss) == []


def test_a_manager_taking_away_her_own_manager_role_is_refused_with_the_reason(boss, width, manager_user):
    # given her own page
    boss.goto(f"/manage/staff/{manager_user.pk}/")
    # when she takes away her manager role
    boss.get_by_label("Clinician: records sessions, doses and REMS forms").check()
    boss.get_by_label("Manager: runs the clinic: sites, staff, protocols, texts, audit").uncheck()
    boss.get_by_test_id("staff-save").click()
    # then the refusal says why, and her choice stays on the form
    expect(boss.get_by_test_id("error")).to_contain_text("You cannot take away your own manager role")
    expect(boss.get_by_test_id("error-roles")).to_be_visible()
    expect(boss.get_by_label("Clinician: records sessions, doses and REMS forms")).to_be_checked()
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h4-staff-self-demotion-{width}.png", full_page=True)
    assert manager_user.groups.filter(name="manager").exists()


def test_deactivating_a_clinician_with_booked_sessions_says_so_and_asks_first(boss, width, site, book):
    # given a clinician at the site with a session booked next week
    nurse = UserFactory(username="omar.diaz", first_name="Omar", last_name="Diaz", roles=[CLINICIAN])
    site.staff.add(nurse)
    today = site.local_date(timezone.now())
    monday = today + timedelta(days=7 - today.weekday())
    book(ChairFactory(location=site), site.at(monday, time(10)), clinician=nurse)
    boss.goto(f"/manage/staff/{nurse.pk}/")
    expect(boss.get_by_test_id("staff-booked-session")).to_have_count(1)
    # when she deactivates the account
    boss.get_by_test_id("staff-deactivate").click()
    # then she is told about the booked session and asked to confirm
    expect(boss.get_by_test_id("error")).to_contain_text("Omar Diaz is the clinician of 1 booked session from now on")
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h4-staff-deactivate-confirm-{width}.png", full_page=True)
    assert get_user_model().objects.get(pk=nurse.pk).is_active
    # when she confirms
    boss.get_by_test_id("staff-deactivate-confirm").click()
    # then the account is deactivated, the session still listed with it
    expect(boss.get_by_test_id("staff-done")).to_contain_text("Deactivated")
    expect(boss.get_by_test_id("staff-active")).to_have_text("Deactivated")
    expect(boss.get_by_test_id("staff-booked-session")).to_have_count(1)
    expect(boss.get_by_test_id("staff-reactivate")).to_be_visible()


def test_a_manager_sets_a_new_password_and_the_clinician_signs_in_with_it(boss, width, site, new_browser):
    # given a clinician who forgot her password, still signed in on a treatment-room screen
    nurse = UserFactory(username="lena.fox", first_name="Lena", last_name="Fox", roles=[CLINICIAN])
    nurse.set_password("forgotten-lantern-2025")
    nurse.save()
    site.staff.add(nurse)
    old_screen = new_browser()
    sign_in(old_screen, "lena.fox", "forgotten-lantern-2025", lands_on=LANDS_ON_SCHEDULE)
    boss.goto(f"/manage/staff/{nurse.pk}/")
    form = boss.get_by_test_id("staff-password-form")
    assert blocking_violations(boss) == []

    # when the manager gives a password too like her username, it is refused beside the field
    form.get_by_label("New password", exact=True).fill("lena.fox.lena")
    form.get_by_label("New password again").fill("lena.fox.lena")
    form.get_by_test_id("staff-set-password").click()
    expect(boss.get_by_test_id("error-new_password1")).to_contain_text("too similar to the username")
    expect(boss.get_by_test_id("form-errors")).to_be_visible()
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h8-staff-password-refused-{width}.png", full_page=True)

    # when she gives a good one
    form.get_by_label("New password", exact=True).fill("quiet-harbour-lantern-42")
    form.get_by_label("New password again").fill("quiet-harbour-lantern-42")
    form.get_by_test_id("staff-set-password").click()
    # then the page says so and the change is in the account's history, without the password
    expect(boss.get_by_test_id("staff-done")).to_contain_text("New password set: they were signed out everywhere")
    expect(boss.get_by_test_id("staff-history-row").first).to_contain_text("New password set; signed out of 1 web")
    expect(boss.get_by_test_id("staff-history")).not_to_contain_text("quiet-harbour-lantern-42")
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h8-staff-password-set-{width}.png", full_page=True)

    # and the screen she was signed in on is sent to sign in again
    old_screen.reload()
    expect(old_screen).to_have_url(re.compile(r"/login/"))
    # and a fresh browser signs in as her with the new password
    fresh = new_browser()
    sign_in(fresh, "lena.fox", "quiet-harbour-lantern-42", lands_on=LANDS_ON_SCHEDULE)
    expect(fresh.get_by_role("heading", level=1)).to_be_visible()


def test_a_manager_changing_her_own_password_stays_signed_in(boss, width, manager_user):
    # given her own page
    boss.goto(f"/manage/staff/{manager_user.pk}/")
    form = boss.get_by_test_id("staff-password-form")
    expect(form).to_contain_text("you stay signed in here")
    # when she sets a new password
    form.get_by_label("New password", exact=True).fill("quiet-harbour-lantern-42")
    form.get_by_label("New password again").fill("quiet-harbour-lantern-42")
    form.get_by_test_id("staff-set-password").click()
    # then she is still signed in, on her page, and the next page opens too
    expect(boss.get_by_test_id("staff-done")).to_contain_text("Your new password is set: you stay signed in here")
    assert blocking_violations(boss) == []
    boss.screenshot(path=f"/tmp/h8-staff-own-password-{width}.png", full_page=True)
    boss.get_by_role("link", name="← Staff").click()
    expect(boss.get_by_role("heading", level=1)).to_have_text("Staff")
    assert get_user_model().objects.get(pk=manager_user.pk).check_password("quiet-harbour-lantern-42")
