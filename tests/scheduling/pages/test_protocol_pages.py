"""The manager's Protocols pages: the list, a protocol's rules in words, and exactly the edits the admin allows:
name and offer always, a copy as a new version, and a draft copy's settings and phases until a course follows it."""

from __future__ import annotations

import pytest

from clinic.roles import CLINICIAN, FRONT_DESK
from protocols import services
from protocols.models import Protocol
from tests.factories import TreatmentCourseFactory, UserFactory

pytestmark = pytest.mark.django_db

PHASES = {
    "phases-TOTAL_FORMS": "2", "phases-INITIAL_FORMS": "1", "phases-MIN_NUM_FORMS": "0", "phases-MAX_NUM_FORMS": "12",
    "phases-0-name": "Weekly", "phases-0-sessions": "6", "phases-0-earliest_days": "5", "phases-0-target_days": "7",
    "phases-0-latest_days": "10",
    "phases-1-name": "Monthly", "phases-1-earliest_days": "21", "phases-1-target_days": "28",
    "phases-1-latest_days": "42",
}


@pytest.fixture
def boss_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def draft(esketamine_trd, manager):
    """``esketamine-trd-v2``, a copy no course follows yet."""
    return services.copy_protocol_as_new_version(by=manager, protocol=esketamine_trd)


def _settings(protocol: Protocol, **overrides) -> dict:
    data = {"chair_minutes": protocol.chair_minutes, "observation_minutes": protocol.observation_minutes,
            "first_session_latest_days": protocol.first_session_latest_days,
            "bp_systolic_max": protocol.bp_systolic_max, "bp_diastolic_max": protocol.bp_diastolic_max,
            "spo2_min": protocol.spo2_min, "first_dose_mg": protocol.first_dose_mg,
            "allowed_doses_mg": ",".join(str(dose) for dose in protocol.allowed_doses_mg),
            "requires_prior_56_for_84": "on" if protocol.requires_prior_56_for_84 else ""}
    data.update(overrides)
    return data


def test_the_list_shows_each_protocol_with_its_phases_and_spacing(boss_client, esketamine_trd):
    content = boss_client.get("/manage/protocols/").content.decode()
    row = content[content.index('data-slug="esketamine-trd"'):]
    row = row[:row.index("</tr>")]
    assert "Esketamine nasal spray" in row
    assert "Induction</strong>: 8 sessions, 2–5 days, target 3/4" in row
    assert "Maintenance every 2 weeks</strong>: open-ended, 10–18 days, target 14" in row


def test_a_protocols_page_says_its_rules_in_the_clinics_words(boss_client, esketamine_trd):
    content = boss_client.get(f"/manage/protocols/{esketamine_trd.pk}/").content.decode()
    assert "Each session 2 to 5 days after the previous session, aiming for 3 or 4, alternating." in content
    assert "When a clinician switches the course to weekly: 5 to 10 days after the previous session" in content
    assert "120 minutes from the first device, never under 120" in content
    assert "84 mg only after a 56 mg dose in the course" in content
    assert "Installed with the system: it changes only through a copy." in content
    assert 'data-testid="protocol-draft"' not in content


@pytest.mark.parametrize("who", ["front_desk", "clinician"])
def test_the_protocol_pages_are_for_managers_only(client, request, who, esketamine_trd):
    client.force_login(request.getfixturevalue(who))
    assert client.get("/manage/protocols/").status_code == 403
    assert client.post(f"/manage/protocols/{esketamine_trd.pk}/name/", {"name": "X"}).status_code == 403
    esketamine_trd.refresh_from_db()
    assert esketamine_trd.name != "X"


def test_a_protocol_in_use_may_be_renamed_and_withdrawn_from_new_courses(boss_client, esketamine_trd):
    # given
    TreatmentCourseFactory(protocol=esketamine_trd)
    # when
    response = boss_client.post(f"/manage/protocols/{esketamine_trd.pk}/name/", {"name": "Spravato TRD"})
    # then
    assert response.status_code == 302
    esketamine_trd.refresh_from_db()
    assert (esketamine_trd.name, esketamine_trd.active) == ("Spravato TRD", False)


def test_a_blank_name_is_refused_beside_the_field(boss_client, esketamine_trd):
    response = boss_client.post(f"/manage/protocols/{esketamine_trd.pk}/name/", {"name": "  ", "active": "on"})
    assert response.status_code == 400
    assert 'id="id_name_error"' in response.content.decode()


