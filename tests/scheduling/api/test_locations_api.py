"""Locations and chairs through the API: everyone reads, only managers configure."""

from __future__ import annotations

import pytest

from scheduling.models import Chair, Location
from tests.factories import ChairFactory

pytestmark = pytest.mark.django_db

EVERY_ROLE = ["desk_api", "clinician_api", "manager_api"]
NOT_MANAGERS = ["desk_api", "clinician_api"]
NEW_SITE = {"name": "Lakeview", "time_zone": "America/Chicago", "address": "1 Lake St", "phone": "+13125550100",
            "rems_certified": True, "turnover_minutes": 20, "max_in_treatment_per_clinician": 3}


# -- reading ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", EVERY_ROLE)
def test_every_role_lists_the_locations(request, api, site, other_site):
    # when
    response = request.getfixturevalue(api).get("/api/locations/")
    # then
    assert response.status_code == 200, response.json()
    assert [(row["name"], row["time_zone"]) for row in response.json()["results"]] == [
        ("Midtown", "America/New_York"), ("Westside", "America/Los_Angeles")]


@pytest.mark.parametrize("api", EVERY_ROLE)
def test_every_role_reads_a_location_with_its_hours_and_closures(request, api, site, closure):
    # when
    response = request.getfixturevalue(api).get(f"/api/locations/{site.pk}/")
    # then
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["rems_certified"], body["turnover_minutes"], body["max_in_treatment_per_clinician"]) == (
        True, 15, 4)
    assert [(row["weekday"], row["opens"], row["closes"]) for row in body["hours"]] == [
        (weekday, "08:00:00", "18:00:00") for weekday in range(6)]
    assert body["closures"] == [{"date": "2026-03-04", "reason": "Staff training"}]


@pytest.mark.parametrize("api", EVERY_ROLE)
def test_every_role_lists_a_locations_chairs(request, api, site, chair, iv_chair, other_site):
    # given a chair elsewhere
    ChairFactory(location=other_site, name="West 1")
    # when
    response = request.getfixturevalue(api).get(f"/api/locations/{site.pk}/chairs/")
    # then
    assert response.status_code == 200, response.json()
    assert [(row["name"], row["serves_esketamine"], row["has_infusion_pump"]) for row in response.json()] == [
        ("Chair 1", True, False), ("Infusion 1", False, True)]


@pytest.mark.parametrize("api", EVERY_ROLE)
def test_every_role_reads_a_chair(request, api, iv_chair):
    response = request.getfixturevalue(api).get(f"/api/chairs/{iv_chair.pk}/")
    assert response.status_code == 200, response.json()
    assert response.json() == {"id": iv_chair.pk, "location": iv_chair.location_id, "name": "Infusion 1",
                               "active": True, "serves_esketamine": False, "has_infusion_pump": True}


def test_someone_without_a_clinic_role_cannot_list_locations(api_as, no_role_user, site):
    response = api_as(no_role_user).get("/api/locations/")
    assert response.status_code == 403


def test_an_anonymous_visitor_cannot_list_locations(api_as, site):
    response = api_as(None).get("/api/locations/")
    assert response.status_code == 401


# -- managers configure -----------------------------------------------------------------------------


def test_a_manager_creates_a_location(manager_api):
    # when
    response = manager_api.post("/api/locations/", NEW_SITE, format="json")
    # then
    assert response.status_code == 201, response.json()
    location = Location.objects.get(pk=response.json()["id"])
    assert (location.name, location.time_zone, location.rems_certified, location.turnover_minutes,
            location.max_in_treatment_per_clinician) == ("Lakeview", "America/Chicago", True, 20, 3)


def test_a_location_needs_an_iana_time_zone(manager_api):
    # when
    response = manager_api.post("/api/locations/", {**NEW_SITE, "time_zone": "Central Time"}, format="json")
    # then
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["time_zone"]
    assert not Location.objects.exists()


