"""Reads of patient records that need some thought: search, history, the access log and unusual access."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from patients.models import Patient, PatientAccess

_DIGITS = re.compile(r"\D")
# Words are split at spaces and commas, so the lists' own "Chen, Harper" finds Harper Chen.
_WORD_SEPARATORS = re.compile(r"[\s,]+")
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                "november", "december")
# A date of birth as the pages show it ("Mar 4, 1985", "March 4 1985"), as ISO ("1985-03-04") or as
# typed in the US ("3/4/1985", month first).
_SHOWN_DATE = re.compile(r"\b(?P<month>[a-z]{3,9})\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})\b", re.IGNORECASE)
_ISO_DATE = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b")
_US_DATE = re.compile(r"\b(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})\b")


def _date_in(text: str) -> tuple[date | None, str]:
    """The first date of birth written in ``text``, and the text without it (``None, text`` when none)."""
    for pattern in (_ISO_DATE, _US_DATE, _SHOWN_DATE):
        for found in pattern.finditer(text):
            month = found["month"]
            if not month.isdigit():
                if not _is_month_name(month):  # "Marlow 4 1985" is not a date
                    continue
                month = next(number for number, name in enumerate(_MONTH_NAMES, start=1)
                             if name.startswith(month.lower()))
            try:
                day = date(int(found["year"]), int(month), int(found["day"]))
            except ValueError:  # 1985-02-30: not a date, so the words are searched as they are
                continue
            return day, f"{text[:found.start()]} {text[found.end():]}".strip()
    return None, text


def _is_month_name(word: str) -> bool:
    """A month's name or its start of three letters or more ("Mar", "March", "Sept")."""
    word = word.lower()
    return any(name.startswith(word) for name in _MONTH_NAMES)


def _words(text: str) -> list[str]:
    return [word for word in _WORD_SEPARATORS.split(text) if word]


def _name_match(words: list[str]) -> Q:
    """Each word matches the start or inside of the first, last or preferred name."""
    match = Q()
    for word in words:
        match &= (
            Q(lower_first__contains=word.lower())
            | Q(lower_last__contains=word.lower())
            | Q(preferred_name__icontains=word)
        )
    return match


def search_patients(query: str, *, include_archived: bool = False) -> QuerySet[Patient]:
    """Patients whose name, MRN, phone or date of birth matches ``query``.

    Each word (split at spaces and commas) must match the start or inside of
    the first, last or preferred name, so "ann sm" and "Smith, Anna" find Anna
    Smith; a query of digits also matches MRNs and phone numbers by their
    digits. A date in the query ("Mar 4, 1985", "1985-03-04", "3/4/1985") is
    a date of birth, and any words beside it must match the name.
    """
    patients = Patient.objects.all() if include_archived else Patient.objects.current()
    text = (query or "").strip()
    if not text:
        return patients
    if "\x00" in text:  # stored text never holds a NUL (PostgreSQL refuses it), so nothing matches
        return patients.none()
    patients = patients.annotate(lower_first=Lower("first_name"), lower_last=Lower("last_name"))
    born, rest = _date_in(text)
    if born is not None:
        return patients.filter(Q(date_of_birth=born) & _name_match(_words(rest)))
    words = _words(text)
    condition = _name_match(words) if words else Q(pk__in=[])  # "," alone names nobody
    condition |= Q(mrn__iexact=text) | Q(mrn__istartswith=text)
    digits = _DIGITS.sub("", text)
    if len(digits) >= 4:
        condition |= Q(phone__contains=digits)
    return patients.filter(condition)


def patient_history(patient: Patient) -> dict:
    """Every change (who, when, what changed) and every read of ``patient``'s record, newest first."""
    import pghistory.models

    events = (
        pghistory.models.Events.objects.tracks(patient)
        .order_by("-pgh_created_at", "-pgh_id")
        .values("pgh_label", "pgh_created_at", "pgh_diff", "pgh_context")
    )
    changes = [
        {
            "event": event["pgh_label"],
            "at": event["pgh_created_at"],
            "user": (event["pgh_context"] or {}).get("user"),
            "url": (event["pgh_context"] or {}).get("url"),
            "changes": {
                field: {"from": values[0], "to": values[1]}
                for field, values in (event["pgh_diff"] or {}).items()
                if field not in {"updated_at"}
            },
        }
        for event in events
    ]
    user_ids = {change["user"] for change in changes if change["user"]}
    names = dict(get_user_model().objects.filter(id__in=user_ids).values_list("id", "username"))
    for change in changes:
        change["username"] = names.get(change["user"])
    accesses = [
        {"user": access.user_id, "username": access.user.get_username(), "at": access.at,
         "channel": access.channel, "path": access.path}
        for access in PatientAccess.objects.filter(patient=patient).select_related("user")[:500]
    ]
    return {"changes": changes, "reads": accesses}


