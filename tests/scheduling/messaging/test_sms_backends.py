"""The SMS backends: locmem keeps texts in memory, outbox in the database, twilio talks to Twilio's REST API.

The twilio backend is tested against a stand-in for Twilio's API
(``tests/sms_standin.py``, the ``twilio_api`` fixture): a local HTTP server on
127.0.0.1 that answers ``POST /2010-04-01/Accounts/<sid>/Messages.json`` as
Twilio would (or fails as Twilio can), reached through ``TWILIO_API_BASE``.
"""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime

import pytest

from clinic import sms
from clinic.models import OutboxMessage
from tests.sms_standin import FROM_NUMBER, MESSAGES_PATH, Reply, error_reply


def send(**overrides):
    arguments = {"to": "+14155552671", "body": "Riverside: see you today at 10:00 AM.",
                 "status_callback": "https://clinic.example.org/api/sms/status/", **overrides}
    return sms.get_backend().send(**arguments)


# --- locmem and outbox --------------------------------------------------------------------------------


def test_the_locmem_backend_appends_each_text_to_its_outbox(sent_texts):
    # when
    result = send()
    # then
    assert sent_texts == [{"to": "+14155552671", "body": "Riverside: see you today at 10:00 AM.",
                           "provider_id": result.provider_id,
                           "status_callback": "https://clinic.example.org/api/sms/status/"}]
    assert result.status == "sent"


@pytest.mark.django_db
def test_the_outbox_backend_stores_each_text_in_the_database(settings):
    # given
    settings.SMS_BACKEND = "outbox"
    # when
    result = send()
    # then
    stored = OutboxMessage.objects.get()
    assert (stored.to, stored.body, stored.provider_id) == (
        "+14155552671", "Riverside: see you today at 10:00 AM.", result.provider_id)


# --- twilio -------------------------------------------------------------------------------------------


def test_the_twilio_backend_posts_to_the_messages_resource_and_returns_the_sid(twilio_api):
    # when
    result = send()
    # then
    [request] = twilio_api.requests
    assert result == sms.SendResult(provider_id=request["sid"], status="queued")
    assert request["path"] == MESSAGES_PATH
    assert request["form"] == {"To": "+14155552671", "From": FROM_NUMBER,
                               "Body": "Riverside: see you today at 10:00 AM.",
                               "StatusCallback": "https://clinic.example.org/api/sms/status/"}
    assert request["authorization"].startswith("Basic ")


def test_the_twilio_backend_sends_through_a_messaging_service_when_one_is_set(twilio_api, settings):
    # given
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32
    # when
    send()
    # then
    form = twilio_api.requests[0]["form"]
    assert form["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in form


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_rate_limit_or_outage_is_a_transient_error(twilio_api, status):
    # given
    twilio_api.answer_next(error_reply(status, 20429 if status == 429 else 20500))
    # when / then
    with pytest.raises(sms.TransientSmsError):
        send()


@pytest.mark.parametrize(("header", "seconds"), [("42", 42.0), (None, None), ("soon", None)])
def test_a_refusal_carries_the_providers_retry_after_when_it_gives_one(twilio_api, header, seconds):
    # given
    twilio_api.answer_next(error_reply(429, 20429, retry_after=header))
    # when
    with pytest.raises(sms.TransientSmsError) as refused:
        send()
    # then
    assert refused.value.retry_after == seconds


def test_a_retry_after_may_be_a_date():
    now = datetime(2026, 3, 4, 17, 0, tzinfo=UTC)
    assert sms.retry_after_seconds("Wed, 04 Mar 2026 17:01:30 GMT", now=now) == 90.0
    assert sms.retry_after_seconds("Wed, 04 Mar 2026 16:59:00 GMT", now=now) == 0.0


def test_an_invalid_number_is_a_permanent_error(twilio_api):
    # given
    twilio_api.answer_next(error_reply(400, 21211, "Invalid 'To' Phone Number"))
    # when / then
    with pytest.raises(sms.PermanentSmsError, match="21211"):
        send()


def test_a_provider_that_does_not_answer_in_time_is_a_timeout_not_a_retry(twilio_api):
    # given the stand-in takes longer than TWILIO_TIMEOUT_SECONDS (1)
    twilio_api.answer_next(Reply(delay=2.5))
    # when / then: the request left, so whether the text went out is unknown
    started = time.monotonic()
    with pytest.raises(sms.SmsTimeout):
        send()
    assert time.monotonic() - started < 2.5
    assert len(twilio_api.requests) == 1


def test_a_provider_that_cannot_be_reached_is_a_transient_error(twilio_api, settings):
    # given a port nobody listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.TWILIO_API_BASE = f"http://127.0.0.1:{port}"
    # when / then: nothing was sent, so trying again later is safe
    with pytest.raises(sms.TransientSmsError):
        send()
