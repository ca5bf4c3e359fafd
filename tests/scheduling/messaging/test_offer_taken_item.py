"""The desk's "Offer taken" worklist item (docs/OFFERS.md "The desk"): opened with the booking a YES makes,
closed by a person, or by itself once there is nothing left to call about.

Replies arrive through the signed SMS webhook, as from a patient's phone. Now is Monday 2 March 2026, 09:00 in
New York; the freed time is Wednesday 4 March at 10:00 on ``chair`` at Midtown.
"""

from __future__ import annotations

import importlib
from datetime import date, timedelta

import pytest
from django.utils import timezone

from scheduling.booking import services as booking
from scheduling.messaging import inbound
from scheduling.messaging.offers_planning import plan_offers
from scheduling.models import URGENCY, OfferState, Session, WorkItem, WorkKind
from scheduling.worklist.sweep import refresh_worklist
from tests.scheduling.conftest import local
from tests.scheduling.messaging.offer_world import WEDNESDAY, freed_time, last_seen, offered, send_due_offers
from tests.scheduling.messaging.provider_webhooks import text_in

FEB_27, FEB_28 = date(2026, 2, 27), date(2026, 2, 28)
pytestmark = [pytest.mark.usefixtures("sent_texts"), pytest.mark.django_db]


def offer_items() -> list[WorkItem]:
    return list(WorkItem.objects.filter(kind=WorkKind.OFFER_TAKEN).order_by("id"))


@pytest.fixture
def taken(client, site, chair, clinician, now):
    """A due patient with nothing booked took Wednesday 10:00 by YES: their course, the offer and the session."""
    course = last_seen(site, clinician, FEB_27)
    freed = freed_time(chair)
    plan_offers(freed)
    send_due_offers()
    assert text_in(client, course.patient, "YES").status_code == 200
    [offer] = offered(freed)
    assert offer.state == OfferState.TAKEN
    return course, offer, Session.objects.get(pk=offer.session_id)


def test_a_yes_that_books_a_new_visit_opens_the_item_with_the_booking(taken, site):
    course, offer, session = taken
    # then one open item, about this offer, linked like the desk's other items
    [item] = offer_items()
    assert item.closed_at is None and item.subject == f"offer:{offer.pk}"
    assert (item.patient_id, item.course_id, item.session_id, item.location_id) == (
        course.patient_id, course.pk, session.pk, site.pk)
    assert (item.due_on, item.urgency) == (WEDNESDAY, URGENCY[WorkKind.OFFER_TAKEN])
    assert item.detail == "Took the freed time Wed 4 Mar 10:00 at Midtown (a new booking)."


def test_the_replys_result_names_the_item_it_opened(site, chair, clinician, now):
    # given a due patient offered Wednesday 10:00
    course = last_seen(site, clinician, FEB_27)
    plan_offers(freed_time(chair))
    send_due_offers()
    # when they answer YES (what the outbox's simulated reply reports back, too)
    result = inbound.handle_inbound(from_phone=course.patient.phone, to_phone="", body="YES", provider_id="SMyes")
    # then the result points the desk's tools at the booking and its item
    [item] = offer_items()
    assert (result.session_id, result.work_item_id) == (item.session_id, item.pk)


def test_a_yes_that_moves_a_later_booking_says_where_it_was_moved_from(client, site, chair, chair2, clinician,
                                                                       book, now):
    # given a patient booked Thursday 14:30 who asked for an earlier time, offered Wednesday 10:00
    course = last_seen(site, clinician, FEB_28)
    later = book(chair2, local(site, date(2026, 3, 5), 14, 30), course=course)
    Session.objects.filter(pk=later.pk).update(earlier_wanted_at=now)
    plan_offers(freed_time(chair))
    send_due_offers()
    # when they answer YES
    text_in(client, course.patient, "YES")
    # then the item names the freed time and the visit it replaced
    [item] = offer_items()
    assert item.session_id == later.pk
    assert item.detail == "Took the freed time Wed 4 Mar 10:00 at Midtown (moved from Thu 5 Mar 14:30)."


def test_a_yes_that_finds_the_time_gone_opens_no_item(client, site, chair, clinician, now):
    # given two patients offered the same time; the first takes it
    first, second = last_seen(site, clinician, FEB_27), last_seen(site, clinician, FEB_28)
    plan_offers(freed_time(chair))
    send_due_offers()
    text_in(client, first.patient, "YES")
    # when the second answers too
    text_in(client, second.patient, "YES")
    # then only the booking has an item
    assert [item.patient_id for item in offer_items()] == [first.patient_id]


def test_a_repeated_delivery_of_the_yes_opens_no_second_item(client, site, chair, clinician, now):
    course = last_seen(site, clinician, FEB_27)
    plan_offers(freed_time(chair))
    send_due_offers()
    text_in(client, course.patient, "YES", sid="SM-offer-yes")
    # when the provider delivers the same text again
    text_in(client, course.patient, "YES", sid="SM-offer-yes")
    # then still one item
    assert len(offer_items()) == 1