def access_log(*, patient_id: int | None = None, patient_search: str | None = None, user_id: int | None = None,
               channel: str | None = None, since=None, before=None) -> QuerySet[PatientAccess]:
    """Openings of patients' records, newest first, narrowed by patient (by id, or by name or MRN as
    ``search_patients`` finds them, archived records included), user, channel and ``since <= at < before``."""
    rows = PatientAccess.objects.select_related("user", "patient").order_by("-at", "-id")
    if patient_id is not None:
        rows = rows.filter(patient_id=patient_id)
    if patient_search:
        rows = rows.filter(patient__in=search_patients(patient_search, include_archived=True).values("pk"))
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    if channel:
        rows = rows.filter(channel=channel)
    if since is not None:
        rows = rows.filter(at__gte=since)
    if before is not None:
        rows = rows.filter(at__lt=before)
    return rows


# How far back the access log page (and the manager's home) look for unusual access.
UNUSUAL_ACCESS_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class UnusualAccess:
    """A user who opened more different patients' records in a short time than a chart is read for care."""

    user: Any  # the settings' user model
    records: int  # different patients' records opened within the window
    first_at: datetime  # the window's first opening
    last_at: datetime  # ... and its last, at most the window's length later


# A sweep in window functions, one pass over the openings however busy a user is (no join per opening).
# The different records in the window that ends at instant e are the openings in [e - window, e] whose record
# is not opened again by then: each opening "covers" the ends from its own time until its record's next
# opening or the window's length later (inclusive: to the microsecond after), whichever comes first. Covers
# begin (+1) and end (-1) as events; the running sum at an opening is the count of the window ending there,
# and the largest is the user's busiest window (the latest of equals). Its first opening comes from the
# (user, at) index.
_UNUSUAL_ACCESS_SQL = """
WITH openings AS (
    SELECT user_id, at, least(lead(at) OVER (PARTITION BY user_id, patient_id ORDER BY at),
                              at + %(window)s + interval '1 microsecond') AS covered_until
    FROM {table} WHERE at >= %(since)s AND at <= %(now)s
), events AS (
    SELECT user_id, event.moment, event.change
    FROM openings, LATERAL (VALUES (at, 1), (covered_until, -1)) AS event (moment, change)
), running AS (
    SELECT user_id, moment, change,
           sum(change) OVER (PARTITION BY user_id ORDER BY moment, change ROWS UNBOUNDED PRECEDING) AS records
    FROM events
), busiest AS (
    SELECT DISTINCT ON (user_id) user_id, records, moment AS last_at
    FROM running WHERE change = 1 AND records > %(records)s
    ORDER BY user_id, records DESC, moment DESC
)
SELECT user_id, records,
       (SELECT min(first.at) FROM {table} first WHERE first.user_id = busiest.user_id
            AND first.at >= greatest(busiest.last_at - %(window)s, %(since)s) AND first.at <= busiest.last_at),
       last_at
FROM busiest
"""


def unusual_access(*, since: datetime | None = None, now: datetime | None = None, records: int | None = None,
                   minutes: int | None = None) -> list[UnusualAccess]:
    """Users who opened more than ``records`` different patients' records within ``minutes``, most first.

    Defaults: ``settings.UNUSUAL_ACCESS_RECORDS`` within
    ``settings.UNUSUAL_ACCESS_MINUTES``, over windows that start from ``since``
    (``now - UNUSUAL_ACCESS_LOOKBACK``, 7 days) up to ``now``. "Within" is
    inclusive: the first and last openings at most ``minutes`` apart. Opening
    one record again does not count twice. Each user is named once, with the
    window that held the most records (the latest of equals). Two queries;
    the first sorts the openings since ``since`` a few times, with no join per
    opening, so a user who opens a record a minute costs no more than one who
    opens ten a day.
    """
    now = now or timezone.now()
    since = since if since is not None else now - UNUSUAL_ACCESS_LOOKBACK
    records = settings.UNUSUAL_ACCESS_RECORDS if records is None else records
    window = timedelta(minutes=settings.UNUSUAL_ACCESS_MINUTES if minutes is None else minutes)
    with connection.cursor() as cursor:
        cursor.execute(_UNUSUAL_ACCESS_SQL.format(table=PatientAccess._meta.db_table),
                       {"since": since, "now": now, "records": records, "window": window})
        found = cursor.fetchall()
    users = get_user_model().objects.in_bulk([user_id for user_id, *_ in found])
    flags = [UnusualAccess(user=users[user_id], records=count, first_at=first_at, last_at=last_at)
             for user_id, count, first_at, last_at in found if user_id in users]
    return sorted(flags, key=lambda flag: (-flag.records, -flag.last_at.timestamp(), flag.user.pk))
