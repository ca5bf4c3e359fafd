"""The due engine: when a course's next sessions are due.

Pure Python on purpose (dates in, windows out, no ORM), so the rules in
docs/DOMAIN.md "Protocols" can be tested exhaustively without a database and the
worklist, the booking screen and the reminder sweep all read the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple


@dataclass(frozen=True)
class Spacing:
    """Days allowed after the previous session: earliest, target and latest."""

    earliest: int
    target: int  # the lower value when the target alternates
    latest: int
    target_alt: int | None = None  # the higher alternating value, e.g. 4 for "3 or 4"


@dataclass(frozen=True)
class PhaseRule:
    """One phase of a protocol: how many sessions, and the gap before each."""

    name: str
    sessions: int | None  # None = open-ended
    spacing: Spacing
    # Used instead of `spacing` when a clinician switched the course to weekly.
    weekly_spacing: Spacing | None = None


@dataclass(frozen=True)
class ProtocolRule:
    """A protocol as data: ordered phases, and how late the first session may be."""

    slug: str
    phases: tuple[PhaseRule, ...]
    first_session_latest_days: int = 7


@dataclass(frozen=True)
class PhaseRestart:
    """A clinician restarted a phase after a lapse."""

    after_completed: int  # completed-session count at the moment of restart
    phase_index: int  # which phase restarts (index into ProtocolRule.phases)
    on: date  # the next session is due like a first session from this date


@dataclass(frozen=True)
class CourseFacts:
    """What the engine needs to know about one course."""

    start_date: date
    # Only completed sessions: cancelled and no-show sessions never count.
    completed: tuple[date, ...] = ()
    booked: tuple[date, ...] = ()  # booked, not yet completed
    maintenance_frequency: str = "default"  # or "weekly"
    restart: PhaseRestart | None = None


@dataclass(frozen=True)
class DueWindow:
    """When one session of a course is due."""

    number: int  # 1-based session number in the course
    phase: str
    phase_index: int
    earliest: date
    target: date
    latest: date


@dataclass(frozen=True)
class PlannedSession(DueWindow):
    """A row of the plan: a due window, with its booking where one exists."""

    booked: date | None
    status: str  # "booked" | "due" | "overdue" | "projected"


class Timing:
    """Where a course stands against its next due window."""

    ON_TRACK = "on_track"  # before the window opens, or the next session is booked
    DUE = "due"  # inside the window and not booked: the front desk should call
    OVERDUE = "overdue"  # past the latest day
    LAPSED = "lapsed"  # well past latest: a clinician must review before it resumes
    COMPLETED = "completed"  # a finite protocol with every session done


@dataclass(frozen=True)
class CourseOutlook:
    """Everything a screen needs about a course's schedule, computed at once."""

    sessions_completed: int
    phase: str | None  # phase of the next session (None when completed)
    phase_index: int | None
    next_due: DueWindow | None  # None when the protocol is finished
    plan: tuple[PlannedSession, ...]
    timing: str


ESKETAMINE_TRD = ProtocolRule(
    slug="esketamine-trd",
    phases=(
        PhaseRule("Induction", 8, Spacing(2, 3, 5, target_alt=4)),
        PhaseRule("Maintenance weeks 5-8", 4, Spacing(5, 7, 10)),
        PhaseRule(
            "Maintenance every 2 weeks",
            None,
            Spacing(10, 14, 18),
            weekly_spacing=Spacing(5, 7, 10),
        ),
    ),
)
ESKETAMINE_MDSI = ProtocolRule(
    slug="esketamine-mdsi",
    phases=(PhaseRule("Induction", 8, Spacing(2, 3, 5, target_alt=4)),),
)
KETAMINE_IV_SERIES = ProtocolRule(
    slug="ketamine-iv-series",
    phases=(
        PhaseRule("Induction", 6, Spacing(2, 2, 5, target_alt=3)),
        PhaseRule("Monthly boosters", None, Spacing(21, 28, 42)),
    ),
)
KETAMINE_IV_WEEKLY = ProtocolRule(
    slug="ketamine-iv-weekly",
    phases=(
        PhaseRule("Induction", 6, Spacing(5, 7, 10)),
        PhaseRule("Monthly boosters", None, Spacing(21, 28, 42)),
    ),
)
# The data migration installs the standard protocols from here.
STANDARD_PROTOCOLS: dict[str, ProtocolRule] = {
    rule.slug: rule
    for rule in (
        ESKETAMINE_TRD,
        ESKETAMINE_MDSI,
        KETAMINE_IV_SERIES,
        KETAMINE_IV_WEEKLY,
    )
}


