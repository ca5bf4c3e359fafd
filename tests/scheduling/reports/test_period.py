"""The period a report covers: weeks, months, quarters, custom days, the period before, and bad input."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from scheduling.reports.period import Period, period_from

TODAY = date(2026, 3, 4)  # a Wednesday


def test_a_week_runs_monday_to_sunday_around_the_anchor_and_follows_the_week_before():
    week = period_from(kind="week", anchor=date(2026, 3, 1), today=TODAY)  # a Sunday
    assert (week.start, week.end) == (date(2026, 2, 23), date(2026, 3, 1))
    assert week.previous() == Period("week", date(2026, 2, 16), date(2026, 2, 22))
    assert week.label == "Week of 23 February 2026"


def test_without_an_anchor_the_period_is_todays():
    assert period_from(kind="week", today=TODAY) == Period("week", date(2026, 3, 2), date(2026, 3, 8))
    assert period_from(kind="month", today=TODAY) == Period("month", date(2026, 3, 1), date(2026, 3, 31))


@pytest.mark.parametrize(("anchor", "start", "end", "previous_start", "previous_end"), [
    (date(2024, 2, 29), date(2024, 2, 1), date(2024, 2, 29), date(2024, 1, 1), date(2024, 1, 31)),  # leap year
    (date(2026, 3, 31), date(2026, 3, 1), date(2026, 3, 31), date(2026, 2, 1), date(2026, 2, 28)),  # 31 after 28
    (date(2026, 1, 15), date(2026, 1, 1), date(2026, 1, 31), date(2025, 12, 1), date(2025, 12, 31)),  # year back
])
def test_a_month_is_the_calendar_month_and_the_one_before_is_whole_whatever_its_length(
        anchor, start, end, previous_start, previous_end):
    month = period_from(kind="month", anchor=anchor, today=TODAY)
    assert (month.start, month.end) == (start, end)
    assert (month.previous().start, month.previous().end) == (previous_start, previous_end)


def test_a_quarter_is_three_calendar_months_and_the_first_quarter_follows_the_last_of_the_year_before():
    quarter = period_from(kind="quarter", anchor=date(2026, 2, 14), today=TODAY)
    assert (quarter.start, quarter.end, quarter.label) == (date(2026, 1, 1), date(2026, 3, 31), "Q1 2026")
    assert quarter.previous() == Period("quarter", date(2025, 10, 1), date(2025, 12, 31))
    assert period_from(kind="quarter", anchor=date(2026, 12, 31), today=TODAY).start == date(2026, 10, 1)


def test_custom_days_are_taken_as_given_and_the_period_before_has_as_many_days():
    custom = period_from(kind="custom", start=date(2026, 2, 10), end=date(2026, 2, 19), today=TODAY)
    assert custom == Period("custom", date(2026, 2, 10), date(2026, 2, 19))
    assert custom.previous() == Period("custom", date(2026, 1, 31), date(2026, 2, 9))
    assert custom.label == "10 February – 19 February 2026"
    one_day = period_from(kind="custom", start=date(2026, 2, 10), end=date(2026, 2, 10), today=TODAY)
    assert one_day.previous() == Period("custom", date(2026, 2, 9), date(2026, 2, 9))


def test_custom_days_may_cover_366_days_and_no_more():
    assert period_from(kind="custom", start=date(2024, 1, 1), end=date(2024, 12, 31), today=TODAY).days == 366
    with pytest.raises(ValidationError) as refused:
        period_from(kind="custom", start=date(2025, 1, 1), end=date(2026, 1, 2), today=TODAY)
    assert list(refused.value.message_dict) == ["end"]


@pytest.mark.parametrize(("asked", "field"), [
    ({"kind": "fortnight"}, "period"),
    ({"kind": "custom", "end": date(2026, 2, 1)}, "start"),
    ({"kind": "custom", "start": date(2026, 2, 1)}, "end"),
    ({"kind": "custom", "start": date(2026, 2, 2), "end": date(2026, 2, 1)}, "end"),
])
def test_a_period_that_cannot_be_read_is_refused_naming_the_field(asked, field):
    with pytest.raises(ValidationError) as refused:
        period_from(today=TODAY, **asked)
    assert field in refused.value.message_dict
