"""axe-core on every front-desk page, at both desk widths: no serious or critical violation.

Each page is opened as the front desk finds it, with a booked session on the
board so the grid, the panel and the patient's tables have something to show.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse

from tests.browser.accessibility import blocking_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def booked(book, chair, site, course, site_today):
    """Session 1 of ``course`` tomorrow at 10:00 at the site."""
    start = datetime.combine(site_today + timedelta(days=1), time(10), tzinfo=site.zone)
    return book(chair, start, course=course)


def front_desk_pages(site, patient, course, session) -> dict[str, str]:
    """Every page the front desk works in, by a name that reads in a failure."""
    day = session.start.astimezone(site.zone).date()
    return {
        "board": reverse("board", args=[site.pk, day]),
        "week": reverse("board-week", args=[site.pk, day]),
        "every site's week": reverse("board-week-all", args=[day]),
        "day sheet": reverse("day-sheet", args=[site.pk, day]),
        "slot grid": reverse("slot-grid") + f"?course={course.pk}",
        "session page": reverse("session-panel", args=[session.pk]),
        "patient list": reverse("patients:list"),
        "patient search": reverse("patients:list") + "?q=" + patient.last_name,
        "new patient": reverse("patients:new"),
        "edit patient": reverse("patients:edit", args=[patient.pk]),
        "patient page": reverse("patient-page", args=[patient.pk]),
        "text the patient": reverse("patient-text", args=[patient.pk]),
        "start a course": reverse("start-course", args=[patient.pk]),
        "book next": reverse("book-next", args=[course.pk]),
        "book the phase": reverse("book-phase", args=[course.pk]),
        "worklist": reverse("worklist"),
    }


def test_front_desk_pages_have_no_serious_accessibility_violation(desk, site, patient, course, booked):
    # given
    pages = front_desk_pages(site, patient, course, booked)

    # when
    found = {}
    for name, address in pages.items():
        desk.goto(address)
        desk.wait_for_load_state("networkidle")
        found[name] = blocking_violations(desk)

    # then
    assert {name: lines for name, lines in found.items() if lines} == {}
