"""The demo's prior authorisations: an approval on every open esketamine course, then one of each worklist item.

Esketamine bookings are checked against the course's approvals, so the demo approves its open
esketamine courses before it books their sessions (``create_demo_authorisations``: from the
course's start for 90 days past today, 40 sessions). Once the sessions are booked,
``settle_demo_authorisations`` turns four of them into the desk's cases, in course order: an
approval ending in 10 days, one with a single session left, a renewal pending for 10 days, and a
denial while a session is still booked (the first course with a booking ahead).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from protocols.models import AuthorisationStatus, Modality, PriorAuthorisation, TreatmentCourse
from scheduling.models import RELEASED_STATUSES, UPCOMING_STATUSES, Session

PAYERS = ("Aetna", "UnitedHealthcare", "Cigna", "Blue Cross Blue Shield", "Humana")
COVERED_AHEAD = timedelta(days=90)
UNITS = 40


def _open_esketamine(courses: Sequence[TreatmentCourse]) -> list[TreatmentCourse]:
    return sorted((course for course in courses if course.modality == Modality.ESKETAMINE_NASAL and course.is_open),
                  key=lambda course: course.pk)


def create_demo_authorisations(courses: Sequence[TreatmentCourse], *, by, today: date) -> int:
    """Approve 40 sessions of each open esketamine course, from its start to 90 days past ``today``; returns
    how many. Call it before the demo books its sessions."""
    rows = []
    for index, course in enumerate(_open_esketamine(courses)):
        payer = PAYERS[index % len(PAYERS)]
        sent = course.start_date - timedelta(days=10)
        rows.append(PriorAuthorisation(
            course=course, payer=payer, number=f"PA-DEMO-{course.pk:04d}", status=AuthorisationStatus.APPROVED,
            units_approved=UNITS, first_day=course.start_date, last_day=today + COVERED_AHEAD, submitted_on=sent,
            decided_on=sent + timedelta(days=6), documents=[f"Fax to {payer}, {sent:%Y-%m-%d}"],
            notes="Sent with the baseline PHQ-9 and MADRS.", created_by=by, updated_by=by))
    PriorAuthorisation.objects.bulk_create(rows)
    return len(rows)


def _used(authorisation: PriorAuthorisation) -> int:
    return (Session.objects.filter(course_id=authorisation.course_id, local_date__gte=authorisation.first_day,
                                   local_date__lte=authorisation.last_day)
            .exclude(status__in=RELEASED_STATUSES).count())


def settle_demo_authorisations(courses: Sequence[TreatmentCourse], *, by, today: date) -> None:
    """After the sessions: one approval ending in 10 days, one with one session left, a renewal pending for 10
    days, and a denial with a session still booked (the approval of the first course with a booking ahead)."""
    approvals = {authorisation.course_id: authorisation for authorisation in PriorAuthorisation.objects.filter(
        course__in=[course.pk for course in _open_esketamine(courses)], course__status="active",
        status=AuthorisationStatus.APPROVED).order_by("course_id")}
    booked = set(Session.objects.filter(course_id__in=list(approvals), status__in=UPCOMING_STATUSES,
                                        local_date__gte=today).values_list("course_id", flat=True))
    denied = next((approvals.pop(course_id) for course_id in sorted(approvals) if course_id in booked), None)
    if denied is not None:
        denied.status, denied.decided_on = AuthorisationStatus.DENIED, today - timedelta(days=2)
        denied.notes = "Denied on appeal review: the payer asks for a second oral antidepressant trial first."
        denied.save()
    cases = list(approvals.values())
    if cases:
        ending = cases.pop(0)
        ending.last_day = max(today + timedelta(days=10), ending.first_day)
        ending.units_approved = _used(ending) + 4
        ending.save()
    if cases:
        nearly_used = cases.pop(0)
        nearly_used.units_approved = _used(nearly_used) + 1
        nearly_used.save()
    if cases:
        renewed = cases.pop(0)
        PriorAuthorisation.objects.create(
            course_id=renewed.course_id, payer=renewed.payer, status=AuthorisationStatus.PENDING,
            submitted_on=today - timedelta(days=10), notes="Renewal sent with the latest PHQ-9; no answer yet.",
            created_by=by, updated_by=by)


def remove_demo_authorisations(courses) -> None:
    """Delete the authorisations of ``courses`` (a queryset): they protect their course from deletion."""
    PriorAuthorisation.objects.filter(course__in=courses).delete()
