"""Desks booking a course's last authorised unit at once: one gets it, the others are told it is used.

Threads with their own connections wait at a barrier and book through the real API. The
booking locks the course's approved authorisations before counting their units, so the
second desk counts the first one's session; without the lock both would take the last unit.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.db import connection
from rest_framework.test import APIClient

from clinic.errors import Conflict
from scheduling.booking import services as booking
from scheduling.models import Session
from tests.factories import PriorAuthorisationFactory, TreatmentCourseFactory, standard_protocol
from tests.scheduling.conftest import local

TUESDAY = date(2026, 3, 3)
# Session 2 of the course is due Thursday 5 to Sunday 8 March; Midtown is open Thursday to Saturday.
DAYS = (date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 7))


@pytest.mark.parametrize("path", ["api", "service"])
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_desks_booking_the_last_unit_at_once_leave_one_session_and_tell_the_others(site, chair, desk_user, now, path):
    # given a course with two units, one used on Tuesday
    course = TreatmentCourseFactory(protocol=standard_protocol("esketamine-trd"), start_date=TUESDAY)
    PriorAuthorisationFactory(course=course, units_approved=2, first_day=TUESDAY, last_day=date(2026, 3, 31))
    booking.book_session(by=desk_user, course=course, chair=chair, start=local(site, TUESDAY, 9))
    barrier = threading.Barrier(len(DAYS))

    def attempt(day):
        # The API reads the course before the booking's transaction; the service reads it inside it.
        client = APIClient()
        client.force_authenticate(desk_user)
        try:
            barrier.wait(timeout=30)
            if path == "service":
                try:
                    booking.book_session(by=desk_user, course=course, chair=chair, start=local(site, day, 9))
                    return 201, None
                except Conflict as refusal:
                    return 409, refusal.code
            response = client.post("/api/sessions/", {"course": course.pk, "chair": chair.pk,
                                                      "start": local(site, day, 9).isoformat()}, format="json")
            return response.status_code, response.json().get("code")
        finally:
            connection.close()

    # when three desks book the second session on three days at once
    with ThreadPoolExecutor(max_workers=len(DAYS)) as pool:
        results = list(pool.map(attempt, DAYS))
    # then
    assert sorted(status for status, _ in results) == [201, 409, 409]
    # A loser counts the winner's session: its unit is gone, and its day may now fall outside the next
    # session's due window (which check speaks first depends on which day won). Without the lock both
    # losers would have counted one session and booked.
    assert {code for status, code in results if status == 409} <= {"authorisation_units_used", "outside_due_window"}
    assert Session.objects.filter(course=course).count() == 2
