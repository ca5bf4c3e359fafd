"""Completed and booked sessions feed the due engine through the protocols selectors."""

from __future__ import annotations

from datetime import date

import pytest

from scheduling.booking import services as booking
from scheduling.models import Session, SessionStatus
from tests.factories import UserFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db


def test_the_plan_shows_booked_sessions_in_place(desk_api, esk_course, chair, book, now):
    # given session 1 booked on Tuesday 3 March
    session = book(chair, local(chair.location, date(2026, 3, 3), 9), course=esk_course)
    # when
    rows = desk_api.get(f"/api/courses/{esk_course.pk}/plan/").json()
    # then row 1 is that session, and row 2 chains from its date (+3 target)
    assert rows[0]["session"] == session.pk
    assert rows[0]["booked"] == "2026-03-03"
    assert rows[0]["status"] == "booked"
    assert rows[1]["session"] is None
    assert rows[1]["target"] == "2026-03-06"


def test_a_discharged_session_counts_as_completed(desk_api, esk_course, chair, book, now):
    # given session 1 given on Tuesday
    session = book(chair, local(chair.location, date(2026, 3, 3), 9), course=esk_course)
    Session.objects.filter(pk=session.pk).update(status=SessionStatus.DISCHARGED)
    # when
    course = desk_api.get(f"/api/courses/{esk_course.pk}/").json()
    # then
    assert course["sessions_completed"] == 1
    assert course["next_due"]["number"] == 2
    assert course["next_due"]["earliest"] == "2026-03-05"


def test_cancelled_and_no_show_sessions_do_not_count(desk_api, esk_course, chair, book, now):
    session = book(chair, local(chair.location, date(2026, 3, 3), 9), course=esk_course)
    booking.cancel_session(by=UserFactory(), session=session, reason="Unwell")
    course = desk_api.get(f"/api/courses/{esk_course.pk}/").json()
    assert course["sessions_completed"] == 0
    assert course["next_due"]["number"] == 1
