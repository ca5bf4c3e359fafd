"""A course's prior authorisations as bookings use them: units used and left, and the check a booking passes.

Units used (docs/DOMAIN.md "Prior authorisation") are the course's sessions that
hold their place (booked, confirmed, checked in, in treatment, discharged; never
cancelled or no-show) whose local day is between the authorisation's first and
last day. Only an approved authorisation covers a day, and a day of a course is
covered by one approval at most (an exclusion constraint), so each session uses
one unit of one authorisation.

A booking of a course whose protocol requires authorisation is refused with 409
``no_authorisation`` (no approved authorisation covers its day) or
``authorisation_units_used`` (one does, with every unit used), unless a clinician
or a manager gives a reason, recorded on the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import connection
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from clinic.errors import Conflict, NotAllowed
from clinic.roles import CLINICIAN, MANAGER, has_role
from clinic.rows import literals
from protocols.models import AuthorisationStatus, PriorAuthorisation, TreatmentCourse
from scheduling.models import RELEASED_STATUSES, Session

AUTHORISATIONS = PriorAuthorisation._meta.db_table


@dataclass(frozen=True)
class AuthorisationUse:
    """An authorisation with its units used, left (None unless approved) and a label for the pages."""

    authorisation: PriorAuthorisation
    used: int
    left: int | None
    label: str


def _units_text(used: int, approved: int) -> str:
    """"3 of 8 used"; sessions booked beyond the approval with a clinician's reason are named as such, since
    "4 of 3 used" reads like a counting error to the desk."""
    if used > approved:
        return f"all {approved} used and {used - approved} beyond (overridden)"
    return f"{used} of {approved} used"


def label_for(authorisation: PriorAuthorisation, used: int) -> str:
    """The authorisation in a few words: "3 of 8 used, ends 14 Jan", "pending since 2 Dec", "denied 5 Dec"."""
    status = authorisation.status
    if status == AuthorisationStatus.APPROVED:
        return f"{_units_text(used, authorisation.units_approved)}, ends {authorisation.last_day:%-d %b}"
    if status == AuthorisationStatus.PENDING:
        return f"pending since {authorisation.submitted_on:%-d %b}"
    if status == AuthorisationStatus.DENIED:
        return f"denied {authorisation.decided_on:%-d %b}" if authorisation.decided_on else "denied"
    if authorisation.units_approved:
        return f"expired, {_units_text(used, authorisation.units_approved)}"
    return "expired"


def use_of(authorisation: PriorAuthorisation, used: int) -> AuthorisationUse:
    """The ``AuthorisationUse`` of an authorisation whose units used were counted."""
    left = None
    if authorisation.status == AuthorisationStatus.APPROVED:
        left = max(authorisation.units_approved - used, 0)
    return AuthorisationUse(authorisation=authorisation, used=used, left=left, label=label_for(authorisation, used))


def _units_used(exclude_session_id: int | None = None) -> Coalesce:
    """The count of the outer authorisation's units used, as a subquery (0 without dates)."""
    sessions = (Session.objects.filter(course_id=OuterRef("course_id"), local_date__gte=OuterRef("first_day"),
                                       local_date__lte=OuterRef("last_day"))
                .exclude(status__in=RELEASED_STATUSES))
    if exclude_session_id is not None:
        sessions = sessions.exclude(pk=exclude_session_id)
    counted = sessions.order_by().values("course_id").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted), 0)


def uses_for_courses(course_ids: list[int]) -> dict[int, list[AuthorisationUse]]:
    """Every authorisation of the courses with its units counted, in one query: ``{course id: [use, ...]}``
    (every id present; each list in first-day then submitted order, undated ones last)."""
    found: dict[int, list[AuthorisationUse]] = {pk: [] for pk in course_ids}
    rows = (PriorAuthorisation.objects.filter(course_id__in=list(course_ids)).annotate(units_used=_units_used())
            .order_by("course_id", "first_day", "submitted_on", "id"))
    for authorisation in rows:
        found[authorisation.course_id].append(use_of(authorisation, authorisation.units_used))
    return found


