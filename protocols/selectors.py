"""Reads about courses that need some thought: session dates, outlooks, timing filters and plans.

Every screen that shows when a course is due (the course API, the worklist,
booking) goes through ``course_outlooks`` so they all read the same answer,
computed in a fixed number of queries however many courses are listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from typing import Protocol as Protocol_

from django.conf import settings
from django.db.models import QuerySet, prefetch_related_objects
from django.utils import timezone

from protocols import due
from protocols.models import CourseStatus, Modality, Protocol, TreatmentCourse

SessionDates = tuple[tuple[date, ...], tuple[date, ...]]


def lapse_after_days() -> int:
    """Days past a window's latest day after which a course is lapsed (setting ``COURSE_LAPSE_AFTER_DAYS``)."""
    return getattr(settings, "COURSE_LAPSE_AFTER_DAYS", 14)


class SessionSource(Protocol_):
    """Where sessions live. Scheduling registers itself at start-up (protocols may not import it)."""

    def dates(self, course_ids: Iterable[int]) -> dict[int, SessionDates]: ...

    def booked_ids(self, course_ids: Iterable[int]) -> dict[int, dict[date, int]]: ...


_session_source: SessionSource | None = None


def register_session_source(source: SessionSource) -> None:
    """Called by the scheduling app's ``ready()``; the dependency points from scheduling to protocols."""
    global _session_source
    _session_source = source


def course_session_dates(course_ids: Iterable[int]) -> dict[int, SessionDates]:
    """Return ``{course id: (completed dates, booked dates)}`` for every id given, dates ascending.

    Completed means the session was given (cancelled and no-show sessions never
    count); booked means booked and not yet given. One set-based query per
    call, through the registered session source.
    """
    ids = list(course_ids)
    if _session_source is None:
        return {course_id: ((), ()) for course_id in ids}
    return _session_source.dates(ids)


def booked_session_ids(course_id: int) -> dict[date, int]:
    """``{local date: session id}`` of the course's booked sessions, for the plan's rows."""
    if _session_source is None:
        return {}
    return _session_source.booked_ids([course_id]).get(course_id, {})


def _rules_by_protocol(protocols: Iterable[Protocol]) -> dict[int, due.ProtocolRule]:
    # Distinct protocols only, phases fetched in one query unless already prefetched.
    unique = list({protocol.pk: protocol for protocol in protocols}.values())
    prefetch_related_objects(unique, "phases")
    return {protocol.pk: protocol.rule() for protocol in unique}


def course_outlooks(courses: Iterable[TreatmentCourse], today: date | None = None, *,
                    dates: dict[int, SessionDates] | None = None, plan_rows: int | None = None,
                    protocols: dict[int, Protocol] | None = None) -> dict[int, due.CourseOutlook]:
    """Return ``{course id: CourseOutlook}`` for many courses at once.

    At most one query for phases (none when prefetched) and one for session
    dates, whatever the number of courses; none for the dates when the caller
    has them already (``dates``, as ``course_session_dates`` returns them).
    ``today`` defaults to the local date. ``plan_rows`` limits each plan to
    its first rows: a sweep over every course needs only the next session,
    and projecting a dozen rows for each of thousands of courses was most of
    its time. ``protocols`` (``{id: protocol}``, phases prefetched) are used
    instead of each course's own protocol, which then need not be loaded.
    """
    courses = list(courses)
    if not courses:
        return {}
    today = today or timezone.localdate()
    rules = _rules_by_protocol(protocols.values() if protocols is not None else (c.protocol for c in courses))
    if dates is None:
        dates = course_session_dates([course.pk for course in courses])
    lapse = lapse_after_days()
    outlooks = {}
    for course in courses:
        completed, booked = dates.get(course.pk, ((), ()))
        facts = course.facts(completed=completed, booked=booked)
        outlooks[course.pk] = due.outlook(rules[course.protocol_id], facts, today, lapse, plan_rows)
    return outlooks


