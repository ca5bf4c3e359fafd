"""The FHIR tests' clinic (``fhir_world``) with a day of sessions in every state, for the Appointment tests.

Built once per module on top of ``fhir_world`` (and rolled back with it). Besides
its Tuesday 09:00 booking of Alex on Chair 1 (``tuesday``), on Monday 2 March:

- ``confirmed``: Casey Rivera's third esketamine session, 10:00 on Chair 1 with
  Casey Nurse, confirmed on Sunday; sessions 1 and 2 were discharged on
  23 and 26 February (``fulfilled_1``, ``fulfilled_2``);
- ``arrived``: Dana's IV infusion at 12:00 on Infusion 1 with Robin Okafor, checked in;
- ``cancelled``: Eli's esketamine session at 14:00 on Chair 1, cancelled ("Unwell");
- ``noshow``: Flynn's IV infusion at 16:30 in Los Angeles (00:30 UTC on Tuesday), missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

import pytest
import time_machine
from django.db import transaction

from clinic.roles import CLINICIAN
from scheduling.models import SessionStatus
from tests.conftest import NOW
from tests.factories import SessionRowFactory, TreatmentCourseFactory, standard_protocol
from tests.scheduling.fhir.fhir_world import FhirWorld

MONDAY = date(2026, 3, 2)


@dataclass
class AppointmentWorld:
    base: FhirWorld
    sessions: dict

    def id(self, name: str) -> str:
        return str(self.sessions[name].pk)


@pytest.fixture(scope="module")
def appointment_world(fhir_world, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic(), time_machine.travel(NOW, tick=False):
        world = fhir_world
        midtown, westside = world.sites["midtown"], world.sites["westside"]
        chair1, infusion, west = world.chairs["chair1"], world.chairs["infusion"], world.chairs["west"]
        casey, robin = world.users[CLINICIAN], world.users["robin"]
        alex, _, casey_rivera, dana, eli, flynn = world.patients
        esketamine, iv = standard_protocol("esketamine-trd"), standard_protocol("ketamine-iv-series")
        courses = {
            "casey": TreatmentCourseFactory(patient=casey_rivera, protocol=esketamine, start_date=date(2026, 2, 20)),
            "dana": TreatmentCourseFactory(patient=dana, protocol=iv, start_date=MONDAY),
            "eli": TreatmentCourseFactory(patient=eli, protocol=esketamine, start_date=MONDAY),
            "flynn": TreatmentCourseFactory(patient=flynn, protocol=iv, start_date=MONDAY),
        }
        sessions = {
            "tuesday": world.session,
            "fulfilled_1": SessionRowFactory(course=courses["casey"], chair=chair1, clinician=casey,
                                             start=midtown.at(date(2026, 2, 23), time(9)),
                                             status=SessionStatus.DISCHARGED),
            "fulfilled_2": SessionRowFactory(course=courses["casey"], chair=chair1, clinician=casey,
                                             start=midtown.at(date(2026, 2, 26), time(9)),
                                             status=SessionStatus.DISCHARGED),
            "confirmed": SessionRowFactory(course=courses["casey"], chair=chair1, clinician=casey,
                                           start=midtown.at(MONDAY, time(10)), status=SessionStatus.CONFIRMED,
                                           confirmed_at=NOW - timedelta(days=1)),
            "arrived": SessionRowFactory(course=courses["dana"], chair=infusion, clinician=robin,
                                         start=midtown.at(MONDAY, time(12)), status=SessionStatus.CHECKED_IN),
            "cancelled": SessionRowFactory(course=courses["eli"], chair=chair1, start=midtown.at(MONDAY, time(14)),
                                           status=SessionStatus.CANCELLED, cancel_reason="Unwell",
                                           cancelled_at=NOW),
            "noshow": SessionRowFactory(course=courses["flynn"], chair=west, start=westside.at(MONDAY, time(16, 30)),
                                        status=SessionStatus.NO_SHOW, no_show_at=NOW),
        }
        assert alex == world.session.patient
        yield AppointmentWorld(base=world, sessions=sessions)
        transaction.set_rollback(True)
