"""Opting out by any reasonable means, and HELP at any time (docs/DOMAIN.md "Reminder texts").

Now is Monday 2 March 2026, 09:00 in New York (``clock``), and the patient's visit on Tuesday 3 March at
10:00 has its two reminders pending (``booked``, messaging/conftest.py). Replies go straight to
``inbound.handle_inbound`` (the webhook's signature is tested in test_inbound).
"""

from __future__ import annotations

from itertools import count

import pytest
from django.conf import settings

from scheduling.messaging import inbound
from scheduling.models import (
    Direction,
    MessagePurpose,
    ReminderState,
    TextMessage,
    WorkItem,
    WorkKind,
)

pytestmark = pytest.mark.django_db

CLINIC_NUMBER = "+12125550100"
_sids = count()


def text_in(patient, body: str, *, sid: str | None = None) -> inbound.InboundResult:
    return inbound.handle_inbound(from_phone=patient.phone, to_phone=CLINIC_NUMBER, body=body,
                                  provider_id=sid or f"SMopt{next(_sids):028d}")


def texts_to(sent_texts, phone: str) -> list[dict]:
    return [text for text in sent_texts if text["to"] == phone]


@pytest.mark.parametrize("body", ["please stop", "Stop texting me!", "unsubscribe me", "No more texts",
                                  "remove me", "Don't text me", "Please STOP"])
def test_a_plain_request_in_words_opts_out_and_voids_the_reminders(sent_texts, booked, now, body):
    # when
    text_in(booked.patient, body)
    # then
    booked.patient.refresh_from_db()
    assert booked.patient.sms_opted_out_at == now
    assert {r.state for r in booked.reminders.all()} == {ReminderState.VOID}
    [confirmation] = texts_to(sent_texts, booked.patient.phone)
    assert "no more texts" in confirmation["body"]
    assert not WorkItem.objects.exists()


@pytest.mark.parametrize("body", ["cancel my Tuesday visit", "stop by tomorrow?", "I want to stop"])
def test_a_text_that_may_mean_more_does_not_opt_out_and_goes_to_a_person(sent_texts, booked, body):
    # when
    text_in(booked.patient, body)
    # then the patient still gets reminders, and the desk reads the text
    booked.patient.refresh_from_db()
    assert booked.patient.sms_opted_out_at is None
    assert {r.state for r in booked.reminders.all()} == {ReminderState.PENDING}
    item = WorkItem.objects.get(kind=WorkKind.REPLY_NEEDS_ATTENTION)
    assert body in item.detail and "May be asking to stop the texts" in item.detail
    assert texts_to(sent_texts, booked.patient.phone) == []


def test_an_opt_out_that_says_more_opts_out_and_a_person_reads_the_rest(sent_texts, booked):
    # when
    text_in(booked.patient, "STOP. And cancel my visit on Tuesday")
    # then
    booked.patient.refresh_from_db()
    assert booked.patient.sms_opted_out_at is not None
    assert "cancel my visit on Tuesday" in WorkItem.objects.get(kind=WorkKind.REPLY_NEEDS_ATTENTION).detail


def test_help_while_opted_out_is_answered_with_the_clinic_name_and_phone(sent_texts, booked):
    # given
    text_in(booked.patient, "STOP")
    # when
    result = text_in(booked.patient, "help")
    # then
    assert result.outcome == inbound.Outcome.HELP
    confirmation, answer = texts_to(sent_texts, booked.patient.phone)
    assert settings.CLINIC_NAME in answer["body"] and settings.CLINIC_PHONE in answer["body"]
    assert "START" in answer["body"]
    sent = TextMessage.objects.get(direction=Direction.OUTBOUND, purpose=MessagePurpose.HELP)
    assert (sent.counts_toward_caps, sent.provider_id, sent.body) == (False, answer["provider_id"], answer["body"])
    # and the patient stays opted out, with nothing for the desk to do
    booked.patient.refresh_from_db()
    assert booked.patient.sms_opted_out_at is not None
    assert not WorkItem.objects.exists()


def test_help_while_opted_out_is_not_stopped_by_a_full_daily_cap(sent_texts, booked, now):
    # given a reminder already sent today, which fills the daily cap of one
    TextMessage.objects.create(patient=booked.patient, direction=Direction.OUTBOUND,
                               purpose=MessagePurpose.REMINDER, counts_toward_caps=True,
                               phone=booked.patient.phone, body="reminder", at=now)
    text_in(booked.patient, "STOP")
    # when
    text_in(booked.patient, "HELP")
    # then
    assert len(texts_to(sent_texts, booked.patient.phone)) == 2
    assert TextMessage.objects.filter(direction=Direction.OUTBOUND, counts_toward_caps=True).count() == 1


def test_a_repeated_help_while_opted_out_returns_the_first_result(sent_texts, booked):
    # given
    text_in(booked.patient, "STOP")
    first = text_in(booked.patient, "HELP", sid="SMhelp")
    # when
    again = text_in(booked.patient, "HELP", sid="SMhelp")
    # then
    assert (first.outcome, again.outcome, again.duplicate) == (inbound.Outcome.HELP, inbound.Outcome.HELP, True)
    assert len(sent_texts) == 2


def test_a_repeated_plain_request_returns_opted_out(sent_texts, booked):
    first = text_in(booked.patient, "stop texting me", sid="SMplain")
    again = text_in(booked.patient, "stop texting me", sid="SMplain")
    assert (first.outcome, again.outcome, again.duplicate) == (inbound.Outcome.OPTED_OUT, inbound.Outcome.OPTED_OUT,
                                                               True)
