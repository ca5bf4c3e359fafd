"""Under production settings every answer carries the browser protections, and the pages need no inline script.

The production settings are the real ``clinic/settings.py`` read with a
production environment (``DJANGO_DEBUG=false``, ``DJANGO_HTTPS=true``); the
security-related values it produces replace the test run's for these tests.
"""

from __future__ import annotations

import re
import runpy
from datetime import date, time
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER
from tests.clinic.test_permission_matrix import TABLE, WINGS
from tests.factories import RemsFormFactory, TreatmentCourseFactory, UserFactory, standard_protocol

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
HOST = "clinic.example.org"
PRODUCTION_ENVIRONMENT = {
    "DJANGO_DEBUG": "false",
    "DJANGO_HTTPS": "true",
    "DJANGO_ALLOWED_HOSTS": HOST,
    "DJANGO_SECRET_KEY": "k8#Qz!v2@Lr9$Wm4%Tn7^Bx1&Hc6*Jp3(Fs5)Gd0_Ya8+Ue2=Io4-Pk7",
}
SECURITY_SETTINGS = re.compile(r"^(SECURE_|SESSION_COOKIE_|CSRF_COOKIE_|CONTENT_SECURITY_POLICY|X_FRAME_OPTIONS$|"
                               r"MIDDLEWARE$|DEBUG$|ALLOWED_HOSTS$|HTTPS$)")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


@pytest.fixture
def production(settings, monkeypatch):
    """The security settings ``clinic/settings.py`` produces in production, in force for the test."""
    for name, value in PRODUCTION_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    produced = runpy.run_path(str(ROOT / "clinic" / "settings.py"))
    for name, value in produced.items():
        if SECURITY_SETTINGS.match(name):
            setattr(settings, name, value)
    assert settings.SECURE_SSL_REDIRECT and settings.SESSION_COOKIE_SECURE and not settings.DEBUG
    return settings


@pytest.fixture
def https():
    # As behind the deployment's proxy, which terminates TLS and says so (SECURE_PROXY_SSL_HEADER).
    return Client(HTTP_HOST=HOST, HTTP_X_FORWARDED_PROTO="https")


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def assert_protected(response) -> None:
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    csp = csp_directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no other site
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]


def test_a_page_carries_hsts_csp_and_frame_protection(production, https):
    response = https.get("/login/")
    assert response.status_code == 200
    assert_protected(response)
    assert response.cookies["csrftoken"]["secure"]


def test_signing_in_gives_a_secure_http_only_session_cookie(production, https, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    UserFactory(username="desk", roles=[FRONT_DESK])
    response = https.post("/login/", {"username": "desk", "password": "correct-horse-battery"})
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert (bool(cookie["secure"]), bool(cookie["httponly"]), cookie["samesite"]) == (True, True, "Lax")
    assert cookie["max-age"] == 15 * 60
    page = https.get("/patients/")
    assert page.status_code == 200
    assert_protected(page)


def test_an_api_answer_carries_the_same_protections(production, https, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    token = Token.objects.create(user=UserFactory(username="desk", roles=[FRONT_DESK]))
    response = https.get("/api/patients/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert_protected(response)
    refused = https.get("/api/patients/")
    assert refused.status_code == 401
    assert_protected(refused)


def test_plain_http_is_sent_to_https(production):
    response = Client(HTTP_HOST=HOST).get("/login/")
    assert response.status_code == 301
    assert response["Location"] == f"https://{HOST}/login/"


def test_the_api_docs_load_only_this_sites_scripts(production, https, settings):
    # given
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    https.force_login(UserFactory(username="desk", roles=[FRONT_DESK]))
    # when
    page = https.get("/api/docs/")
    # then: Swagger UI from our own static files, its start-up script a file too
    assert page.status_code == 200
    assert_protected(page)
    html = page.content.decode()
    assert INLINE_SCRIPT.findall(html) == []
    sources = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
    assert sources and all(source.startswith("/") for source in sources), sources
    script = https.get("/api/docs/?script=")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content


# --- the pages themselves ---------------------------------------------------------------------------------------


@pytest.fixture
def small_world(site, chair, book, now) -> dict:
    """A user in every role, two patients with courses, one booked session with its REMS form: ids by name."""
    user = UserFactory(username="every-role", roles=[FRONT_DESK, CLINICIAN, MANAGER])
    course = TreatmentCourseFactory(protocol=standard_protocol("esketamine-trd"), start_date=date(2026, 3, 2))
    course2 = TreatmentCourseFactory(protocol=standard_protocol("esketamine-trd"), start_date=date(2026, 3, 2))
    session = book(chair, site.at(date(2026, 3, 2), time(10)), course=course, by=user, clinician=user)
    form = RemsFormFactory(session=session)
    # The newer wings' pages name their own rows (a lot, an authorisation...): made as the role matrix makes them.
    objects = {"users": dict.fromkeys((FRONT_DESK, CLINICIAN, MANAGER), user), "site": site, "chair": chair,
               "patient": course.patient, "patient2": course2.patient, "course": course, "course2": course2,
               "session": session, "protocol": course.protocol}
    wing_keys = {}
    for wing in WINGS:
        wing_keys.update(wing.world(objects))
    return {**wing_keys, "user": user, "patient": course.patient_id, "patient2": course2.patient_id,
            "course": course.pk, "course2": course2.pk, "session": session.pk, "location": site.pk,
            "rems_form": form.pk, "chair": chair.pk, "clinician": user.pk, "protocol": course.protocol_id}


def test_no_page_has_an_inline_script_or_event_handler(client, settings, small_world):
    """The CSP forbids inline scripts: every page keeps its JavaScript in static files."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    client.force_login(small_world["user"])
    checked = []
    for row in TABLE:
        if row.method != "GET" or row.is_api or row.route.startswith(("admin/", "ical/")) or row.ok != {200}:
            continue
        url = "/" + row.route
        for name, source in row.args.items():
            url = url.replace(f"<{name}>", source[1:] if source.startswith("=") else str(small_world[source]))
        if row.query:
            url += "?" + row.query.format(**small_world)
        response = client.get(url)
        assert response.status_code == 200, url
        if not response["Content-Type"].startswith("text/html"):
            continue  # a PDF or a CSV: no page to run scripts in
        html = response.content.decode()
        assert INLINE_SCRIPT.findall(html) == [], url
        assert INLINE_HANDLER.findall(html) == [], url
        checked.append(url)
    assert len(checked) >= 15
