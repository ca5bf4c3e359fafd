"""The worklist through the API: the desk lists, filters, assigns, snoozes and resolves items.

The clinic is the frozen New York site of tests/conftest.py: now is Monday 2 March 2026, 09:00 local.
"""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from scheduling.models import WorkKind
from scheduling.worklist.sweep import refresh_worklist
from tests.factories import WorkItemFactory
from tests.scheduling.conftest import TUESDAY, local

pytestmark = pytest.mark.django_db

LIST_MAX_QUERIES = 3  # the locations' time zones (for snoozes), the count, the page


def listed(api, **query) -> list[dict]:
    response = api.get("/api/worklist/", query)
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def test_the_list_is_sorted_by_urgency_then_due_date(desk_api, site, now):
    # given
    WorkItemFactory(kind=WorkKind.DUE_UNBOOKED, location=site, due_on=date(2026, 3, 3))
    WorkItemFactory(kind=WorkKind.REMS_FORM_DUE, location=site, due_on=date(2026, 3, 5))
    WorkItemFactory(kind=WorkKind.LAPSED, location=site, due_on=date(2026, 2, 1))
    WorkItemFactory(kind=WorkKind.REMS_FORM_DUE, location=site, due_on=date(2026, 3, 4))
    # when
    rows = listed(desk_api)
    # then
    assert [(row["kind"], row["due_on"]) for row in rows] == [
        ("lapsed", "2026-02-01"), ("rems_form_due", "2026-03-04"), ("rems_form_due", "2026-03-05"),
        ("due_unbooked", "2026-03-03"),
    ]


def test_a_listed_item_names_the_patient_course_session_and_location(desk_api, esk_course, site, chair, desk_user,
                                                                     now, book):
    # given
    session = book(chair, local(site, TUESDAY, 9), course=esk_course, by=desk_user)
    refresh_worklist()
    # when
    [row] = listed(desk_api, kind="unconfirmed_tomorrow")
    # then
    assert row["patient"] == esk_course.patient_id
    assert row["patient_name"] == esk_course.patient.display_name
    assert (row["course"], row["protocol"], row["session"]) == (esk_course.pk, "esketamine-trd", session.pk)
    assert (row["location"], row["location_name"]) == (site.pk, "Midtown")
    assert row["label"] == "Unconfirmed for tomorrow"
    assert row["due_on"] == "2026-03-03" and row["opened_at"] and row["detail"]
    assert row["assigned_to"] is None and row["snoozed_until"] is None


def test_the_list_filters_by_kind_and_location(desk_api, site, other_site, now):
    # given
    here = WorkItemFactory(kind=WorkKind.OVERDUE, location=site)
    WorkItemFactory(kind=WorkKind.OVERDUE, location=other_site)
    WorkItemFactory(kind=WorkKind.DUE_UNBOOKED, location=site)
    # when
    rows = listed(desk_api, kind="overdue", location=site.pk)
    # then
    assert [row["id"] for row in rows] == [here.pk]


def test_an_unknown_kind_is_a_400(desk_api, now):
    response = desk_api.get("/api/worklist/", {"kind": "gossip"})
    assert response.status_code == 400
    assert "kind" in response.json()["fields"]


def test_the_desk_assigns_an_item_and_lists_its_own(desk_api, front_desk, site, now):
    # given
    item = WorkItemFactory(kind=WorkKind.OVERDUE, location=site)
    WorkItemFactory(kind=WorkKind.OVERDUE, location=site)
    # when
    response = desk_api.post(f"/api/worklist/{item.pk}/assign/", {"user": front_desk.pk}, format="json")
    # then
    assert response.status_code == 200, response.json()
    assert response.json()["assigned_to"] == front_desk.pk
    assert [row["id"] for row in listed(desk_api, assigned_to="me")] == [item.pk]
    assert len(listed(desk_api, assigned_to="none")) == 1


def test_an_item_cannot_be_given_to_someone_without_a_clinic_role(desk_api, no_role_user, site, now):
    item = WorkItemFactory(kind=WorkKind.OVERDUE, location=site)
    response = desk_api.post(f"/api/worklist/{item.pk}/assign/", {"user": no_role_user.pk}, format="json")
    assert response.status_code == 400
    assert "user" in response.json()["fields"]


def test_a_snoozed_item_is_hidden_until_its_date(desk_api, site, now):
    # given
    item = WorkItemFactory(kind=WorkKind.DUE_UNBOOKED, location=site)
    # when
    response = desk_api.post(f"/api/worklist/{item.pk}/snooze/", {"until": "2026-03-04"}, format="json")
    # then
    assert response.status_code == 200, response.json()
    assert response.json()["snoozed_until"] == "2026-03-04"
    assert listed(desk_api) == []
    assert [row["id"] for row in listed(desk_api, include_snoozed="true")] == [item.pk]
    assert desk_api.get("/api/worklist/counts/").json()["due_unbooked"] == 0
    with time_machine.travel(local(site, date(2026, 3, 3), 23), tick=False):  # Tuesday 23:00 New York: still hidden
        assert listed(desk_api) == []
    with time_machine.travel(local(site, date(2026, 3, 4), 0), tick=False):
        assert [row["id"] for row in listed(desk_api)] == [item.pk]


