"""The range of dates the system accepts as input, so calendar arithmetic on them cannot overflow.

Python's dates end at 0001-01-01 and 9999-12-31; a day at either end has no
neighbour, a wall-clock time there may have no UTC instant, and a session's
end or a due window would fall off the calendar (``OverflowError``, a 500).
Dates a person types for scheduling (a booking, a board day, a search from/to)
must lie in ``FIRST_DAY`` .. ``LAST_DAY``; anything outside is a typo, refused
with a message naming the field.

``parse_day`` and ``parse_instant`` are the one reader of typed dates and
times: the API and the pages both call them, so a value means the same and is
refused in the same words wherever it is typed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from clinic.errors import Invalid

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
OUT_OF_RANGE = f"Use a date between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}."


def in_range(value: date | datetime) -> bool:
    """Whether ``value`` (a date, or a date-time read at its own offset) is within the accepted range."""
    day = value.date() if isinstance(value, datetime) else value
    return FIRST_DAY <= day <= LAST_DAY


# --- the one parser of typed dates and times, for the API and the pages alike ----------------------------


def parse_day(text: str | None, field: str) -> date | None:
    """A date from ``YYYY-MM-DD``, None when empty; ``Invalid`` naming ``field`` when malformed or out of range."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"“{text}” is not a date (YYYY-MM-DD).", fields={field: ["Use the format YYYY-MM-DD."]}) \
            from None
    if not in_range(day):
        raise Invalid(f"{text} is out of range.", fields={field: [OUT_OF_RANGE]})
    return day


def parse_instant(text: str | None, zone: ZoneInfo, field: str) -> datetime:
    """An aware instant from ``YYYY-MM-DDTHH:MM`` (wall-clock time in ``zone``) or a value with an offset.

    ``Invalid`` naming ``field`` for an empty or malformed value, a date out of
    range, and a wall-clock time that does not exist (see ``at_wall_clock``).
    """
    text = (text or "").strip()
    if not text:
        raise Invalid("Choose a date and time.", fields={field: ["Choose a date and time."]})
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"“{text}” is not a date and time.", fields={field: ["Use the format YYYY-MM-DD HH:MM."]}) \
            from None
    if not in_range(value):
        raise Invalid(f"{text} is out of range.", fields={field: [OUT_OF_RANGE]})
    return at_wall_clock(value, zone, field)


def at_wall_clock(value: datetime, zone: ZoneInfo, field: str) -> datetime:
    """``value`` as an aware instant: taken as is with an offset, else as wall-clock time in ``zone``.

    A wall-clock time that happens twice (01:30 on the night clocks go back)
    is the first one, in daylight time (``fold=0``); a client sends the offset
    to mean the second. One that never happens (the hour skipped when clocks
    go forward) is refused with ``Invalid`` naming ``field``.
    """
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value
    aware = value.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
        message = f"{value:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks skip that hour."
        raise Invalid(message, fields={field: [message]})
    return aware
