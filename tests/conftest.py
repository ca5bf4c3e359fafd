from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER
from tests.factories import PatientFactory, UserFactory


@pytest.fixture
def front_desk(db):
    return UserFactory(username="desk", roles=[FRONT_DESK])


@pytest.fixture
def clinician(db):
    return UserFactory(username="nurse", roles=[CLINICIAN])


@pytest.fixture
def manager(db):
    return UserFactory(username="boss", roles=[MANAGER])


@pytest.fixture
def no_role_user(db):
    return UserFactory(username="nobody", roles=[])


def _client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api_as():
    """``api_as(user)`` gives an API client signed in as ``user`` (None for anonymous)."""
    return _client_for


@pytest.fixture
def desk_api(front_desk):
    return _client_for(front_desk)


@pytest.fixture
def clinician_api(clinician):
    return _client_for(clinician)


@pytest.fixture
def manager_api(manager):
    return _client_for(manager)


@pytest.fixture
def patient(db):
    return PatientFactory()


@pytest.fixture
def esketamine_trd(db):
    """The installed ``esketamine-trd`` protocol."""
    from tests.factories import standard_protocol

    return standard_protocol("esketamine-trd")


@pytest.fixture
def course(patient, esketamine_trd):
    """An active ``esketamine-trd`` course for ``patient`` starting today."""
    from tests.factories import TreatmentCourseFactory

    return TreatmentCourseFactory(patient=patient, protocol=esketamine_trd)
