from __future__ import annotations

import pytest

from patients.models import PatientAccess

pytestmark = pytest.mark.django_db


def test_a_change_is_recorded_with_who_when_and_what(desk_api, manager_api, patient):
    # when
    desk_api.patch(f"/api/patients/{patient.id}/", {"notes": "Prefers mornings"}, format="json")
    # then
    history = manager_api.get(f"/api/patients/{patient.id}/history/").json()
    change = history["changes"][0]
    assert change["username"] == "desk"
    assert change["changes"]["notes"] == {"from": "", "to": "Prefers mornings"}
    assert change["at"]


def test_a_read_through_the_api_is_logged(desk_api, patient):
    desk_api.get(f"/api/patients/{patient.id}/")
    access = PatientAccess.objects.get(patient=patient)
    assert access.user.username == "desk"
    assert access.channel == "api"


def test_opening_the_patient_page_is_logged(client, front_desk, patient):
    client.force_login(front_desk)
    response = client.get(f"/patients/{patient.id}/")
    assert response.status_code == 200
    assert PatientAccess.objects.filter(patient=patient, channel="web", user=front_desk).count() == 1


def test_history_shows_reads_too(desk_api, manager_api, patient):
    desk_api.get(f"/api/patients/{patient.id}/")
    reads = manager_api.get(f"/api/patients/{patient.id}/history/").json()["reads"]
    assert [read["username"] for read in reads] == ["desk"]


@pytest.mark.parametrize("who", ["desk_api", "clinician_api"])
def test_only_managers_see_history(request, who, patient):
    response = request.getfixturevalue(who).get(f"/api/patients/{patient.id}/history/")
    assert response.status_code == 403
