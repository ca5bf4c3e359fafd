"""Texts and delivery reports as the SMS provider's webhooks deliver them: form-encoded and signed."""

from __future__ import annotations

from itertools import count
from urllib.parse import urlencode

from django.conf import settings
from twilio.request_validator import RequestValidator

from clinic import sms

INBOUND_URL = "/api/sms/inbound/"
STATUS_URL = "/api/sms/status/"
CLINIC_NUMBER = "+12125550100"
# The carriers' opt-out keywords, in the cases patients type them.
STOP_WORDS = ["STOP", "stopall", "Unsubscribe", "end", "QuIt", "cancel", "Revoke", "optOut"]

_sids = count()


def signed_post(client, path: str, params: dict, *, token: str | None = None, signature: str | None = None):
    """POST ``params`` form-encoded as the provider does, signed with the auth token unless told otherwise."""
    if signature is None:
        signature = RequestValidator(token or settings.TWILIO_AUTH_TOKEN).compute_signature(
            f"http://testserver{path}", params)
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature else {}
    return client.post(path, urlencode(params), content_type="application/x-www-form-urlencoded", **headers)


def text_in(client, patient_or_phone, body: str, *, sid: str | None = None):
    """A text from the patient (or a phone number) to the clinic, through the inbound webhook."""
    phone = getattr(patient_or_phone, "phone", patient_or_phone)
    params = {"From": phone, "To": CLINIC_NUMBER, "Body": body, "MessageSid": sid or f"SM{next(_sids):032d}"}
    return signed_post(client, INBOUND_URL, params)


def texts_to(phone: str) -> list[dict]:
    """The texts the in-memory backend sent to ``phone`` (``sent_texts``)."""
    return [text for text in sms.outbox if text["to"] == phone]


def status_report(client, sid: str, status: str, **extra):
    """A delivery report for the text ``sid``, through the status webhook."""
    return signed_post(client, STATUS_URL, {"MessageSid": sid, "MessageStatus": status, **extra})
