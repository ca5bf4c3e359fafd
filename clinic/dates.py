"""The range of dates the system accepts as input, so calendar arithmetic on them cannot overflow.

Python's dates end at 0001-01-01 and 9999-12-31; a day at either end has no
neighbour, a wall-clock time there may have no UTC instant, and a session's
end or a due window would fall off the calendar (``OverflowError``, a 500).
Dates a person types for scheduling (a booking, a board day, a search from/to)
must lie in ``FIRST_DAY`` .. ``LAST_DAY``; anything outside is a typo, refused
with a message naming the field.
"""

from __future__ import annotations

from datetime import date, datetime

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
OUT_OF_RANGE = f"Use a date between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}."


def in_range(value: date | datetime) -> bool:
    """Whether ``value`` (a date, or a date-time read at its own offset) is within the accepted range."""
    day = value.date() if isinstance(value, datetime) else value
    return FIRST_DAY <= day <= LAST_DAY