def test_a_location_name_is_unique(manager_api, site):
    response = manager_api.post("/api/locations/", {**NEW_SITE, "name": "Midtown"}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["fields"]


def test_a_manager_changes_a_locations_turnover(manager_api, site):
    # when
    response = manager_api.patch(f"/api/locations/{site.pk}/", {"turnover_minutes": 30}, format="json")
    # then
    assert response.status_code == 200, response.json()
    site.refresh_from_db()
    assert site.turnover_minutes == 30


def test_a_manager_adds_a_chair_to_a_location(manager_api, site):
    # when
    response = manager_api.post(f"/api/locations/{site.pk}/chairs/",
                                {"name": "Infusion 2", "serves_esketamine": False, "has_infusion_pump": True},
                                format="json")
    # then
    assert response.status_code == 201, response.json()
    chair = Chair.objects.get(pk=response.json()["id"])
    assert (chair.location, chair.name, chair.serves_esketamine, chair.has_infusion_pump, chair.active) == (
        site, "Infusion 2", False, True, True)


def test_a_chair_is_added_to_the_location_in_the_address_not_the_body(manager_api, site, other_site):
    # when
    response = manager_api.post(f"/api/locations/{site.pk}/chairs/", {"name": "Chair 9", "location": other_site.pk},
                                format="json")
    # then
    assert response.status_code == 201, response.json()
    assert Chair.objects.get(pk=response.json()["id"]).location == site


def test_a_second_chair_with_the_same_name_at_a_location_is_a_400_not_a_500(manager_api, site, chair):
    # when
    response = manager_api.post(f"/api/locations/{site.pk}/chairs/", {"name": "Chair 1"}, format="json")
    # then
    assert response.status_code == 400
    assert "name" in response.json()["fields"]
    assert Chair.objects.filter(location=site).count() == 1


def test_renaming_a_chair_to_a_name_taken_at_its_location_is_a_400_not_a_500(manager_api, chair, chair2):
    # when
    response = manager_api.patch(f"/api/chairs/{chair2.pk}/", {"name": "Chair 1"}, format="json")
    # then
    assert response.status_code == 400
    assert "name" in response.json()["fields"]
    chair2.refresh_from_db()
    assert chair2.name == "Chair 2"


def test_a_manager_takes_a_chair_out_of_service(manager_api, chair):
    # when
    response = manager_api.patch(f"/api/chairs/{chair.pk}/", {"active": False, "name": "Chair 1 (broken)"},
                                 format="json")
    # then
    assert response.status_code == 200, response.json()
    chair.refresh_from_db()
    assert (chair.active, chair.name) == (False, "Chair 1 (broken)")


def test_a_chair_cannot_be_moved_to_another_location(manager_api, site, chair, other_site):
    # when
    response = manager_api.patch(f"/api/chairs/{chair.pk}/", {"location": other_site.pk}, format="json")
    # then
    assert response.status_code == 200, response.json()
    chair.refresh_from_db()
    assert chair.location == site


# -- nobody else configures -------------------------------------------------------------------------


@pytest.mark.parametrize("api", NOT_MANAGERS)
def test_only_a_manager_creates_a_location(request, api):
    response = request.getfixturevalue(api).post("/api/locations/", NEW_SITE, format="json")
    assert response.status_code == 403
    assert not Location.objects.exists()


@pytest.mark.parametrize("api", NOT_MANAGERS)
def test_only_a_manager_changes_a_location(request, api, site):
    response = request.getfixturevalue(api).patch(f"/api/locations/{site.pk}/", {"rems_certified": False},
                                                  format="json")
    assert response.status_code == 403
    site.refresh_from_db()
    assert site.rems_certified is True


@pytest.mark.parametrize("api", NOT_MANAGERS)
def test_only_a_manager_adds_a_chair(request, api, site):
    response = request.getfixturevalue(api).post(f"/api/locations/{site.pk}/chairs/", {"name": "Chair 9"},
                                                 format="json")
    assert response.status_code == 403
    assert not Chair.objects.exists()


@pytest.mark.parametrize("api", NOT_MANAGERS)
def test_only_a_manager_changes_a_chair(request, api, chair):
    response = request.getfixturevalue(api).patch(f"/api/chairs/{chair.pk}/", {"active": False}, format="json")
    assert response.status_code == 403
    chair.refresh_from_db()
    assert chair.active is True


def test_locations_cannot_be_deleted_through_the_api(manager_api, site):
    response = manager_api.delete(f"/api/locations/{site.pk}/")
    assert response.status_code == 405
    assert Location.objects.filter(pk=site.pk).exists()

