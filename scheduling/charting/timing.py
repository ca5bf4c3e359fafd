"""Charted times: when something happened, beside the moment it was entered (docs/DOMAIN.md).

Every time a clinician charts (arrival, vital signs, each device, the infusion's
start and end, an assessment, discharge, leaving) may be entered after the
fact, never in the future. A time more than ``LATE_AFTER`` before its entry is
a *late entry*: it needs the clinician's reason, and the chart and the REMS
form show it as late, with the reason.

Pure functions over times: no queries, so the API, the pages and the demo
loader all read the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from clinic.errors import Invalid

LATE_AFTER = timedelta(minutes=15)
# Arrival may not be charted more than this before the booked start.
EARLIEST_ARRIVAL = timedelta(hours=2)
# Less rest than this between two esketamine devices needs a reason (the label: 5 minutes after each device).
DEVICE_REST = timedelta(minutes=5)
# Discharge vital signs are taken within this before the discharge.
DISCHARGE_VITALS_WITHIN = timedelta(minutes=15)


@dataclass(frozen=True)
class Charted:
    """A charted time (``at``), the moment it was entered, and the reason if it is a late entry."""

    at: datetime
    entered_at: datetime
    late_reason: str = ""

    @property
    def late(self) -> bool:
        return is_late(self.at, self.entered_at)


def is_late(at: datetime | None, entered_at: datetime | None) -> bool:
    """True when ``at`` was entered more than 15 minutes after it."""
    return at is not None and entered_at is not None and entered_at - at > LATE_AFTER


def hh_mm(moment: datetime, location) -> str:
    return f"{location.local(moment):%H:%M}" if location is not None else f"{moment:%H:%M}"


def charted(value: datetime | None, *, field: str, now: datetime, late_reason: str = "",
            not_before: datetime | None = None, not_before_label: str = "") -> Charted:
    """The time a clinician charts for ``field``: defaults to now, never after now, never before ``not_before``.

    There is no allowance for clocks: a time after the moment of entry is in
    the future (400 naming ``field``). A time more than 15 minutes before its
    entry needs ``late_reason`` (400 naming ``late_reason``); the reason is
    kept only for a late entry.
    """
    moment = value or now
    if moment > now:
        raise Invalid("A recorded time cannot be in the future.", fields={field: ["Cannot be in the future."]})
    if not_before is not None and moment < not_before:
        raise Invalid(f"This cannot be before {not_before_label}.",
                      fields={field: [f"Cannot be before {not_before_label}."]})
    reason = (late_reason or "").strip()
    if is_late(moment, now) and not reason:
        minutes = int((now - moment).total_seconds() // 60)
        raise Invalid(f"This time is {minutes} minutes before it is entered: a late entry needs the reason.",
                      fields={"late_reason": ["A late entry (more than 15 minutes after the fact) needs a reason."]})
    return Charted(at=moment, entered_at=now, late_reason=reason if is_late(moment, now) else "")


def wait_ends_at(*, counted_from: datetime, entered_at: datetime | None, minutes: int) -> datetime:
    """The end of observation: ``minutes`` after the charted start, and never sooner after its entry.

    Observation is counted in real time. The charted first device (or
    infusion end) says when the wait began; but the system only witnessed the
    dose when it was entered, so a start charted earlier than its entry cannot
    shorten the wait the patient really spends in the chair: the wait ends
    ``minutes`` after the later of the two. Charting at the bedside costs
    nothing; a back-dated start costs the patient the minutes, never the rule.
    """
    start = counted_from if entered_at is None else max(counted_from, entered_at)
    return start + timedelta(minutes=minutes)
