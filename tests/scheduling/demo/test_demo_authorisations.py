"""The demo's prior authorisations: every open esketamine course approved before booking, then one of each case.

Now is Monday 2 March 2026, 09:00 in New York (tests/conftest.py).
"""

from __future__ import annotations

from datetime import date

import pytest

from protocols.models import AuthorisationStatus, PriorAuthorisation, TreatmentCourse
from scheduling.booking.authorisations import uses_for_courses
from scheduling.demo.authorisations import (
    create_demo_authorisations,
    remove_demo_authorisations,
    settle_demo_authorisations,
)
from scheduling.models import SessionStatus, WorkItem
from scheduling.worklist.sweep import refresh_worklist
from tests.factories import PatientFactory, TreatmentCourseFactory, standard_protocol

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)


@pytest.fixture
def courses(now, session_on, front_desk):
    """Five open esketamine courses that began on 5 January, each with a session given; and an IV course."""
    made = [TreatmentCourseFactory(patient=PatientFactory(), protocol=standard_protocol("esketamine-trd"),
                                   start_date=date(2026, 1, 5)) for _ in range(5)]
    for index, course in enumerate(made):
        session_on(course, date(2026, 2, 2 + index), SessionStatus.DISCHARGED)
    made.append(TreatmentCourseFactory(patient=PatientFactory(), protocol=standard_protocol("ketamine-iv-series"),
                                       start_date=date(2026, 1, 5)))
    return made


def test_the_demo_approves_then_shows_each_authorisation_item_once(courses, session_on, front_desk):
    # (the approvals are written before the sessions in the real demo; here the sessions given came first)
    # given every open esketamine course approved before its sessions are booked
    assert create_demo_authorisations(courses, by=front_desk, today=TODAY) == 5
    assert not PriorAuthorisation.objects.filter(course=courses[-1]).exists()
    session_on(courses[2], date(2026, 3, 4))  # a booking ahead: this course's approval becomes the denial
    # when the demo settles them and the sweep runs
    settle_demo_authorisations(courses, by=front_desk, today=TODAY)
    refresh_worklist()
    # then
    statuses = sorted(PriorAuthorisation.objects.values_list("status", flat=True))
    assert statuses.count(AuthorisationStatus.DENIED) == 1 and statuses.count(AuthorisationStatus.PENDING) == 1
    assert uses_for_courses([courses[1].pk])[courses[1].pk][0].left == 1
    assert set(WorkItem.objects.open().filter(kind__startswith="authorisation").values_list("kind", flat=True)) == {
        "authorisation_ending", "authorisation_units_low", "authorisation_pending", "authorisation_denied"}
    # and removing the demo's courses removes their authorisations first
    remove_demo_authorisations(TreatmentCourse.objects.filter(pk__in=[course.pk for course in courses]))
    assert not PriorAuthorisation.objects.exists()
