"""Opting out by any reasonable means, and HELP at any time (docs/DOMAIN.md "Reminder texts").

The world of ``test_inbound``: now is Monday 2 March 2026, 09:00 in New York, and the patient's visit on
Tuesday 3 March at 10:00 has its two reminders pending.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from clinic import sms
from scheduling.messaging import inbound
from scheduling.models import (
    Direction,
    MessagePurpose,
    ReminderState,
    TextMessage,
    WorkItem,
    WorkKind,
)
from tests.scheduling.messaging.test_inbound import booked, locmem_sms, text_in, texts_to  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("body", ["please stop", "Stop texting me!", "unsubscribe me", "No more texts",
                                  "remove me", "Don't text me", "Please STOP"])
def test_a_plain_request_in_words_opts_out_and_voids_the_reminders(client, booked, now, body):  # noqa: F811
    # when
    text_in(client, booked.patient, body)
    # then
    booked.patient.refresh_from_db()
    assert booked.patient.sms_opted_out_at == now
    assert {r.state for r in booked.reminders.all()} == {ReminderState.VOID}
    [confirmation] = texts_to(booked.patient.phone)
    assert "no more texts" in confirmation["body"]
    assert not WorkItem.objects.exists()


@pytest.mark.parametrize("body", ["cancel my Tuesday visit", "stop by tomorrow?", "I want to stop"])
def test_a_text_that_may_mean_more_does_not_opt_out_and_goes_to_a_person(client, booked, body):  # noqa: F811
    # when
    text_in(client, booked.patient, body)
    # then the patient still gets reminders, and the desk reads the text
    booked.patient.refresh_from_db()
    assert booked.patient.sms_opted_out_at is None
    assert {r.state for r in booked.reminders.all()} == {ReminderState.PENDING}
    item = WorkItem.objects.get(kind=WorkKind.REPLY_NEEDS_ATTENTION)
    assert body in item.detail and "May be asking to stop the texts" in item.detail
    assert texts_to(booked.patient.phone) == []


def test_an_opt_out_that_says_more_opts_out_and_a_person_reads_the_rest(client, booked):  # noqa: F811
    # when
    text_in(client, booked.patient, "STOP. And cancel my visit on Tuesday")
    # then
    booked.patient.refresh_from_db()
    assert booked.patient.sms_opted_out_at is not None
    assert "cancel my visit on Tuesday" in WorkItem.objects.get(kind=WorkKind.REPLY_NEEDS_ATTENTION).detail


def test_help_while_opted_out_is_answered_with_the_clinic_name_and_phone(client, booked):  # noqa: F811
    # given
    text_in(client, booked.patient, "STOP")
    # when
    response = text_in(client, booked.patient, "help")
    # then
    assert response.status_code == 200
    confirmation, answer = texts_to(booked.patient.phone)
    assert settings.CLINIC_NAME in answer["body"] and settings.CLINIC_PHONE in answer["body"]
    assert "START" in answer["body"]
    sent = TextMessage.objects.get(direction=Direction.OUTBOUND, purpose=MessagePurpose.HELP)
    assert (sent.counts_toward_caps, sent.provider_id, sent.body) == (False, answer["provider_id"], answer["body"])
    # and the patient stays opted out, with nothing for the desk to do
    booked.patient.refresh_from_db()
    assert booked.patient.sms_opted_out_at is not None
    assert not WorkItem.objects.exists()


def test_help_while_opted_out_is_not_stopped_by_a_full_daily_cap(client, booked, now):  # noqa: F811
    # given a reminder already sent today, which fills the daily cap of one
    TextMessage.objects.create(patient=booked.patient, direction=Direction.OUTBOUND,
                               purpose=MessagePurpose.REMINDER, counts_toward_caps=True,
                               phone=booked.patient.phone, body="reminder", at=now)
    text_in(client, booked.patient, "STOP")
    # when
    text_in(client, booked.patient, "HELP")
    # then
    assert len(texts_to(booked.patient.phone)) == 2
    assert TextMessage.objects.filter(direction=Direction.OUTBOUND, counts_toward_caps=True).count() == 1


def test_a_repeated_help_while_opted_out_returns_the_first_result(booked, now):  # noqa: F811
    # given
    phone = booked.patient.phone
    inbound.handle_inbound(from_phone=phone, to_phone="+12125550100", body="STOP", provider_id="SMstop")
    first = inbound.handle_inbound(from_phone=phone, to_phone="+12125550100", body="HELP", provider_id="SMhelp")
    # when
    again = inbound.handle_inbound(from_phone=phone, to_phone="+12125550100", body="HELP", provider_id="SMhelp")
    # then
    assert (first.outcome, again.outcome, again.duplicate) == (inbound.Outcome.HELP, inbound.Outcome.HELP, True)
    assert len(sms.outbox) == 2


def test_a_repeated_plain_request_returns_opted_out(booked, now):  # noqa: F811
    phone = booked.patient.phone
    first = inbound.handle_inbound(from_phone=phone, to_phone="+12125550100", body="stop texting me",
                                   provider_id="SMplain")
    again = inbound.handle_inbound(from_phone=phone, to_phone="+12125550100", body="stop texting me",
                                   provider_id="SMplain")
    assert (first.outcome, again.outcome, again.duplicate) == (inbound.Outcome.OPTED_OUT, inbound.Outcome.OPTED_OUT,
                                                               True)
