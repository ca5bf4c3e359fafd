"""The manager's Staff pages: the list and its filters, adding a staff member, changing roles and sites,
deactivating, removing an authenticator, clearing a lockout, and the guards that keep a manager."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from axes.models import AccessAttempt
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.errors import Conflict
from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER, PRESCRIBER, is_prescriber
from scheduling.pages import staff_changes
from tests.factories import LocationFactory, UserFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
User = get_user_model()
GOOD_PASSWORD = "quiet-harbour-lantern-42"


@pytest.fixture
def boss_client(client, manager, site):
    site.staff.add(manager)
    client.force_login(manager)
    return client


def _new(**overrides) -> dict:
    data = {"username": "nina.park", "first_name": "Nina", "last_name": "Park", "email": "nina@example.org",
            "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD, "roles": [CLINICIAN]}
    data.update(overrides)
    return data


def _edit(user, **overrides) -> dict:
    data = {"first_name": user.first_name, "last_name": user.last_name, "email": user.email,
            "roles": list(user.groups.exclude(name=PRESCRIBER).values_list("name", flat=True)),
            "sites": list(user.clinic_locations.values_list("pk", flat=True))}
    data.update(overrides)
    return data


def _log_messages(user) -> list[str]:
    return [entry.get_change_message() for entry in LogEntry.objects.filter(object_id=str(user.pk))]


# --- the list ---------------------------------------------------------------------------------------------


def test_the_list_shows_roles_the_prescriber_mark_sites_two_factor_and_lockout(boss_client, staff_clinician):
    # given
    TOTPDevice.objects.create(user=staff_clinician, name="phone", confirmed=True)
    AccessAttempt.objects.create(username=staff_clinician.username, failures_since_start=5, user_agent="x",
                                 ip_address="10.0.0.1", http_accept="*", path_info="/login/", get_data="",
                                 post_data="")
    # when
    content = boss_client.get("/manage/staff/").content.decode()
    # then
    row = content[content.index('data-username="dr_ortiz"'):]
    row = row[:row.index("</tr>")]
    assert "Clinician" in row and 'data-testid="staff-prescriber"' in row
    assert "Midtown" in row and "Set up" in row and "locked out" in row


def test_the_list_filters_by_role_site_and_active(boss_client, staff_clinician, front_desk, other_site):
    # given
    other_site.staff.add(front_desk)
    gone = UserFactory(username="gone", roles=[CLINICIAN], is_active=False)
    # when / then
    by_role = boss_client.get("/manage/staff/", {"role": CLINICIAN}).content.decode()
    assert 'data-username="dr_ortiz"' in by_role and 'data-username="desk"' not in by_role
    by_site = boss_client.get("/manage/staff/", {"site": other_site.pk}).content.decode()
    assert 'data-username="desk"' in by_site and 'data-username="dr_ortiz"' not in by_site
    inactive = boss_client.get("/manage/staff/", {"active": "no"}).content.decode()
    assert f'data-username="{gone.username}"' in inactive and 'data-username="dr_ortiz"' not in inactive
    assert f'data-username="{gone.username}"' not in boss_client.get("/manage/staff/").content.decode()


def test_the_list_is_paginated_and_keeps_its_filters(boss_client):
    UserFactory.create_batch(26, roles=[FRONT_DESK])
    first = boss_client.get("/manage/staff/", {"role": FRONT_DESK}).content.decode()
    assert first.count('data-testid="staff-row"') == 25
    assert 'href="?role=front_desk&amp;page=2"' in first
    second = boss_client.get("/manage/staff/", {"role": FRONT_DESK, "page": 2}).content.decode()
    assert second.count('data-testid="staff-row"') == 1


def test_the_list_reads_in_a_fixed_number_of_queries(boss_client, django_assert_max_num_queries):
    UserFactory.create_batch(20, roles=[CLINICIAN])
    with django_assert_max_num_queries(14):
        assert boss_client.get("/manage/staff/").status_code == 200


@pytest.mark.parametrize("who", ["front_desk", "clinician"])
def test_the_staff_pages_are_for_managers_only(client, who, request, staff_clinician):
    client.force_login(request.getfixturevalue(who))
    assert client.get("/manage/staff/").status_code == 403
    assert client.post(f"/manage/staff/{staff_clinician.pk}/deactivate/").status_code == 403
    assert staff_clinician.__class__.objects.get(pk=staff_clinician.pk).is_active


# --- adding -----------------------------------------------------------------------------------------------


def test_a_manager_adds_a_clinician_at_a_site_as_a_prescriber(boss_client, manager, site):
    # when
    response = boss_client.post("/manage/staff/new/", _new(sites=[site.pk], prescriber="on"))
    # then
    nina = User.objects.get(username="nina.park")
    assert response.status_code == 302 and response["Location"] == f"/manage/staff/{nina.pk}/?done=added"
    assert nina.check_password(GOOD_PASSWORD) and nina.is_active
    assert is_prescriber(nina) and list(nina.clinic_locations.all()) == [site]
    assert _log_messages(nina) == ["Added as Clinician, prescriber; sites: Midtown."]
    assert LogEntry.objects.get(object_id=str(nina.pk)).user == manager


@pytest.mark.parametrize(("password", "words"), [
    ("short-one", "This password is too short. It must contain at least 12 characters."),
    ("123456789012345", "This password is entirely numeric."),
    ("nina.park.nina", "The password is too similar to the username."),
])
def test_an_initial_password_follows_the_password_rules(boss_client, password, words):
    response = boss_client.post("/manage/staff/new/", _new(password1=password, password2=password))
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not User.objects.filter(username="nina.park").exists()


def test_two_different_passwords_are_refused_beside_the_second(boss_client):
    response = boss_client.post("/manage/staff/new/", _new(password2=GOOD_PASSWORD + "x"))
    assert response.status_code == 400
    assert 'id="id_password2_error"' in response.content.decode()


def test_a_username_in_use_in_any_case_is_refused(boss_client, staff_clinician):
    response = boss_client.post("/manage/staff/new/", _new(username="DR_Ortiz"))
    assert response.status_code == 400
    assert "is already a username here" in response.content.decode()


def test_a_prescriber_must_be_a_clinician_and_a_role_is_required(boss_client):
    response = boss_client.post("/manage/staff/new/", _new(roles=[FRONT_DESK], prescriber="on"))
    assert response.status_code == 400
    assert "Only a clinician can be marked as a prescriber." in response.content.decode()
    response = boss_client.post("/manage/staff/new/", _new(roles=[]))
    assert response.status_code == 400 and "Choose at least one role." in response.content.decode()
    assert not User.objects.filter(username="nina.park").exists()


# --- changing ---------------------------------------------------------------------------------------------


def test_a_manager_changes_roles_sites_and_the_prescriber_mark(boss_client, front_desk, site, other_site):
    # when
    response = boss_client.post(f"/manage/staff/{front_desk.pk}/",
                                _edit(front_desk, roles=[FRONT_DESK, CLINICIAN], prescriber="on",
                                      sites=[site.pk, other_site.pk]))
    # then
    assert response.status_code == 302
    front_desk.refresh_from_db()
    assert set(front_desk.groups.values_list("name", flat=True)) == {FRONT_DESK, CLINICIAN, PRESCRIBER}
    assert set(front_desk.clinic_locations.all()) == {site, other_site}
    assert _log_messages(front_desk) == [
        "Roles: Front desk → Front desk, Clinician; marked as a prescriber; sites: no site → Midtown, Westside."]


def test_the_change_is_shown_on_the_staff_members_page(boss_client, front_desk):
    boss_client.post(f"/manage/staff/{front_desk.pk}/", _edit(front_desk, roles=[CLINICIAN]))
    content = boss_client.get(f"/manage/staff/{front_desk.pk}/").content.decode()
    assert 'data-testid="staff-history-row"' in content and "Front desk → Clinician" in content


def test_a_manager_cannot_take_away_her_own_manager_role(boss_client, manager):
    # when
    response = boss_client.post(f"/manage/staff/{manager.pk}/", _edit(manager, roles=[CLINICIAN]))
    # then
    assert response.status_code == 409
    content = response.content.decode()
    assert 'data-code="own_manager_role"' in content
    assert "You cannot take away your own manager role" in content
    assert manager.groups.filter(name=MANAGER).exists()


def test_taking_every_role_away_is_refused(boss_client, front_desk):
    response = boss_client.post(f"/manage/staff/{front_desk.pk}/", _edit(front_desk, roles=[]))
    assert response.status_code == 400
    assert front_desk.groups.filter(name=FRONT_DESK).exists()


def test_another_manager_may_be_demoted_while_one_remains(boss_client, manager):
    other = UserFactory(username="second", roles=[MANAGER])
    response = boss_client.post(f"/manage/staff/{other.pk}/", _edit(other, roles=[FRONT_DESK]))
    assert response.status_code == 302
    assert list(other.groups.values_list("name", flat=True)) == [FRONT_DESK]


def test_the_clinic_never_loses_its_last_active_manager(manager):
    # given: a request that passed its role check before its own manager role was taken away
    stale = UserFactory(username="stale", roles=[FRONT_DESK])
    values = staff_changes.StaffValues(first_name="Sam", last_name="Boss", email="", roles=frozenset({FRONT_DESK}),
                                       prescriber=False, sites=frozenset())
    # when / then
    with pytest.raises(Conflict) as refused:
        staff_changes.change_staff(by=stale, user=manager, values=values)
    assert refused.value.code == "last_manager"
    with pytest.raises(Conflict) as refused:
        staff_changes.deactivate_staff(by=stale, user=manager)
    assert refused.value.code == "last_manager"
    manager.refresh_from_db()
    assert manager.is_active and manager.groups.filter(name=MANAGER).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_managers_demoting_each_other_at_once_leave_one_manager():
    # given two managers, each on the other's page
    anna, bea = (UserFactory(username=name, roles=[MANAGER]) for name in ("anna", "bea"))
    barrier = threading.Barrier(2)

    def demote(by, user) -> int:
        client = Client()
        client.force_login(by)
        try:
            barrier.wait(timeout=30)
            return client.post(f"/manage/staff/{user.pk}/", _edit(user, roles=[FRONT_DESK])).status_code
        finally:
            connection.close()

    # when both save at once
    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(demote, (anna, bea), (bea, anna)))
    # then one wins; the other is told the clinic must keep a manager (409), or, when the winner's change
    # committed before the other's request reached the door, is no longer a manager to ask (403)
    assert statuses in ([302, 409], [302, 403])
    assert User.objects.filter(is_active=True, groups__name=MANAGER).count() == 1


# --- deactivating -----------------------------------------------------------------------------------------


def test_a_manager_cannot_deactivate_herself(boss_client, manager):
    response = boss_client.post(f"/manage/staff/{manager.pk}/deactivate/")
    assert response.status_code == 409
    assert "You cannot deactivate your own account" in response.content.decode()
    manager.refresh_from_db()
    assert manager.is_active


def test_a_deactivated_account_is_kept_and_can_be_reactivated(boss_client, front_desk):
    # when
    response = boss_client.post(f"/manage/staff/{front_desk.pk}/deactivate/")
    # then
    assert response.status_code == 302
    front_desk.refresh_from_db()
    assert not front_desk.is_active and front_desk.groups.filter(name=FRONT_DESK).exists()
    assert boss_client.post(f"/manage/staff/{front_desk.pk}/deactivate/").status_code == 409
    assert boss_client.post(f"/manage/staff/{front_desk.pk}/reactivate/").status_code == 302
    front_desk.refresh_from_db()
    assert front_desk.is_active
    assert _log_messages(front_desk) == ["Reactivated.", "Deactivated."]


def test_a_clinician_with_booked_sessions_is_deactivated_only_once_confirmed(
        clock, boss_client, book, chair, site, staff_clinician):
    # given: two sessions booked with Dr Ortiz next week
    book(chair, local(site, date(2026, 3, 9), 10), clinician=staff_clinician)
    book(chair, local(site, date(2026, 3, 10), 10), clinician=staff_clinician)
    # when
    refused = boss_client.post(f"/manage/staff/{staff_clinician.pk}/deactivate/")
    # then
    content = refused.content.decode()
    assert refused.status_code == 409 and 'data-code="clinician_has_booked_sessions"' in content
    assert "clinician of 2 booked sessions" in content
    assert content.count('data-testid="staff-booked-session"') == 2
    assert 'data-testid="staff-deactivate-confirm"' in content
    staff_clinician.refresh_from_db()
    assert staff_clinician.is_active
    # when confirmed
    assert boss_client.post(f"/manage/staff/{staff_clinician.pk}/deactivate/", {"confirm": "1"}).status_code == 302
    staff_clinician.refresh_from_db()
    assert not staff_clinician.is_active
    assert _log_messages(staff_clinician) == ["Deactivated (2 booked sessions still name them)."]


# --- sign-in repairs --------------------------------------------------------------------------------------


def test_a_manager_removes_a_lost_authenticator(boss_client, staff_clinician):
    TOTPDevice.objects.create(user=staff_clinician, name="phone", confirmed=True)
    response = boss_client.post(f"/manage/staff/{staff_clinician.pk}/remove-authenticator/")
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=staff_clinician).exists()
    again = boss_client.post(f"/manage/staff/{staff_clinician.pk}/remove-authenticator/")
    assert again.status_code == 409 and "There is no authenticator to remove" in again.content.decode()


def test_a_manager_clears_a_lockout_after_failed_sign_ins(client, manager, settings):
    # given: five wrong passwords lock the clinician out
    settings.AXES_FAILURE_LIMIT = 5
    nurse = UserFactory(username="locked.nurse", roles=[CLINICIAN])
    for _ in range(5):
        client.post("/login/", {"username": "locked.nurse", "password": "wrong-password-1"})
    assert staff_changes.locked_out_usernames(["locked.nurse"]) == {"locked.nurse"}
    client.force_login(manager)
    assert 'data-testid="staff-clear-lockout"' in client.get(f"/manage/staff/{nurse.pk}/").content.decode()
    # when
    response = client.post(f"/manage/staff/{nurse.pk}/clear-lockout/")
    # then
    assert response.status_code == 302
    assert staff_changes.locked_out_usernames(["locked.nurse"]) == set()
    assert client.post(f"/manage/staff/{nurse.pk}/clear-lockout/").status_code == 409


def test_an_unknown_staff_member_is_a_404(boss_client):
    assert boss_client.get("/manage/staff/999999/").status_code == 404


def test_a_site_filter_that_names_no_site_shows_everyone(boss_client, staff_clinician):
    LocationFactory(name="Elsewhere")
    content = boss_client.get("/manage/staff/", {"site": "nonsense"}).content.decode()
    assert 'data-username="dr_ortiz"' in content
