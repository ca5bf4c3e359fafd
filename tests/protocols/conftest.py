from __future__ import annotations

import pytest

from protocols import selectors


@pytest.fixture
def session_dates(monkeypatch):
    """Stand in for the scheduling app: ``session_dates[course.id] = (completed, booked)``.

    Until sessions exist, ``course_session_dates`` reports none; these tests
    feed it dates to drive the engine through the real selectors and API.
    """
    dates: dict[int, tuple[tuple, tuple]] = {}

    def fake(course_ids):
        return {course_id: dates.get(course_id, ((), ())) for course_id in course_ids}

    monkeypatch.setattr(selectors, "course_session_dates", fake)
    return dates
