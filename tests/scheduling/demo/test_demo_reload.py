"""`make run` reuses its database: a demo that still agrees with the clock is kept, one that does not is
laid out again for now."""

from __future__ import annotations

from datetime import date, time

import pytest
import time_machine

from patients.models import Patient
from scheduling.models import Session
from tests.scheduling.demo import coherence
from tests.scheduling.demo.conftest import new_york

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo")]

WEDNESDAY_TEN = new_york(date(2026, 3, 11), time(10))
THURSDAY_NINE = new_york(date(2026, 3, 12), time(9))


def test_a_demo_that_agrees_with_the_clock_is_kept_and_one_left_from_yesterday_is_laid_out_again(demo_world):
    # given the demo loaded on Wednesday at 10:00
    with demo_world.at(WEDNESDAY_TEN) as first:
        assert "Demo data ready" in first
        sessions = set(Session.objects.values_list("pk", flat=True))
        # when it is loaded again a minute later, then it is kept as it is
        with time_machine.travel(WEDNESDAY_TEN.replace(minute=1), tick=False):
            assert "kept" in demo_world.load()
        assert set(Session.objects.values_list("pk", flat=True)) == sessions
        # when it is loaded again the next morning
        with time_machine.travel(THURSDAY_NINE, tick=False):
            again = demo_world.load()
            # then Wednesday's demo is replaced by one laid out for Thursday 09:00
            assert "replaced 40 patients" in again
            assert not Session.objects.filter(pk__in=sessions).exists()
            assert Patient.objects.count() == 40
            assert coherence.behind_the_clock(THURSDAY_NINE) == []
            assert coherence.chairs_shared() == []
            assert coherence.texts_disagreeing(THURSDAY_NINE) == []
