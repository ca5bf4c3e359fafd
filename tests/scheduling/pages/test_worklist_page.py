"""The front desk's worklist page: items, filters, assigning, snoozing, resolving, the badge.

"Now" is Monday 2 March 2026, 09:00 in New York (tests/conftest.py). ``esk_course`` starts
Tuesday 3 March, so session 1 is due 3-10 March, target the 3rd. ``desk`` is the front desk's
browser, ``nurse`` a clinician's (tests/scheduling/pages/conftest.py).
"""

from __future__ import annotations

import pytest

from scheduling.models import WorkKind
from tests.factories import (
    WorkItemFactory,
)
from tests.scheduling.conftest import TUESDAY

pytestmark = pytest.mark.django_db


HTMX = {"HTTP_HX_REQUEST": "true"}


# -- the worklist -------------------------------------------------------------------------------------


@pytest.fixture
def work_item(esk_course, site):
    return WorkItemFactory(kind=WorkKind.DUE_UNBOOKED, subject=f"course:{esk_course.pk}", urgency=8,
                           patient=esk_course.patient, course=esk_course, location=site, detail="Session 1 is due.",
                           due_on=TUESDAY)


def test_the_worklist_lists_open_items_with_a_book_link(desk, now, work_item):
    # when
    html = desk.get("/worklist/").content.decode()
    # then
    assert f'data-item-id="{work_item.pk}"' in html
    assert f'href="/courses/{work_item.course_id}/book/"' in html


def test_the_worklist_filters_by_kind(desk, now, work_item):
    html = desk.get("/worklist/", {"kind": WorkKind.OVERDUE}).content.decode()
    assert f'data-item-id="{work_item.pk}"' not in html


def test_assign_to_me_updates_the_row(desk, now, work_item, front_desk):
    # when
    response = desk.post(f"/worklist/{work_item.pk}/assign/", {"user": "me"}, **HTMX)
    # then
    work_item.refresh_from_db()
    assert work_item.assigned_to == front_desk
    assert response.content.decode().lstrip().startswith(f'<tr id="work-item-{work_item.pk}"')
    assert response["HX-Trigger"] == "worklist-changed"


def test_snoozing_to_a_past_date_is_refused_in_the_apis_words(desk, now, work_item):
    # when
    response = desk.post(f"/worklist/{work_item.pk}/snooze/", {"until": "2026-03-01"}, **HTMX)
    # then
    assert response.status_code == 400
    assert "Snooze until a future date." in response.content.decode()


def test_resolving_with_a_note_closes_the_item(desk, now, work_item):
    # when
    response = desk.post(f"/worklist/{work_item.pk}/resolve/", {"note": "Called, booked by phone"}, **HTMX)
    # then
    work_item.refresh_from_db()
    assert work_item.closed_at is not None
    assert "Closed: Called, booked by phone" in response.content.decode()


def test_the_navigation_badge_counts_open_items(desk, now, work_item):
    html = desk.get("/worklist/count/").content.decode()
    assert 'data-count="1"' in html
