"""The data migration installs the four protocols of DOMAIN.md, and the database keeps phases sane."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from protocols import due
from protocols.models import Phase, Protocol

pytestmark = pytest.mark.django_db

# DOMAIN.md "Protocols": (phase sessions, earliest, target, target_alt, latest, weekly (e, t, l) or None).
DOMAIN_TABLE = {
    "esketamine-trd": [
        (8, 2, 3, 4, 5, None),
        (4, 5, 7, None, 10, None),
        (None, 10, 14, None, 18, (5, 7, 10)),
    ],
    "esketamine-mdsi": [(8, 2, 3, 4, 5, None)],
    "ketamine-iv-series": [(6, 2, 2, 3, 5, None), (None, 21, 28, None, 42, None)],
    "ketamine-iv-weekly": [(6, 5, 7, None, 10, None), (None, 21, 28, None, 42, None)],
}


def test_the_migration_installs_the_four_protocols_of_the_domain_table():
    # when
    installed = {
        protocol.slug: [
            (phase.sessions, phase.earliest_days, phase.target_days, phase.target_alt_days, phase.latest_days,
             None if phase.weekly_earliest_days is None
             else (phase.weekly_earliest_days, phase.weekly_target_days, phase.weekly_latest_days))
            for phase in protocol.phases.all()
        ]
        for protocol in Protocol.objects.with_phases()
    }
    # then
    assert installed == DOMAIN_TABLE


@pytest.mark.parametrize("slug", sorted(due.STANDARD_PROTOCOLS))
def test_each_installed_protocol_converts_back_to_the_engines_standard_rule(slug):
    # given
    protocol = Protocol.objects.get(slug=slug)
    # when
    rule = protocol.rule()
    # then
    assert rule == due.STANDARD_PROTOCOLS[slug]


def test_esketamine_protocols_have_the_label_session_settings_and_doses():
    trd = Protocol.objects.get(slug="esketamine-trd")
    mdsi = Protocol.objects.get(slug="esketamine-mdsi")
    assert (trd.modality, trd.chair_minutes, trd.observation_minutes) == ("esketamine_nasal", 150, 120)
    assert (trd.first_dose_mg, trd.allowed_doses_mg, trd.requires_prior_56_for_84) == (56, [56, 84], True)
    assert (mdsi.first_dose_mg, mdsi.allowed_doses_mg, mdsi.requires_prior_56_for_84) == (84, [56, 84], False)
    assert (trd.bp_systolic_max, trd.bp_diastolic_max, trd.spo2_min) == (140, 90, 92)
    assert trd.iv_mg_per_kg is None


def test_iv_protocols_have_infusion_session_settings_and_a_weight_based_dose():
    for slug in ("ketamine-iv-series", "ketamine-iv-weekly"):
        protocol = Protocol.objects.get(slug=slug)
        assert (protocol.modality, protocol.chair_minutes, protocol.observation_minutes) == ("ketamine_iv", 90, 30)
        assert protocol.iv_mg_per_kg == Decimal("0.50")
        assert protocol.first_dose_mg is None and protocol.allowed_doses_mg == []


def test_only_esketamine_trd_offers_weekly_maintenance():
    offers = {protocol.slug: protocol.has_weekly_alternative() for protocol in Protocol.objects.with_phases()}
    assert offers == {"esketamine-trd": True, "esketamine-mdsi": False, "ketamine-iv-series": False,
                      "ketamine-iv-weekly": False}


@pytest.mark.parametrize(
    "values",
    [
        {"earliest_days": 5, "target_days": 3, "latest_days": 7},  # earliest after target
        {"earliest_days": 2, "target_days": 9, "latest_days": 7},  # target after latest
        {"earliest_days": 0, "target_days": 3, "latest_days": 5},  # same-day sessions
        {"earliest_days": 2, "target_days": 3, "target_alt_days": 9, "latest_days": 5},  # alternate past latest
        {"earliest_days": 2, "target_days": 3, "latest_days": 5, "sessions": 0},  # zero sessions
        {"earliest_days": 2, "target_days": 3, "latest_days": 5, "weekly_earliest_days": 5},  # half a weekly rule
    ],
)
def test_the_database_refuses_a_phase_with_an_impossible_window(values):
    # given
    protocol = Protocol.objects.get(slug="ketamine-iv-weekly")
    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        Phase.objects.create(protocol=protocol, order=9, name="Bad", **values)
