"""A discharged session's number in its course is kept by the database on every path that changes a session
(``SessionNumber``, migration 0018): discharge, history recorded from before the system, a correction of the day
or the state, a session deleted, and two changes to one course at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import close_old_connections, connection, transaction

from scheduling.benchmark.synthetic import NUMBERED
from scheduling.models import Session, SessionNumber, SessionStatus
from tests.factories import ChairFactory, SessionRowFactory, TreatmentCourseFactory, standard_protocol

DAY = datetime(2026, 2, 2, 15, tzinfo=UTC)


def _numbers(course) -> list[tuple[int, int]]:
    return list(SessionNumber.objects.filter(course=course).order_by("number").values_list("session_id", "number"))


def _recounted() -> set[tuple]:
    """Every discharged session numbered from scratch, as the benchmark's loader and the migration number them."""
    with connection.cursor() as cursor:
        cursor.execute(NUMBERED)
        return set(cursor.fetchall())


def _kept() -> set[tuple]:
    return set(SessionNumber.objects.values_list("session_id", "course_id", "number", "local_date", "location_id",
                                                 "recorded_history"))


@pytest.fixture
def course():
    return TreatmentCourseFactory(protocol=standard_protocol("esketamine-trd"), start_date=DAY.date())


@pytest.fixture
def chair():
    return ChairFactory()


def _given(course, chair, days: int, status=SessionStatus.DISCHARGED, **fields) -> Session:
    return SessionRowFactory(course=course, chair=chair, start=DAY + timedelta(days=days), status=status, **fields)


@pytest.mark.django_db
def test_discharged_sessions_are_numbered_in_order_of_their_start_and_others_not_at_all(course, chair):
    third, first = _given(course, chair, 7), _given(course, chair, 0)
    _given(course, chair, 3, status=SessionStatus.NO_SHOW)
    booked = _given(course, chair, 10, status=SessionStatus.BOOKED)
    assert _numbers(course) == [(first.pk, 1), (third.pk, 2)]
    # when: the booked one is given and discharged
    Session.objects.filter(pk=booked.pk).update(status=SessionStatus.DISCHARGED)
    assert _numbers(course) == [(first.pk, 1), (third.pk, 2), (booked.pk, 3)]


@pytest.mark.django_db
def test_history_recorded_from_before_the_system_numbers_the_later_sessions_again(course, chair):
    given = _given(course, chair, 7)
    history = SessionRowFactory(course=course, chair=None, start=DAY - timedelta(days=30),
                                status=SessionStatus.DISCHARGED)
    assert _numbers(course) == [(history.pk, 1), (given.pk, 2)]


@pytest.mark.django_db
def test_a_correction_of_the_day_or_the_state_and_a_deletion_number_the_course_again(course, chair):
    first, second, third = (_given(course, chair, days) for days in (0, 3, 6))
    # the first corrected to after the third
    Session.objects.filter(pk=first.pk).update(start=DAY + timedelta(days=9), end=DAY + timedelta(days=9, hours=2),
                                               occupied_until=DAY + timedelta(days=9, hours=2))
    assert _numbers(course) == [(second.pk, 1), (third.pk, 2), (first.pk, 3)]
    # the second was in fact missed
    Session.objects.filter(pk=second.pk).update(status=SessionStatus.NO_SHOW)
    assert _numbers(course) == [(third.pk, 1), (first.pk, 2)]
    Session.objects.filter(pk=third.pk).delete()
    assert _numbers(course) == [(first.pk, 1)]
    assert _kept() == _recounted()


@pytest.mark.django_db
def test_a_session_moved_to_another_course_leaves_one_numbering_and_joins_the_other(course, chair):
    other = TreatmentCourseFactory(patient=course.patient, protocol=standard_protocol("ketamine-iv-series"),
                                   start_date=DAY.date())
    first, second = _given(course, chair, 0), _given(course, chair, 3)
    theirs = _given(other, chair, 5)
    Session.objects.filter(pk=first.pk).update(course=other)
    assert _numbers(course) == [(second.pk, 1)]
    assert _numbers(other) == [(first.pk, 1), (theirs.pk, 2)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sessions_of_one_course_discharged_at_once_are_numbered_one_and_two():
    course = TreatmentCourseFactory(protocol=standard_protocol("esketamine-trd"), start_date=DAY.date())
    chair = ChairFactory()
    sessions = [_given(course, chair, days, status=SessionStatus.BOOKED) for days in (0, 3, 6, 9)]
    barrier = threading.Barrier(len(sessions))
    errors = []

    def discharge(session):
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                Session.objects.filter(pk=session.pk).update(status=SessionStatus.DISCHARGED)
        except Exception as exc:  # noqa: BLE001 - the assertion below reports it
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=discharge, args=(session,)) for session in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert _numbers(course) == [(session.pk, number) for number, session in enumerate(sessions, start=1)]
    assert _kept() == _recounted()