class _Slot(NamedTuple):
    phase_index: int
    # Position of the gap before this session within its phase (0 = first gap),
    # or None when the session is due like a first session (session 1, or the
    # first session after a restart), which has no gap before it.
    gap_index: int | None


def _locate(
    protocol: ProtocolRule, number: int, restart: PhaseRestart | None
) -> _Slot | None:
    # Sessions up to the restart keep their original phases; the restarted phase
    # then needs its full session count again, counted from the restart.
    if restart is not None and number > restart.after_completed:
        fresh = restart.after_completed + 1
        phase_indexes = range(restart.phase_index, len(protocol.phases))
    else:
        fresh = 1
        phase_indexes = range(len(protocol.phases))
    first = fresh
    for index in phase_indexes:
        sessions = protocol.phases[index].sessions
        if sessions is None or number < first + sessions:
            if number == fresh:
                return _Slot(index, None)
            # Alternation is by position in the phase, not by what happened; a
            # fresh start has no gap, so its phase counts gaps from the next one.
            return _Slot(index, number - max(first, fresh + 1))
        first += sessions
    return None


def phase_for_session(
    protocol: ProtocolRule, number: int, restart: PhaseRestart | None = None
) -> int | None:
    """Return the phase index of session `number` (1-based).

    Returns None for a number past the end of a protocol with no open-ended
    phase. With a restart, the session after the restart is the first session
    of the restarted phase and later phases follow its full count.
    """
    slot = _locate(protocol, number, restart)
    return None if slot is None else slot.phase_index


def _window(
    protocol: ProtocolRule, facts: CourseFacts, number: int, anchor: date | None
) -> DueWindow | None:
    slot = _locate(protocol, number, facts.restart)
    if slot is None:
        return None
    phase = protocol.phases[slot.phase_index]
    if slot.gap_index is None:
        restart = facts.restart
        restarted = restart is not None and number == restart.after_completed + 1
        start = restart.on if restarted else facts.start_date
        earliest = target = start
        latest = start + timedelta(days=protocol.first_session_latest_days)
    else:
        assert anchor is not None, "a session after the first needs a previous date"
        weekly = (
            facts.maintenance_frequency == "weekly" and phase.weekly_spacing is not None
        )
        spacing = phase.weekly_spacing if weekly else phase.spacing
        assert spacing is not None
        alternate = spacing.target_alt is not None and slot.gap_index % 2 == 1
        target_days = spacing.target_alt if alternate else spacing.target
        earliest = anchor + timedelta(days=spacing.earliest)
        target = anchor + timedelta(days=target_days)
        latest = anchor + timedelta(days=spacing.latest)
    return DueWindow(number, phase.name, slot.phase_index, earliest, target, latest)


def next_due(protocol: ProtocolRule, facts: CourseFacts) -> DueWindow | None:
    """Return the due window of the next session, anchored on the last completed one.

    Returns None when a protocol with no open-ended phase has every session
    completed. Session 1, and the first session after a restart, are due from
    the start (or restart) date to `first_session_latest_days` later.
    """
    completed = sorted(facts.completed)
    anchor = completed[-1] if completed else None
    return _window(protocol, facts, len(completed) + 1, anchor)


def _last_planned_number(
    protocol: ProtocolRule, next_number: int, restart: PhaseRestart | None, stop: int | None = None
) -> int:
    # Walk the finite phases to the first open-ended session; a protocol that
    # never gets there is planned through its last session. ``stop`` caps the
    # walk: a plan limited to its first rows need not find the end.
    number = next_number
    slot = _locate(protocol, number, restart)
    while slot is not None and protocol.phases[slot.phase_index].sessions is not None:
        if stop is not None and number >= stop:
            return stop
        following = _locate(protocol, number + 1, restart)
        if following is None:
            return number
        number, slot = number + 1, following
    if stop is not None and number >= stop:
        return stop
    if number == next_number:
        # Already open-ended: keep a few sessions ahead so the desk can book them.
        return next_number + 4
    # The finite phases, then the first four open-ended sessions.
    return number + 3


