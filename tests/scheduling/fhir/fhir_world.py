"""One clinic for the FHIR read tests, built once per module and rolled back after it.

Monday 2 March 2026, 09:00 in New York (``NOW``). Midtown (New York,
REMS-certified, Monday to Saturday 08:00-18:00) has an esketamine chair, an
infusion chair and a chair out of service; Westside (Los Angeles, not
certified) one chair with both. Six patients named Rivera and one Ode (with
a preferred name, archived), three courses (active esketamine, paused IV,
discontinued), one session booked on Chair 1 on Tuesday 09:00-11:30.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

import pytest
import time_machine
from django.db import transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER
from patients.models import Sex
from protocols.models import CourseStatus
from tests.conftest import NOW
from tests.factories import (
    ChairFactory,
    LocationFactory,
    PatientFactory,
    SessionRowFactory,
    TreatmentCourseFactory,
    UserFactory,
    opening_hours,
    standard_protocol,
)

TUESDAY = date(2026, 3, 3)


@dataclass
class FhirWorld:
    clients: dict
    token: str
    users: dict
    sites: dict
    chairs: dict
    patients: list
    archived: object
    courses: dict
    session: object
    extra: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def fhir_world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic(), time_machine.travel(NOW, tick=False):
        users = {FRONT_DESK: UserFactory(username="f_desk", roles=[FRONT_DESK]),
                 MANAGER: UserFactory(username="f_manager", roles=[MANAGER]),
                 CLINICIAN: UserFactory(username="f_casey", first_name="Casey", last_name="Nurse",
                                        roles=[CLINICIAN]),
                 "robin": UserFactory(username="f_robin", first_name="Robin", last_name="Okafor", roles=[CLINICIAN]),
                 "no_role": UserFactory(username="f_nobody", roles=[])}
        midtown = LocationFactory(name="Midtown", address="1 Main St\nNew York, NY", phone="+15555550100")
        westside = LocationFactory(name="Westside", time_zone="America/Los_Angeles", rems_certified=False,
                                   hours=opening_hours(range(5), time(9), time(17)))
        chairs = {"chair1": ChairFactory(location=midtown, name="Chair 1"),
                  "infusion": ChairFactory(location=midtown, name="Infusion 1", serves_esketamine=False,
                                           has_infusion_pump=True),
                  "retired": ChairFactory(location=midtown, name="Old chair", active=False),
                  "west": ChairFactory(location=westside, name="West 1", has_infusion_pump=True)}
        riveras = [PatientFactory(mrn=f"B{n:05d}", first_name=name, date_of_birth=born, sex=sex)
                   for n, (name, born, sex) in enumerate([
                       ("Alex", date(1980, 5, 17), Sex.FEMALE), ("Blair", date(1980, 12, 31), Sex.MALE),
                       ("Casey", date(1981, 1, 1), Sex.OTHER), ("Dana", date(1990, 7, 4), Sex.UNKNOWN),
                       ("Eli", date(1975, 3, 2), Sex.FEMALE), ("Flynn", date(2000, 2, 29), Sex.MALE)])]
        archived = PatientFactory(mrn="Z00001", first_name="Kimberly", preferred_name="Kim", last_name="Ode",
                                  date_of_birth=date(1985, 1, 1), phone="")
        archived.archived_at = NOW
        archived.save(update_fields=["archived_at"])
        courses = {
            "active": TreatmentCourseFactory(patient=riveras[0], protocol=standard_protocol("esketamine-trd"),
                                             start_date=date(2026, 2, 2)),
            "paused": TreatmentCourseFactory(patient=riveras[1], protocol=standard_protocol("ketamine-iv-series"),
                                             start_date=date(2026, 1, 5), status=CourseStatus.PAUSED, paused_at=NOW),
            "ended": TreatmentCourseFactory(patient=riveras[0], protocol=standard_protocol("ketamine-iv-series"),
                                            start_date=date(2025, 6, 1), status=CourseStatus.DISCONTINUED,
                                            discontinued_at=NOW, discontinued_reason="Moved away"),
        }
        session = SessionRowFactory(chair=chairs["chair1"], course=courses["active"],
                                    start=midtown.at(TUESDAY, time(9)))
        token = Token.objects.create(user=users[FRONT_DESK]).key
        clients = {"anonymous": APIClient()}
        for role, user in users.items():
            clients[role] = APIClient()
            clients[role].force_authenticate(user)
        yield FhirWorld(clients=clients, token=token, users=users, sites={"midtown": midtown, "westside": westside},
                        chairs=chairs, patients=riveras, archived=archived, courses=courses, session=session)
        transaction.set_rollback(True)


@pytest.fixture
def desk(fhir_world, db):
    """The front desk's client, with time standing at ``NOW``; each test in a transaction of its own."""
    with time_machine.travel(NOW, tick=False):
        yield fhir_world.clients[FRONT_DESK]


def read(response, model):
    """The answer parsed with the library's ``model`` (Bundle, Patient, ...), after checking it is FHIR JSON."""
    assert response["Content-Type"].startswith("application/fhir+json"), response.content
    return model.model_validate_json(response.content)


def ids_of(bundle) -> list[str]:
    return [entry.resource.id for entry in bundle.entry or []]


def every_page(client, url: str, model) -> tuple[list[str], list]:
    """Follow ``next`` from ``url`` to the end: every match's id and every page's Bundle."""
    found, bundles = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        bundle = read(response, model)
        bundles.append(bundle)
        found += ids_of(bundle)
        url = next((link.url for link in bundle.link if link.relation == "next"), None)
    return found, bundles
