"""Esketamine observation is at least 120 minutes whatever a protocol version says (docs/DOMAIN.md).

Every way a protocol's numbers are written is tried: the service a manager's
edit goes through, the admin form, and the database itself for anything that
writes around both.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from protocols import services
from protocols.models import Protocol
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_version(esketamine_trd, manager):
    """An unused copy of esketamine-trd, which a manager may edit freely."""
    return services.copy_protocol_as_new_version(by=manager, protocol=esketamine_trd)


def test_a_manager_cannot_lower_esketamine_observation_below_120_minutes(new_version, manager):
    # when
    with pytest.raises(ValidationError) as refused:
        services.update_protocol(by=manager, protocol=new_version, changes={"observation_minutes": 45})
    # then the field is named, and the stored protocol still observes for 120 minutes
    assert "observation_minutes" in refused.value.message_dict
    new_version.refresh_from_db()
    assert new_version.observation_minutes == 120


def test_a_manager_may_lengthen_esketamine_observation(new_version, manager):
    changes = {"observation_minutes": 150, "chair_minutes": 180}
    services.update_protocol(by=manager, protocol=new_version, changes=changes)
    new_version.refresh_from_db()
    assert new_version.observation_minutes == 150


def test_iv_recovery_stays_the_clinics_setting(manager):
    # given an IV protocol's copy
    iv = services.copy_protocol_as_new_version(by=manager, protocol=Protocol.objects.get(slug="ketamine-iv-series"))
    # when its recovery is shortened to 20 minutes
    services.update_protocol(by=manager, protocol=iv, changes={"observation_minutes": 20})
    # then it is accepted
    iv.refresh_from_db()
    assert iv.observation_minutes == 20


def test_the_admin_form_refuses_45_minutes_of_esketamine_observation(client, new_version):
    # given the superuser's admin form for the unused copy
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = f"/admin/protocols/protocol/{new_version.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form.initial.get(name) for name in form.fields if form.initial.get(name) is not None}
    data.update({"observation_minutes": "45", "allowed_doses_mg": "56,84", "active": "on",
                 "phases-TOTAL_FORMS": "0", "phases-INITIAL_FORMS": "0", "phases-MIN_NUM_FORMS": "0",
                 "phases-MAX_NUM_FORMS": "1000"})
    data.pop("requires_prior_56_for_84", None)
    # when
    response = client.post(url, data)
    # then the form comes back with the error on the field, and nothing changed
    assert response.status_code == 200
    assert "observation_minutes" in response.context["adminform"].form.errors
    new_version.refresh_from_db()
    assert new_version.observation_minutes == 120


def test_the_database_refuses_an_esketamine_protocol_observed_for_45_minutes(new_version):
    # when a write goes around the model's validation
    with pytest.raises(IntegrityError, match="protocol_esketamine_observation_at_least_120"), transaction.atomic():
        Protocol.objects.filter(pk=new_version.pk).update(observation_minutes=45)
    # then
    new_version.refresh_from_db()
    assert new_version.observation_minutes == 120
