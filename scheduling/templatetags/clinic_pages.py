"""Template helpers for the front-desk pages: wall-clock times at a site, and the navigation.

Django's ``date`` and ``time`` filters turn an aware datetime into the
*server's* time zone before formatting, which would show New York sessions in
UTC. ``site_time`` hands them a naive wall-clock time at the location instead,
so ``{{ session.start|site_time:session.location|date:"H:i" }}`` reads as the
clinic's clock.

Phones are stored as E.164; ``{{ patient.phone|phone }}`` shows them as a
desk dials them: ``(312) 555-2000``, with the country code only for a number
from outside the clinic's country.
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, reverse

from clinic.phones import for_display

register = template.Library()


@register.filter
def site_time(instant: datetime | None, location) -> datetime | None:
    """``instant`` as a naive wall-clock time at ``location`` (unchanged when either is missing)."""
    if instant is None or location is None or getattr(instant, "tzinfo", None) is None:
        return instant
    return instant.astimezone(location.zone).replace(tzinfo=None)


@register.filter
def in_zone(instant: datetime | None, zone) -> datetime | None:
    """``instant`` as a naive wall-clock time in ``zone`` (a ZoneInfo)."""
    if instant is None or zone is None or getattr(instant, "tzinfo", None) is None:
        return instant
    return instant.astimezone(zone).replace(tzinfo=None)


@register.filter
def phone(e164: str | None) -> str:
    """An E.164 number in the national format (international for another country); "" for none."""
    return for_display(e164 or "")


@register.simple_tag
def outbox_url() -> str:
    """The outbox page's address when the outbox SMS backend is on, else an empty string."""
    if settings.SMS_BACKEND != "outbox":
        return ""
    try:
        return reverse("outbox")
    except NoReverseMatch:
        return ""


@register.filter
def get_item(mapping, key):
    """``mapping[key]`` or None: for lookups keyed by a variable."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
