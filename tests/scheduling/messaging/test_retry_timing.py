"""When a text the provider refused for now is tried again (``jobs.retry_wait``): soon at first, then less often,
spread so a burst of refusals does not come back at once, and as late as the provider asks."""

from __future__ import annotations

import pytest

from scheduling.messaging.jobs import retry_wait


@pytest.fixture
def schedule(settings):
    settings.TEXT_RETRY_SECONDS = [5, 15, 30, 60, 120, 300]
    settings.TEXT_RETRY_MAX_SECONDS = 600
    settings.TEXT_RETRY_JITTER_PERCENT = 20
    return settings


def test_each_try_waits_its_step_of_the_schedule_and_the_last_step_repeats(schedule):
    schedule.TEXT_RETRY_JITTER_PERCENT = 0
    assert [retry_wait(attempts) for attempts in range(1, 9)] == [5, 15, 30, 60, 120, 300, 300, 300]


def test_the_waits_are_spread_within_the_jitter(schedule):
    waits = [retry_wait(1) for _ in range(400)]
    assert 4.0 <= min(waits) and max(waits) <= 6.0
    # spread, not all the same moment: a burst of 429s does not come back as one burst
    assert max(waits) - min(waits) > 1.0


def test_the_providers_retry_after_comes_first_and_unspread(schedule):
    assert retry_wait(1, retry_after=42) == 42
    assert retry_wait(6, retry_after=2) == 2
    assert retry_wait(1, retry_after=0) == 0


def test_no_wait_is_longer_than_the_longest(schedule):
    schedule.TEXT_RETRY_MAX_SECONDS = 100
    assert retry_wait(1, retry_after=3600) == 100
    assert max(retry_wait(6) for _ in range(50)) <= 100
