"""Demo PHQ-9 histories for the demo courses; deterministic and safe to run twice.

Each course's given (discharged) sessions get a PHQ-9 where the default
cadence calls for one (baseline, weekly in induction, every maintenance
session), recorded through the real service and linked to the session. Scores
start at a baseline of 15-22 and fall over the course, so that, among courses
far enough along, some end in remission, some in response without remission,
and some in a partial response. One patient has an item-9 alert that a
clinician has acknowledged.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth import get_user_model

from clinic.roles import CLINICIAN
from patients import measures
from patients.models import OutcomeMeasure
from protocols import due
from protocols.models import CourseStatus, TreatmentCourse
from scheduling.charting.outcomes import INDUCTION_LOOKBACK_DAYS, acknowledge_item9_alert, record_measure
from scheduling.models import Session, SessionMeasure, SessionStatus

# Where a course is heading, by its place in the list.
TRAJECTORIES = ("remission", "response", "partial")
# Sessions after which a course has had its full effect; earlier courses are part of the way there.
FULL_EFFECT_AFTER_SESSIONS = 8
ALERT_NOTE = ("Suicide-risk assessment: passive thoughts of death on two days this week, no plan, no intent, "
              "no access to means; protective factors reviewed; safety plan updated with the patient. "
              "Cleared to dose today.")


def create_demo_measures(courses: Iterable[TreatmentCourse], *, by=None) -> int:
    """Record PHQ-9 histories for ``courses``' given sessions; returns the number of measures created.

    A course that already has a measure linked to one of its sessions is left
    as it is, so a second run creates nothing. ``by`` is the clinician who
    records them (default: the first active clinician).
    """
    by = by or _a_clinician()
    if by is None:
        return 0
    courses = list(courses)
    alert_shown = OutcomeMeasure.objects.filter(
        patient_id__in=[course.patient_id for course in courses], item9_positive=True
    ).exists()
    created = 0
    for index, course in enumerate(courses):
        if SessionMeasure.objects.filter(session__course=course).exists():
            continue
        sessions = list(Session.objects.filter(course=course, status=SessionStatus.DISCHARGED)
                        .select_related("location").order_by("start"))
        measured = _sessions_due_a_phq9(course, sessions)
        if not measured:
            continue
        rng = random.Random(1000 + index)
        totals = _trajectory(rng, TRAJECTORIES[index % len(TRAJECTORIES)], len(measured),
                             progress=min(1.0, len(sessions) / FULL_EFFECT_AFTER_SESSIONS))
        # The alert goes to a course still under way, where staff will open the patient's record.
        alert_at = 1 if not alert_shown and course.status == CourseStatus.ACTIVE and len(measured) >= 3 else None
        for position, (session, total) in enumerate(zip(measured, totals, strict=True)):
            measure = record_measure(
                by=by, patient=course.patient, instrument=measures.PHQ9,
                items=_items_for(rng, total, item9=1 if position == alert_at else 0),
                # Taken at check-in and entered minutes later: an alert is acknowledged before the dose.
                taken_at=session.start + timedelta(minutes=5), session=session,
                now=session.start + timedelta(minutes=8),
            )
            created += 1
            if position == alert_at:
                acknowledge_item9_alert(by=by, measure=measure, note=ALERT_NOTE,
                                        now=session.start + timedelta(minutes=10))
                alert_shown = True
    return created


def _a_clinician():
    return get_user_model().objects.filter(is_active=True, groups__name=CLINICIAN).order_by("pk").first()


def _sessions_due_a_phq9(course: TreatmentCourse, sessions: list[Session]) -> list[Session]:
    # The cadence of ``scheduling.charting.outcomes.measures_due``, walked forward in
    # memory: every session here is given, so the count of earlier completed
    # sessions is just the position, and the only PHQ-9s are the ones chosen.
    rule = course.protocol.rule()
    chosen: list[Session] = []
    for number, session in enumerate(sessions, start=1):
        phase_index = due.phase_for_session(rule, number, course.restart())
        if phase_index is None:
            break
        recent = chosen and (session.local_date - chosen[-1].local_date).days <= INDUCTION_LOOKBACK_DAYS
        if number == 1 or phase_index > 0 or not recent:
            chosen.append(session)
    return chosen


def _trajectory(rng: random.Random, kind: str, count: int, *, progress: float) -> list[int]:
    baseline = rng.randint(15, 22)
    if kind == "remission":
        final = rng.randint(2, 4)
    elif kind == "response":
        final = rng.randint(5, baseline // 2)  # at least halved, not below 5
    else:
        final = rng.randint(baseline // 2 + 2, baseline - 3)
    # A course only part of the way through has only part of the drop.
    final = round(baseline - (baseline - final) * progress)
    if count == 1:
        return [baseline]
    totals = []
    for position in range(count):
        fraction = position / (count - 1)
        total = round(baseline + (final - baseline) * fraction ** 0.8)
        if 0 < position < count - 1:
            total += rng.choice((-1, 0, 1))
        totals.append(max(0, min(24, total)))
    totals[0], totals[-1] = baseline, final
    return totals


def _items_for(rng: random.Random, total: int, *, item9: int) -> list[int]:
    # Items 1-8 carry the rest of the total (8 x 3 = 24 is enough for any demo total).
    item9 = min(item9, total)
    rest = total - item9
    order = list(range(8))
    rng.shuffle(order)
    items = [rest // 8] * 8
    for position in order[: rest % 8]:
        items[position] += 1
    return [*items, item9]
