"""Two-factor sign-in: a six-digit authenticator code after the password, on the web and for API tokens.

Codes are real TOTP codes (RFC 6238) computed with django_otp.oath.totp from
the device's key, at a clock the test controls.
"""

from __future__ import annotations

import re
from base64 import b32decode
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from clinic.roles import MANAGER

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
START = datetime(2026, 3, 2, 14, 0, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def five_seconds_into_a_code_step(clock):
    """Every test starts at ``START``: the shared ``clock`` moved five seconds past ``NOW``, clear of a step's edge."""
    clock.move_to(START)


@pytest.fixture(autouse=True)
def fresh_login_throttle():
    # The token endpoint's per-address throttle counts in the cache, which outlives a test.
    cache.clear()


@pytest.fixture
def device(front_desk):
    return TOTPDevice.objects.create(user=front_desk, name="Phone", confirmed=True)


def code_for(key: bytes, *, steps_ahead: int = 0) -> str:
    return f"{totp(key, drift=steps_ahead):06d}"


def sign_in_with_password(client, username="desk"):
    return client.post("/login/", {"username": username, "password": PASSWORD})


# --- the web --------------------------------------------------------------------------------------------------


def test_a_user_with_an_authenticator_is_asked_for_the_code_after_the_password(client, device):
    # when
    response = sign_in_with_password(client)
    # then: not signed in yet
    assert response.status_code == 302 and response["Location"] == "/login/code/"
    assert client.get("/patients/")["Location"].startswith("/login/")
    # when the code follows
    response = client.post("/login/code/", {"code": code_for(device.bin_key)})
    # then
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/patients/").status_code == 200


def test_a_user_without_an_authenticator_signs_in_with_the_password_alone(client, front_desk):
    response = sign_in_with_password(client)
    assert response["Location"] == "/"
    assert client.get("/patients/").status_code == 200


def test_the_code_step_keeps_where_the_user_was_going(client, device):
    client.post("/login/?next=/worklist/", {"username": "desk", "password": PASSWORD, "next": "/worklist/"})
    response = client.post("/login/code/", {"code": code_for(device.bin_key)})
    assert response["Location"] == "/worklist/"


def test_a_wrong_code_does_not_sign_in(client, device):
    sign_in_with_password(client)
    response = client.post("/login/code/", {"code": "000000" if code_for(device.bin_key) != "000000" else "111111"})
    assert response.status_code == 400
    assert b"not right" in response.content
    assert client.get("/patients/")["Location"].startswith("/login/")


def test_a_code_from_the_authenticator_cannot_be_used_twice(client, device):
    # given a sign-in with this step's code
    code = code_for(device.bin_key)
    sign_in_with_password(client)
    assert client.post("/login/code/", {"code": code}).status_code == 302
    client.post("/logout/")
    # when someone who saw it replays it in the same half-minute
    sign_in_with_password(client)
    response = client.post("/login/code/", {"code": code})
    # then
    assert response.status_code == 400


def test_wrong_codes_count_toward_the_account_lockout(client, device, settings, clock):
    # given
    sign_in_with_password(client)
    wrong = "000000" if code_for(device.bin_key) != "000000" else "111111"
    # when the code is guessed again and again (waiting out django-otp's growing delay each time)
    statuses = []
    for _ in range(settings.AXES_FAILURE_LIMIT):
        clock.shift(timedelta(seconds=40))
        statuses.append(client.post("/login/code/", {"code": wrong}).status_code)
    # then the account locks, for the password step too
    assert statuses[-1] == 429
    clock.shift(timedelta(seconds=1))
    assert sign_in_with_password(client).status_code == 429


def test_the_code_step_expires_after_a_few_minutes(client, device, clock):
    sign_in_with_password(client)
    clock.shift(timedelta(minutes=6))
    response = client.post("/login/code/", {"code": code_for(device.bin_key)})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/patients/")["Location"].startswith("/login/")


def test_the_admin_signs_in_through_the_clinic_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/admin/"


# --- setting it up --------------------------------------------------------------------------------------------


def shown_secret(page) -> bytes:
    secret = re.search(r'data-testid="two-factor-secret">([A-Z2-7]+)<', page.content.decode()).group(1)
    return b32decode(secret)


def test_setting_up_shows_a_qr_code_and_key_once_and_confirms_with_a_code(client, front_desk):
    # given
    client.force_login(front_desk)
    page = client.get("/account/two-factor/")
    assert page.status_code == 200
    assert b"<svg" in page.content and b"two-factor-qr" in page.content
    assert page["Cache-Control"].startswith("max-age=0")  # never cached: it holds the secret
    key = shown_secret(page)
    # when the code from the scanned key is entered
    response = client.post("/account/two-factor/", {"code": code_for(key)})
    # then
    assert response.status_code == 302
    device = TOTPDevice.objects.get(user=front_desk)
    assert device.confirmed and device.bin_key == key
    after = client.get("/account/two-factor/")
    assert b"two-factor-on" in after.content and b"two-factor-secret" not in after.content
    assert client.get("/patients/").status_code == 200  # this session counts as verified


def test_a_wrong_code_does_not_confirm_the_authenticator(client, front_desk):
    client.force_login(front_desk)
    key = shown_secret(client.get("/account/two-factor/"))
    response = client.post("/account/two-factor/", {"code": code_for(key, steps_ahead=5)})
    assert response.status_code == 400
    assert not TOTPDevice.objects.filter(user=front_desk, confirmed=True).exists()


def test_opening_the_page_again_gives_a_new_key(client, front_desk):
    client.force_login(front_desk)
    first = shown_secret(client.get("/account/two-factor/"))
    second = shown_secret(client.get("/account/two-factor/"))
    assert first != second
    assert TOTPDevice.objects.filter(user=front_desk).count() == 1


def test_other_sessions_must_sign_in_again_once_an_authenticator_is_added(client, front_desk, device):
    # given a session signed in before the device existed (as another browser would be)
    client.force_login(front_desk)
    # when
    response = client.get("/patients/")
    # then
    assert response.status_code == 302 and response["Location"] == "/login/"


def test_a_desk_signed_in_elsewhere_is_signed_out_when_an_authenticator_is_added(front_desk, clock):
    # given the same desk signed in (password only) in two browsers
    first, second = Client(), Client()
    for browser in (first, second):
        assert sign_in_with_password(browser).status_code == 302
    # when the authenticator is set up in the first
    key = shown_secret(first.get("/account/two-factor/"))
    assert first.post("/account/two-factor/", {"code": code_for(key)}).status_code == 302
    # then the first goes on, and the second, within a minute, must sign in again with the code
    assert first.get("/patients/").status_code == 200
    clock.shift(timedelta(seconds=61))
    assert second.get("/patients/")["Location"] == "/login/"
    assert second.get("/api/patients/").status_code == 401


def test_turning_it_off_needs_a_current_code(client, device, clock):
    sign_in_with_password(client)
    client.post("/login/code/", {"code": code_for(device.bin_key)})
    assert client.post("/account/two-factor/", {"code": "12"}).status_code == 400
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    clock.shift(timedelta(seconds=2))  # after a wrong code, django-otp makes the next try wait a second
    response = client.post("/account/two-factor/", {"code": code_for(device.bin_key, steps_ahead=1)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=device.user).exists()
    assert client.get("/patients/").status_code == 200


# --- required for a role ---------------------------------------------------------------------------------------


@pytest.fixture
def required_for_managers(settings):
    settings.TOTP_REQUIRED_ROLES = [MANAGER]


def test_a_manager_without_an_authenticator_can_only_set_one_up_when_required(client, manager,
                                                                             required_for_managers):
    # when
    response = sign_in_with_password(client, "boss")
    # then every page leads to the set-up page
    assert response["Location"] == "/"
    assert client.get("/patients/")["Location"] == "/account/two-factor/"
    assert client.get("/api/patients/").json()["code"] == "two_factor_setup_required"
    page = client.get("/account/two-factor/")
    assert page.status_code == 200 and b"must use two-factor" in page.content
    # when the manager sets it up
    client.post("/account/two-factor/", {"code": code_for(shown_secret(page))})
    # then
    assert client.get("/patients/").status_code == 200


def test_a_required_authenticator_cannot_be_turned_off(client, manager, required_for_managers):
    device = TOTPDevice.objects.create(user=manager, name="Phone", confirmed=True)
    sign_in_with_password(client, "boss")
    client.post("/login/code/", {"code": code_for(device.bin_key)})
    response = client.post("/account/two-factor/", {"code": code_for(device.bin_key, steps_ahead=1)})
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_other_roles_are_not_required(client, front_desk, required_for_managers):
    sign_in_with_password(client)
    assert client.get("/patients/").status_code == 200


# --- the token API ---------------------------------------------------------------------------------------------


def token(body: dict):
    return APIClient().post("/api/auth/token/", body, format="json")


def test_the_token_endpoint_asks_for_the_code_of_an_account_with_an_authenticator(device):
    response = token({"username": "desk", "password": PASSWORD})
    assert response.status_code == 400
    assert response.json()["code"] == "otp_required"
    assert "otp" in response.json()["fields"]


def test_the_token_endpoint_refuses_a_wrong_code(device):
    response = token({"username": "desk", "password": PASSWORD, "otp": code_for(device.bin_key, steps_ahead=7)})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_otp"


def test_the_token_endpoint_gives_a_token_for_the_password_and_the_code(device):
    response = token({"username": "desk", "password": PASSWORD, "otp": code_for(device.bin_key)})
    assert response.status_code == 200
    assert response.json()["token"]


def test_the_token_endpoint_refuses_a_required_role_without_an_authenticator(manager, required_for_managers):
    response = token({"username": "boss", "password": PASSWORD})
    assert response.status_code == 403
    assert response.json()["code"] == "two_factor_setup_required"


def test_wrong_api_codes_lock_the_account_too(device, settings, clock):
    statuses = []
    for _ in range(settings.AXES_FAILURE_LIMIT):
        clock.shift(timedelta(seconds=40))
        statuses.append(token({"username": "desk", "password": PASSWORD, "otp": "12345"}).status_code)
    assert statuses[-1] == 429
    clock.shift(timedelta(seconds=40))
    assert token({"username": "desk", "password": PASSWORD, "otp": code_for(device.bin_key)}).status_code == 429


def test_the_setting_names_only_known_roles():
    import os
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=Path(__file__).resolve().parents[2],
                            env={**os.environ, "TOTP_REQUIRED_ROLES": "managers"}, capture_output=True, text=True)
    assert result.returncode != 0
    assert "TOTP_REQUIRED_ROLES" in result.stderr
