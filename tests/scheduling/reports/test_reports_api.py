"""The clinic's numbers through the API: the dashboard, one figure, bad questions, and who may ask."""

from __future__ import annotations

import pytest

from scheduling.reports.dashboard import FIGURE_KEYS

pytestmark = pytest.mark.django_db

DASHBOARD = "/api/reports/dashboard/"
KNOWN_WEEK = {"period": "week", "anchor": "2026-02-11"}


def test_a_manager_gets_every_figure_of_the_period_asked_for_with_the_period_before(known_week, manager_api, clock):
    # when
    response = manager_api.get(DASHBOARD, KNOWN_WEEK)
    # then: the known week's figures (test_known_week.py works them out)
    assert response.status_code == 200
    body = response.json()
    assert body["period"]["start"] == "2026-02-09"
    assert body["previous_period"]["start"] == "2026-02-02"
    assert [figure["key"] for figure in body["figures"]] == list(FIGURE_KEYS)
    no_shows = body["figures"][1]
    assert (no_shows["value"], no_shows["previous"], no_shows["numerator"], no_shows["denominator"]) == (
        22.2, 50.0, 2, 9)


def test_one_figure_comes_alone_for_one_site(known_week, manager_api, clock):
    # when
    response = manager_api.get("/api/reports/chair_utilisation/", {**KNOWN_WEEK,
                                                                  "location": known_week.westside.pk})
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["location"] == {"id": known_week.westside.pk, "name": "Westside"}
    assert body["figure"]["key"] == "chair_utilisation"
    assert body["figure"]["value"] == 12.5


def test_without_a_period_the_dashboard_is_this_month_at_the_site(known_week, manager_api, clock):
    # given: now is Monday 2 March 2026, 09:00 in New York
    # when
    body = manager_api.get(DASHBOARD, {"location": known_week.midtown.pk}).json()
    # then
    assert (body["period"]["kind"], body["period"]["start"], body["period"]["end"]) == (
        "month", "2026-03-01", "2026-03-31")
    assert body["previous_period"]["label"] == "February 2026"


@pytest.mark.parametrize(("query", "field"), [
    ({"period": "fortnight"}, "period"),
    ({"period": "week", "anchor": "last tuesday"}, "anchor"),
    ({"period": "custom", "start": "2026-02-01"}, "end"),
    ({"period": "custom", "start": "2026-02-10", "end": "2026-02-01"}, "end"),
    ({"period": "custom", "start": "2025-01-01", "end": "2026-06-01"}, "end"),
    ({"location": "999999"}, "location"),
    ({"location": "midtown"}, "location"),
])
def test_a_question_that_cannot_be_read_is_a_400_naming_the_field(known_week, manager_api, clock, query, field):
    # when
    response = manager_api.get(DASHBOARD, query)
    # then
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]


def test_a_figure_that_does_not_exist_is_a_404(known_week, manager_api, clock):
    response = manager_api.get("/api/reports/happiness/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_only_a_manager_may_read_the_numbers(known_week, desk_api, clinician_api, clock):
    assert desk_api.get(DASHBOARD).status_code == 403
    assert clinician_api.get("/api/reports/texts/").status_code == 403


def test_the_schema_describes_both_addresses_and_their_questions(manager_api):
    response = manager_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = response.json()["paths"]
    dashboard = paths["/api/reports/dashboard/"]["get"]
    assert {parameter["name"] for parameter in dashboard["parameters"]} >= {"period", "anchor", "start", "end",
                                                                             "location"}
    figure = paths["/api/reports/{figure}/"]["get"]
    assert set(next(parameter for parameter in figure["parameters"]
                    if parameter["name"] == "figure")["schema"]["enum"]) == set(FIGURE_KEYS)
