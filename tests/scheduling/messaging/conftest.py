"""The messaging wing's shared visit: a patient booked for Tuesday, whose reminders are still to come."""

from __future__ import annotations

import pytest

from scheduling.models import ReminderState
from tests.scheduling.conftest import TUESDAY, local


@pytest.fixture
def booked(book, esk_course, chair, now):
    """``esk_course``'s first visit, Tuesday 3 March at 10:00, booked on Monday: its two reminders are pending."""
    session = book(chair, local(chair.location, TUESDAY, 10), course=esk_course)
    assert set(session.reminders.values_list("state", flat=True)) == {ReminderState.PENDING}
    return session
