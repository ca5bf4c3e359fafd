"""The clinician's browser tests: a clinician on the site's staff, her browser, and a course starting today.

The site's time zone is one where it is daytime now, so "minutes ago" and "an hour from now"
stay on the site's today whatever time the suite runs. The chart's steps are in chart_steps.py.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from clinic.roles import CLINICIAN, PRESCRIBER
from patients.models import MEDICINE_FIELDS
from protocols.models import TreatmentCourse
from tests.browser.conftest import LANDS_ON_SCHEDULE
from tests.factories import TreatmentCourseFactory, UserFactory, standard_protocol

CLINICIAN_PASSWORD = "clinician-browser-2026"
# Zones far enough apart that one of them is always between 06:00 and 20:00 local time.
DAYTIME_ZONES = ("America/New_York", "America/Los_Angeles", "Pacific/Honolulu", "Europe/London", "Asia/Kolkata",
                 "Asia/Tokyo", "Pacific/Auckland")
DAYTIME_HOURS = range(6, 20)


@pytest.fixture
def site(site):
    """The shared site (REMS-certified, open 00:00-23:45 every day here), moved to a zone where it is daytime now."""
    now = timezone.now()
    site.time_zone = next(name for name in DAYTIME_ZONES if now.astimezone(ZoneInfo(name)).hour in DAYTIME_HOURS)
    site.save()
    return site


@pytest.fixture
def clinician_user(site):
    """A clinician and prescriber on ``site``'s staff (sessions booked there are hers); ``CLINICIAN_PASSWORD``."""
    user = UserFactory(username="ana.ortiz", first_name="Ana", last_name="Ortiz", roles=[CLINICIAN, PRESCRIBER])
    user.set_password(CLINICIAN_PASSWORD)
    user.save()
    site.staff.add(user)
    return user


@pytest.fixture
def nurse(new_desk, clinician_user):
    """A browser signed in as the clinician, on the schedule she lands on."""
    return new_desk(clinician_user, CLINICIAN_PASSWORD, lands_on=LANDS_ON_SCHEDULE)


@pytest.fixture
def course_today(patient, site_today, desk_user) -> TreatmentCourse:
    """An esketamine-trd course starting today at the site; the patient's sex is set (the REMS form asks for it)."""
    patient.sex = "female"
    for name in MEDICINE_FIELDS:
        setattr(patient, name, "no")  # asked at intake: the REMS form can be complete
    patient.save()
    return TreatmentCourseFactory(patient=patient, protocol=standard_protocol("esketamine-trd"),
                                  start_date=site_today, created_by=desk_user)
