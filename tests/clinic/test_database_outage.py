"""The database goes away for a moment: the API answers 503 with a clear message, pages say so, and both recover.

The web server is a real gunicorn process (one sync worker, persistent
database connections as in production) whose DATABASE_URL points at a TCP
proxy in this process (tests/tcp_proxy.py) in front of the machine's
PostgreSQL. The proxy cuts every open connection and refuses new ones, then
accepts again; PostgreSQL itself, which others are using, is never touched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import suppress
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from django.conf import settings
from django.test import Client
from rest_framework.authtoken.models import Token

from clinic.roles import FRONT_DESK
from tests.celery_harness import ROOT, database_url_for_subprocess, free_port, wait_for
from tests.factories import PatientFactory, UserFactory
from tests.tcp_proxy import tcp_proxy

# Transactional: the web server is another process, so what a test builds must be committed.
# One xdist worker runs this module's tests, so gunicorn and the proxy (module-scoped fixtures) start once.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.xdist_group("database-outage")]

DETAIL = "The database is not answering just now; please try again in a moment."


@pytest.fixture(scope="module")
def database_proxy(django_db_setup):
    parts = urlsplit(os.environ["DATABASE_URL"])
    if not parts.port or not parts.hostname or parts.hostname.startswith("%2F"):
        pytest.skip("the database is reached through a socket, not TCP: no proxy can stand in front of it")
    with tcp_proxy(parts.hostname, parts.port) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def web(database_proxy, tmp_path_factory):
    """gunicorn serving the project against the test database, through the proxy; yields its base URL."""
    parts = urlsplit(database_url_for_subprocess())
    netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@127.0.0.1:{database_proxy.port}"
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {**os.environ, "DATABASE_URL": urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")),
           "DATABASE_CONN_MAX_AGE": "60", "DJANGO_DEBUG": "false", "DJANGO_HTTPS": "false",
           "DJANGO_ALLOWED_HOSTS": "127.0.0.1"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "clinic.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--timeout", "60", "--graceful-timeout", "5", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        with suppress(requests.RequestException):
            return requests.get(f"{url}/health/", timeout=5).status_code == 200
        return False

    try:
        if not wait_for(answers, 90, every=0.3):
            raise AssertionError(f"gunicorn did not start:\n{log.read_text(errors='replace')[-3000:]}")
        yield url
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@pytest.fixture
def desk(web):
    """Two ways in for one front-desk user: an API token and a signed-in browser session."""
    user = UserFactory(username="outage.desk", roles=[FRONT_DESK])
    PatientFactory()
    browser = Client()
    browser.force_login(user)
    token = requests.Session()
    token.headers["Authorization"] = f"Token {Token.objects.create(user=user).key}"
    session = requests.Session()
    session.cookies.set(settings.SESSION_COOKIE_NAME, browser.cookies[settings.SESSION_COOKIE_NAME].value)
    session.cookies.set(settings.CSRF_COOKIE_NAME, "x" * 32)
    session.headers.update({"X-CSRFToken": "x" * 32, "Referer": web + "/"})
    return token, session


def _get(client: requests.Session, url: str) -> requests.Response:
    return client.get(url, timeout=30, allow_redirects=False)


def _patients_answer(client, web, status: int) -> bool:
    return _get(client, f"{web}/api/patients/").status_code == status


def test_the_api_answers_503_with_a_clear_message_while_the_database_is_down_and_recovers(web, database_proxy, desk):
    token, session = desk
    # given both clients work, each over a connection the server keeps open
    for client in (token, session):
        assert _get(client, f"{web}/api/patients/").status_code == 200
    try:
        # when the database drops every connection and refuses new ones
        database_proxy.refuse()
        # then the API answers 503 in its error format, with a hint to retry, never 500:
        # with a token (the lookup fails in DRF's authentication) ...
        response = _get(token, f"{web}/api/patients/")
        assert response.status_code == 503, response.text
        assert response.json() == {"code": "unavailable", "detail": DETAIL, "fields": {}}
        assert response.headers["Retry-After"] == "5"
        # ... and with a session (it fails in middleware, before any view), for reads and writes alike
        for response in (_get(session, f"{web}/api/patients/"),
                         session.post(f"{web}/api/patients/", json={"first_name": "Ada"}, timeout=30),
                         token.post(f"{web}/api/patients/", json={"first_name": "Ada"}, timeout=30)):
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "unavailable"
        # and the health check says why
        health = requests.get(f"{web}/health/", timeout=30)
        assert (health.status_code, health.json()) == (503, {"status": "database unavailable"})
    finally:
        # when it is back
        database_proxy.accept()
    # then the same clients are answered again, without a restart
    for client in (token, session):
        assert wait_for(lambda client=client: _patients_answer(client, web, 200), 30)
    assert requests.get(f"{web}/health/", timeout=30).status_code == 200


def test_pages_say_the_database_is_unavailable_rather_than_failing(web, database_proxy, desk):
    _, session = desk
    assert _get(session, f"{web}/patients/").status_code == 200
    try:
        # when the database goes away
        database_proxy.refuse()
        # then a page is a 503 page that says what is happening, for the signed-in and the signing-in alike
        signing_in = requests.Session()
        signing_in.cookies.set(settings.CSRF_COOKIE_NAME, "x" * 32)
        for response in (_get(session, f"{web}/patients/"),
                         signing_in.post(f"{web}/login/", data={"username": "outage.desk", "password": "wrong"},
                                         headers={"X-CSRFToken": "x" * 32}, timeout=30, allow_redirects=False)):
            assert response.status_code == 503, response.text
            assert "text/html" in response.headers["Content-Type"]
            assert "Temporarily unavailable" in response.text
            assert "cannot reach its database" in response.text
            assert response.headers["Retry-After"] == "5"
    finally:
        database_proxy.accept()
    # and when it is back the page works again
    assert wait_for(lambda: _get(session, f"{web}/patients/").status_code == 200, 30)
