"""A clinic in New York on a fixed day, with chairs, a clinician and an esketamine course.

"Now" is Monday 2 March 2026, 09:00 in New York (14:00 UTC); US clocks go
forward on Sunday 8 March and back on Sunday 1 November 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import time_machine

from clinic.roles import CLINICIAN, FRONT_DESK
from protocols.models import Protocol
from scheduling.models import Chair, Closure, Location, OpeningHours
from tests import sms_standin
from tests.factories import PatientFactory, TreatmentCourseFactory, UserFactory

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def site(db):
    """A REMS-certified site in New York, open Monday-Saturday 08:00-18:00."""
    location = Location.objects.create(name="Midtown", time_zone="America/New_York", rems_certified=True,
                                       turnover_minutes=15, max_in_treatment_per_clinician=4)
    for weekday in range(6):
        OpeningHours.objects.create(location=location, weekday=weekday, opens=time(8), closes=time(18))
    return location


@pytest.fixture
def other_site(db):
    """A site in Los Angeles that is not REMS-certified."""
    location = Location.objects.create(name="Westside", time_zone="America/Los_Angeles", rems_certified=False)
    for weekday in range(5):
        OpeningHours.objects.create(location=location, weekday=weekday, opens=time(9), closes=time(17))
    return location


@pytest.fixture
def chair(site):
    return Chair.objects.create(location=site, name="Chair 1", serves_esketamine=True, has_infusion_pump=False)


@pytest.fixture
def chair2(site):
    return Chair.objects.create(location=site, name="Chair 2", serves_esketamine=True, has_infusion_pump=True)


@pytest.fixture
def iv_chair(site):
    return Chair.objects.create(location=site, name="Infusion 1", serves_esketamine=False, has_infusion_pump=True)


@pytest.fixture
def staff_clinician(site):
    user = UserFactory(username="dr_ortiz", first_name="Ana", last_name="Ortiz", roles=[CLINICIAN])
    site.staff.add(user)
    return user


@pytest.fixture
def desk_user(db):
    return UserFactory(username="desk2", roles=[FRONT_DESK])


@pytest.fixture
def esk_course(db, now):
    """An active esketamine-trd course starting Tuesday 3 March 2026: session 1 due 3-10 March."""
    return TreatmentCourseFactory(patient=PatientFactory(), protocol=Protocol.objects.get(slug="esketamine-trd"),
                                  start_date=date(2026, 3, 3))


@pytest.fixture
def iv_course(db, now):
    return TreatmentCourseFactory(patient=PatientFactory(), protocol=Protocol.objects.get(slug="ketamine-iv-series"),
                                  start_date=date(2026, 3, 3))


def local(site: Location, day: date, hour: int, minute: int = 0) -> datetime:
    return site.at(day, time(hour, minute))


@pytest.fixture
def closure(site):
    return Closure.objects.create(location=site, date=date(2026, 3, 4), reason="Staff training")


@pytest.fixture
def twilio_api(settings):
    """A stand-in Twilio API on a free local port, with the twilio backend pointed at it (tests/sms_standin.py)."""
    with sms_standin.running() as stand_in:
        for name, value in stand_in.settings(timeout=1).items():
            setattr(settings, name, value)
        yield stand_in
