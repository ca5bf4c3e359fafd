"""The messaging wing's patients: one booked for Tuesday whose reminders are to come, one due and not booked."""

from __future__ import annotations

from datetime import date

import pytest

from clinic.queueing import publish_again_allowed
from scheduling.booking import services as booking
from scheduling.models import ReminderState
from scheduling.tasks import refresh_marked_worklists_task
from tests.factories import TreatmentCourseFactory, standard_protocol
from tests.scheduling.conftest import TUESDAY, local


@pytest.fixture
def booked(book, esk_course, chair, now):
    """``esk_course``'s first visit, Tuesday 3 March at 10:00, booked on Monday: its two reminders are pending."""
    session = book(chair, local(chair.location, TUESDAY, 10), course=esk_course)
    assert set(session.reminders.values_list("state", flat=True)) == {ReminderState.PENDING}
    return session


@pytest.fixture
def due_course(site, clinician, now):
    """Session 1 given Friday 27 February at Midtown: session 2 is due 1-4 March and nothing is booked."""
    course = TreatmentCourseFactory(protocol=standard_protocol("esketamine-trd"), start_date=date(2026, 2, 20))
    booking.record_past_session(by=clinician, course=course, day=date(2026, 2, 27), location=site)
    return course


@pytest.fixture(autouse=True)
def _no_worklist_pass_pending():
    """No earlier test's "a worklist pass is already published" flag (in the shared cache) hides this test's."""
    publish_again_allowed(refresh_marked_worklists_task)
