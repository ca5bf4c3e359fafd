"""The front desk's day at the two widths a desk uses (1440 and 1024 pixels), and at a chosen local time.

``desk`` is a browser signed in as the front desk at each width in turn (the
test runs twice). ``local_clock`` puts the server's clock at a wall-clock time
at the site on the site's real today (``local_clock(time(23, 30))``); it keeps
ticking, so sign-in sessions and htmx polls behave as in a real evening.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.browser.conftest import DESK_PASSWORD, LANDS_ON_BOARD, sign_in

WIDTHS = (1440, 1024)


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def width(request) -> int:
    return request.param


@pytest.fixture
def desk(new_browser, desk_user, width):
    """A browser ``width`` pixels wide signed in as the front desk, on the board it lands on."""
    page = new_browser()
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, desk_user.username, DESK_PASSWORD, lands_on=LANDS_ON_BOARD)
    return page


@pytest.fixture
def local_clock(site):
    """``local_clock(time(23, 30), days=0)`` moves the server's clock to that wall-clock time at ``site``.

    The day is the site's today (plus ``days``), so dates stay near the real
    ones the browser knows. Call it before signing in when the test is about
    what a page shows "today"; the clock ticks on from there.
    """
    travellers = []

    def move_to(wall_clock: time, days: int = 0) -> datetime:
        day = site.local_date(timezone.now()) + timedelta(days=days)
        instant = datetime.combine(day, wall_clock, tzinfo=site.zone)
        traveller = time_machine.travel(instant, tick=True)
        traveller.start()
        travellers.append(traveller)
        return instant

    yield move_to
    for traveller in reversed(travellers):
        traveller.stop()
