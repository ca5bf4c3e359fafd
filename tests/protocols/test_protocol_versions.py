"""A protocol followed by a course is frozen; managers copy it as a new version and edit the copy."""

from __future__ import annotations

import pytest

from clinic.errors import Conflict, Invalid
from protocols import services
from protocols.models import Protocol
from tests.factories import TreatmentCourseFactory, UserFactory, standard_protocol

pytestmark = pytest.mark.django_db

NEW_PHASES = [{"name": "Weekly", "sessions": None, "earliest_days": 5, "target_days": 7, "latest_days": 10}]


@pytest.fixture
def in_use(esketamine_trd):
    TreatmentCourseFactory(protocol=esketamine_trd)
    return esketamine_trd


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_a_protocol_is_in_use_once_a_course_follows_it(esketamine_trd):
    assert esketamine_trd.is_in_use() is False
    TreatmentCourseFactory(protocol=esketamine_trd)
    assert esketamine_trd.is_in_use() is True


def test_the_phases_of_a_protocol_in_use_cannot_be_replaced(in_use, manager):
    # when
    with pytest.raises(Conflict) as refused:
        services.update_protocol_phases(by=manager, protocol=in_use, phases=NEW_PHASES)
    # then
    assert refused.value.code == "protocol_in_use"
    assert in_use.rule() == standard_protocol("esketamine-trd").rule()
    assert in_use.phases.count() == 3


def test_the_phases_of_an_unused_protocol_can_be_replaced(esketamine_trd, manager):
    # when
    services.update_protocol_phases(by=manager, protocol=esketamine_trd, phases=NEW_PHASES)
    # then
    assert [phase.name for phase in esketamine_trd.phases.all()] == ["Weekly"]


def test_an_open_ended_phase_must_be_the_last(esketamine_trd, manager):
    with pytest.raises(Invalid):
        services.update_protocol_phases(by=manager, protocol=esketamine_trd, phases=[*NEW_PHASES, *NEW_PHASES])
    assert esketamine_trd.phases.count() == 3


def test_the_schedule_settings_of_a_protocol_in_use_cannot_change(in_use, manager):
    with pytest.raises(Conflict) as refused:
        services.update_protocol(by=manager, protocol=in_use, changes={"observation_minutes": 60})
    assert refused.value.code == "protocol_in_use"
    in_use.refresh_from_db()
    assert in_use.observation_minutes == 120


def test_a_protocol_in_use_may_still_be_renamed_and_retired(in_use, manager):
    # when
    services.update_protocol(by=manager, protocol=in_use, changes={"name": "Spravato TRD", "active": False})
    # then
    in_use.refresh_from_db()
    assert (in_use.name, in_use.active) == ("Spravato TRD", False)


def test_a_protocol_in_use_cannot_be_deleted(in_use, manager):
    with pytest.raises(Conflict):
        services.delete_protocol(by=manager, protocol=in_use)
    assert Protocol.objects.filter(pk=in_use.pk).exists()


def test_copy_as_new_version_copies_settings_and_phases_under_the_next_slug(in_use, manager):
    # when
    copy = services.copy_protocol_as_new_version(by=manager, protocol=in_use)
    # then
    assert (copy.slug, copy.version, copy.previous_version, copy.active) == ("esketamine-trd-v2", 2, in_use, False)
    assert copy.rule().phases == in_use.rule().phases
    assert (copy.chair_minutes, copy.allowed_doses_mg) == (in_use.chair_minutes, in_use.allowed_doses_mg)
    assert copy.is_in_use() is False


def test_copying_again_takes_the_next_free_version(in_use, manager):
    # given
    second = services.copy_protocol_as_new_version(by=manager, protocol=in_use)
    # when
    third = services.copy_protocol_as_new_version(by=manager, protocol=second)
    also = services.copy_protocol_as_new_version(by=manager, protocol=in_use)
    # then
    assert (third.slug, third.version) == ("esketamine-trd-v3", 3)
    assert (also.slug, also.version) == ("esketamine-trd-v4", 4)


def test_the_copy_of_a_protocol_in_use_can_be_edited(in_use, manager):
    copy = services.copy_protocol_as_new_version(by=manager, protocol=in_use)
    services.update_protocol_phases(by=manager, protocol=copy, phases=NEW_PHASES)
    services.update_protocol(by=manager, protocol=copy, changes={"observation_minutes": 135, "active": True})
    copy.refresh_from_db()
    assert copy.observation_minutes == 135
    assert in_use.phases.count() == 3


# --- the admin ---------------------------------------------------------------


def test_the_admin_shows_a_protocol_in_use_read_only_with_the_reason(admin_client, in_use):
    # when
    response = admin_client.get(f"/admin/protocols/protocol/{in_use.pk}/change/")
    # then
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert set(form.fields) == {"name", "active", "requires_authorisation"}
    assert "Copy as a new version" in response.content.decode()
    inline = response.context["inline_admin_formsets"][0]
    assert inline.has_change_permission is False and inline.has_delete_permission is False


def test_the_admin_offers_every_field_of_an_unused_protocol(admin_client, esketamine_trd):
    response = admin_client.get(f"/admin/protocols/protocol/{esketamine_trd.pk}/change/")
    fields = set(response.context["adminform"].form.fields)
    assert {"observation_minutes", "chair_minutes", "allowed_doses_mg"} <= fields


def test_the_admin_refuses_to_delete_a_protocol_in_use(admin_client, in_use):
    response = admin_client.post(f"/admin/protocols/protocol/{in_use.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Protocol.objects.filter(pk=in_use.pk).exists()


def test_the_admin_ignores_posted_changes_to_the_schedule_of_a_protocol_in_use(admin_client, in_use):
    # given: a form posted with a new observation time and a phase edit
    phase = in_use.phases.first()
    data = {
        "name": "Renamed", "active": "on", "observation_minutes": "60",
        "phases-TOTAL_FORMS": "1", "phases-INITIAL_FORMS": "1", "phases-MIN_NUM_FORMS": "0",
        "phases-MAX_NUM_FORMS": "1000", "phases-0-id": str(phase.pk), "phases-0-protocol": str(in_use.pk),
        "phases-0-order": "1", "phases-0-name": "Induction", "phases-0-sessions": "2",
        "phases-0-earliest_days": "1", "phases-0-target_days": "1", "phases-0-latest_days": "1",
    }
    # when
    response = admin_client.post(f"/admin/protocols/protocol/{in_use.pk}/change/", data)
    # then
    assert response.status_code == 302
    in_use.refresh_from_db()
    phase.refresh_from_db()
    assert (in_use.name, in_use.observation_minutes) == ("Renamed", 120)
    assert (phase.sessions, phase.earliest_days) == (8, 2)


def test_the_admin_action_copies_a_protocol_as_a_new_version(admin_client, in_use):
    # when
    response = admin_client.post(
        "/admin/protocols/protocol/", {"action": "copy_as_new_version", "_selected_action": [in_use.pk]}, follow=True
    )
    # then
    assert response.status_code == 200
    copy = Protocol.objects.get(slug="esketamine-trd-v2")
    assert copy.phases.count() == 3
    assert "esketamine-trd-v2" in response.content.decode()

