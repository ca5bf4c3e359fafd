"""SMS backends, chosen by ``SMS_BACKEND`` like Django's EMAIL_BACKEND.

- ``outbox``: stores each text in the database (OutboxMessage) and shows it in the UI.
- ``locmem``: keeps texts in ``clinic.sms.outbox`` (a list) for tests.
- ``twilio``: sends through Twilio's REST API.

A backend raises one of three errors, because each needs different handling:
``TransientSmsError`` (nothing was sent; try again later), ``PermanentSmsError``
(never retry: opted out at the carrier, invalid number) and ``SmsTimeout``
(the request left and no answer came: it may have been sent, so a person
must check before anyone sends it again).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache

from django.conf import settings

from clinic.models import OutboxMessage


class SmsError(Exception):
    pass


class TransientSmsError(SmsError):
    """The provider refused for now (rate limit, outage, connection refused); nothing was sent.

    ``retry_after``: the seconds the provider asked us to wait (its ``Retry-After``), when it said.
    """

    def __init__(self, message: str = "", *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentSmsError(SmsError):
    """The provider will never deliver this (invalid number, recipient opted out at the carrier)."""


class SmsTimeout(SmsError):
    """The request may have reached the provider; whether the text went out is unknown."""


@dataclass(frozen=True)
class SendResult:
    provider_id: str
    status: str


# The locmem backend's sent texts, newest last (tests read and clear it).
outbox: list[dict] = []


class LocmemBackend:
    """Keeps texts in memory. ``fail_with`` makes the next sends raise, to test the error paths."""

    fail_with: list[Exception] = []

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SendResult:
        if LocmemBackend.fail_with:
            raise LocmemBackend.fail_with.pop(0)
        provider_id = f"LM{uuid.uuid4().hex[:30]}"
        outbox.append({"to": to, "body": body, "provider_id": provider_id, "status_callback": status_callback})
        return SendResult(provider_id=provider_id, status="sent")


class OutboxBackend:
    """Stores texts in the database; the outbox page shows them and can simulate replies."""

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SendResult:
        message = OutboxMessage.objects.create(to=to, body=body, provider_id=f"OB{uuid.uuid4().hex[:30]}")
        return SendResult(provider_id=message.provider_id, status="sent")


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """A ``Retry-After`` header as seconds from now (it is either seconds or an HTTP date); None when absent or
    unreadable, 0 for a date already past."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@cache
def _answer_keeping_client():
    """Twilio's HTTP client, keeping the last answer's ``Retry-After``: the exceptions the twilio package raises
    for a 429 or 503 carry the status and body, not the headers."""
    from twilio.http.http_client import TwilioHttpClient

    class AnswerKeepingClient(TwilioHttpClient):
        retry_after: float | None = None

        def request(self, *args, **kwargs):
            response = super().request(*args, **kwargs)
            self.retry_after = retry_after_seconds((response.headers or {}).get("Retry-After"))
            return response

    return AnswerKeepingClient


class TwilioBackend:
    """Twilio's REST API, with a per-message status callback and a short timeout."""

    def __init__(self):
        from twilio.rest import Client

        self.http = _answer_keeping_client()(timeout=settings.TWILIO_TIMEOUT_SECONDS)
        self.client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=self.http)
        if settings.TWILIO_API_BASE:
            # A stand-in server for fault tests; production leaves it unset.
            self.client.api.base_url = settings.TWILIO_API_BASE

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SendResult:
        import requests
        from twilio.base.exceptions import TwilioRestException, TwilioServiceException

        sender = ({"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
                  if settings.TWILIO_MESSAGING_SERVICE_SID else {"from_": settings.TWILIO_FROM_NUMBER})
        try:
            message = self.client.messages.create(to=to, body=body, status_callback=status_callback, **sender)
        except requests.exceptions.ConnectTimeout as exc:
            raise TransientSmsError(f"could not connect: {type(exc).__name__}") from None
        except requests.exceptions.ConnectionError as exc:
            from urllib3.exceptions import MaxRetryError, NewConnectionError

            # Only a connection that never opened is safe to retry; one that
            # dropped after the request went out may have sent the text.
            cause = exc.args[0] if exc.args else None
            if isinstance(cause, MaxRetryError) and isinstance(cause.reason, NewConnectionError):
                raise TransientSmsError("could not connect to the provider") from None
            raise SmsTimeout("the connection dropped after the request was sent") from None
        except requests.exceptions.Timeout:
            raise SmsTimeout("no answer from the provider") from None
        except (TwilioRestException, TwilioServiceException) as exc:  # the older error body and RFC 9457's
            if exc.status == 429 or exc.status >= 500:
                raise TransientSmsError(f"provider said {exc.status}", retry_after=self.http.retry_after) from None
            message = exc.msg if isinstance(exc, TwilioRestException) else (exc.detail or exc.title)
            raise PermanentSmsError(f"provider refused ({exc.code}): {message}") from None
        return SendResult(provider_id=message.sid, status=message.status or "queued")


_BACKENDS = {"locmem": LocmemBackend, "outbox": OutboxBackend, "twilio": TwilioBackend}


def get_backend():
    return _BACKENDS[settings.SMS_BACKEND]()


def signature_is_valid(url: str, params: dict, signature: str) -> bool:
    """Check a webhook's X-Twilio-Signature with the twilio package's own validator."""
    from twilio.request_validator import RequestValidator

    return bool(signature) and RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, params, signature)
