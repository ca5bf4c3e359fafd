"""Sessions by phase follow the due engine: a clinician's phase restart, and sessions past a protocol's end."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from protocols.models import Phase
from scheduling.models import SessionStatus
from scheduling.reports.dashboard import figure_numbers
from scheduling.reports.period import period_from
from tests.factories import (
    ChairFactory,
    LocationFactory,
    SessionRowFactory,
    TreatmentCourseFactory,
    opening_hours,
    standard_protocol,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
WEEK = period_from(kind="week", anchor=date(2026, 2, 9), today=NOW.date())


def _course_with_history(slug: str, sessions_before: int, **fields):
    """A course with ``sessions_before`` sessions recorded from before the system (every 3 days from 1 Dec 2025)."""
    course = TreatmentCourseFactory(protocol=standard_protocol(slug), start_date=date(2025, 12, 1), **fields)
    for number in range(sessions_before):
        SessionRowFactory(chair=None, start=datetime(2025, 12, 1, 15, tzinfo=UTC) + timedelta(days=3 * number),
                          course=course, status=SessionStatus.DISCHARGED)
    return course


def _phases_of(slug: str) -> list[str]:
    return list(Phase.objects.filter(protocol=standard_protocol(slug)).order_by("order").values_list("name", flat=True))


def _by_phase() -> list[tuple[str, int]]:
    found = figure_numbers("sessions_by_phase", period=WEEK, location_id=None, now=NOW)
    return [(row["phase"], row["sessions"]) for row in found["tables"][0]["rows"]]


def test_after_a_phase_restart_the_sessions_count_in_the_restarted_phase_again():
    # given: 10 sessions given (8 induction, 2 maintenance), then a lapse and induction restarted after the 10th
    chair = ChairFactory(location=LocationFactory(hours=opening_hours(range(5), time(9), time(17))))
    course = _course_with_history("esketamine-trd", 10, restart_after_completed=10, restart_phase_index=0,
                                  restart_on=date(2026, 2, 9), restart_reason="Lapsed over the holidays")
    # when: session 11 is given in the week
    SessionRowFactory(chair=chair, start=chair.location.at(date(2026, 2, 10), time(9)), course=course,
                      status=SessionStatus.DISCHARGED)
    # then: it is the restarted induction's first, not maintenance's third
    assert _by_phase() == [(_phases_of("esketamine-trd")[0], 1)]


def test_a_session_past_a_finite_protocols_last_phase_is_shown_as_such():
    # given: an esketamine-mdsi course (8 sessions, then it completes) with its 8 given
    chair = ChairFactory(location=LocationFactory(hours=opening_hours(range(5), time(9), time(17))))
    course = _course_with_history("esketamine-mdsi", 8)
    # when: a ninth is given anyway
    SessionRowFactory(chair=chair, start=chair.location.at(date(2026, 2, 10), time(9)), course=course,
                      status=SessionStatus.DISCHARGED)
    # then
    assert _by_phase() == [("Past the protocol's last phase", 1)]
