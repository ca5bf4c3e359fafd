"""Phone numbers in one shape: E.164, parsed with ``phonenumbers`` in the clinic's default region.

Stored and sent as E.164 (``+13125552000``); shown to people as they dial them
(``(312) 555-2000``), with the country code only for a number from elsewhere.
"""

from __future__ import annotations

from functools import cache

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


def typing_hint() -> str:
    """What a desk may type in a phone field, in plain words, for the clinic's region."""
    return _typing_hint(settings.PHONE_DEFAULT_REGION)


@cache
def _typing_hint(region: str) -> str:
    # Imported here: its place-name tables take a third of a second to load, and only this hint uses them
    # (every process imports this module through the patient model; a worker restarted after a crash waits).
    from phonenumbers import geocoder

    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        return "Type the number with + and its country code, e.g. +44 20 7183 8750."
    country = geocoder.country_name_for_number(example, "en") or region
    country = f"the {country}" if country.startswith("United") else country  # the United States, Canada
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    return (f"Type it as you would dial it, e.g. {national}. "
            f"A number from outside {country} starts with + and its country code.")
