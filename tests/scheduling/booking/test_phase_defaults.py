"""The phase form's first guess: the protocol's cadence on the site's open days, from the target day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from protocols import due
from scheduling.booking.phase_defaults import cadence_weekdays, guess_series
from scheduling.booking.rules import SiteCalendar

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
MONDAY_TO_SATURDAY = {MON, TUE, WED, THU, FRI, SAT}
TWICE_WEEKLY = due.ESKETAMINE_TRD.phases[0].spacing  # 2 / 3 or 4 / 5
WEEKLY = due.ESKETAMINE_TRD.phases[1].spacing  # 5 / 7 / 10
IV_SERIES = due.KETAMINE_IV_SERIES.phases[0].spacing  # 2 / 2 or 3 / 5
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(("first", "expected"), [
    (MON, (MON, THU)),
    (TUE, (TUE, FRI)),
    (WED, (WED, SAT)),
    (THU, (MON, THU)),  # not Thursday-Sunday: Midtown is closed on Sundays
    (FRI, (MON, FRI)),
])
def test_twice_weekly_is_two_open_days_three_or_four_apart(first, expected):
    assert cadence_weekdays(TWICE_WEEKLY, first, MONDAY_TO_SATURDAY) == expected


def test_twice_weekly_from_saturday_with_sunday_and_monday_closed_keeps_to_open_days():
    assert cadence_weekdays(TWICE_WEEKLY, SAT, {TUE, WED, THU, FRI, SAT}) == (TUE, SAT)


def test_weekly_is_one_day():
    assert cadence_weekdays(WEEKLY, WED, MONDAY_TO_SATURDAY) == (WED,)


def test_an_iv_series_is_three_days_a_week():
    assert cadence_weekdays(IV_SERIES, MON, MONDAY_TO_SATURDAY) == (MON, WED, SAT)


def calendar(closures=frozenset()) -> SiteCalendar:
    return SiteCalendar(zone=NEW_YORK, hours={day: (time(8), time(18)) for day in MONDAY_TO_SATURDAY},
                        closures=frozenset(closures))


def window(earliest: date, target: date, latest: date) -> due.DueWindow:
    return due.DueWindow(number=1, phase="Induction", phase_index=0, earliest=earliest, target=target, latest=latest)


def test_the_first_date_is_the_target_at_nine():
    # given session 1 due Sat 7 - Sat 14 March, target Sunday 8 (closed); now Mon 2 March
    guess = guess_series(window=window(date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 14)), spacing=TWICE_WEEKLY,
                         calendar=calendar(), chair_minutes=150, today=date(2026, 3, 2),
                         now=datetime(2026, 3, 2, 14, tzinfo=UTC))
    # then: the open day nearest the target, the earlier of two as near
    assert (guess.first_date, guess.clock, guess.weekdays) == (date(2026, 3, 7), time(9), (TUE, SAT))


def test_a_target_passed_today_at_half_past_eleven_at_night_starts_tomorrow():
    # given the window opened yesterday; it is 23:30 on Monday 2 March in New York (04:30 UTC on the 3rd)
    now = datetime(2026, 3, 2, 23, 30, tzinfo=NEW_YORK)
    guess = guess_series(window=window(date(2026, 3, 1), date(2026, 3, 1), date(2026, 3, 8)), spacing=TWICE_WEEKLY,
                         calendar=calendar(), chair_minutes=150, today=date(2026, 3, 2), now=now)
    # then
    assert guess.first_date == date(2026, 3, 3)
    assert guess.weekdays == (TUE, FRI)


def test_a_closure_on_the_target_day_moves_the_first_date():
    guess = guess_series(window=window(date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 8)), spacing=TWICE_WEEKLY,
                         calendar=calendar({date(2026, 3, 4)}), chair_minutes=150, today=date(2026, 3, 2),
                         now=datetime(2026, 3, 2, 14, tzinfo=UTC))
    assert guess.first_date == date(2026, 3, 3)
