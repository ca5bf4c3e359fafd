"""Outcome measures at sessions: recording them, the item-9 alert, the default cadence and per-course outcomes.

Scoring is the pure ``patients.measures``; the measure itself is a patient
record (``patients.OutcomeMeasure``). What needs sessions and courses lives
here, because scheduling may import patients and protocols but not the other
way round (docs/DOMAIN.md "Outcome measures", "A session, step by step" step 3).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from django.db import transaction
from django.db.models import QuerySet, prefetch_related_objects
from django.utils import timezone

from clinic.errors import Conflict, Invalid, NotAllowed
from clinic.roles import CLINICIAN, FRONT_DESK, has_role
from patients import measures
from patients.models import OutcomeMeasure, Patient
from protocols import due
from protocols.models import TreatmentCourse
from scheduling.models import Session, SessionMeasure, SessionStatus

# Front desk hands the patient a patient-rated form and types in the answers;
# managers only read.
MEASURE_RECORDERS = (CLINICIAN, FRONT_DESK)
# Weekly during induction: a PHQ-9 is due when none was taken in this many days
# before the session's date (so a weekly rhythm survives a session a day early).
INDUCTION_LOOKBACK_DAYS = 6


def _zone(session: Session) -> tzinfo:
    # Recorded-history sessions may have no location; they were dated in the clinic's default zone.
    return session.location.zone if session.location_id else timezone.get_default_timezone()


@transaction.atomic
def record_measure(*, by, patient: Patient, instrument: str, items: list[int], taken_at: datetime | None = None,
                   session: Session | None = None, now: datetime | None = None) -> OutcomeMeasure:
    """Score and record one completed PHQ-9, GAD-7 or MADRS, linked to the session it was taken at (if any).

    Clinicians and front desk may record (403 ``not_allowed`` otherwise); MADRS
    is clinician-rated (403 ``clinician_only`` for front desk). Answers that
    cannot be scored are 400 naming ``items``. ``taken_at`` defaults to now and
    may not be in the future. A session must be the patient's (400 ``session``),
    still standing (409 ``invalid_state`` when cancelled or a no-show), and the
    measure taken on its local day (400 ``taken_at``). An archived patient's
    record is read-only (409 ``patient_archived``). A PHQ-9 with item 9 above 0
    comes back with ``item9_positive`` set: dosing waits for a clinician.
    """
    if not has_role(by, *MEASURE_RECORDERS):
        raise NotAllowed("Only clinicians and front desk may record outcome measures.", code="not_allowed")
    spec = measures.spec_for(instrument)
    if spec.rated_by == "clinician" and not has_role(by, CLINICIAN):
        raise NotAllowed(f"The {spec.label} is clinician-rated: a clinician records it.", code="clinician_only")
    result = measures.score(instrument, items)
    now = now or timezone.now()
    taken_at = taken_at or now
    if taken_at > now:
        raise Invalid("A measure cannot be taken in the future.",
                      fields={"taken_at": ["Must not be in the future."]})
    if patient.is_archived:
        raise Conflict("This patient's record is archived and cannot be changed.", code="patient_archived")
    if session is not None:
        session = Session.objects.select_related("location").get(pk=session.pk)
        _check_session_fits(session=session, patient=patient, taken_at=taken_at)
    measure = OutcomeMeasure(
        patient=patient, instrument=spec.slug, items=list(items), total=result.total, band=result.band,
        taken_at=taken_at, recorded_by=by, item9_positive=result.item9_positive,
    )
    measure.full_clean()
    measure.save()
    if session is not None:
        SessionMeasure.objects.create(session=session, measure=measure)
    return measure


def _check_session_fits(*, session: Session, patient: Patient, taken_at: datetime) -> None:
    if session.patient_id != patient.pk:
        raise Invalid("That session is another patient's.", fields={"session": ["This session is not the patient's."]})
    if not session.is_standing:
        raise Conflict(f"A {session.get_status_display().lower()} session cannot have a measure.",
                       code="invalid_state", extra={"status": session.status})
    taken_on = taken_at.astimezone(_zone(session)).date()
    if taken_on != session.local_date:
        raise Invalid(
            "A measure linked to a session is taken on the session's day.",
            fields={"taken_at": [f"The session is on {session.local_date:%Y-%m-%d}; this is {taken_on:%Y-%m-%d}."]},
        )


@transaction.atomic
def acknowledge_item9_alert(*, by, measure: OutcomeMeasure, note: str, now: datetime | None = None) -> OutcomeMeasure:
    """Record a clinician's suicide-risk assessment of a PHQ-9 item-9 alert, which lets dosing go ahead.

    Clinicians only (403 ``clinician_only``). 409 ``invalid_state`` when the
    measure raised no alert or it is already acknowledged; 400 naming ``note``
    when the assessment is blank.
    """
    if not has_role(by, CLINICIAN):
        raise NotAllowed("Only a clinician may acknowledge an item-9 alert.", code="clinician_only")
    # Locked so two clinicians acknowledging at once are serialised: the second
    # sees the first's assessment and gets 409 instead of overwriting it.
    locked = OutcomeMeasure.objects.select_for_update().get(pk=measure.pk)
    locked.acknowledge_alert(by=by, note=note, now=now)
    locked.save(update_fields=["alert_acknowledged_at", "alert_acknowledged_by", "alert_note"])
    return locked


def unacknowledged_item9_alert(patient: Patient) -> OutcomeMeasure | None:
    """The patient's latest PHQ-9 whose item-9 alert no clinician has acknowledged, or None.

    Any open alert counts, however old: the session workflow refuses to dose
    until a clinician has assessed it.
    """
    return (OutcomeMeasure.objects.filter(patient=patient).open_item9_alerts()
            .order_by("-taken_at", "-id").first())


def measures_due(sessions: Iterable[Session]) -> dict[int, bool]:
    """``{session id: True when the default cadence calls for a PHQ-9 at it}`` in a fixed number of queries.

    The cadence (docs/DOMAIN.md "Outcome measures"): at baseline, the course's
    first session; during the first phase (induction), weekly: due when the
    patient has no PHQ-9 in the 6 days before the session's local date; after
    the first phase (maintenance), at every session. A session's number is one
    more than the course's completed sessions that started before it, and its
    phase follows from that number as the due engine counts it (restarts
    included). Cancelled and no-show sessions, and sessions past the end of a
    finished protocol, are never due. A measure taken on the session's own day
    does not change the answer, so the answer is the same before and after it
    is recorded.
    """
    sessions = [session for session in sessions if session.pk is not None]
    if not sessions:
        return {}
    prefetch_related_objects(sessions, "course__protocol__phases", "location")
    course_ids = {session.course_id for session in sessions}
    completed_starts: dict[int, list[datetime]] = defaultdict(list)
    for course_id, start in (Session.objects.filter(course_id__in=course_ids, status=SessionStatus.DISCHARGED)
                             .values_list("course_id", "start")):
        completed_starts[course_id].append(start)
    rules: dict[int, due.ProtocolRule] = {}
    answers: dict[int, bool] = {}
    lookbacks: dict[int, tuple[datetime, datetime]] = {}
    for session in sessions:
        if not session.is_standing:
            answers[session.pk] = False
            continue
        course = session.course
        rule = rules.setdefault(course.protocol_id, course.protocol.rule())
        number = 1 + sum(1 for start in completed_starts[course.pk] if start < session.start)
        phase_index = due.phase_for_session(rule, number, course.restart())
        if phase_index is None:
            answers[session.pk] = False
        elif number == 1 or phase_index > 0:
            answers[session.pk] = True
        else:
            zone = _zone(session)
            day = session.local_date
            lookbacks[session.pk] = (
                datetime.combine(day - timedelta(days=INDUCTION_LOOKBACK_DAYS), time(0), tzinfo=zone),
                datetime.combine(day, time(0), tzinfo=zone),
            )
    if lookbacks:
        taken: dict[int, list[datetime]] = defaultdict(list)
        rows = OutcomeMeasure.objects.filter(
            patient_id__in={session.patient_id for session in sessions if session.pk in lookbacks},
            instrument=measures.PHQ9,
            taken_at__gte=min(start for start, _ in lookbacks.values()),
            taken_at__lt=max(end for _, end in lookbacks.values()),
        ).values_list("patient_id", "taken_at")
        for patient_id, taken_at in rows:
            taken[patient_id].append(taken_at)
        for session in sessions:
            if session.pk in lookbacks:
                start, end = lookbacks[session.pk]
                answers[session.pk] = not any(start <= at < end for at in taken[session.patient_id])
    return answers


def measure_due(session: Session) -> bool:
    """True when the default cadence calls for a PHQ-9 at ``session`` (see ``measures_due``)."""
    return measures_due([session])[session.pk]


def _course_end(course: TreatmentCourse) -> date | None:
    ended = course.completed_at or course.discontinued_at
    return timezone.localdate(ended) if ended else None


def outcomes_by_course(courses: Iterable[TreatmentCourse]) -> dict[int, dict[str, dict[str, Any]]]:
    """``{course id: course_outcomes(course)}`` for many courses in one query.

    A course's measures are those linked to its sessions, plus the patient's
    measures given between visits from the course's start date to its end
    (completed or discontinued; open courses run to today). A measure linked to
    another course's session never counts.
    """
    courses = list(courses)
    if not courses:
        return {}
    zone = timezone.get_current_timezone()
    # A day's margin: a session's local day can start before midnight here; rows are then sorted out exactly.
    since = datetime.combine(min(course.start_date for course in courses), time(0), tzinfo=zone) - timedelta(days=1)
    rows = list(
        OutcomeMeasure.objects.filter(patient_id__in={course.patient_id for course in courses}, taken_at__gte=since)
        .order_by("taken_at", "id")
        .values("id", "patient_id", "instrument", "total", "band", "taken_at", "session_link__session_id",
                "session_link__session__course_id", "session_link__session__local_date")
    )
    found: dict[int, dict[str, dict[str, Any]]] = {}
    for course in courses:
        end = _course_end(course)
        points: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            if row["patient_id"] != course.patient_id:
                continue
            linked_course = row["session_link__session__course_id"]
            if linked_course is not None:
                if linked_course != course.pk:
                    continue
                day = row["session_link__session__local_date"]
            else:
                day = timezone.localdate(row["taken_at"], zone)
                if day < course.start_date or (end is not None and day > end):
                    continue
            points[row["instrument"]].append({
                "measure": row["id"], "date": day, "taken_at": row["taken_at"], "total": row["total"],
                "band": row["band"], "session": row["session_link__session_id"],
            })
        found[course.pk] = {instrument: _summarise(instrument, series) for instrument, series in points.items()}
    return found


def _summarise(instrument: str, points: list[dict[str, Any]]) -> dict[str, Any]:
    baseline, latest = points[0], points[-1]
    # One measure is only a baseline: nothing has changed yet, so neither flag can be earned.
    followed_up = len(points) > 1
    return {
        "instrument": instrument,
        "label": measures.INSTRUMENTS[instrument].label,
        "baseline": baseline,
        "latest": latest,
        "change": latest["total"] - baseline["total"],
        "response": followed_up and measures.is_response(baseline["total"], latest["total"]),
        "remission": followed_up and measures.is_remission(instrument, latest["total"]),
        "points": points,
    }


def course_outcomes(course: TreatmentCourse) -> dict[str, dict[str, Any]]:
    """Per instrument measured during the course: baseline, latest, change, response, remission, points.

    The baseline is the first measure on or after the course's start; change
    is latest minus baseline (negative = better); response is a drop of 50%
    or more and remission the instrument's cut-off (PHQ-9 below 5, MADRS 10
    or below), both False until there is a measure after the baseline. Points
    (measure, date, taken_at, total, band, session) are in time order for
    charts. One query (see ``outcomes_by_course``).
    """
    return outcomes_by_course([course])[course.pk]


def measures_for_lists(queryset: QuerySet[OutcomeMeasure] | None = None) -> QuerySet[OutcomeMeasure]:
    """Measures with what lists show (session link, who recorded, who acknowledged) in one query."""
    queryset = queryset if queryset is not None else OutcomeMeasure.objects.all()
    return queryset.select_related("session_link", "recorded_by", "alert_acknowledged_by")
