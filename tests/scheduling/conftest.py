"""The clinic day: Midtown in New York on Monday 2 March 2026, its chairs and staff, two courses, two sessions.

"Now" is Monday 2 March 2026, 09:00 in New York (``now``, tests/conftest.py); US
clocks go forward on Sunday 8 March and back on Sunday 1 November 2026. Both
courses start on Tuesday 3 March, so session 1 of each is due 3-10 March;
``esk_session`` and ``iv_session`` are those sessions, booked on Monday for
Tuesday 09:00. ``site``, ``chair`` and ``book`` are in tests/conftest.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from clinic.roles import CLINICIAN, FRONT_DESK, PRESCRIBER
from scheduling.models import Location, Session, SessionStatus
from tests import sms_standin
from tests.conftest import NOW
from tests.factories import (
    ChairFactory,
    ClosureFactory,
    LocationFactory,
    PatientFactory,
    SessionRowFactory,
    TreatmentCourseFactory,
    UserFactory,
    opening_hours,
    standard_protocol,
)

__all__ = ["JAN_5", "NOW", "TUESDAY", "TUESDAY_NINE", "local"]

JAN_5 = date(2026, 1, 5)  # a Monday, when jan_course starts
TUESDAY = date(2026, 3, 3)
TUESDAY_NINE = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # when esk_session and iv_session start, New York time


def local(site: Location, day: date, hour: int, minute: int = 0) -> datetime:
    """``hour:minute`` on ``day``, local time at ``site``."""
    return site.at(day, time(hour, minute))


@pytest.fixture
def other_site(db):
    """Westside: a site in Los Angeles that is not REMS-certified, open Monday to Friday 09:00-17:00."""
    return LocationFactory(name="Westside", time_zone="America/Los_Angeles", rems_certified=False,
                           hours=opening_hours(range(5), time(9), time(17)))


@pytest.fixture
def chair2(site):
    return ChairFactory(location=site, name="Chair 2", serves_esketamine=True, has_infusion_pump=True)


@pytest.fixture
def iv_chair(site):
    return ChairFactory(location=site, name="Infusion 1", serves_esketamine=False, has_infusion_pump=True)


@pytest.fixture
def closure(site):
    """Midtown is closed on Wednesday 4 March for staff training."""
    return ClosureFactory(location=site, date=date(2026, 3, 4), reason="Staff training")


@pytest.fixture
def staff_clinician(site):
    """Dr Ana Ortiz, the clinician (and prescriber) who works at ``site``."""
    user = UserFactory(username="dr_ortiz", first_name="Ana", last_name="Ortiz", roles=[CLINICIAN, PRESCRIBER])
    site.staff.add(user)
    return user


@pytest.fixture
def desk_user(db):
    """A second front desk (``front_desk`` is the first)."""
    return UserFactory(username="desk2", roles=[FRONT_DESK])


@pytest.fixture
def named_patient(db):
    """Marguerite ("Maggie") Okonkwo, MRN M004711: a patient whose name, MRN and birth date no text or feed may show."""
    return PatientFactory(first_name="Marguerite", last_name="Okonkwo", preferred_name="Maggie", mrn="M004711",
                          date_of_birth=date(1979, 4, 2), phone="+14155550123")


@pytest.fixture
def esk_course(db, now):
    """An active esketamine-trd course starting Tuesday 3 March 2026: session 1 due 3-10 March."""
    return TreatmentCourseFactory(patient=PatientFactory(), protocol=standard_protocol("esketamine-trd"),
                                  start_date=TUESDAY)


@pytest.fixture
def iv_course(db, now):
    """An active ketamine-iv-series course starting Tuesday 3 March 2026."""
    return TreatmentCourseFactory(patient=PatientFactory(), protocol=standard_protocol("ketamine-iv-series"),
                                  start_date=TUESDAY)


@pytest.fixture
def jan_course(db, now):
    """An esketamine-trd course that started on Monday 5 January 2026: its sessions are history."""
    return TreatmentCourseFactory(patient=PatientFactory(), protocol=standard_protocol("esketamine-trd"),
                                  start_date=JAN_5)


@pytest.fixture
def esk_session(book, esk_course, chair, staff_clinician, clock):
    """Session 1 of ``esk_course`` on ``chair`` with ``staff_clinician``, booked on Monday for Tuesday 09:00.

    The clock then stands at the session's start, Tuesday 09:00, where a session's story
    begins; ``clock.move_to`` walks through it (``now`` moves it back to Monday).
    """
    clock.move_to(NOW)
    session = book(chair, TUESDAY_NINE, course=esk_course)
    clock.move_to(TUESDAY_NINE)
    return session


@pytest.fixture
def iv_session(book, iv_course, iv_chair, staff_clinician, clock):
    """Session 1 of ``iv_course`` on ``iv_chair``, booked on Monday for Tuesday 09:00; the clock then at its start."""
    clock.move_to(NOW)
    session = book(iv_chair, TUESDAY_NINE, course=iv_course)
    clock.move_to(TUESDAY_NINE)
    return session


@pytest.fixture
def session_on(chair):
    """``session_on(course, day, status)``: a session at 09:00 local time on ``day`` (``hour=`` and ``minute=``
    another time, ``on=`` another chair than ``chair``, ``clinician=`` a clinician), written straight to the
    table as a clinic's history leaves it: no booking rule applies, only the database's (``SessionRowFactory``)."""

    def write(course, day: date, status: str = SessionStatus.BOOKED, *, hour: int = 9, minute: int = 0, on=None,
              clinician=None) -> Session:
        on = on or chair
        return SessionRowFactory(course=course, chair=on, start=local(on.location, day, hour, minute), status=status,
                                 clinician=clinician)

    return write


@pytest.fixture
def twilio_api(settings):
    """A stand-in Twilio API on a free local port, with the twilio backend pointed at it (tests/sms_standin.py)."""
    with sms_standin.running() as stand_in:
        for name, value in stand_in.settings(timeout=1).items():
            setattr(settings, name, value)
        yield stand_in
