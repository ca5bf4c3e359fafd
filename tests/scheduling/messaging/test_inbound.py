"""Patients' replies through the signed webhook: the signature, STOP, START, HELP, C, YES, R and anything else.

"Now" is Monday 2 March 2026, 09:00 in New York; the patient's visit is on
Tuesday 3 March at 10:00, so its two reminders (Monday 17:00, Tuesday 08:00)
are pending when the reply arrives (``booked``). A delivery acted on once,
what the answers say, and delivery reports are in test_inbound_once_and_reports.py.
"""

from __future__ import annotations

import logging
from datetime import date

import pytest
from django.conf import settings
from twilio.request_validator import RequestValidator

from clinic import sms
from patients.models import ConsentMethod
from scheduling.models import (
    Direction,
    MessagePurpose,
    ReminderState,
    SessionStatus,
    TextMessage,
    WorkItem,
    WorkKind,
)
from tests.factories import PatientFactory, UserFactory, WorkItemFactory
from tests.scheduling.conftest import local
from tests.scheduling.messaging.provider_webhooks import INBOUND_URL, STOP_WORDS, signed_post, text_in, texts_to

# Every test here sends through the in-memory SMS backend, starting with nothing sent.
pytestmark = pytest.mark.usefixtures("sent_texts")


@pytest.fixture
def inbound_log():
    """The inbound module's log records (pytest's logging plugin is off in CI)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(level=logging.INFO)
    handler.emit = records.append
    logger = logging.getLogger("scheduling.messaging.inbound")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


# --- the signature ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reply_signed_with_the_auth_token_is_accepted_with_empty_twiml(client, booked):
    # given
    patient = booked.patient
    # when
    response = text_in(client, patient, "Thanks, see you")
    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode() == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    assert TextMessage.objects.filter(patient=patient, direction=Direction.INBOUND).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["missing", "wrong token", "tampered body", "garbage"])
def test_a_reply_without_a_valid_signature_is_refused_and_nothing_is_recorded(client, booked, case):
    # given
    params = {"From": booked.patient.phone, "To": "+12125550100", "Body": "STOP", "MessageSid": "SMforged"}
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    signature = {
        "missing": "",
        "wrong token": RequestValidator("not-the-token").compute_signature(f"http://testserver{INBOUND_URL}", params),
        "tampered body": validator.compute_signature(f"http://testserver{INBOUND_URL}", {**params, "Body": "C"}),
        "garbage": "c2lnbmF0dXJl",
    }[case]
    # when
    response = signed_post(client, INBOUND_URL, params, signature=signature)
    # then
    assert response.status_code == 403
    assert response.json()["code"] == "bad_signature"
    assert not TextMessage.objects.exists()
    booked.patient.refresh_from_db()
    assert booked.patient.sms_opted_out_at is None
    assert set(booked.reminders.values_list("state", flat=True)) == {ReminderState.PENDING}


@pytest.mark.django_db
def test_a_signed_reply_missing_its_message_id_is_a_400(client, booked):
    # given
    params = {"From": booked.patient.phone, "To": "+12125550100", "Body": "C"}
    # when
    response = signed_post(client, INBOUND_URL, params)
    # then
    assert response.status_code == 400
    assert "MessageSid" in response.json()["fields"]
    assert not TextMessage.objects.exists()


# --- STOP, START, HELP --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("word", STOP_WORDS)
def test_each_stop_word_opts_out_at_once_and_voids_pending_reminders(client, booked, now, word):
    # given
    patient = booked.patient
    # when
    response = text_in(client, patient, f"  {word} ")
    # then
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.sms_opted_out_at == now
    assert not patient.can_receive_texts
    assert {(r.state, r.reason) for r in booked.reminders.all()} == {(ReminderState.VOID, "patient opted out")}
    [confirmation] = texts_to(patient.phone)
    assert "no more texts" in confirmation["body"] and "START" in confirmation["body"]
    sent = TextMessage.objects.get(direction=Direction.OUTBOUND, patient=patient)
    assert (sent.purpose, sent.counts_toward_caps) == (MessagePurpose.CONFIRMATION, False)


@pytest.mark.django_db
def test_a_second_stop_sends_no_second_confirmation(client, booked, now):
    # given
    text_in(client, booked.patient, "STOP")
    # when
    text_in(client, booked.patient, "stop")
    # then
    assert len(texts_to(booked.patient.phone)) == 1
    booked.patient.refresh_from_db()
    assert booked.patient.sms_opted_out_at == now


@pytest.mark.django_db
def test_a_stop_with_more_words_also_asks_a_person_to_read_it(client, booked):
    # when
    text_in(client, booked.patient, "STOP. Cancel my Tuesday visit please")
    # then the patient is opted out, as the law requires, and the desk sees the message
    booked.patient.refresh_from_db()
    assert booked.patient.sms_opted_out_at is not None
    item = WorkItem.objects.get(kind=WorkKind.REPLY_NEEDS_ATTENTION)
    assert "Cancel my Tuesday visit please" in item.detail


@pytest.mark.django_db
def test_start_opts_back_in_and_plans_reminders_again(client, booked):
    # given
    patient = booked.patient
    text_in(client, patient, "STOP")
    # when
    response = text_in(client, patient, "Start")
    # then
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.sms_opted_out_at is None
    assert patient.can_receive_texts
    assert sorted(booked.reminders.values_list("kind", "state")) == [
        ("day_before", ReminderState.PENDING), ("same_day", ReminderState.PENDING)]
    bodies = [text["body"] for text in texts_to(patient.phone)]
    assert len(bodies) == 2 and "subscribed to visit reminders again" in bodies[1]


@pytest.mark.django_db
def test_yes_while_opted_out_opts_back_in_rather_than_confirming(client, booked):
    # given
    text_in(client, booked.patient, "STOP")
    # when
    text_in(client, booked.patient, "YES")
    # then
    booked.patient.refresh_from_db()
    booked.refresh_from_db()
    assert booked.patient.sms_opted_out_at is None
    assert booked.status == SessionStatus.BOOKED
    assert booked.reminders.filter(state=ReminderState.PENDING).count() == 2


@pytest.mark.django_db
def test_start_from_a_patient_without_consent_records_consent_by_text(client, booked, now):
    # given
    patient = booked.patient
    patient.sms_consent, patient.sms_consent_at, patient.sms_consent_method = False, None, ""
    patient.save()
    # when
    text_in(client, patient, "START")
    # then
    patient.refresh_from_db()
    assert (patient.sms_consent, patient.sms_consent_at, patient.sms_consent_method) == (
        True, now, ConsentMethod.TEXT_REPLY)


@pytest.mark.django_db
def test_help_answers_with_the_clinic_name_and_phone_and_does_not_count_toward_caps(client, booked):
    # when
    response = text_in(client, booked.patient, "help")
    # then
    assert response.status_code == 200
    [answer] = texts_to(booked.patient.phone)
    assert settings.CLINIC_NAME in answer["body"] and settings.CLINIC_PHONE in answer["body"]
    sent = TextMessage.objects.get(direction=Direction.OUTBOUND)
    assert (sent.purpose, sent.counts_toward_caps, sent.provider_id) == (
        MessagePurpose.HELP, False, answer["provider_id"])
    assert booked.reminders.filter(state=ReminderState.PENDING).count() == 2


@pytest.mark.django_db
def test_help_from_an_opted_out_patient_is_answered_too(client, booked):
    # given
    text_in(client, booked.patient, "STOP")
    # when
    text_in(client, booked.patient, "HELP")
    # then carriers require HELP to be answered at any time (tests/scheduling/messaging/test_opting_out_and_help.py)
    assert len(texts_to(booked.patient.phone)) == 2  # the opt-out confirmation and the HELP answer
    assert not WorkItem.objects.filter(kind=WorkKind.REPLY_NEEDS_ATTENTION).exists()


# --- C, YES, R, anything else -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("reply", ["C", "c", "YES", " yes! "])
def test_c_or_yes_confirms_the_next_session_and_closes_its_unconfirmed_item(client, booked, now, reply):
    # given
    item = WorkItemFactory(kind=WorkKind.UNCONFIRMED_TOMORROW, subject=f"session:{booked.pk}",
                           patient=booked.patient, session=booked)
    # when
    response = text_in(client, booked.patient, reply)
    # then
    assert response.status_code == 200
    booked.refresh_from_db()
    assert (booked.status, booked.confirmed_at) == (SessionStatus.CONFIRMED, now)
    item.refresh_from_db()
    assert (item.closed_at, item.resolution) == (now, "confirmed by text")
    assert not texts_to(booked.patient.phone)
    assert booked.reminders.filter(state=ReminderState.PENDING).count() == 2


@pytest.mark.django_db
def test_c_confirms_only_the_next_session(client, booked, chair, book):
    # given a second visit on Friday
    later = book(chair, local(chair.location, date(2026, 3, 6), 10), course=booked.course)
    # when
    text_in(client, booked.patient, "C")
    # then
    booked.refresh_from_db()
    later.refresh_from_db()
    assert (booked.status, later.status) == (SessionStatus.CONFIRMED, SessionStatus.BOOKED)


@pytest.mark.django_db
def test_c_without_an_upcoming_session_needs_a_person(client, now):
    # given
    patient = PatientFactory()
    # when
    text_in(client, patient, "C")
    # then
    item = WorkItem.objects.get()
    assert (item.kind, item.patient, item.closed_at) == (WorkKind.REPLY_NEEDS_ATTENTION, patient, None)
    assert "no upcoming visit" in item.detail


@pytest.mark.django_db
def test_a_shared_number_confirms_the_session_of_the_patient_seen_next(client, booked):
    # given a relative with the same phone and no visit booked
    PatientFactory(phone=booked.patient.phone)
    # when
    text_in(client, booked.patient.phone, "C")
    # then
    booked.refresh_from_db()
    assert booked.status == SessionStatus.CONFIRMED


@pytest.mark.django_db
def test_r_opens_a_reschedule_request_for_the_next_session(client, booked):
    # when
    response = text_in(client, booked.patient, "R")
    text_in(client, booked.patient, "R can we do Thursday afternoon")
    # then one open item for the session, holding both texts
    assert response.status_code == 200
    item = WorkItem.objects.get(kind=WorkKind.RESCHEDULE_REQUEST)
    assert item.subject == f"session:{booked.pk}"
    assert (item.patient, item.course, item.session, item.location, item.closed_at) == (
        booked.patient, booked.course, booked, booked.location, None)
    assert "Thursday afternoon" in item.detail
    booked.refresh_from_db()
    assert booked.status == SessionStatus.BOOKED


@pytest.mark.django_db
def test_r_without_an_upcoming_session_asks_about_the_patient(client, now):
    # given
    patient = PatientFactory()
    # when
    text_in(client, patient, "r")
    # then
    item = WorkItem.objects.get(kind=WorkKind.RESCHEDULE_REQUEST)
    assert (item.subject, item.session) == (f"patient:{patient.pk}", None)


@pytest.mark.django_db
def test_any_other_text_opens_a_reply_needs_attention_item_with_the_text(client, booked):
    # when
    text_in(client, booked.patient, "I'll be 10 minutes late")
    # then
    message = TextMessage.objects.get(direction=Direction.INBOUND)
    item = WorkItem.objects.get()
    assert (item.kind, item.subject, item.session) == (
        WorkKind.REPLY_NEEDS_ATTENTION, f"message:{message.pk}", booked)
    assert "I'll be 10 minutes late" in item.detail
    assert message.purpose == MessagePurpose.REPLY


@pytest.mark.django_db
def test_a_text_from_an_unknown_number_is_logged_and_ignored(client, booked, inbound_log):
    # when
    response = text_in(client, "+12125550123", "STOP")
    # then
    assert response.status_code == 200
    assert not TextMessage.objects.exists() and not WorkItem.objects.exists() and not sms.outbox
    messages = [record.getMessage() for record in inbound_log]
    assert any("unknown number" in text and "0123" in text for text in messages)
    assert not any("2125550123" in text for text in messages)


@pytest.mark.django_db
def test_a_text_from_an_archived_patients_number_is_ignored(client, booked):
    # given
    booked.patient.archive(by=UserFactory())
    # when
    text_in(client, booked.patient, "C")
    # then
    booked.refresh_from_db()
    assert booked.status == SessionStatus.BOOKED
    assert not TextMessage.objects.exists()