def test_snoozing_until_today_or_earlier_is_a_400(desk_api, site, now):
    item = WorkItemFactory(kind=WorkKind.DUE_UNBOOKED, location=site)
    response = desk_api.post(f"/api/worklist/{item.pk}/snooze/", {"until": "2026-03-02"}, format="json")
    assert response.status_code == 400
    assert "until" in response.json()["fields"]


def test_resolving_needs_a_note_and_closes_the_item_once(desk_api, front_desk, site, now):
    # given
    item = WorkItemFactory(kind=WorkKind.NO_SHOW_REBOOK, location=site)
    # when there is no note
    response = desk_api.post(f"/api/worklist/{item.pk}/resolve/", {"note": "  "}, format="json")
    # then
    assert response.status_code == 400
    assert "note" in response.json()["fields"]
    # when
    response = desk_api.post(f"/api/worklist/{item.pk}/resolve/", {"note": "Patient moved away."}, format="json")
    # then
    assert response.status_code == 200, response.json()
    item.refresh_from_db()
    assert (item.closed_at, item.closed_by, item.resolution) == (now, front_desk, "Patient moved away.")
    assert listed(desk_api) == []
    # when it is resolved again
    response = desk_api.post(f"/api/worklist/{item.pk}/resolve/", {"note": "Again."}, format="json")
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"


def test_a_closed_item_cannot_be_snoozed_or_assigned(desk_api, front_desk, site, now):
    item = WorkItemFactory(kind=WorkKind.OVERDUE, location=site, closed_at=now)
    assert desk_api.post(f"/api/worklist/{item.pk}/snooze/", {"until": "2026-03-09"}).status_code == 409
    assert desk_api.post(f"/api/worklist/{item.pk}/assign/", {"user": front_desk.pk}).status_code == 409


@pytest.mark.parametrize("role", ["desk_api", "clinician_api", "manager_api"])
def test_every_clinic_role_reads_and_works_the_list(role, request, site, now):
    # given
    api = request.getfixturevalue(role)
    item = WorkItemFactory(kind=WorkKind.OVERDUE, location=site)
    # then
    assert len(listed(api)) == 1
    assert api.post(f"/api/worklist/{item.pk}/snooze/", {"until": "2026-03-05"}).status_code == 200
    assert api.post(f"/api/worklist/{item.pk}/resolve/", {"note": "Called."}).status_code == 200


def test_a_user_without_a_role_or_signed_out_is_refused(api_as, no_role_user, site, now):
    # given
    item = WorkItemFactory(kind=WorkKind.OVERDUE, location=site)
    for api, status in ((api_as(no_role_user), 403), (api_as(None), 401)):
        # then
        assert api.get("/api/worklist/").status_code == status
        assert api.get("/api/worklist/counts/").status_code == status
        assert api.post(f"/api/worklist/{item.pk}/resolve/", {"note": "x"}).status_code == status
    item.refresh_from_db()
    assert item.closed_at is None


def test_counts_give_the_open_visible_items_by_kind(desk_api, site, now):
    # given
    WorkItemFactory(kind=WorkKind.OVERDUE, location=site)
    WorkItemFactory(kind=WorkKind.OVERDUE, location=site)
    WorkItemFactory(kind=WorkKind.LAPSED)
    WorkItemFactory(kind=WorkKind.LAPSED, closed_at=now)
    # when
    counts = desk_api.get("/api/worklist/counts/").json()
    # then
    assert (counts["overdue"], counts["lapsed"], counts["due_unbooked"], counts["total"]) == (2, 1, 0, 3)


def test_the_list_keeps_its_query_count_when_items_grow(desk_api, front_desk, site, esk_course, now,
                                                        django_assert_max_num_queries, django_assert_num_queries):
    # given three items, each with a patient, course, location and assignee
    def add(count):
        for _ in range(count):
            WorkItemFactory(kind=WorkKind.OVERDUE, location=site, course=esk_course, assigned_to=front_desk)

    add(3)
    listed(desk_api)  # the first request also loads the user's roles
    with django_assert_max_num_queries(LIST_MAX_QUERIES) as with_three:
        assert len(listed(desk_api)) == 3
    # when
    add(27)
    # then
    with django_assert_num_queries(len(with_three)):
        assert len(listed(desk_api)) == 25
