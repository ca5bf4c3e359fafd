"""Who may do what on the patients API (the README's permission matrix)."""

from __future__ import annotations

import pytest

from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

NEW = {"first_name": "Kim", "last_name": "Ode", "date_of_birth": "1985-01-01", "diagnosis": "mdd"}


def test_an_anonymous_request_is_refused_with_401(api_as):
    response = api_as(None).get("/api/patients/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_user_without_a_role_is_refused(api_as, no_role_user):
    response = api_as(no_role_user).get("/api/patients/")
    assert response.status_code == 403


@pytest.mark.parametrize(
    "role, method, path, expected",
    [
        ("front_desk", "get", "list", 200),
        ("clinician", "get", "list", 200),
        ("manager", "get", "list", 200),
        ("front_desk", "post", "list", 201),
        ("clinician", "post", "list", 201),
        ("manager", "post", "list", 201),
        ("front_desk", "patch", "detail", 200),
        ("clinician", "patch", "detail", 200),
        ("front_desk", "delete", "detail", 200),
        ("manager", "delete", "detail", 200),
        ("clinician", "delete", "detail", 403),
        ("front_desk", "get", "history", 403),
        ("clinician", "get", "history", 403),
        ("manager", "get", "history", 200),
    ],
)
def test_each_role_may_do_what_the_matrix_says(api_as, role, method, path, expected):
    # given
    from tests.factories import UserFactory

    user = UserFactory(roles=[role])
    patient = PatientFactory()
    url = {"list": "/api/patients/", "detail": f"/api/patients/{patient.id}/",
           "history": f"/api/patients/{patient.id}/history/"}[path]
    body = NEW if method == "post" else {"notes": "x"} if method == "patch" else None
    # when
    response = getattr(api_as(user), method)(url, body, format="json")
    # then
    assert response.status_code == expected, response.content


def test_the_schema_and_docs_need_a_role(api_as, front_desk):
    assert api_as(None).get("/api/schema/").status_code == 401
    assert api_as(front_desk).get("/api/schema/").status_code == 200
    assert api_as(front_desk).get("/api/docs/").status_code == 200


def test_pages_send_anonymous_visitors_to_the_login_page(client):
    response = client.get("/patients/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_login_page_renders(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b"Sign in" in response.content


def test_navigation_shows_manage_to_managers_only(client, front_desk, manager):
    client.force_login(front_desk)
    assert b'data-testid="nav-manage"' not in client.get("/patients/").content
    client.force_login(manager)
    assert b'data-testid="nav-manage"' in client.get("/patients/").content


def test_a_manager_lands_on_the_manager_home(client, manager):
    client.force_login(manager)
    assert client.get("/").url == "/manage/"


def test_an_unknown_api_path_is_a_json_404(api_as, front_desk):
    response = api_as(front_desk).get("/api/nothing-here/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_managers_can_open_the_configuration_admin(client, manager):
    # given a manager, who is staff but not superuser
    manager.is_staff = True
    manager.save()
    client.force_login(manager)
    # then the configuration pages open
    assert client.get("/admin/protocols/protocol/").status_code == 200
    assert client.get("/admin/scheduling/location/").status_code == 200
    assert client.get("/admin/patients/patient/").status_code == 200
