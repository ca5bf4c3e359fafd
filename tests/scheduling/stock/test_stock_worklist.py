"""A stock count to explain on the worklist: clinicians and managers see it, the front desk never does."""

from __future__ import annotations

import pytest

from scheduling.models import WorkItem, WorkKind
from scheduling.stock import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock_item(device_lot, clinician, now):
    services.count(by=clinician, lot=device_lot, counted_quantity=11)
    return WorkItem.objects.get(kind=WorkKind.STOCK_DISCREPANCY)


def test_a_manager_sees_the_count_to_explain_on_the_worklist_page(client, manager, stock_item):
    client.force_login(manager)
    page = client.get("/worklist/")
    assert page.status_code == 200
    assert f'data-item-id="{stock_item.pk}"' in page.content.decode()
    assert "Stock at Midtown" in page.content.decode()


def test_the_front_desk_does_not_see_it_in_the_page_the_list_the_item_or_the_badge(client, desk_api, front_desk,
                                                                                    stock_item):
    client.force_login(front_desk)
    assert f'data-item-id="{stock_item.pk}"' not in client.get("/worklist/").content.decode()
    assert desk_api.get("/api/worklist/").json()["count"] == 0
    assert desk_api.get(f"/api/worklist/{stock_item.pk}/").status_code == 404
    assert desk_api.get("/api/worklist/counts/").json()["total"] == 0


def test_the_item_is_not_resolved_with_a_desk_note(manager_api, stock_item):
    answer = manager_api.post(f"/api/worklist/{stock_item.pk}/resolve/", {"note": "Done"}, format="json")
    assert (answer.status_code, answer.json()["code"]) == (409, "explain_the_discrepancy")
    stock_item.refresh_from_db()
    assert stock_item.closed_at is None
