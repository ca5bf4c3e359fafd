from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def test_a_token_is_issued_for_good_credentials(front_desk):
    response = APIClient().post("/api/auth/token/", {"username": "desk", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/patients/").status_code == 200


def test_bad_credentials_are_a_400_with_a_clear_code(front_desk):
    response = APIClient().post("/api/auth/token/", {"username": "desk", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"


def test_repeated_failed_token_logins_lock_the_account(front_desk, settings):
    # given
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/api/auth/token/", {"username": "desk", "password": "wrong"}, format="json")
    # when: even the right password is refused now
    response = client.post("/api/auth/token/", {"username": "desk", "password": PASSWORD}, format="json")
    # then
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"


def test_repeated_failed_web_logins_lock_the_account(client, front_desk, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "desk", "password": "wrong"})
    response = client.post("/login/", {"username": "desk", "password": PASSWORD})
    assert response.status_code == 429
    assert b"Account locked" in response.content


def test_a_web_login_with_good_credentials_lands_on_the_home_page(client, front_desk):
    response = client.post("/login/", {"username": "desk", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_user_without_a_role_gets_no_token(no_role_user):
    response = APIClient().post("/api/auth/token/", {"username": "nobody", "password": PASSWORD}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "no_role"


def test_signing_in_works_while_the_throttles_cache_is_down_and_the_lockout_still_holds(front_desk, settings,
                                                                                         caplog):
    # given: the cache is a Redis nobody listens on (port 1), as when the clinic's Redis is down
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    client = APIClient()
    # when / then: the right password still gets a token, with the outage logged
    response = client.post("/api/auth/token/", {"username": "desk", "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    assert "login throttle skipped" in caplog.text
    # and the account lockout, kept in the database, still stops guessing
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/api/auth/token/", {"username": "desk", "password": "wrong"}, format="json")
    response = client.post("/api/auth/token/", {"username": "desk", "password": PASSWORD}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
