"""My schedule looks ahead: any day by ``?day=``, the six days after it, day and week steps, "My week".

The clock stands at Monday 2 March 2026, 09:00 in New York (tests/conftest.py).
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db

SATURDAY = date(2026, 3, 7)
NEXT_MONDAY = date(2026, 3, 9)


@pytest.fixture
def monday_session(clock, book, chair, site, staff_clinician):
    """A session of Dr Ortiz's next Monday, 9 March 2026 at 10:00 in New York."""
    return book(chair, local(site, NEXT_MONDAY, 10), clinician=staff_clinician)


def test_a_saturday_shows_the_monday_after_it(nurse, monday_session):
    content = nurse.get(f"/schedule/?day={SATURDAY:%Y-%m-%d}").content.decode()
    assert "Saturday, March 7, 2026" in content
    assert "Monday, Mar 9" in content
    assert f'data-session-id="{monday_session.pk}" data-mine="true"' in content
    assert "Nothing else booked" not in content


def test_the_chosen_day_has_day_and_week_steps_today_and_my_week(clock, nurse, site, staff_clinician):
    content = nurse.get(f"/schedule/?day={SATURDAY:%Y-%m-%d}").content.decode()
    assert 'href="?day=2026-03-06"' in content and 'href="?day=2026-03-08"' in content
    assert 'href="?day=2026-02-28"' in content and 'href="?day=2026-03-14"' in content
    assert 'data-testid="schedule-today"' in content
    assert f'href="/week/{site.pk}/2026-03-07/?clinician={staff_clinician.pk}"' in content
    assert 'value="2026-03-07"' in content


def test_without_a_day_it_is_the_sites_today(nurse, monday_session):
    content = nurse.get("/schedule/").content.decode()
    assert "Monday, March 2, 2026" in content
    assert 'aria-current="date">Today<' in content
    assert "Nothing else booked through Sunday, Mar 8." in content
    assert f'data-session-id="{monday_session.pk}"' not in content


def test_the_day_itself_lists_its_sessions(nurse, monday_session):
    content = nurse.get(f"/schedule/?day={NEXT_MONDAY:%Y-%m-%d}").content.decode()
    day_table = content.split('data-testid="schedule-day"', 2)[2].split("</table>")[0]
    assert f'data-session-id="{monday_session.pk}"' in day_table


@pytest.mark.parametrize(("typed", "words"), [("next monday", "is not a date"), ("1899-01-01", "out of range")])
def test_a_day_that_is_not_one_is_refused_beside_the_picker(clock, nurse, typed, words):
    response = nurse.get("/schedule/", {"day": typed})
    content = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="schedule-date-error"' in content and words in content
    assert 'aria-invalid="true"' in content
    assert "Monday, March 2, 2026" in content
