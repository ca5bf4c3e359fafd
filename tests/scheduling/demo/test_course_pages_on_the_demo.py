"""Every course of the demo opens on its page, for a clinician and for the front desk, with its history read.

The demo's courses have every story the page tells (paused, discontinued, weekly maintenance,
restarted after a lapse, started on an override, sessions booked outside the window), so a page
that opens for each of them opens for what a clinic records.
"""

from __future__ import annotations

from datetime import date, time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from patients.models import PatientAccess
from patients.selectors import unusual_access
from protocols.models import TreatmentCourse
from scheduling.demo.access import BROWSER
from tests.scheduling.demo.conftest import new_york

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo")]


@pytest.fixture(scope="module")
def demo(demo_world):
    with demo_world.at(new_york(date(2026, 3, 11), time(10))):
        yield


@pytest.mark.parametrize("username", ["clinician", "frontdesk"])
def test_every_demo_course_opens_on_its_page(demo, username):
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    courses = list(TreatmentCourse.objects.values_list("pk", "status"))
    assert {status for _pk, status in courses} >= {"active", "paused", "discontinued"}
    for pk, _status in courses:
        response = client.get(f"/courses/{pk}/")
        assert response.status_code == 200, pk
        assert b'data-testid="course-history"' in response.content, pk


def test_the_demos_access_log_has_the_weeks_openings_and_one_user_flagged(demo):
    # The demo's visits were opened at the desk and the chart; one clinician browsed records yesterday evening.
    assert PatientAccess.objects.filter(path__contains="/chart/").exists()
    assert PatientAccess.objects.filter(user__username="frontdesk").exists()
    # (this module's other tests open every course at one frozen instant, so only the browser's flag is asked for)
    flagged = {flag.user.username: flag for flag in unusual_access()}
    assert flagged[BROWSER].records == settings.UNUSUAL_ACCESS_RECORDS + 4
    assert flagged[BROWSER].first_at == new_york(date(2026, 3, 10), time(20, 10))
