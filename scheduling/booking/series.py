"""Booking a whole phase at once: "Mondays and Thursdays at 09:00 for the eight induction sessions"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from clinic.errors import ClinicError, Conflict, Invalid, NotAllowed
from clinic.roles import CLINICIAN, MANAGER, has_role
from protocols import due
from protocols.models import TreatmentCourse
from scheduling.booking import authorisations
from scheduling.booking import services as booking
from scheduling.booking.availability import Slot, find_slots
from scheduling.booking.selectors import course_dates
from scheduling.models import Chair, Session

MAX_SERIES_DAYS = 180
OPEN_PHASE_SERIES_LENGTH = 4
# Problems a clinician's or manager's reason lets a series book through (the prior authorisation's);
# any other problem stops the series.
AUTHORISATION_CODES = frozenset({"no_authorisation", "authorisation_units_used"})


@dataclass
class Occurrence:
    number: int
    phase: str
    start: datetime
    end: datetime
    due: due.DueWindow
    problems: list[dict] = field(default_factory=list)
    alternative: Slot | None = None
    session: Session | None = None


def _sessions_left_in_phase(rule: due.ProtocolRule, first: due.DueWindow, restart) -> int:
    if rule.phases[first.phase_index].sessions is None:
        return OPEN_PHASE_SERIES_LENGTH
    count, number = 0, first.number
    while due.phase_for_session(rule, number, restart) == first.phase_index:
        count += 1
        number += 1
    return count


def _occurrence_days(first_day: date, weekdays: list[int], count: int) -> list[date]:
    days, day = [], first_day
    while len(days) < count and (day - first_day).days <= MAX_SERIES_DAYS:
        if day.weekday() in weekdays:
            days.append(day)
        day += timedelta(days=1)
    return days


def plan_series(*, by, course: TreatmentCourse, chair: Chair, first_start: datetime, weekdays: list[int],
                now: datetime | None = None) -> list[Occurrence]:
    """Propose every remaining session of the current phase at the same local time on ``weekdays``.

    Each occurrence is checked as if the earlier ones were booked (spacing,
    hours, closures, chair, patient, clinician capacity, and the prior
    authorisations' days and units, the earlier occurrences using units); one
    with a problem carries the problem and, unless its only problem is the
    authorisation's, the nearest free alternative inside its window.
    """
    now = now or timezone.now()
    course = TreatmentCourse.objects.select_related("patient", "protocol").get(pk=course.pk)
    booking.check_course_bookable(course)
    location = chair.location
    weekdays = sorted(set(weekdays))
    if not weekdays or any(day not in range(7) for day in weekdays):
        raise Invalid("Choose at least one weekday (0 = Monday ... 6 = Sunday).",
                      fields={"weekdays": ["Weekdays are numbers 0 (Monday) to 6 (Sunday)."]})
    local_first = location.local(first_start)
    if local_first.weekday() not in weekdays:
        raise Invalid("The first session must fall on one of the chosen weekdays.",
                      fields={"first_start": ["Not on one of the chosen weekdays."]})
    rule = course.protocol.rule()
    restart = course.restart()
    completed, booked = course_dates(course.pk)
    taken = list(completed) + list(booked)
    first_window = due.next_due(rule, course.facts(completed=taken))
    if first_window is None:
        raise Conflict("Every session of this course's protocol is already booked or given.", code="course_complete")
    count = _sessions_left_in_phase(rule, first_window, restart)
    clock: time = local_first.time().replace(tzinfo=None)
    duration = timedelta(minutes=course.protocol.chair_minutes)
    occurrences: list[Occurrence] = []
    with transaction.atomic():
        covers = None
        if authorisations.checked(course, entered=authorisations.entered_by_orm(course.pk)):
            authorisations.lock_covers(course.pk)
            covers = authorisations.covers_by_orm(course.pk, exclude_session_id=None)
        planned: list[date] = []
        for day in _occurrence_days(local_first.date(), weekdays, count):
            window = due.next_due(rule, course.facts(completed=taken))
            start = location.at(day, clock)
            occurrence = Occurrence(number=window.number, phase=window.phase, start=start, end=start + duration,
                                    due=window)
            if not window.earliest <= day <= window.latest:
                occurrence.problems.append({
                    "code": "outside_due_window",
                    "detail": f"Due {window.earliest:%a %b %-d} to {window.latest:%a %b %-d}.",
                })
            try:
                booking.check_slot_for(course=course, chair=chair, start=start, now=now)
            except ClinicError as refusal:
                occurrence.problems.append({"code": refusal.code, "detail": refusal.detail})
            beyond = None if covers is None else authorisations.problem(covers, day, planned=tuple(planned))
            if any(problem["code"] not in AUTHORISATION_CODES for problem in occurrence.problems):
                alternatives = find_slots(course=course, location=location, date_from=window.earliest,
                                          date_to=window.latest, limit=1, now=now, window=window,
                                          skip_days={*taken})
                occurrence.alternative = alternatives[0] if alternatives else None
            if beyond is not None:
                occurrence.problems.append({"code": beyond.code, "detail": beyond.detail})
            occurrences.append(occurrence)
            taken.append(day)
            planned.append(day)
        # Nothing is written by a plan; the row locks taken by the checks end here.
        transaction.set_rollback(True)
    if len(occurrences) < count:
        raise Invalid(f"Only {len(occurrences)} of {count} sessions fit in {MAX_SERIES_DAYS} days on those weekdays.",
                      fields={"weekdays": ["Too few weekdays for the phase."]})
    return occurrences


@transaction.atomic
def book_series(*, by, course: TreatmentCourse, chair: Chair, first_start: datetime, weekdays: list[int],
                authorisation_reason: str = "", now: datetime | None = None) -> list[Occurrence]:
    """Book every occurrence of ``plan_series``, all or none.

    Refuses with 409 ``series_conflict`` (listing every occurrence and its
    problems) when any occurrence has a problem; a race lost on one of them
    rolls back the whole series. Occurrences whose only problem is the prior
    authorisation (``no_authorisation``, ``authorisation_units_used``: past its
    last day, or beyond its units counted through the series) are booked with a
    clinician's or manager's ``authorisation_reason``, recorded on each of them
    (403 ``authorisation_override_not_allowed`` for anyone else).
    """
    occurrences = plan_series(by=by, course=course, chair=chair, first_start=first_start, weekdays=weekdays, now=now)
    reason = (authorisation_reason or "").strip()
    beyond = [occurrence for occurrence in occurrences if occurrence.problems]
    if reason and beyond and all(problem["code"] in AUTHORISATION_CODES
                                 for occurrence in beyond for problem in occurrence.problems):
        if not has_role(by, CLINICIAN, MANAGER):
            raise NotAllowed(f"{len(beyond)} sessions of the series are beyond the course's prior authorisation; "
                             "only a clinician or a manager may book beyond it.",
                             code="authorisation_override_not_allowed")
        for occurrence in beyond:
            occurrence.problems = []
    if any(occurrence.problems for occurrence in occurrences):
        raise Conflict(
            "Some sessions of the series cannot be booked as proposed; nothing was booked.",
            code="series_conflict",
            extra={"occurrences": [serialize_occurrence(occurrence) for occurrence in occurrences]},
        )
    for occurrence in occurrences:
        occurrence.session = booking.book_session(by=by, course=course, chair=chair, start=occurrence.start,
                                                   authorisation_reason=reason, now=now)
    return occurrences


def serialize_occurrence(occurrence: Occurrence) -> dict:
    zone = occurrence.start.tzinfo
    alternative = occurrence.alternative
    return {
        "number": occurrence.number,
        "phase": occurrence.phase,
        "start": occurrence.start.isoformat(),
        "end": occurrence.end.astimezone(zone).isoformat(),
        "due": {"earliest": occurrence.due.earliest.isoformat(), "target": occurrence.due.target.isoformat(),
                "latest": occurrence.due.latest.isoformat()},
        "problems": occurrence.problems,
        "alternative": None if alternative is None else {
            "start": alternative.start.astimezone(zone).isoformat(),
            "end": alternative.end.astimezone(zone).isoformat(),
            "chair": alternative.chair.pk,
            "chair_name": alternative.chair.name,
        },
        "session": occurrence.session.pk if occurrence.session else None,
    }
