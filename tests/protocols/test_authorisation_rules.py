"""A prior authorisation's own rules: what an approval needs, how its status moves, and its audited history."""

from __future__ import annotations

from datetime import date

import pghistory.models
import pytest
from django.db import IntegrityError, transaction

from clinic.errors import Conflict, Invalid
from protocols import authorisations as entering
from protocols.models import STATUS_MOVES, AuthorisationStatus, PriorAuthorisation, Protocol
from tests.factories import PriorAuthorisationFactory

pytestmark = pytest.mark.django_db

MARCH = {"first_day": date(2026, 3, 1), "last_day": date(2026, 3, 31)}


def test_an_approval_without_units_or_days_is_refused_naming_each_field(course, front_desk):
    with pytest.raises(Invalid) as refused:
        entering.enter_authorisation(by=front_desk, course=course, payer="Aetna", status="approved",
                                     submitted_on=date(2026, 2, 20))
    assert set(refused.value.fields) == {"units_approved", "first_day", "last_day"}


def test_a_pending_request_needs_no_units_or_days(course, front_desk):
    authorisation = entering.enter_authorisation(by=front_desk, course=course, payer="Aetna",
                                                 submitted_on=date(2026, 2, 20))
    assert (authorisation.status, authorisation.created_by, authorisation.decided_on) == ("pending", front_desk, None)


def test_the_database_refuses_an_approval_without_units_whatever_the_path(course):
    with pytest.raises(IntegrityError), transaction.atomic():
        PriorAuthorisation.objects.create(course=course, payer="Aetna", status="approved",
                                          submitted_on=date(2026, 2, 1), **MARCH)


def test_an_approval_of_a_day_covered_by_another_is_a_409_and_a_denied_one_may_overlap(course, front_desk):
    # given
    PriorAuthorisationFactory(course=course, **MARCH)
    # when a denied request for the same days is entered / then
    entering.enter_authorisation(by=front_desk, course=course, payer="Cigna", status="denied",
                                 submitted_on=date(2026, 2, 1), **MARCH)
    # when a second approval overlapping by one day is entered / then
    with pytest.raises(Conflict) as refused:
        entering.enter_authorisation(by=front_desk, course=course, payer="Cigna", status="approved", units_approved=4,
                                     submitted_on=date(2026, 2, 1), first_day=date(2026, 3, 31),
                                     last_day=date(2026, 4, 30))
    assert refused.value.code == "authorisation_overlap"


def test_the_database_refuses_overlapping_approvals_a_race_would_let_through(course):
    PriorAuthorisationFactory(course=course, **MARCH)
    with pytest.raises(IntegrityError), transaction.atomic():
        PriorAuthorisation.objects.create(course=course, payer="Aetna", status="approved", units_approved=2,
                                          submitted_on=date(2026, 2, 1), first_day=date(2026, 3, 31),
                                          last_day=date(2026, 4, 2))


@pytest.mark.parametrize(("start", "to"), [(start, to) for start in AuthorisationStatus.values
                                           for to in AuthorisationStatus.values if start != to])
def test_a_status_moves_as_the_table_says(course, front_desk, start, to):
    # given
    authorisation = PriorAuthorisationFactory(course=course, status=start, **MARCH)
    # when
    try:
        changed = entering.change_authorisation(by=front_desk, authorisation=authorisation, status=to)
    except Invalid as refused:
        # then a move the table does not list is refused naming the status
        assert to not in STATUS_MOVES[start]
        assert "status" in refused.fields
    else:
        assert to in STATUS_MOVES[start]
        assert changed.status == to


def test_a_decision_entered_without_its_day_is_dated_today(course, front_desk, now):
    pending = PriorAuthorisationFactory(course=course, status="pending", submitted_on=date(2026, 2, 20),
                                        decided_on=None, **MARCH)
    denied = entering.change_authorisation(by=front_desk, authorisation=pending, status="denied")
    assert denied.decided_on == date(2026, 3, 2)


