"""In a real browser: the pages work under the Content-Security-Policy, and two-factor sign-in works end to end."""

from __future__ import annotations

import re
from base64 import b32decode

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from tests.browser.conftest import DESK_PASSWORD, LANDS_ON_BOARD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def watch_for_csp_violations(page) -> list[str]:
    """Every report of something the CSP blocked, from the console (Chromium logs each one)."""
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    return violations


def test_the_desks_pages_and_the_api_docs_run_without_a_csp_violation(new_browser, desk_user, patient, course):
    # given
    page = new_browser()
    violations = watch_for_csp_violations(page)
    sign_in(page, desk_user.username, DESK_PASSWORD)
    # when the desk goes through its pages, htmx search included
    page.goto("/patients/")
    page.get_by_label("Find a patient by name, MRN or phone").fill("Okon")
    expect(page.get_by_text("Okonkwo").first).to_be_visible()
    page.goto(f"/patients/{patient.pk}/")
    page.goto(f"/courses/{course.pk}/book/")
    page.goto("/worklist/")
    page.goto("/api/docs/")
    # then Swagger UI, served from this site, draws the API, and nothing was blocked
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=20_000)
    assert violations == []


def test_a_desk_turns_on_two_factor_and_signs_in_with_a_code(new_browser, desk_user):
    # given the desk sets up an authenticator from the page
    page = new_browser()
    sign_in(page, desk_user.username, DESK_PASSWORD)
    page.goto("/account/two-factor/")
    expect(page.get_by_test_id("two-factor-qr").locator("svg")).to_be_visible()
    key = b32decode(page.get_by_test_id("two-factor-secret").inner_text())
    page.get_by_label("Six-digit code").fill(f"{totp(key):06d}")
    page.get_by_role("button", name="Turn on").click()
    expect(page).to_have_url(LANDS_ON_BOARD)
    # when the desk signs in again in another browser, in the next half-minute window
    other = new_browser()
    other.goto("/login/")
    other.get_by_label("Username").fill(desk_user.username)
    other.get_by_label("Password").fill(DESK_PASSWORD)
    other.get_by_role("button", name="Sign in").click()
    # then the code is asked for, and with it the desk lands on the board
    expect(other).to_have_url(re.compile(r"/login/code/$"))
    expect(other.get_by_role("heading", name="Enter your code")).to_be_visible()
    other.get_by_label("Six-digit code").fill(f"{totp(key, drift=1):06d}")
    other.get_by_role("button", name="Sign in").click()
    expect(other).to_have_url(LANDS_ON_BOARD)
