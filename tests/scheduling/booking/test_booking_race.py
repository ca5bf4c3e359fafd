"""Concurrent desks: the database, not luck, decides who gets a slot.

Sixteen threads, each with its own connection, wait at a barrier and then
book at once through the real API. Whatever the interleaving, exactly the
allowed number of sessions exist afterwards and every loser got a 409.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.db import connection
from rest_framework.test import APIClient

from scheduling.models import Session
from tests.factories import ChairFactory, PatientFactory, TreatmentCourseFactory, UserFactory, standard_protocol
from tests.scheduling.conftest import local

THREADS = 16
TUESDAY = date(2026, 3, 3)
race = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _race(user, requests: list[dict]) -> list[tuple[int, str | None]]:
    barrier = threading.Barrier(len(requests))

    def attempt(payload):
        client = APIClient()
        client.force_authenticate(user)
        try:
            barrier.wait(timeout=30)
            response = client.post("/api/sessions/", payload, format="json")
            return response.status_code, response.json().get("code")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(attempt, requests))


def _courses(protocol_slug: str, count: int, **patient):
    """``count`` courses starting on Tuesday, each for a new patient unless ``patient=`` one."""
    return TreatmentCourseFactory.create_batch(count, protocol=standard_protocol(protocol_slug), start_date=TUESDAY,
                                               **patient)


@race
def test_sixteen_desks_booking_one_chair_at_one_time_leave_exactly_one_session(site, chair, desk_user, now):
    # given sixteen patients due on Tuesday
    courses = _courses("esketamine-trd", THREADS)
    start = local(site, TUESDAY, 9).isoformat()
    # when all book the same chair and time at once
    results = _race(desk_user, [{"course": c.pk, "chair": chair.pk, "start": start} for c in courses])
    # then
    assert sorted(status for status, _ in results) == [201] + [409] * (THREADS - 1)
    assert {code for status, code in results if status == 409} == {"chair_conflict"}
    assert Session.objects.filter(chair=chair).count() == 1


@race
def test_one_patient_booked_on_sixteen_chairs_at_once_gets_exactly_one_session(site, desk_user, now):
    # given one patient with an esketamine and an IV course, and sixteen chairs that serve both
    patient = PatientFactory()
    [esketamine] = _courses("esketamine-trd", 1, patient=patient)
    [infusion] = _courses("ketamine-iv-series", 1, patient=patient)
    chairs = [ChairFactory(location=site, name=f"Dual {n}", serves_esketamine=True, has_infusion_pump=True)
              for n in range(THREADS)]
    start = local(site, TUESDAY, 10).isoformat()
    requests = [{"course": (esketamine if n % 2 else infusion).pk, "chair": chair.pk, "start": start}
                for n, chair in enumerate(chairs)]
    # when
    results = _race(desk_user, requests)
    # then
    assert [status for status, _ in results].count(201) == 1
    assert all(status in (201, 409) for status, _ in results)
    # A loser may also see the winner's session as its course's session 1 and be told
    # session 2 is not due yet; any of these is a correct refusal.
    assert {code for status, code in results if status == 409} <= {"patient_conflict", "same_day",
                                                                   "outside_due_window"}
    assert Session.objects.filter(patient=patient).count() == 1


@race
def test_clinician_capacity_holds_under_concurrent_bookings(site, desk_user, now):
    # given one clinician who may have four patients in treatment at once, and sixteen free chairs
    clinician = UserFactory(username="solo", roles=["clinician"])
    site.staff.add(clinician)
    chairs = [ChairFactory(location=site, name=f"Bay {n}") for n in range(THREADS)]
    courses = _courses("esketamine-trd", THREADS)
    start = local(site, TUESDAY, 11).isoformat()
    # when sixteen patients are booked with that clinician at once
    results = _race(desk_user, [{"course": course.pk, "chair": chair.pk, "start": start, "clinician": clinician.pk}
                                for course, chair in zip(courses, chairs, strict=True)])
    # then exactly four succeed
    assert [status for status, _ in results].count(201) == 4
    assert {code for status, code in results if status == 409} == {"clinician_capacity"}
    assert Session.objects.filter(clinician=clinician).count() == 4
