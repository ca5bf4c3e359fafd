"""Bad input's world: a clinic open every day, all day (so the DST nights have opening hours), and its staff.

"Now" is Monday 2 March 2026, 09:00 in New York (``now``). US clocks go forward on
Sunday 8 March 2026 (02:00 -> 03:00, so 02:30 never happens) and back on Sunday
1 November 2026 (02:00 -> 01:00, so 01:30 happens twice).
"""

from __future__ import annotations

from datetime import date, time

import pytest

from clinic.roles import CLINICIAN, FRONT_DESK, MANAGER
from tests.factories import TreatmentCourseFactory, UserFactory, opening_hours, standard_protocol


@pytest.fixture
def site_hours():
    """``site`` opens every day 00:00-23:45, so the DST nights have opening hours."""
    return opening_hours(range(7), time(0), time(23, 45))


@pytest.fixture
def staff(site):
    """A front desk, a clinician and a manager who work at ``site``, by role."""
    # No password (force_login and the API client need none).
    users = {role: UserFactory(username=f"bad_{role}", roles=[role], password=None)
             for role in (FRONT_DESK, CLINICIAN, MANAGER)}
    for user in users.values():
        site.staff.add(user)
    return users


@pytest.fixture
def desk_api(api_as, staff):
    return api_as(staff[FRONT_DESK])


@pytest.fixture
def clinician_api(api_as, staff):
    return api_as(staff[CLINICIAN])


@pytest.fixture
def manager_api(api_as, staff):
    return api_as(staff[MANAGER])


def new_course(start_date: date, *, patient=None):
    """An esketamine-trd course from ``start_date``, for ``patient`` or a new one."""
    fields = {"patient": patient} if patient is not None else {}
    return TreatmentCourseFactory(start_date=start_date, protocol=standard_protocol("esketamine-trd"),
                                  created_by=UserFactory(password=None), **fields)


def assert_field_error(response, field: str, status: int = 400) -> None:
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert body["code"], body
    assert field in body["fields"], body