def test_an_appeal_won_without_its_day_is_approved_today_not_on_the_denials_day(course, front_desk, now):
    # given a request denied on 22 Feb
    denied = PriorAuthorisationFactory(course=course, status="denied", submitted_on=date(2026, 2, 20),
                                       decided_on=date(2026, 2, 22), **MARCH)
    # when the appeal is won and only the status is entered
    approved = entering.change_authorisation(by=front_desk, authorisation=denied, status="approved")
    # then
    assert approved.decided_on == date(2026, 3, 2)


def test_a_denied_request_sent_again_has_no_answer_and_counts_from_its_new_day(course, front_desk, now):
    # given a request denied on 22 Feb
    denied = PriorAuthorisationFactory(course=course, status="denied", submitted_on=date(2026, 2, 20),
                                       decided_on=date(2026, 2, 22), **MARCH)
    # when it is sent again on 1 Mar
    pending = entering.change_authorisation(by=front_desk, authorisation=denied, status="pending",
                                            submitted_on=date(2026, 3, 1))
    # then
    assert (pending.submitted_on, pending.decided_on) == (date(2026, 3, 1), None)


@pytest.mark.parametrize("field", ["first_day", "last_day", "submitted_on", "decided_on"])
def test_a_day_outside_1900_to_2999_is_refused_naming_the_field(course, front_desk, field):
    days = {"first_day": date(2026, 3, 1), "last_day": date(2026, 3, 31), "submitted_on": date(2026, 2, 20),
            "decided_on": date(2026, 2, 22)}
    typo = date(1, 1, 1) if field in ("first_day", "submitted_on") else date(9999, 12, 31)
    with pytest.raises(Invalid) as refused:
        entering.enter_authorisation(by=front_desk, course=course, payer="Aetna", status="approved", units_approved=8,
                                     **{**days, field: typo})
    assert field in refused.value.fields


def test_a_refused_status_move_reads_as_english(course, front_desk):
    approved = PriorAuthorisationFactory(course=course, **MARCH)
    with pytest.raises(Invalid) as refused:
        entering.change_authorisation(by=front_desk, authorisation=approved, status="pending")
    assert refused.value.fields["status"][0].startswith("An approved authorisation cannot become pending")


def test_every_change_is_in_the_history_with_who_made_it(course, front_desk, clinician):
    # given
    authorisation = entering.enter_authorisation(by=front_desk, course=course, payer="Aetna",
                                                 submitted_on=date(2026, 2, 20))
    # when
    entering.change_authorisation(by=clinician, authorisation=authorisation, status="approved", units_approved=8,
                                  **MARCH)
    # then
    events = pghistory.models.Events.objects.tracks(authorisation).order_by("pgh_created_at", "pgh_id")
    assert [(event.pgh_label, event.pgh_data["status"], event.pgh_data["updated_by_id"]) for event in events] == [
        ("insert", "pending", front_desk.pk), ("update", "approved", clinician.pk)]


def test_the_esketamine_protocols_require_authorisation_and_the_iv_ones_do_not():
    required = dict(Protocol.objects.filter(version=1).values_list("slug", "requires_authorisation"))
    assert required == {"esketamine-trd": True, "esketamine-mdsi": True, "ketamine-iv-series": False,
                        "ketamine-iv-weekly": False}


def test_a_manager_sets_whether_bookings_need_one_on_the_protocols_page_even_once_in_use(
        client, manager, esketamine_trd, course):
    # given a protocol courses follow
    client.force_login(manager)
    url = f"/manage/protocols/{esketamine_trd.pk}/"
    assert 'name="requires_authorisation"' in client.get(url).content.decode()
    # when the manager turns the requirement off, then on again
    client.post(f"{url}name/", {"name": esketamine_trd.name, "active": "on"})
    esketamine_trd.refresh_from_db()
    turned_off = esketamine_trd.requires_authorisation
    client.post(f"{url}name/", {"name": esketamine_trd.name, "active": "on", "requires_authorisation": "on"})
    esketamine_trd.refresh_from_db()
    # then
    assert (turned_off, esketamine_trd.requires_authorisation) == (False, True)
