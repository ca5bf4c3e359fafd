"""Sessions in any state, for tests of what the booking wing reads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scheduling.models import Session, SessionStatus
from tests.scheduling.conftest import local


@pytest.fixture
def session_on(chair):
    """``session_on(course, day, status)``: a session at 09:00 local time on ``day`` (``hour=`` and
    ``minute=`` another time, ``on=`` another chair, ``clinician=`` a clinician), written straight to the
    table as a clinic's history leaves it: no booking rule applies, only the database's constraints."""

    def write(course, day: date, status: str = SessionStatus.BOOKED, *, hour: int = 9, minute: int = 0, on=None,
              clinician=None) -> Session:
        on = on or chair
        start = local(on.location, day, hour, minute)
        end = start + timedelta(minutes=course.protocol.chair_minutes)
        return Session.objects.create(
            course=course, patient=course.patient, location=on.location, chair=on, clinician=clinician,
            start=start, end=end, occupied_until=end + timedelta(minutes=on.location.turnover_minutes),
            local_date=day, status=status)

    return write
