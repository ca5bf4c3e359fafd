"""The worklist's prior-authorisation items: what the desk must chase before a payer stops paying.

Four facts about a course's authorisations (docs/DOMAIN.md "Prior authorisation"):

- ``authorisation_ending``: an approval's last covered day is within 14 days;
- ``authorisation_units_low``: an approval still running has 2 sessions or fewer left;
- ``authorisation_pending``: a request has waited more than 7 days for the payer's answer;
- ``authorisation_denied``: the payer refused and sessions are still booked that no approval covers.

An ending approval, or one running out of sessions, stops being the desk's worry once a
renewal is in hand: a later approval, or a newer request sent to the payer (its own
``pending`` item follows it from there). Each item is about one authorisation (subject
``authorisation:<id>``), so a course with an induction and a maintenance approval can
have one of each. The sweep (``sweep.refresh_worklist``) asks for them once for all the
courses it sweeps, in two queries whatever their number, and closes those no longer true
with the reason ``closing_reason`` gives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from protocols.models import AuthorisationStatus
from scheduling.booking.authorisations import AuthorisationUse, uses_for_courses
from scheduling.models import UPCOMING_STATUSES, Session, WorkKind
from scheduling.worklist.course_views import CourseView, day_text

ENDING_WITHIN = timedelta(days=14)
UNITS_LOW_AT = 2
PENDING_LONGER_THAN = timedelta(days=7)
SUBJECT = "authorisation:{}"


@dataclass(frozen=True)
class AuthorisationFact:
    """One authorisation as the sweep saw it: its use, the course's local today and whether a renewal is in hand."""

    use: AuthorisationUse
    today: date
    renewed: bool
    uncovered: tuple[dict, ...]  # booked sessions from now that no approval covers (denied ones only)


@dataclass(frozen=True)
class AuthorisationItem:
    kind: str
    authorisation_id: int
    course_id: int
    session_id: int | None
    due_on: date
    detail: str

    @property
    def subject(self) -> str:
        return SUBJECT.format(self.authorisation_id)


def authorisation_id_of(subject: str) -> int | None:
    """The authorisation an item's subject names (``authorisation:12`` -> 12), None for another subject."""
    prefix, _, rest = subject.partition(":")
    return int(rest) if prefix == "authorisation" and rest.isdigit() else None


def _name(use: AuthorisationUse) -> str:
    authorisation = use.authorisation
    return f"{authorisation.payer} {authorisation.number}".strip() if authorisation.number else authorisation.payer


def _renewed(use: AuthorisationUse, uses: list[AuthorisationUse]) -> bool:
    """A later approval (running past this one's last day), or a request sent after this one was recorded."""
    this = use.authorisation
    if this.last_day is None:
        return False
    for other in (other.authorisation for other in uses):
        if other.pk == this.pk:
            continue
        if other.status == AuthorisationStatus.APPROVED and other.last_day and other.last_day > this.last_day:
            return True
        if other.status == AuthorisationStatus.PENDING and other.pk > this.pk:
            return True
    return False


def _uncovered_sessions(uses_by_course: dict[int, list[AuthorisationUse]], now: datetime) -> dict[int, list[dict]]:
    """Booked or confirmed sessions from ``now`` of the courses with a denied authorisation, that no approval
    covers, in date order (one query)."""
    denied = [course_id for course_id, uses in uses_by_course.items()
              if any(use.authorisation.status == AuthorisationStatus.DENIED for use in uses)]
    if not denied:
        return {}
    found: dict[int, list[dict]] = defaultdict(list)
    rows = (Session.objects.filter(course_id__in=denied, status__in=UPCOMING_STATUSES, start__gte=now)
            .order_by("start", "id").values("id", "course_id", "local_date"))
    for row in rows:
        covered = any(use.authorisation.covers(row["local_date"]) for use in uses_by_course[row["course_id"]])
        if not covered:
            found[row["course_id"]].append(row)
    return found


def authorisation_facts(views: Iterable[CourseView], now: datetime) -> dict[int, AuthorisationFact]:
    """``{authorisation id: fact}`` for every authorisation of the swept courses (two queries)."""
    today_of = {view.course.pk: view.today for view in views}
    if not today_of:
        return {}
    uses_by_course = uses_for_courses(list(today_of))
    uncovered = _uncovered_sessions(uses_by_course, now)
    return {
        use.authorisation.pk: AuthorisationFact(use=use, today=today_of[course_id], renewed=_renewed(use, uses),
                                                uncovered=tuple(uncovered.get(course_id, ())))
        for course_id, uses in uses_by_course.items() for use in uses
    }