def course_outlook(course: TreatmentCourse, today: date | None = None) -> due.CourseOutlook:
    """Return one course's next window, plan and timing (see ``course_outlooks``)."""
    return course_outlooks([course], today)[course.pk]


def shown_timing(course: TreatmentCourse, outlook: due.CourseOutlook) -> str | None:
    """The timing staff see for a course: the engine's for an active course.

    A completed course is ``completed``; a paused or discontinued course has no
    timing (None), because nobody should be chasing it for a visit.
    """
    if course.status == CourseStatus.ACTIVE:
        return outlook.timing
    if course.status == CourseStatus.COMPLETED:
        return due.Timing.COMPLETED
    return None


def shown_next_due(course: TreatmentCourse, outlook: due.CourseOutlook) -> due.DueWindow | None:
    """The next due window staff see: the engine's for an open course, none for an ended one."""
    return outlook.next_due if course.is_open else None


def course_flags(course: TreatmentCourse, outlook: due.CourseOutlook) -> list[str]:
    """Short machine-readable warnings about a course, for lists and the worklist.

    ``override_on_file``: started with a clinician's eligibility override.
    ``rems_enrolment_missing``: an open esketamine course whose patient is not
    REMS-enrolled (booking is allowed, check-in is not). ``needs_clinician_review``:
    an active course that lapsed. ``phase_restarted``: a clinician restarted a phase.
    ``patient_archived``: the patient's record is archived.
    """
    flags = []
    if course.has_override:
        flags.append("override_on_file")
    if course.is_open and course.modality == Modality.ESKETAMINE_NASAL and not course.patient.is_rems_enrolled:
        flags.append("rems_enrolment_missing")
    if shown_timing(course, outlook) == due.Timing.LAPSED:
        flags.append("needs_clinician_review")
    if course.restart_on is not None:
        flags.append("phase_restarted")
    if course.patient.is_archived:
        flags.append("patient_archived")
    return flags


TIMING_CHOICES = (
    (due.Timing.ON_TRACK, "On track"),
    (due.Timing.DUE, "Due"),
    (due.Timing.OVERDUE, "Overdue"),
    (due.Timing.LAPSED, "Lapsed"),
    (due.Timing.COMPLETED, "Completed"),
)


def courses_with_timing(
    queryset: QuerySet[TreatmentCourse], timing: str, today: date | None = None
) -> QuerySet[TreatmentCourse]:
    """Narrow ``queryset`` to the courses whose shown timing is ``timing`` on ``today``.

    Timing is computed, not stored, so the outlooks of the whole filtered
    queryset are computed in one batch (a fixed number of queries) and the
    result is the same queryset narrowed by id, so pagination and counts stay
    correct. The scheduling app may later replace this with a set-based path.
    """
    candidates = queryset.select_related("patient", "protocol").prefetch_related("protocol__phases")
    if timing != due.Timing.COMPLETED:
        # Only active courses have an engine timing; skip the rest early.
        candidates = candidates.filter(status=CourseStatus.ACTIVE)
    courses = list(candidates)
    outlooks = course_outlooks(courses, today)
    ids = [course.pk for course in courses if shown_timing(course, outlooks[course.pk]) == timing]
    return queryset.filter(pk__in=ids)


def course_plan(course: TreatmentCourse, today: date | None = None) -> list[dict[str, Any]]:
    """The projected sessions of a course: one row per session from the next one on.

    Each row: number, phase, earliest, target, latest, session (the booked
    session's id, or None), booked (date or None) and status (booked, due,
    overdue or projected). An ended course has no plan.
    """
    if not course.is_open:
        return []
    outlook = course_outlook(course, today)
    session_ids = booked_session_ids(course.pk)
    return [
        {
            "number": row.number,
            "phase": row.phase,
            "earliest": row.earliest,
            "target": row.target,
            "latest": row.latest,
            "session": session_ids.get(row.booked) if row.booked else None,
            "booked": row.booked,
            "status": row.status,
        }
        for row in outlook.plan
    ]