def test_copying_opens_the_new_version_not_offered_yet(boss_client, esketamine_trd):
    response = boss_client.post(f"/manage/protocols/{esketamine_trd.pk}/copy/")
    copy = Protocol.objects.get(slug="esketamine-trd-v2")
    assert response["Location"] == f"/manage/protocols/{copy.pk}/?done=copied"
    assert not copy.active and copy.previous_version == esketamine_trd
    assert 'data-testid="protocol-draft"' in boss_client.get(response["Location"]).content.decode()


def test_a_draft_versions_settings_change_with_the_models_checks(boss_client, draft):
    # when
    response = boss_client.post(f"/manage/protocols/{draft.pk}/settings/", _settings(draft, chair_minutes=165))
    # then
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.chair_minutes == 165


def test_esketamine_observation_under_120_minutes_is_refused(boss_client, draft):
    response = boss_client.post(f"/manage/protocols/{draft.pk}/settings/",
                                _settings(draft, observation_minutes=90))
    assert response.status_code == 400
    assert "Esketamine observation is at least 120 minutes" in response.content.decode()
    draft.refresh_from_db()
    assert draft.observation_minutes == 120


def test_an_esketamine_dose_must_be_whole_devices(boss_client, draft):
    response = boss_client.post(f"/manage/protocols/{draft.pk}/settings/", _settings(draft, allowed_doses_mg="56,70"))
    assert response.status_code == 400
    assert "Esketamine doses are multiples of 28 mg." in response.content.decode()


def test_the_installed_protocols_settings_and_phases_change_only_through_a_copy(boss_client, esketamine_trd):
    settings = boss_client.post(f"/manage/protocols/{esketamine_trd.pk}/settings/",
                                _settings(esketamine_trd, chair_minutes=165))
    phases = boss_client.post(f"/manage/protocols/{esketamine_trd.pk}/phases/", PHASES)
    assert settings.status_code == 409 and phases.status_code == 409
    assert 'data-code="protocol_installed"' in settings.content.decode()
    esketamine_trd.refresh_from_db()
    assert esketamine_trd.chair_minutes == 150 and esketamine_trd.phases.count() == 3


def test_a_draft_versions_phases_are_replaced_in_order(boss_client, draft):
    response = boss_client.post(f"/manage/protocols/{draft.pk}/phases/", PHASES)
    assert response.status_code == 302
    assert [(p.order, p.name, p.sessions) for p in draft.phases.all()] == [(1, "Weekly", 6), (2, "Monthly", None)]


def test_an_open_ended_phase_before_the_last_is_refused(boss_client, draft):
    data = {**PHASES, "phases-0-sessions": ""}
    response = boss_client.post(f"/manage/protocols/{draft.pk}/phases/", data)
    assert response.status_code == 400
    assert "is open-ended, so it must be the last phase" in response.content.decode()
    assert draft.phases.count() == 3


def test_a_target_outside_the_window_is_refused_beside_the_field(boss_client, draft):
    response = boss_client.post(f"/manage/protocols/{draft.pk}/phases/", {**PHASES, "phases-0-target_days": "12"})
    assert response.status_code == 400
    assert "The target must lie between the earliest and the latest day." in response.content.decode()


def test_a_draft_that_a_course_follows_meanwhile_is_fixed(boss_client, draft):
    # given: the page was opened, then a course started on the draft
    draft.active = True
    draft.save()
    TreatmentCourseFactory(protocol=draft)
    # when
    response = boss_client.post(f"/manage/protocols/{draft.pk}/phases/", PHASES)
    # then
    assert response.status_code == 409
    assert 'data-code="protocol_in_use"' in response.content.decode()
    assert draft.phases.count() == 3


def test_an_unknown_protocol_is_a_404(boss_client):
    assert boss_client.get("/manage/protocols/999999/").status_code == 404


def test_roles_other_than_manager_are_refused_the_copy(client, esketamine_trd):
    client.force_login(UserFactory(username="both", roles=[FRONT_DESK, CLINICIAN]))
    assert client.post(f"/manage/protocols/{esketamine_trd.pk}/copy/").status_code == 403
    assert not Protocol.objects.filter(slug="esketamine-trd-v2").exists()
