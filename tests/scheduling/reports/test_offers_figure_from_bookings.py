"""Freed chair hours as the booking service leaves them: a move and a cancel far enough ahead each keep their
time (a ``FreedTimeMark``), and the numbers count it though nobody has been offered it yet."""

from __future__ import annotations

from datetime import date, time

import pytest

from scheduling.booking import services
from scheduling.reports.dashboard import figure_numbers
from scheduling.reports.period import period_from
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_move_and_a_cancel_through_the_booking_service_count_as_freed_chair_hours(site, chair, chair2, book, now):
    # given, on Monday 2 March at 09:00 in New York, three sessions booked through the booking service
    tuesday = date(2026, 3, 3)
    moved, cancelled = book(chair, site.at(tuesday, time(9))), book(chair, site.at(tuesday, time(13)))
    too_late = book(chair, site.at(now.date(), time(11)))  # two hours away
    # when one moves to another chair, and two are cancelled
    by = UserFactory()
    services.reschedule_session(by=by, session=moved, start=moved.start, chair=chair2, now=now)
    services.cancel_session(by=by, session=cancelled, reason="Unwell", now=now)
    services.cancel_session(by=by, session=too_late, reason="Unwell", now=now)
    # then chair 1's 09:00 and 13:00 on Tuesday were freed (2.5 h each), not its 11:00 today, and nothing refilled
    week = period_from(kind="week", anchor=tuesday, today=now.date())
    found = figure_numbers("freed_chairs", period=week, location_id=site.pk, now=now)
    assert (found["value"], found["numerator"], found["denominator"]) == (0.0, 0.0, 5.0)
    assert found["tables"][0]["rows"] == [{"site": "Midtown", "freed_hours": 5.0, "refilled_hours": 0.0,
                                       "refill_rate": 0.0, "offers_sent": 0, "taken": 0, "median_minutes": None}]