def _ending(fact: AuthorisationFact) -> bool:
    authorisation = fact.use.authorisation
    return (authorisation.status == AuthorisationStatus.APPROVED and not fact.renewed
            and fact.today <= authorisation.last_day <= fact.today + ENDING_WITHIN)


def _units_low(fact: AuthorisationFact) -> bool:
    authorisation = fact.use.authorisation
    return (authorisation.status == AuthorisationStatus.APPROVED and not fact.renewed
            and authorisation.last_day >= fact.today and fact.use.left is not None and fact.use.left <= UNITS_LOW_AT)


def _pending_too_long(fact: AuthorisationFact) -> bool:
    authorisation = fact.use.authorisation
    return (authorisation.status == AuthorisationStatus.PENDING
            and fact.today - authorisation.submitted_on > PENDING_LONGER_THAN)


def _denied_with_bookings(fact: AuthorisationFact) -> bool:
    return fact.use.authorisation.status == AuthorisationStatus.DENIED and bool(fact.uncovered)


def items_for(fact: AuthorisationFact) -> list[AuthorisationItem]:
    """The items one authorisation calls for now (none, or one or two of the four kinds)."""
    use, authorisation = fact.use, fact.use.authorisation
    name = _name(use)

    def item(kind: str, due_on: date, detail: str, session_id: int | None = None) -> AuthorisationItem:
        return AuthorisationItem(kind, authorisation.pk, authorisation.course_id, session_id, due_on, detail)

    items = []
    if _ending(fact):
        items.append(item(WorkKind.AUTHORISATION_ENDING, authorisation.last_day,
                          f"{name} covers sessions up to {day_text(authorisation.last_day)} ({use.label}); "
                          "no renewal is in: ask the payer for one."))
    if _units_low(fact):
        left = use.left
        words = "no session left" if left == 0 else f"{left} session{'s' if left != 1 else ''} left"
        items.append(item(WorkKind.AUTHORISATION_UNITS_LOW, authorisation.last_day,
                          f"{name}: {words} of {authorisation.units_approved} ({use.label}); "
                          "no renewal is in: ask the payer for more."))
    if _pending_too_long(fact):
        items.append(item(WorkKind.AUTHORISATION_PENDING, authorisation.submitted_on + PENDING_LONGER_THAN,
                          f"Sent to {authorisation.payer} on {day_text(authorisation.submitted_on)}; no answer yet: "
                          "call the payer."))
    if _denied_with_bookings(fact):
        first, count = fact.uncovered[0], len(fact.uncovered)
        booked = f"{count} session{'s are' if count != 1 else ' is'} still booked"
        items.append(item(WorkKind.AUTHORISATION_DENIED, first["local_date"],
                          f"{name} was denied and {booked} outside any approval, the next on "
                          f"{day_text(first['local_date'])}: appeal, or tell the patient.", session_id=first["id"]))
    return items


def authorisation_items(facts: dict[int, AuthorisationFact]) -> list[AuthorisationItem]:
    return [item for fact in facts.values() for item in items_for(fact)]


def closing_reason(kind: str, fact: AuthorisationFact | None) -> str:
    """Why an authorisation item is no longer true, in the desk's words (``fact`` None: no longer swept)."""
    if fact is None:
        return "the authorisation was removed"
    authorisation = fact.use.authorisation
    status = authorisation.get_status_display().lower()
    if kind == WorkKind.AUTHORISATION_PENDING:
        return f"the payer answered: {status}" if authorisation.status != AuthorisationStatus.PENDING \
            else "its submission date changed"
    if kind == WorkKind.AUTHORISATION_DENIED:
        if authorisation.status != AuthorisationStatus.DENIED:
            return f"the authorisation is now {status}"
        return "no session is booked outside an approval"
    if authorisation.status != AuthorisationStatus.APPROVED:
        return f"the authorisation is now {status}"
    if fact.renewed:
        return "a renewal was requested or approved"
    if authorisation.last_day < fact.today:
        return "its last covered day has passed"
    if kind == WorkKind.AUTHORISATION_ENDING:
        return f"it now covers sessions up to {day_text(authorisation.last_day)}"
    return f"{fact.use.left} sessions left now ({fact.use.label})"
