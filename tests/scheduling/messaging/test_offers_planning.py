"""Who is offered a freed chair time, in what order, and when a time is freed at all (docs/OFFERS.md)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scheduling.booking import services as booking
from scheduling.messaging.offers_planning import plan_offers
from scheduling.models import Offer, OfferState, OfferText, ReminderState
from tests.scheduling.conftest import local
from tests.scheduling.messaging.offer_world import (
    WEDNESDAY,
    freed_time,
    last_seen,
    offered,
    offers_planned_inline,
)

FEB_27, FEB_28, FEB_26 = date(2026, 2, 27), date(2026, 2, 28), date(2026, 2, 26)


@pytest.mark.django_db
def test_a_freed_time_is_offered_to_due_patients_of_the_same_treatment_who_may_be_texted(site, chair, clinician,
                                                                                         now):
    # given patients due on Wednesday, and others who must not be offered it
    due = last_seen(site, clinician, FEB_27)
    last_seen(site, clinician, FEB_26)  # due 28 Feb - 3 Mar: not Wednesday
    last_seen(site, clinician, FEB_27, sms_consent=False)
    last_seen(site, clinician, FEB_27, sms_opted_out_at=now)
    last_seen(site, clinician, FEB_27, phone="")
    last_seen(site, clinician, FEB_27, slug="ketamine-iv-series")  # another treatment
    # when the time is planned
    planned = plan_offers(freed_time(chair))
    # then only the due patient who may be texted is offered it, with one text waiting for the sweep
    assert [offer.course_id for offer in planned] == [due.pk]
    assert OfferText.objects.get(offer=planned[0]).state == ReminderState.PENDING


@pytest.mark.django_db
def test_a_patient_with_a_session_that_day_or_an_open_offer_is_not_offered(site, chair, chair2, clinician, book,
                                                                          now):
    # given a due patient booked elsewhere that day, and one with an open offer of another time
    busy = last_seen(site, clinician, FEB_28)
    book(chair2, local(site, WEDNESDAY, 15), course=busy)
    waiting = last_seen(site, clinician, FEB_28)
    plan_offers(freed_time(chair2, hour=8))
    assert [offer.patient_id for offer in offered(freed_time(chair2, hour=8))] == [waiting.patient_id]
    # when the chair's time is planned
    planned = plan_offers(freed_time(chair))
    # then neither is offered it
    assert planned == []


@pytest.mark.django_db
def test_a_patient_booked_later_is_offered_only_when_they_want_an_earlier_time(site, chair, chair2, clinician, book,
                                                                               now):
    # given two patients due 2-5 March, booked on Thursday; one asked for an earlier time
    keeps = last_seen(site, clinician, FEB_28)
    book(chair2, local(site, date(2026, 3, 5), 10), course=keeps)
    wants = last_seen(site, clinician, FEB_28)
    later = book(chair2, local(site, date(2026, 3, 5), 13), course=wants)
    later.earlier_wanted_at = now
    later.save(update_fields=["earlier_wanted_at"])
    # when Wednesday's time is planned
    planned = plan_offers(freed_time(chair))
    # then only the one who asked is offered it
    assert [offer.course_id for offer in planned] == [wants.pk]


@pytest.mark.django_db
def test_overdue_first_then_longest_due_then_oldest_earlier_request_and_a_few_at_once(site, chair, chair2, clinician,
                                                                                     book, now, settings):
    # given patients due Tuesday's freed time: past target (due 28 Feb-3 Mar, target 1 Mar), due since
    # 1 March, due since 2 March, and two booked on Thursday who asked for an earlier time, at different times
    settings.OFFERS_AT_ONCE = 4
    newest = last_seen(site, clinician, FEB_28)
    overdue = last_seen(site, clinician, FEB_26)
    longest = last_seen(site, clinician, FEB_27)
    asked = []
    for hours_ago in (1, 5):
        course = last_seen(site, clinician, FEB_28)
        later = book(chair2, local(site, date(2026, 3, 5), 8 + 3 * len(asked)), course=course)
        later.earlier_wanted_at = now - timedelta(hours=hours_ago)
        later.save(update_fields=["earlier_wanted_at"])
        asked.append(course)
    # when Tuesday 10:00 is planned
    planned = plan_offers(freed_time(chair, day=date(2026, 3, 3)))
    # then OFFERS_AT_ONCE are offered, in the rule's order
    assert [offer.course_id for offer in planned] == [overdue.pk, longest.pk, newest.pk, asked[1].pk]


@pytest.mark.django_db
def test_no_second_round_while_an_offer_is_open_and_none_for_a_booked_chair(site, chair, clinician, book, now):
    # given a planned time with its offer open, and another due patient
    first = last_seen(site, clinician, FEB_27)
    freed = freed_time(chair)
    assert [offer.course_id for offer in plan_offers(freed)] == [first.pk]
    last_seen(site, clinician, FEB_27)
    # then planning again offers nobody more, and a chair booked meanwhile is not offered
    assert plan_offers(freed) == []
    Offer.objects.update(state=OfferState.EXPIRED)
    book(chair, freed.start)
    assert plan_offers(freed) == []


@pytest.mark.django_db
def test_a_cancel_three_hours_ahead_at_a_site_with_offers_on_offers_the_time(site, chair, clinician, front_desk,
                                                                            book, now, monkeypatch,
                                                                            django_capture_on_commit_callbacks):
    # given a due patient and a booked Wednesday session
    due = last_seen(site, clinician, FEB_27)
    session = book(chair, local(site, WEDNESDAY, 10))
    # when the desk cancels it
    with offers_planned_inline(monkeypatch, django_capture_on_commit_callbacks):
        booking.cancel_session(by=front_desk, session=session, reason="Patient unwell")
    # then the freed time is offered
    assert [offer.course_id for offer in offered(freed_time(chair))] == [due.pk]
    assert offered(freed_time(chair))[0].freed_from_id == session.pk


@pytest.mark.django_db
def test_the_patient_who_cancelled_is_not_offered_their_own_time_back(site, chair, clinician, front_desk, book, now,
                                                                     monkeypatch, django_capture_on_commit_callbacks):
    # given a patient due on Wednesday and booked then, and another due patient with nothing booked
    cancelling = last_seen(site, clinician, FEB_27)
    session = book(chair, local(site, WEDNESDAY, 10), course=cancelling)
    other = last_seen(site, clinician, FEB_27)
    # when the desk cancels the first patient's session (they are due and unbooked again)
    with offers_planned_inline(monkeypatch, django_capture_on_commit_callbacks):
        booking.cancel_session(by=front_desk, session=session, reason="Patient unwell")
    # then the time is offered to the other patient only, not back to the one who gave it up
    assert [offer.course_id for offer in offered(freed_time(chair))] == [other.pk]


@pytest.mark.django_db
def test_a_move_frees_the_old_time_and_clears_the_wish_for_an_earlier_time(site, chair, chair2, clinician,
                                                                         front_desk, book, now, monkeypatch,
                                                                         django_capture_on_commit_callbacks):
    # given a due patient and a session on Wednesday 10:00 whose patient wants an earlier time
    due = last_seen(site, clinician, FEB_27)
    session = book(chair, local(site, WEDNESDAY, 10))
    session.earlier_wanted_at = now
    session.save(update_fields=["earlier_wanted_at"])
    # when the desk moves it to Thursday on the other chair
    with offers_planned_inline(monkeypatch, django_capture_on_commit_callbacks):
        moved = booking.reschedule_session(by=front_desk, session=session, start=local(site, date(2026, 3, 5), 10),
                                           chair=chair2)
    # then Wednesday's time is offered, and the wish is answered
    assert [offer.course_id for offer in offered(freed_time(chair))] == [due.pk]
    moved.refresh_from_db()
    assert moved.earlier_wanted_at is None


@pytest.mark.django_db
def test_no_offer_for_a_cancel_under_three_hours_ahead_or_at_a_site_with_offers_off(site, chair, clinician,
                                                                                   front_desk, book, clock,
                                                                                   monkeypatch,
                                                                                   django_capture_on_commit_callbacks):
    # given a due patient, a session on Wednesday at 10:00 and one at 14:00
    last_seen(site, clinician, FEB_27)
    morning = book(chair, local(site, WEDNESDAY, 10))
    afternoon = book(chair, local(site, WEDNESDAY, 14))
    # when the morning one is cancelled at 07:30 that day, and the site turns offers off before the other
    clock.move_to(local(site, WEDNESDAY, 7, 30))
    with offers_planned_inline(monkeypatch, django_capture_on_commit_callbacks) as published:
        booking.cancel_session(by=front_desk, session=morning, reason="Unwell")
    assert "scheduling.plan_offers" not in published
    site.offers_enabled = False
    site.save(update_fields=["offers_enabled"])
    with offers_planned_inline(monkeypatch, django_capture_on_commit_callbacks):
        booking.cancel_session(by=front_desk, session=afternoon, reason="Unwell")
    # then nothing is offered
    assert Offer.objects.count() == 0


@pytest.mark.django_db
def test_a_time_outside_opening_hours_is_not_offered(site, chair, clinician, now):
    # given a due patient
    last_seen(site, clinician, FEB_27)
    # when a time that ends after closing (18:00) is planned
    planned = plan_offers(freed_time(chair, hour=16))
    # then nobody is offered it
    assert planned == []
