"""Reading FHIR search parameters: which names a search takes, dates with prefixes, tokens, strings.

A parameter a search does not know is a 400 naming it, because a client whose
filter is silently dropped reads every row as an answer to its question; a
client that prefers otherwise says ``Prefer: handling=lenient`` and the
unknown ones are ignored (FHIR's own switch for this).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

from dateutil.relativedelta import relativedelta
from django.db.models import Q

from scheduling.fhir.errors import FhirError

# Parameters every search takes: paging, the answer's format, ``_summary=count`` (the total alone) and
# ``_total`` (ignored: the total is always counted exactly).
COMMON = frozenset({"_count", "_offset", "_format", "_pretty", "_summary", "_total"})
_DATE = re.compile(
    r"^(?P<prefix>eq|ne|gt|lt|ge|le|sa|eb|ap)?(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d{1,9})?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?$")
# For a value that is a point in time (a slot's start, a birth date), "starts after" is "after" and
# "ends before" is "before".
_SAME_AS = {"sa": "gt", "eb": "lt"}


def is_lenient(request) -> bool:
    """True when the client asked to have parameters it sent but this server does not know ignored."""
    return "handling=lenient" in request.headers.get("Prefer", "").replace(" ", "").lower()


def check_params(request, allowed: Iterable[str]) -> None:
    """Refuse (400) a parameter, or a ``name:modifier``, that this search does not take (see the module)."""
    known = COMMON | set(allowed)
    for name, sent in request.query_params.lists():
        if any("\x00" in value for value in sent):
            # PostgreSQL text cannot hold NUL, so no row could match it; refused before it reaches a query.
            raise FhirError.invalid(f"{name}: a value may not contain a NUL character.", expression=[name])
    unknown = sorted(name for name in request.query_params if name not in known)
    if unknown and not is_lenient(request):
        raise FhirError.not_supported(
            f"This search does not take {', '.join(unknown)}. It takes: {', '.join(sorted(known))}.",
            expression=unknown)


def values(request, name: str) -> list[str]:
    """Every non-empty value of ``name`` (a repeated parameter is an AND of its values); empty ones ignored."""
    return [value for value in request.query_params.getlist(name) if value != ""]


def one(request, name: str) -> str | None:
    """The one value of ``name``, or None; sent twice is a 400 (this search cannot AND two of them)."""
    found = values(request, name)
    if len(found) > 1:
        raise FhirError.invalid(f"Send {name} once.", expression=[name])
    return found[0] if found else None


@dataclass(frozen=True)
class DateParam:
    """A date search value: its prefix and the span its precision covers, [lo, hi)."""

    prefix: str
    lo: datetime
    hi: datetime

    def bounds(self, name: str) -> tuple[datetime | None, datetime | None]:
        """[since, until) of the instants this value matches, either end open (None)."""
        prefix = _SAME_AS.get(self.prefix, self.prefix)
        if prefix == "eq":
            return self.lo, self.hi
        if prefix == "ge":
            return self.lo, None
        if prefix == "gt":
            return self.hi, None
        if prefix == "le":
            return None, self.hi
        if prefix == "lt":
            return None, self.lo
        raise FhirError.not_supported(f"{name}: the prefix “{self.prefix}” is not supported here "
                                      "(eq, ge, gt, le, lt, sa, eb are).", expression=[name])


def parse_date(text: str, name: str, *, zone: tzinfo = UTC) -> DateParam:
    """A FHIR date(time) search value with its prefix (``ge2026-03-02``, ``2026-03``, ``lt2026-03-02T10:00Z``).

    A value without a zone is read in ``zone``; year, month, day, minute or second precision.
    """
    match = _DATE.match(text.strip())
    if match is None:
        raise FhirError.invalid(f"{name}: “{text}” is not a FHIR date (e.g. 2026-03-02, ge2026-03-02, "
                                "2026-03-02T10:00:00Z).", expression=[name])
    parts = match.groupdict()
    try:
        zone_of_value = _zone(parts["zone"]) or zone
        lo = datetime(int(parts["year"]), int(parts["month"] or 1), int(parts["day"] or 1), int(parts["hour"] or 0),
                      int(parts["minute"] or 0), int(parts["second"] or 0), tzinfo=zone_of_value)
        if parts["second"] is not None:
            step = timedelta(seconds=1)
        elif parts["minute"] is not None:
            step = timedelta(minutes=1)
        elif parts["day"] is not None:
            step = timedelta(days=1)
        else:
            step = relativedelta(months=1) if parts["month"] is not None else relativedelta(years=1)
        hi = lo + step
    except (ValueError, OverflowError):
        raise FhirError.invalid(f"{name}: “{text}” is not a date on the calendar.", expression=[name]) from None
    return DateParam(prefix=parts["prefix"] or "eq", lo=lo, hi=hi)


def _zone(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text == "Z":
        return UTC
    sign = 1 if text[0] == "+" else -1
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 14 or minutes > 59:
        raise ValueError("no such offset")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def date_range(request, name: str, *, zone: tzinfo = UTC) -> tuple[datetime | None, datetime | None]:
    """[since, until) that every ``name`` value allows at once (``ge..&le..`` is a range); None: open."""
    since, until = None, None
    for text in values(request, name):
        if "," in text:
            raise FhirError.not_supported(f"{name}: a list of dates (OR) is not supported; send a range "
                                          "with ge and le.", expression=[name])
        lo, hi = parse_date(text, name, zone=zone).bounds(name)
        since = lo if since is None or (lo is not None and lo > since) else since
        until = hi if until is None or (hi is not None and hi < until) else until
    return since, until


def as_dates(since: datetime | None, until: datetime | None) -> tuple[date | None, date | None]:
    """[since, until) of instants as [first, after) of whole dates: a date matches when its midnight does."""
    def first_midnight_from(instant: datetime | None) -> date | None:
        if instant is None:
            return None
        day = instant.date()
        return day if instant.time() == datetime.min.time() else day + timedelta(days=1)

    return first_midnight_from(since), first_midnight_from(until)


def parse_token(text: str) -> tuple[str | None, str]:
    """``(system, code)`` from ``system|code``; ``|code`` is "no system" (``""``), plain ``code`` any system."""
    if "|" not in text:
        return None, text
    system, code = text.split("|", 1)
    return system, code


def string_lookup(modifier: str) -> str:
    """The ORM lookup of a FHIR string search: starts with by default, ``:exact`` and ``:contains``."""
    return {"": "istartswith", "exact": "exact", "contains": "icontains"}[modifier]


STRING_MODIFIERS = ("", ":exact", ":contains")


def string_names(*names: str) -> tuple[str, ...]:
    """``name``, ``name:exact`` and ``name:contains`` of each string parameter, for ``check_params``."""
    return tuple(f"{name}{modifier}" for name in names for modifier in STRING_MODIFIERS)


def string_filter(request, name: str, fields: Iterable[str]) -> Q:
    """Rows whose ``fields`` match every ``name`` value (each a comma's OR): starts with, any case, by
    default; ``name:exact`` whole and exact; ``name:contains`` anywhere, any case."""
    wanted = Q()
    for modifier in STRING_MODIFIERS:
        lookup = string_lookup(modifier.lstrip(":"))
        for value in values(request, name + modifier):
            either = Q(pk__in=[])
            for text in value.split(","):
                for field in fields:
                    either |= Q(**{f"{field}__{lookup}": text.strip()})
            wanted &= either
    return wanted


def boolean(request, name: str) -> bool | None:
    """A ``true``/``false`` parameter, or None when not sent."""
    value = one(request, name)
    if value is None:
        return None
    if value not in ("true", "false"):
        raise FhirError.invalid(f"{name} is true or false (got “{value}”).", expression=[name])
    return value == "true"
