"""Phone numbers in one shape: E.164, parsed with ``phonenumbers`` in the clinic's default region."""

from __future__ import annotations

import phonenumbers
from django.conf import settings


class InvalidPhone(ValueError):
    pass


def to_e164(raw: str, region: str | None = None) -> str:
    """Return ``raw`` as E.164 (``+15555550123``); raise InvalidPhone with a plain message otherwise."""
    text = (raw or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(f"“{text}” is not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"“{text}” is not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def for_display(e164: str) -> str:
    """National format for numbers in the default region, international for the rest."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    region = phonenumbers.region_code_for_number(number)
    fmt = (phonenumbers.PhoneNumberFormat.NATIONAL if region == settings.PHONE_DEFAULT_REGION
           else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, fmt)