def current_use(course_id: int, on_day: date) -> AuthorisationUse | None:
    """The approved authorisation covering ``on_day`` with its units counted, or None (one query)."""
    authorisation = (PriorAuthorisation.objects.filter(course_id=course_id).covering(on_day)
                     .annotate(units_used=_units_used()).first())
    return None if authorisation is None else use_of(authorisation, authorisation.units_used)


# --- what a booking checks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Cover:
    """An approved authorisation as a booking checks it: who, its days and units, and units already used
    (leaving out the session being moved)."""

    id: int
    payer: str
    number: str
    units_approved: int
    first_day: date
    last_day: date
    used: int

    def covers(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def words(self) -> str:
        number = f" {self.number}" if self.number else ""
        return f"{self.payer}{number}, {self.first_day:%-d %b %Y} to {self.last_day:%-d %b %Y}"


def entered_sql(course: str) -> str:
    """A SELECT-list expression: whether the course has any authorisation entered, in any status."""
    return f"EXISTS(SELECT 1 FROM {AUTHORISATIONS} a WHERE a.course_id = {course})"


def entered_by_orm(course_id: int) -> bool:
    """``entered_sql``'s ORM twin."""
    return PriorAuthorisation.objects.filter(course_id=course_id).exists()


def covers_sql(course: str, exclude: str) -> str:
    """A SELECT-list expression: the course's approved authorisations as a JSON array of
    ``[id, payer, number, units, first_day, last_day, used]`` in first-day order (NULL for none); ``course``
    and ``exclude`` are the SQL of the course id and of the session id left out of the counts."""
    return f"""(SELECT json_agg(json_build_array(a.id, a.payer, a.number, a.units_approved, a.first_day, a.last_day,
                    (SELECT count(*) FROM {Session._meta.db_table} s
                     WHERE s.course_id = a.course_id AND s.local_date BETWEEN a.first_day AND a.last_day
                       AND s.status NOT IN {literals(RELEASED_STATUSES)} AND s.id IS DISTINCT FROM {exclude}))
                    ORDER BY a.first_day)
                FROM {AUTHORISATIONS} a WHERE a.course_id = {course} AND a.status = '{AuthorisationStatus.APPROVED}')"""


def covers_from_json(values) -> tuple[Cover, ...]:
    """``covers_sql``'s value as ``Cover``s."""
    return tuple(Cover(id=pk, payer=payer, number=number, units_approved=units, first_day=date.fromisoformat(first),
                       last_day=date.fromisoformat(last), used=used)
                 for pk, payer, number, units, first, last, used in values or ())


def covers_by_orm(course_id: int, *, exclude_session_id: int | None) -> tuple[Cover, ...]:
    """``covers_sql``'s ORM twin."""
    rows = (PriorAuthorisation.objects.filter(course_id=course_id).approved()
            .annotate(units_used=_units_used(exclude_session_id)).order_by("first_day"))
    return tuple(Cover(id=a.pk, payer=a.payer, number=a.number, units_approved=a.units_approved,
                       first_day=a.first_day, last_day=a.last_day, used=a.units_used) for a in rows)


LOCK_SQL = (f"SELECT a.id FROM {AUTHORISATIONS} a WHERE a.course_id = %(course)s "
            f"AND a.status = '{AuthorisationStatus.APPROVED}' ORDER BY a.id FOR UPDATE")


def lock_covers_sql(course: str, required: str) -> str:
    """A SELECT-list expression that locks as ``lock_covers`` does, where ``required`` (the SQL of the protocol's
    ``requires_authorisation``) is true: the course read that starts a booking takes the lock with no statement
    of its own. Its value (how many were locked) means nothing."""
    return f"""(SELECT count(*) FROM (SELECT 1 FROM {AUTHORISATIONS} a
                WHERE a.course_id = {course} AND a.status = '{AuthorisationStatus.APPROVED}' AND {required}
                ORDER BY a.id FOR UPDATE OF a) locked)"""


def lock_covers(course_id: int) -> None:
    """Lock the course's approved authorisations (SELECT ... FOR UPDATE, in id order), before their units are
    counted.

    Two desks booking the same course at once would each count the other's session out and both take the
    last unit; with the rows locked the second waits, and its count (a later statement, so a later snapshot
    under READ COMMITTED) sees the first's booking. Call it inside the booking's transaction.
    """
    with connection.cursor() as cursor:
        cursor.execute(LOCK_SQL, {"course": course_id})


def problem(covers: tuple[Cover, ...], day: date, *, planned: tuple[date, ...] = ()) -> Conflict | None:
    """The refusal a booking on ``day`` gets from the course's approved authorisations, or None.

    ``planned`` are the days of sessions not yet booked that come first (a series' earlier occurrences): they
    use units as booked sessions do, so a series is counted cumulatively.
    """
    cover = next((cover for cover in covers if cover.covers(day)), None)
    if cover is None:
        known = f"approved: {'; '.join(cover.words() for cover in covers)}" if covers else "none is approved"
        return Conflict(
            f"No approved prior authorisation covers {day:%a %-d %b %Y} ({known}). A clinician or a "
            "manager may book it with a reason.",
            code="no_authorisation", extra={"authorisations": [cover.id for cover in covers]})
    used = cover.used + sum(1 for planned_day in planned if cover.covers(planned_day))
    if used >= cover.units_approved:
        return Conflict(
            f"All {cover.units_approved} sessions of the prior authorisation ({cover.words()}) are used. A clinician "
            "or a manager may book it with a reason.",
            code="authorisation_units_used", extra={"authorisation": cover.id})
    return None


@dataclass(frozen=True)
class Override:
    """What a session records of a booking beyond its authorisation (all empty when none was needed)."""

    reason: str = ""
    by: object | None = None
    at: datetime | None = None


NO_OVERRIDE = Override()


def requires_check(course: TreatmentCourse) -> bool:
    """True when the course's protocol requires prior authorisation (the protocol is loaded with the course)."""
    return course.protocol.requires_authorisation


def checked(course: TreatmentCourse, *, entered: bool) -> bool:
    """True when a booking of ``course`` is checked: its protocol requires authorisation and, under
    ``PRIOR_AUTHORISATION_CHECKS = "entered"`` (a clinic adopting the system), the course has one entered."""
    return requires_check(course) and (entered or settings.PRIOR_AUTHORISATION_CHECKS == "all")


def check_booking(*, course: TreatmentCourse, covers: tuple[Cover, ...], entered: bool, day: date, by, reason: str,
                  now: datetime, planned: tuple[date, ...] = ()) -> Override:
    """Check a booking of ``course`` on ``day`` against its approved authorisations (``covers``, read after
    ``lock_covers``; ``entered``: whether it has any authorisation at all); return the override to record.

    Refuses with 409 ``no_authorisation`` or ``authorisation_units_used`` without a reason, and 403
    ``authorisation_override_not_allowed`` when someone other than a clinician or a manager gives one. A
    booking that is not ``checked``, and one the authorisation covers, record nothing (a reason given where
    none is needed is not recorded).
    """
    if not checked(course, entered=entered):
        return NO_OVERRIDE
    refusal = problem(covers, day, planned=planned)
    if refusal is None:
        return NO_OVERRIDE
    reason = (reason or "").strip()
    if not reason:
        raise refusal
    if not has_role(by, CLINICIAN, MANAGER):
        raise NotAllowed(f"{refusal.detail.split(' A clinician')[0]} Only a clinician or a manager may book "
                         "beyond a prior authorisation.", code="authorisation_override_not_allowed",
                         extra={"refusal": refusal.code})
    return Override(reason=reason, by=by, at=now)

