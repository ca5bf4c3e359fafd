"""The manager's home: each site's facts on its own clock, staff per role, texts' policy, in a fixed number of queries.

Now is Monday 2 March 2026, 09:00 in New York (tests/conftest.py).
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.urls import reverse

from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER
from patients.models import PatientAccess
from tests.factories import (
    ChairFactory,
    ClosureFactory,
    LocationFactory,
    PatientFactory,
    ReminderPolicyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client, manager):
    client.force_login(manager)
    return client


def section(page: str, testid: str, site: str) -> str:
    return page.split(f'data-testid="{testid}" data-site="{site}"', 1)[1].split("</li>", 1)[0]


def test_each_site_says_its_chairs_in_service_todays_hours_and_next_closure(office, site, other_site, now):
    # given Midtown: two chairs in service, one out, closed next Friday; Westside closed today (Monday)
    ChairFactory(location=site)
    ChairFactory(location=site)
    ChairFactory(location=site, active=False)
    ClosureFactory(location=site, date=date(2026, 3, 6), reason="Staff training")
    ClosureFactory(location=other_site, date=date(2026, 3, 2), reason="Snow")
    # when
    page = office.get(reverse("manager-home")).content.decode()
    # then
    midtown, westside = section(page, "home-site", "Midtown"), section(page, "home-site", "Westside")
    assert 'data-testid="home-site-chairs">2<' in midtown
    assert "08:00–18:00" in midtown and "Mon Mar 2" in midtown
    assert "Fri Mar 6, 2026 · Staff training" in midtown
    assert "Closed: Snow" in westside and "Not certified" in westside


def test_a_sites_hours_read_on_its_own_clock(office, other_site, now):
    # Westside opens 09:00-17:00 Los Angeles time: 06:00 there now, still Monday
    page = office.get(reverse("manager-home")).content.decode()
    assert "09:00–17:00" in section(page, "home-site", "Westside")


def test_texts_say_which_sites_changed_their_policy_from_the_defaults(office, site, other_site):
    # given Midtown with a policy that changes quiet hours, Westside with a policy left at the defaults
    ReminderPolicyFactory(location=site, quiet_from=time(20))
    ReminderPolicyFactory(location=other_site)
    # when
    page = office.get(reverse("manager-home")).content.decode()
    # then
    assert "Midtown: changed (quiet hours)" in page
    assert "Westside: the defaults" in page


def test_staff_are_counted_per_role_active_only(office, manager):
    UserFactory(roles=[FRONT_DESK])
    UserFactory(roles=[FRONT_DESK], is_active=False)
    UserFactory(roles=[CLINICIAN])
    page = office.get(reverse("manager-home")).content.decode()
    assert [chunk.split("</li>")[0] for chunk in page.split('data-testid="home-staff-count">')[1:]] == [
        "Front desk <strong>1</strong>", "Clinician <strong>1</strong>", "Manager <strong>1</strong>"]


def test_the_home_is_a_fixed_number_of_queries_whatever_the_sites(office, site, other_site,
                                                                 django_assert_max_num_queries):
    # given four sites, each with a chair and a closure to come (two sites make the same 13 queries)
    for location in (site, other_site, LocationFactory(), LocationFactory()):
        ChairFactory(location=location)
        ClosureFactory(location=location, date=date(2026, 3, 20))
    with django_assert_max_num_queries(13):
        response = office.get(reverse("manager-home"))
    assert response.status_code == 200


def test_the_django_admin_is_linked_for_a_superuser_only(client, office, manager):
    assert 'data-testid="home-admin-link"' not in office.get(reverse("manager-home")).content.decode()
    boss = UserFactory(roles=[MANAGER], is_superuser=True, is_staff=True)
    client.force_login(boss)
    assert 'data-testid="home-admin-link"' in client.get(reverse("manager-home")).content.decode()


@pytest.mark.parametrize("role", ["front_desk", "clinician"])
def test_only_a_manager_opens_the_home(request, client, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("manager-home")).status_code == 403


def test_a_user_who_opened_many_records_at_once_is_named_on_the_home(office, settings, now, site):
    # given a clinician who opened four different records within ten minutes, over a limit of three
    settings.UNUSUAL_ACCESS_RECORDS, settings.UNUSUAL_ACCESS_MINUTES = 3, 60
    browser = UserFactory(username="browsing", first_name="Bo", last_name="Rowser", roles=[CLINICIAN])
    for minute in range(4):
        PatientAccess.objects.create(patient=PatientFactory(), user=browser, channel="web",
                                     at=now - timedelta(hours=2) + timedelta(minutes=minute * 3))
    # when
    page = office.get(reverse("manager-home")).content.decode()
    # then: she is named with her count, on the site's clock (New York's)
    flag = page.split('data-testid="home-unusual-flag">', 1)[1].split("</li>", 1)[0]
    assert flag == "Bo Rowser: 4 different records from Mon Mar 2, 07:00 EST"


def test_nobody_is_named_when_no_one_opened_more_than_the_limit(office, settings, now, manager):
    settings.UNUSUAL_ACCESS_RECORDS = 3
    for _ in range(3):
        PatientAccess.objects.create(patient=PatientFactory(), user=manager, channel="web", at=now)
    assert b'data-testid="home-unusual-access"' not in office.get(reverse("manager-home")).content
