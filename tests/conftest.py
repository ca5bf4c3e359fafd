"""The test world every test shares: its people, its clock, its clinic, its texts.

"Now" is Monday 2 March 2026, 09:00 in New York (14:00 UTC) whenever a test asks for
``clock`` or ``now``. The clinic is ``site`` (Midtown, New York, REMS-certified, open
Monday to Saturday 08:00-18:00) with its esketamine ``chair``; ``book(...)`` books a
session there through the booking service. The clinic day's other fixtures (a second
site, more chairs, courses, sessions) are in tests/scheduling/conftest.py; the models'
factories are in tests/factories.py.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
import time_machine
from django.test.utils import override_settings
from rest_framework.test import APIClient

from clinic import sms
from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER, PRESCRIBER
from tests.factories import (
    MONDAY_TO_SATURDAY_8_TO_6,
    ChairFactory,
    LocationFactory,
    PatientFactory,
    SessionFactory,
    TreatmentCourseFactory,
    UserFactory,
    standard_protocol,
)

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # Monday 2 March 2026, 09:00 in New York


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Passwords are hashed with MD5 in tests, as Django's testing docs advise.

    The default PBKDF2 takes ~0.4 s a password on a 2-core machine and most tests make
    two or three users: it was the largest share of the suite's time. No test here is
    about the hasher; the system itself keeps Django's default.
    """
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session", autouse=True)
def prior_authorisation_checks_entered():
    """Bookings are checked against prior authorisations only for courses that have one entered.

    The test world books esketamine courses (whose protocol requires authorisation) in
    nearly every test about something else, with no authorisation entered, as a clinic
    adopting the system does (``PRIOR_AUTHORISATION_CHECKS = "entered"``, docs/CONFIGURATION).
    A course with an authorisation is checked in full; ``prior_authorisation_checks_all``
    checks every course, as the installed default does. The environment carries it to the
    web and worker processes a test starts.
    """
    previous = os.environ.get("PRIOR_AUTHORISATION_CHECKS")
    os.environ["PRIOR_AUTHORISATION_CHECKS"] = "entered"
    with override_settings(PRIOR_AUTHORISATION_CHECKS="entered"):
        yield
    if previous is None:
        os.environ.pop("PRIOR_AUTHORISATION_CHECKS", None)
    else:
        os.environ["PRIOR_AUTHORISATION_CHECKS"] = previous


@pytest.fixture
def prior_authorisation_checks_all(settings):
    """Every booking of a course whose protocol requires authorisation is checked, as installed."""
    settings.PRIOR_AUTHORISATION_CHECKS = "all"


# --- time ---------------------------------------------------------------------------------------------


@pytest.fixture
def clock():
    """Time stands still at ``NOW`` until the test moves it: ``clock.move_to(instant)``, ``clock.shift(delta)``."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def now(clock) -> datetime:
    """``NOW``, where the clock stands when a test begins (a session fixture may have moved it since)."""
    return NOW


# --- people -------------------------------------------------------------------------------------------


@pytest.fixture
def front_desk(db):
    return UserFactory(username="desk", roles=[FRONT_DESK])


@pytest.fixture
def clinician(db):
    """A clinician marked as a prescriber, so the esketamine doses they chart name them as on site."""
    return UserFactory(username="nurse", roles=[CLINICIAN, PRESCRIBER])


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
    return standard_protocol("esketamine-trd")


@pytest.fixture
def course(patient, esketamine_trd):
    """An active ``esketamine-trd`` course for ``patient`` starting today."""
    return TreatmentCourseFactory(patient=patient, protocol=esketamine_trd)


# --- the clinic ---------------------------------------------------------------------------------------


@pytest.fixture
def site_hours() -> dict:
    """The opening hours of ``site``, ``{weekday: (opens, closes)}``: Monday to Saturday 08:00-18:00.

    A module or conftest that needs other hours overrides this fixture, not ``site``.
    """
    return MONDAY_TO_SATURDAY_8_TO_6


@pytest.fixture
def site(db, site_hours):
    """Midtown: a REMS-certified site in New York, 15 minutes' turnover, four patients at once per clinician."""
    return LocationFactory(name="Midtown", time_zone="America/New_York", rems_certified=True, turnover_minutes=15,
                           max_in_treatment_per_clinician=4, hours=site_hours)


@pytest.fixture
def chair(site):
    """Chair 1 at ``site``: esketamine, no infusion pump."""
    return ChairFactory(location=site, name="Chair 1", serves_esketamine=True, has_infusion_pump=False)


@pytest.fixture
def book(db):
    """``book(chair, start, *, course=None, patient=None, slug="esketamine-trd", by=None, clinician=None,
    override_reason="")``: a session booked through the booking service, every rule checked.

    Without ``course`` it is session 1 of a new ``slug`` course for ``patient`` (a new
    patient by default) due on ``start``'s local day; ``by`` is who books (a new user by
    default). A refusal raises the service's ``Conflict`` (tests/factories.py ``SessionFactory``).
    """

    def book(chair, start, *, course=None, patient=None, slug="esketamine-trd", by=None, clinician=None,
             override_reason=""):
        fields = {"course": course} if course is not None else {"patient": patient, "slug": slug}
        if by is not None:
            fields["by"] = by
        return SessionFactory(chair=chair, start=start, clinician=clinician, override_reason=override_reason,
                              **fields)

    return book


# --- texts --------------------------------------------------------------------------------------------


@pytest.fixture
def sent_texts(settings):
    """The texts the in-memory SMS backend sent during the test, oldest first (``{"to", "body", ...}``).

    Empty at the start, with no failure queued: put errors in ``sms.LocmemBackend.fail_with``
    for the next sends to raise. Both are emptied again afterwards.
    """
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    sms.LocmemBackend.fail_with.clear()
    yield sms.outbox
    sms.outbox.clear()
    sms.LocmemBackend.fail_with.clear()
