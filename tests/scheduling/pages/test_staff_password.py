"""A manager sets a new password for a staff member who forgot theirs, on the staff member's page: the password
rules with the user as context, the staff member signed out everywhere (web sessions, API token), a lockout
cleared, the change in the admin's log without the password; her own password keeps her signed in."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session as WebSession
from django.test import Client
from rest_framework.authtoken.models import Token

from scheduling.pages import staff_changes
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()
OLD_PASSWORD = "old-harbour-lantern-41"
NEW_PASSWORD = "quiet-harbour-lantern-42"


@pytest.fixture
def boss_client(client, manager, site):
    site.staff.add(manager)
    client.force_login(manager)
    return client


@pytest.fixture
def nurse(staff_clinician):
    """Dr Ortiz with a password she forgot."""
    staff_clinician.set_password(OLD_PASSWORD)
    staff_clinician.save()
    return staff_clinician


def _signed_in_as(user) -> Client:
    other = Client()
    other.force_login(user)
    return other


def _sessions_of(user) -> list[str]:
    return [row.session_key for row in WebSession.objects.all()
            if row.get_decoded().get("_auth_user_id") == str(user.pk)]


def _set(client, user, first=NEW_PASSWORD, second=None):
    return client.post(f"/manage/staff/{user.pk}/password/",
                       {"new_password1": first, "new_password2": first if second is None else second})


def _still_old(user) -> bool:
    return User.objects.get(pk=user.pk).check_password(OLD_PASSWORD)


def test_the_staff_members_page_offers_a_new_password(boss_client, nurse):
    content = boss_client.get(f"/manage/staff/{nurse.pk}/").content.decode()
    assert 'data-testid="staff-password-form"' in content
    assert f'action="/manage/staff/{nurse.pk}/password/"' in content
    assert '<label for="id_new_password1">New password</label>' in content


@pytest.mark.parametrize(("password", "words"), [
    ("short-one", "This password is too short. It must contain at least 12 characters."),
    ("123456789012345", "This password is entirely numeric."),
    # the staff member is the validators' context: her own username is refused
    ("dr_ortiz_2026", "The password is too similar to the username."),
])
def test_a_weak_password_is_refused_beside_the_field(boss_client, nurse, password, words):
    response = _set(boss_client, nurse, password)
    assert response.status_code == 400
    content = response.content.decode()
    field = content[content.index('data-testid="field-new_password1"'):]
    assert words in field[:field.index('data-testid="field-new_password2"')]
    assert 'id="id_new_password1_error"' in content and 'data-testid="form-errors"' in content
    assert _still_old(nurse) and not LogEntry.objects.filter(object_id=str(nurse.pk)).exists()


def test_two_different_passwords_are_refused_beside_the_second(boss_client, nurse):
    response = _set(boss_client, nurse, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert response.status_code == 400
    assert 'id="id_new_password2_error"' in response.content.decode()
    assert "The two passwords differ." in response.content.decode()
    assert _still_old(nurse)


def test_a_new_password_signs_them_out_everywhere_and_is_logged_without_the_password(boss_client, manager, nurse):
    # given: Dr Ortiz signed in on two screens and with an API token
    screens = [_signed_in_as(nurse), _signed_in_as(nurse)]
    assert screens[0].get("/schedule/").status_code == 200
    token = Token.objects.create(user=nurse)
    # when
    response = _set(boss_client, nurse)
    # then the password is the new one
    assert response.status_code == 302
    assert response["Location"] == f"/manage/staff/{nurse.pk}/?done=password-set"
    nurse.refresh_from_db()
    assert nurse.check_password(NEW_PASSWORD) and not nurse.check_password(OLD_PASSWORD)
    # and every sign-in of hers has ended: her sessions are gone, the screens go to the login, the token is refused
    assert _sessions_of(nurse) == []
    for screen in screens:
        answer = screen.get("/schedule/")
        assert answer.status_code == 302 and answer["Location"].startswith("/login/")
    assert not Token.objects.filter(key=token.key).exists()
    assert Client().get("/api/me/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 401
    # and the admin's log says so, by the manager, never with the password
    entry = LogEntry.objects.get(object_id=str(nurse.pk))
    assert entry.user == manager
    assert entry.get_change_message() == "New password set; signed out of 2 web sessions; API token revoked."
    assert not any(NEW_PASSWORD in row.change_message for row in LogEntry.objects.all())
    # and the page says what happened, with the log row
    page = boss_client.get(response["Location"]).content.decode()
    assert "New password set: they were signed out everywhere" in page
    assert "New password set; signed out of 2 web sessions" in page


def test_she_signs_in_with_the_new_password_only(boss_client, nurse):
    _set(boss_client, nurse)
    refused = Client().post("/login/", {"username": nurse.username, "password": OLD_PASSWORD})
    assert refused.status_code == 200 and "_auth_user_id" not in refused.client.session
    signed_in = Client().post("/login/", {"username": nurse.username, "password": NEW_PASSWORD})
    assert signed_in.status_code == 302 and signed_in.client.session["_auth_user_id"] == str(nurse.pk)


def test_a_new_password_clears_a_lockout(boss_client, nurse, settings):
    # given: Dr Ortiz locked out after failed sign-ins
    AccessAttempt.objects.create(username=nurse.username, failures_since_start=settings.AXES_FAILURE_LIMIT,
                                 user_agent="x", ip_address="10.0.0.1", http_accept="*", path_info="/login/",
                                 get_data="", post_data="")
    assert staff_changes.locked_out_usernames([nurse.username]) == {nurse.username}
    # when
    assert _set(boss_client, nurse).status_code == 302
    # then
    assert staff_changes.locked_out_usernames([nurse.username]) == set()
    assert LogEntry.objects.get(object_id=str(nurse.pk)).get_change_message() == (
        "New password set; sign-in lockout cleared.")


def test_a_manager_changing_her_own_password_stays_signed_in_here_only(boss_client, manager):
    # given: the manager also signed in on another screen
    elsewhere = _signed_in_as(manager)
    # when she changes her own password on her page
    response = _set(boss_client, manager)
    # then this screen stays signed in, the other one is signed out
    assert response.status_code == 302
    assert response["Location"] == f"/manage/staff/{manager.pk}/?done=password-changed"
    page = boss_client.get(response["Location"])
    assert page.status_code == 200 and "Your new password is set: you stay signed in here" in page.content.decode()
    assert elsewhere.get("/manage/").status_code == 302
    assert len(_sessions_of(manager)) == 1
    manager.refresh_from_db()
    assert manager.check_password(NEW_PASSWORD)
    assert LogEntry.objects.get(object_id=str(manager.pk)).get_change_message() == (
        "Own password changed; signed out of 1 web session.")


@pytest.mark.parametrize("who", ["front_desk", "clinician"])
def test_only_a_manager_sets_a_new_password(client, who, request, nurse):
    client.force_login(request.getfixturevalue(who))
    assert _set(client, nurse).status_code == 403
    assert _still_old(nurse)


def test_a_deactivated_account_is_reactivated_first(boss_client, nurse):
    # given
    nurse.is_active = False
    nurse.save()
    assert 'data-testid="staff-password-form"' not in boss_client.get(f"/manage/staff/{nurse.pk}/").content.decode()
    # when: a good password, or a weak one: the state is the answer either way
    for password in (NEW_PASSWORD, "short"):
        response = _set(boss_client, nurse, password)
        # then
        assert response.status_code == 409
        content = response.content.decode()
        assert 'data-code="account_inactive"' in content
        assert "This account is deactivated: reactivate it first, then set a new password." in content
    assert _still_old(nurse) and not LogEntry.objects.filter(object_id=str(nurse.pk)).exists()


def test_an_unknown_staff_member_is_a_404(boss_client):
    assert _set(boss_client, UserFactory.build(pk=999999)).status_code == 404