def test_a_person_closes_it_on_the_worklist(taken, desk_api):
    # given the item in the desk's list, under its own kind
    response = desk_api.get("/api/worklist/", {"kind": "offer_taken"})
    [row] = response.json()["results"]
    assert (row["kind"], row["label"]) == ("offer_taken", "Offer taken")
    assert desk_api.get("/api/worklist/counts/").json()["offer_taken"] == 1
    # when the desk resolves it after the call
    answer = desk_api.post(f"/api/worklist/{row['id']}/resolve/", {"note": "Called: details confirmed."})
    # then it is closed with the note and no longer listed
    assert answer.status_code == 200, answer.json()
    assert answer.json()["resolution"] == "Called: details confirmed."
    assert desk_api.get("/api/worklist/", {"kind": "offer_taken"}).json()["results"] == []


def test_it_stays_open_while_the_booking_stands(taken, now):
    course, _, _ = taken
    # when the worklist passes run (the course's own and the hourly one)
    refresh_worklist(course_ids=[course.pk], now=now)
    refresh_worklist(now=now)
    # then the desk still has the call to make
    assert offer_items()[0].closed_at is None


def test_it_closes_itself_when_the_visit_is_cancelled(taken, front_desk, now):
    course, _, session = taken
    # when the desk cancels the visit and the course's worklist pass runs
    booking.cancel_session(by=front_desk, session=session, reason="Patient called: cannot come")
    refresh_worklist(course_ids=[course.pk], now=now)
    # then nothing is left to call about
    [item] = offer_items()
    assert item.closed_at == now and item.closed_by is None
    assert item.resolution == "resolved itself: the visit was cancelled"


def test_it_closes_itself_when_the_visit_is_moved(taken, front_desk, chair2, site, now):
    course, _, session = taken
    # when the desk moves the visit to another time
    booking.reschedule_session(by=front_desk, session=session, start=local(site, WEDNESDAY, 13), chair=chair2)
    refresh_worklist(now=now)
    # then the hourly pass closes it
    [item] = offer_items()
    assert item.resolution == "resolved itself: the visit was moved to another time"


def test_it_closes_itself_once_the_patient_came(taken, clock, now):
    course, _, session = taken
    # given the patient arrived on Wednesday
    clock.shift(timedelta(days=2, hours=1))
    Session.objects.filter(pk=session.pk).update(status="checked_in")
    refresh_worklist(course_ids=[course.pk])
    # then
    assert offer_items()[0].resolution == "resolved itself: the patient came"


def test_the_pass_closes_only_the_settled_items_of_the_courses_it_refreshes(client, taken, front_desk, site, chair2,
                                                                           clinician, now):
    course, _, session = taken
    # given a second patient who took another freed time
    other = last_seen(site, clinician, FEB_28)
    plan_offers(freed_time(chair2, hour=14))
    send_due_offers()
    text_in(client, other.patient, "YES")
    assert len(offer_items()) == 2
    # when both visits are cancelled but only the first course's pass runs
    booking.cancel_session(by=front_desk, session=session, reason="Unwell")
    other_session = Session.objects.get(course=other, start=local(site, WEDNESDAY, 14))
    booking.cancel_session(by=front_desk, session=other_session, reason="Unwell")
    refresh_worklist(course_ids=[course.pk], now=now)
    # then only its item closed; the hourly pass closes the other
    assert [item.closed_at is not None for item in offer_items()] == [True, False]
    refresh_worklist(now=now)
    assert all(item.closed_at is not None for item in offer_items())


def test_the_worklist_page_offers_the_kind_and_links_the_days_freed_times(taken, client, front_desk, site):
    client.force_login(front_desk)
    # when the desk filters the worklist page by the kind
    page = client.get("/worklist/", {"kind": "offer_taken"}).content.decode()
    # then the filter lists it and the row links to that day's offers
    assert '<option value="offer_taken" selected>Offer taken</option>' in page
    assert f'href="/offers/?location={site.pk}&amp;day=2026-03-04" data-testid="worklist-offers"' in page
    assert "Took the freed time Wed 4 Mar 10:00 at Midtown" in page


def test_the_migration_ranks_open_items_as_the_kinds_rank_them_now(site):
    from django.apps import apps

    migration = importlib.import_module("scheduling.migrations.0015_offer_taken_work_kind")
    # given open items of every kind ranked as before the new kind, and one closed item
    assert migration.AFTER == list(WorkKind.values)
    items = [WorkItem.objects.create(kind=kind, subject=f"rank:{kind}", urgency=migration.BEFORE.index(kind),
                                     location=site) for kind in migration.BEFORE]
    closed = WorkItem.objects.create(kind=WorkKind.DUE_UNBOOKED, subject="rank:closed", urgency=99,
                                     closed_at=timezone.now(), location=site)
    # when the migration runs
    migration._rank_open_items(migration.AFTER)(apps, None)
    # then each open item has its kind's rank now; a closed item is left as it closed
    assert {item.kind: WorkItem.objects.get(pk=item.pk).urgency for item in items} == {
        kind: URGENCY[kind] for kind in migration.BEFORE}
    assert WorkItem.objects.get(pk=closed.pk).urgency == 99
