"""An offer's text: sent once, in the site's time, under every text rule (docs/OFFERS.md "Sending")."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings as django_settings

from clinic import sms
from scheduling.messaging import offers_sending
from scheduling.messaging.offers_planning import plan_offers
from scheduling.models import Direction, MessagePurpose, OfferState, ReminderState, TextMessage
from tests.scheduling.conftest import local
from tests.scheduling.messaging.offer_world import (
    WEDNESDAY,
    freed_time,
    last_seen,
    offered,
    open_patients,
    send_due_offers,
    text_of,
)
from tests.scheduling.messaging.provider_webhooks import texts_to

FEB_27 = date(2026, 2, 27)
pytestmark = pytest.mark.usefixtures("sent_texts")


@pytest.mark.django_db
def test_the_offer_text_names_the_clinic_day_and_local_time_and_leaves_once(site, chair, clinician, now):
    # given a planned offer
    course = last_seen(site, clinician, FEB_27)
    freed = freed_time(chair)
    plan_offers(freed)
    # when the sweep runs twice and a duplicate send task arrives
    states = send_due_offers() + send_due_offers()
    offer = offered(freed)[0]
    duplicate = offers_sending.send_claimed(text_of(offer).pk)
    # then one text went, in New York time, and the offer is open for OFFER_MINUTES
    assert states == [ReminderState.SENT] and duplicate is None
    body = (f"A time opened at {django_settings.CLINIC_NAME} on Wednesday March 4 at 10:00 AM. "
            "Reply YES to take it.")
    assert [text["body"] for text in texts_to(course.patient.phone)] == [body]
    offer.refresh_from_db()
    assert offer.state == OfferState.SENT and offer.sent_at == now
    assert offer.expires_at == now + timedelta(minutes=30)
    message = TextMessage.objects.get(patient=course.patient, direction=Direction.OUTBOUND)
    assert (message.purpose, message.counts_toward_caps, message.body) == (MessagePurpose.OFFER, True, body)


@pytest.mark.django_db
def test_an_offer_planned_in_quiet_hours_waits_for_the_morning(site, chair, clinician, clock):
    # given a due patient, and a time freed at 22:00 on Monday
    last_seen(site, clinician, FEB_27)
    clock.move_to(local(site, date(2026, 3, 2), 22))
    freed = freed_time(chair)
    plan_offers(freed)
    # when the sweep runs at once, and again at 08:00
    at_night = send_due_offers()
    clock.move_to(local(site, date(2026, 3, 3), 8))
    morning = send_due_offers()
    # then nothing went at night, and the text went at 08:00
    assert at_night == [] and morning == [ReminderState.SENT]
    assert text_of(offered(freed)[0]).sent_at == local(site, date(2026, 3, 3), 8)


@pytest.mark.django_db
def test_an_offer_counts_against_the_caps_and_a_capped_one_goes_to_the_next_patient(site, chair, clinician, now,
                                                                                    settings):
    # given two due patients offered one at a time, the first already texted today (the daily cap is 1)
    settings.OFFERS_AT_ONCE = 1
    first = last_seen(site, clinician, FEB_27)
    second = last_seen(site, clinician, date(2026, 2, 28))
    TextMessage.objects.create(patient=first.patient, direction=Direction.OUTBOUND, purpose=MessagePurpose.REMINDER,
                               counts_toward_caps=True, phone=first.patient.phone, body="reminder", at=now)
    freed = freed_time(chair)
    plan_offers(freed)
    # when the sweep sends the first offer, then (its offer ended) the next
    first_round, second_round = send_due_offers(), send_due_offers()
    # then the first patient's text was skipped for the cap and the next patient had the offer
    assert first_round == [ReminderState.SKIPPED] and second_round == [ReminderState.SENT]
    ended, sent = offered(freed)
    assert (ended.patient_id, ended.state) == (first.patient_id, OfferState.VOID)
    assert "daily cap" in ended.ended_reason
    assert (sent.patient_id, sent.state) == (second.patient_id, OfferState.SENT)


@pytest.mark.django_db
def test_no_offer_text_for_a_time_less_than_two_hours_away(site, chair, clinician, clock):
    # given an offer planned on Tuesday whose text waited until 08:30 on Wednesday (the time is at 10:00)
    course = last_seen(site, clinician, FEB_27)
    freed = freed_time(chair)
    plan_offers(freed)
    clock.move_to(local(site, WEDNESDAY, 8, 30))
    # when the sweep runs
    states = send_due_offers()
    # then no text went and the offer ended
    assert states == [ReminderState.SKIPPED] and texts_to(course.patient.phone) == []
    assert offered(freed)[0].state == OfferState.VOID


@pytest.mark.django_db
def test_an_offer_text_naming_a_treatment_is_never_sent(site, chair, clinician, now, settings):
    # given a clinic name with a drug word in it
    course = last_seen(site, clinician, FEB_27)
    freed = freed_time(chair)
    plan_offers(freed)
    settings.CLINIC_NAME = "Ketamine Wellness"
    # when the sweep runs
    states = send_due_offers()
    # then nothing went, and the offer ended
    assert states == [ReminderState.FAILED] and texts_to(course.patient.phone) == []
    assert offered(freed)[0].state == OfferState.VOID


@pytest.mark.django_db
def test_a_provider_timeout_leaves_the_text_unknown_never_resent_and_the_offer_answerable(site, chair, clinician,
                                                                                        clock, now):
    # given a planned offer and a provider that times out
    last_seen(site, clinician, FEB_27)
    freed = freed_time(chair)
    plan_offers(freed)
    sms.LocmemBackend.fail_with.append(sms.SmsTimeout("no answer"))
    # when the sweep runs, and the reaper long after
    states = send_due_offers()
    clock.shift(timedelta(minutes=10))
    reaped = offers_sending.reap_stuck_offer_texts()
    # then the text is unknown, nothing is sent again, and the patient's YES would count
    assert states == [ReminderState.UNKNOWN] and reaped.to_send == []
    assert send_due_offers() == []
    offer = offered(freed)[0]
    assert text_of(offer).state == ReminderState.UNKNOWN and offer.state == OfferState.SENT
    assert open_patients(freed) == {offer.patient_id}
