"""Site changes through the API follow the site page's rules: nothing booked is stranded, bad values are a 400.

Now is Monday 2 March 2026, 09:00 in New York; ``esk_session`` is booked on Chair 1 at Midtown
for Tuesday 3 March at 09:00 (tests/scheduling/conftest.py).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

MIDTOWN = {"name": "Midtown", "time_zone": "America/New_York", "max_in_treatment_per_clinician": 4}


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_capacity_of_zero_is_a_400_naming_the_field_not_a_500(manager_api, site, method):
    # when
    response = getattr(manager_api, method)(f"/api/locations/{site.pk}/",
                                            {**MIDTOWN, "max_in_treatment_per_clinician": 0}, format="json")
    # then
    assert response.status_code == 400, response.content
    assert response.json()["fields"] == {
        "max_in_treatment_per_clinician": ["A clinician can look after at least 1 patient at once."]}
    site.refresh_from_db()
    assert site.max_in_treatment_per_clinician == 4


def test_a_locations_phone_is_kept_as_dialled_in_e164(manager_api, site):
    response = manager_api.patch(f"/api/locations/{site.pk}/", {"phone": "(212) 555-0142"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "+12125550142"


def test_a_locations_phone_that_is_not_one_is_a_400(manager_api, site):
    response = manager_api.patch(f"/api/locations/{site.pk}/", {"phone": "call us"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["phone"]


def test_a_chair_with_a_booked_session_is_not_taken_out_of_service_by_the_api(manager_api, chair, esk_session):
    # when
    response = manager_api.patch(f"/api/chairs/{chair.pk}/", {"active": False}, format="json")
    # then
    assert response.status_code == 409, response.content
    body = response.json()
    assert (body["code"], body["sessions_total"], [row["id"] for row in body["sessions"]]) == (
        "chair_has_sessions", 1, [esk_session.pk])
    assert body["sessions"][0]["start"] == "2026-03-03T09:00:00-05:00"
    chair.refresh_from_db()
    assert chair.active is True


def test_a_site_with_a_booked_session_is_not_made_inactive_by_the_api(manager_api, site, esk_session):
    response = manager_api.patch(f"/api/locations/{site.pk}/", {"active": False}, format="json")
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "site_has_sessions"
    site.refresh_from_db()
    assert site.active is True
