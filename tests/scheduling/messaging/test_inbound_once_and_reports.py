"""Patients' replies acted on once however often they arrive, what the answers say, and delivery reports.

"Now" is Monday 2 March 2026, 09:00 in New York; the patient's visit is on Tuesday 3 March at 10:00
(``booked``), so its two reminders (Monday 17:00, Tuesday 08:00) are pending when a reply arrives.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.urls import reverse

from clinic import sms
from scheduling.messaging import inbound
from scheduling.messaging.reminders import status_callback_url
from scheduling.models import (
    Direction,
    MessagePurpose,
    Reminder,
    ReminderState,
    TextMessage,
    WorkItem,
    forbidden_words_in,
)
from tests.factories import TextMessageFactory
from tests.scheduling.messaging.provider_webhooks import (
    CLINIC_NUMBER,
    STATUS_URL,
    STOP_WORDS,
    signed_post,
    status_report,
    text_in,
    texts_to,
)

# Every test here sends through the in-memory SMS backend, starting with nothing sent.
pytestmark = pytest.mark.usefixtures("sent_texts")


# --- idempotency --------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["STOP", "R", "HELP", "where do I park?"])
def test_the_same_message_delivered_twice_acts_once(client, booked, body):
    # when
    first = text_in(client, booked.patient, body, sid="SMsame")
    second = text_in(client, booked.patient, body, sid="SMsame")
    # then
    assert (first.status_code, second.status_code) == (200, 200)
    assert TextMessage.objects.filter(direction=Direction.INBOUND).count() == 1
    assert WorkItem.objects.count() <= 1
    assert len(texts_to(booked.patient.phone)) == (1 if body in ("STOP", "HELP") else 0)


@pytest.mark.django_db
@pytest.mark.parametrize("body, outcome", [
    ("C", inbound.Outcome.CONFIRMED), ("R", inbound.Outcome.RESCHEDULE_REQUESTED),
    ("STOP", inbound.Outcome.OPTED_OUT), ("HELP", inbound.Outcome.HELP), ("hi", inbound.Outcome.NEEDS_ATTENTION),
])
def test_a_repeated_delivery_returns_the_first_result(booked, now, body, outcome):
    # given
    first = inbound.handle_inbound(from_phone=booked.patient.phone, to_phone=CLINIC_NUMBER, body=body,
                                   provider_id="SMagain")
    # when
    again = inbound.handle_inbound(from_phone=booked.patient.phone, to_phone=CLINIC_NUMBER, body=body,
                                   provider_id="SMagain")
    # then
    assert (first.outcome, first.duplicate, again.duplicate) == (outcome, False, True)
    assert (again.outcome, again.patient_id, again.message_id, again.session_id, again.work_item_id) == (
        first.outcome, first.patient_id, first.message_id, first.session_id, first.work_item_id)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_eight_deliveries_of_one_stop_at_once_act_once(booked):
    # given
    phone, deliveries = booked.patient.phone, 8
    barrier = threading.Barrier(deliveries)

    def deliver(_):
        try:
            barrier.wait(timeout=30)
            return inbound.handle_inbound(from_phone=phone, to_phone=CLINIC_NUMBER, body="STOP",
                                          provider_id="SMrace")
        finally:
            connection.close()

    # when
    with ThreadPoolExecutor(max_workers=deliveries) as pool:
        results = list(pool.map(deliver, range(deliveries)))
    # then
    assert [result.duplicate for result in results].count(False) == 1
    assert {result.outcome for result in results} == {inbound.Outcome.OPTED_OUT}
    assert TextMessage.objects.filter(direction=Direction.INBOUND).count() == 1
    assert len(texts_to(phone)) == 1


# --- what the texts say -------------------------------------------------------------------------------


@pytest.mark.parametrize("template", inbound.REPLY_TEXTS)
def test_no_reply_template_names_a_treatment_or_diagnosis(template):
    assert forbidden_words_in(inbound.reply_text(template)) == []


@pytest.mark.django_db
def test_no_text_sent_in_answer_to_any_keyword_names_a_treatment_or_diagnosis(client, booked):
    # when every keyword is sent in turn
    for body in ["HELP", *STOP_WORDS, "START", "YES", "C", "R", "hello"]:
        text_in(client, booked.patient, body)
    # then
    bodies = [text["body"] for text in sms.outbox]
    assert len(bodies) == 3  # the HELP answer, the opt-out and the opt-in confirmations
    assert all(forbidden_words_in(body) == [] for body in bodies)


@pytest.mark.django_db
def test_a_reply_that_would_name_a_treatment_is_not_sent(client, booked, settings):
    # given a clinic name no text may carry
    settings.CLINIC_NAME = "Ketamine Wellness"
    # when
    text_in(client, booked.patient, "HELP")
    # then
    assert not sms.outbox


@pytest.mark.django_db
def test_a_provider_error_on_the_answer_does_not_fail_the_webhook(client, booked):
    # given
    sms.LocmemBackend.fail_with = [sms.PermanentSmsError("carrier blocked")]
    # when
    response = text_in(client, booked.patient, "STOP")
    # then the opt-out holds and the failed answer is on record
    assert response.status_code == 200
    booked.patient.refresh_from_db()
    assert booked.patient.sms_opted_out_at is not None
    assert TextMessage.objects.get(direction=Direction.OUTBOUND).delivery_status == "not_sent"


# --- delivery reports ---------------------------------------------------------------------------------


@pytest.fixture
def sent_reminder(booked, now):
    reminder = booked.reminders.get(kind="day_before")
    Reminder.objects.filter(pk=reminder.pk).update(state=ReminderState.SENT, provider_id="SMsent1", sent_at=now)
    TextMessageFactory(patient=booked.patient, direction=Direction.OUTBOUND, purpose=MessagePurpose.REMINDER,
                       counts_toward_caps=True, body="reminder", provider_id="SMsent1", delivery_status="queued",
                       reminder=reminder, session=booked)
    return reminder


@pytest.mark.django_db
def test_the_status_webhook_records_the_delivery_status(client, sent_reminder):
    # when
    response = status_report(client, "SMsent1", "delivered")
    # then
    assert response.status_code == 200
    assert TextMessage.objects.get(provider_id="SMsent1").delivery_status == "delivered"


@pytest.mark.django_db
def test_an_undelivered_reminder_keeps_its_state_and_says_why(client, sent_reminder):
    # when
    status_report(client, "SMsent1", "undelivered", ErrorCode="30003")
    # then
    sent_reminder.refresh_from_db()
    assert sent_reminder.state == ReminderState.SENT
    assert sent_reminder.reason == "the carrier reported the text undelivered (error 30003)"


@pytest.mark.django_db
def test_a_late_sent_report_does_not_undo_delivered(client, sent_reminder):
    # given
    status_report(client, "SMsent1", "delivered")
    # when
    status_report(client, "SMsent1", "sent")
    # then
    assert TextMessage.objects.get(provider_id="SMsent1").delivery_status == "delivered"


@pytest.mark.django_db
def test_an_unsigned_status_report_is_refused(client, sent_reminder):
    # when
    response = signed_post(client, STATUS_URL, {"MessageSid": "SMsent1", "MessageStatus": "failed"},
                           signature="bad")
    # then
    assert response.status_code == 403
    assert TextMessage.objects.get(provider_id="SMsent1").delivery_status == "queued"


def test_the_status_callback_url_is_the_status_webhook(settings):
    # given
    settings.PUBLIC_BASE_URL = "https://clinic.example.org/"
    # when / then
    assert status_callback_url() == "https://clinic.example.org/api/sms/status/"
    # the path is written out in reminders.py (reversing it loads every view): it must be the webhook's own
    assert status_callback_url() == "https://clinic.example.org" + reverse("sms-status")
