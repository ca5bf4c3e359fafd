"""GET /api/protocols/: every role reads the protocols with their settings and phases; nobody writes."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["front_desk", "clinician", "manager"])
def test_every_role_reads_the_protocols(api_as, role):
    response = api_as(UserFactory(roles=[role])).get("/api/protocols/")
    assert response.status_code == 200
    assert sorted(protocol["slug"] for protocol in response.json()["results"]) == [
        "esketamine-mdsi", "esketamine-trd", "ketamine-iv-series", "ketamine-iv-weekly"]


def test_a_protocol_is_read_by_slug_with_its_settings_and_phases(desk_api):
    # when
    body = desk_api.get("/api/protocols/esketamine-trd/").json()
    # then
    assert (body["name"], body["modality"], body["chair_minutes"], body["observation_minutes"]) == (
        "Esketamine for treatment-resistant depression", "esketamine_nasal", 150, 120)
    assert body["thresholds"] == {"bp_systolic_max": 140, "bp_diastolic_max": 90, "spo2_min": 92}
    assert body["dose_rules"] == {"first_dose_mg": 56, "allowed_doses_mg": [56, 84],
                                  "requires_prior_56_for_84": True, "iv_mg_per_kg": None}
    assert [phase["name"] for phase in body["phases"]] == [
        "Induction", "Maintenance weeks 5-8", "Maintenance every 2 weeks"]
    assert body["phases"][0] | {"weekly": None} == {
        "order": 1, "name": "Induction", "sessions": 8, "earliest_days": 2, "target_days": 3,
        "target_alt_days": 4, "latest_days": 5, "weekly": None}
    assert body["phases"][2]["sessions"] is None
    assert body["phases"][2]["weekly"] == {"earliest_days": 5, "target_days": 7, "latest_days": 10}
    assert body["has_weekly_alternative"] is True


def test_a_protocol_is_read_by_id_too(desk_api, esketamine_trd):
    assert desk_api.get(f"/api/protocols/{esketamine_trd.id}/").json()["slug"] == "esketamine-trd"


def test_an_iv_protocol_shows_its_weight_based_dose(desk_api):
    body = desk_api.get("/api/protocols/ketamine-iv-series/").json()
    assert body["dose_rules"]["iv_mg_per_kg"] == 0.5
    assert (body["chair_minutes"], body["observation_minutes"]) == (90, 30)


def test_an_unknown_protocol_is_not_found(desk_api):
    response = desk_api.get("/api/protocols/esketamine-weekly/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_protocols_cannot_be_written_through_the_api(manager_api, esketamine_trd):
    response = manager_api.patch(f"/api/protocols/{esketamine_trd.id}/", {"observation_minutes": 10}, format="json")
    assert response.status_code in (403, 405)
    esketamine_trd.refresh_from_db()
    assert esketamine_trd.observation_minutes == 120


def test_the_api_schema_documents_the_course_actions(desk_api):
    paths = desk_api.get("/api/schema/?format=json").json()["paths"]
    for action in ("pause", "resume", "discontinue", "maintenance-frequency", "restart-phase", "plan"):
        assert f"/api/courses/{{id}}/{action}/" in paths
    assert "requestBody" in paths["/api/courses/{id}/discontinue/"]["post"]
    assert "/api/protocols/{id_or_slug}/" in paths