def plan(
    protocol: ProtocolRule, facts: CourseFacts, today: date, limit: int | None = None
) -> tuple[PlannedSession, ...]:
    """Return the next sessions of the course, each with its window and status.

    Rows run from the next session through the fourth open-ended session (at
    least five rows once open-ended), or through the last session of a finite
    protocol; empty when the protocol is finished. The k-th booked date belongs
    to the k-th row, and each row chains from the row before: its booked date
    where booked, else its target. Status is "booked", else "overdue" after
    latest, "due" from earliest, otherwise "projected".
    """
    completed = sorted(facts.completed)
    anchor = completed[-1] if completed else None
    return _plan(protocol, facts, today, limit, _window(protocol, facts, len(completed) + 1, anchor), anchor)


def _plan(protocol: ProtocolRule, facts: CourseFacts, today: date, limit: int | None,
          next_window: DueWindow | None, anchor: date | None) -> tuple[PlannedSession, ...]:
    # ``next_window`` is ``next_due``'s answer, the plan's first row: ``outlook`` computes it once for
    # the window, the plan and the timing alike.
    if next_window is None:
        return ()
    booked = sorted(facts.booked)
    first = next_window.number
    # The first `limit` rows only (a sweep over every course needs just the next one).
    last = _last_planned_number(protocol, first, facts.restart,
                                stop=None if limit is None else first + limit - 1)
    rows: list[PlannedSession] = []
    for offset, number in enumerate(range(first, last + 1)):
        window = next_window if offset == 0 else _window(protocol, facts, number, anchor)
        assert window is not None
        booked_on = booked[offset] if offset < len(booked) else None
        if booked_on is not None:
            status = "booked"
        elif today > window.latest:
            status = "overdue"
        elif window.earliest <= today:
            status = "due"
        else:
            status = "projected"
        # Field by field, not ``asdict``: its deep copy was most of the due-visit sweep's time.
        rows.append(PlannedSession(number=window.number, phase=window.phase, phase_index=window.phase_index,
                                   earliest=window.earliest, target=window.target, latest=window.latest,
                                   booked=booked_on, status=status))
        anchor = booked_on if booked_on is not None else window.target
    return tuple(rows)


def timing(
    protocol: ProtocolRule, facts: CourseFacts, today: date, lapse_after_days: int = 14
) -> str:
    """Return the course's Timing on `today` against its next due window.

    COMPLETED when there is no next session; LAPSED more than
    `lapse_after_days` after latest; OVERDUE after latest; DUE inside the
    window when the next session is not booked; otherwise ON_TRACK.
    """
    return _timing(next_due(protocol, facts), facts, today, lapse_after_days)


def _timing(window: DueWindow | None, facts: CourseFacts, today: date, lapse_after_days: int) -> str:
    if window is None:
        return Timing.COMPLETED
    # Lateness wins over a booking: a session booked past the window does not
    # make an overdue course on track, and a lapsed one still needs review.
    if today > window.latest + timedelta(days=lapse_after_days):
        return Timing.LAPSED
    if today > window.latest:
        return Timing.OVERDUE
    if window.earliest <= today and not facts.booked:
        return Timing.DUE
    return Timing.ON_TRACK


def outlook(
    protocol: ProtocolRule, facts: CourseFacts, today: date, lapse_after_days: int = 14,
    plan_rows: int | None = None,
) -> CourseOutlook:
    """Return the next window, plan and timing of a course in one value.

    ``plan_rows`` limits the plan to its first rows (all of them when None).
    """
    # The next window once, shared by the plan's first row and the timing: a sweep computes an
    # outlook for every active course, and each of them finding it again was most of the engine's time.
    completed = sorted(facts.completed)
    anchor = completed[-1] if completed else None
    window = _window(protocol, facts, len(completed) + 1, anchor)
    return CourseOutlook(
        sessions_completed=len(completed),
        phase=None if window is None else window.phase,
        phase_index=None if window is None else window.phase_index,
        next_due=window,
        plan=_plan(protocol, facts, today, plan_rows, window, anchor),
        timing=_timing(window, facts, today, lapse_after_days),
    )
