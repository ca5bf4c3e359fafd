"""Changes to a site that could strand its booked sessions: its chairs, hours, closures, and the site itself.

A booked session must stay where booking would put it: on a chair in service
that serves its treatment, at an active site (REMS-certified for esketamine),
inside the site's hours, on a day the site is open. Reminders go out for every
standing session, so one left on a closed day or a chair taken away would
still bring the patient in. A change that would leave sessions so is refused
with 409 (``SessionsInTheWay``), listing them; the desk moves or cancels them
first (the board's panel), then the change goes through. The rules are the
booking's own (``Chair.serves``, ``SiteCalendar.is_open_for``), so a session
that stays is one booking would still accept.

Each service locks the site's row, so two managers changing one site are
served one after the other. A booking does not take that lock: a session
booked in the instant between this check and its commit is not seen here.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from datetime import date, datetime, time

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from clinic.errors import Conflict, Invalid
from protocols.models import Modality
from scheduling.booking.rules import SiteCalendar
from scheduling.booking.selectors import sessions_for_lists
from scheduling.models import Chair, Closure, Location, OpeningHours, Session, SessionStatus

# The sessions a refusal lists; the rest are counted.
LISTED = 20


class SessionsInTheWay(Conflict):
    """A change refused because booked sessions would be stranded by it; ``sessions`` are the first of them."""

    def __init__(self, detail: str, *, code: str, sessions: list[Session], total: int, field: str | None = None):
        rows = [{"id": s.pk, "start": s.local_start.isoformat(), "chair": s.chair.name if s.chair else None,
                 "status": s.status} for s in sessions]
        super().__init__(detail, code=code, fields={field: [detail]} if field else None,
                         extra={"sessions": rows, "sessions_total": total})
        self.sessions = sessions
        self.total = total


def sessions_ahead(sessions: QuerySet[Session], now: datetime) -> QuerySet[Session]:
    """Sessions that still hold their place and have not ended: booked, confirmed, or under way."""
    return sessions_for_lists(sessions.standing().exclude(status=SessionStatus.DISCHARGED)
                              .filter(end__gt=now)).order_by("start")


def _refuse(found: list[Session], detail: str, *, code: str, field: str | None = None) -> None:
    if found:
        count = len(found)
        what = "1 booked session" if count == 1 else f"{count} booked sessions"
        raise SessionsInTheWay(f"{detail} {what}: move or cancel them first.", code=code,
                               sessions=found[:LISTED], total=count, field=field)


def _lock(location: Location) -> Location:
    return Location.objects.select_for_update().get(pk=location.pk)


@transaction.atomic
def change_location(*, location: Location, changes: Mapping, now: datetime | None = None) -> Location:
    """Apply a manager's validated ``changes`` to ``location`` (the API's and the page's ``LocationSerializer``).

    Refuses (409 ``site_has_sessions``) to make a site inactive, or to take away its REMS
    certification, while sessions it would strand are booked; and to change the time zone of
    a site that has sessions at all (their local dates were fixed in it).
    """
    now = now or timezone.now()
    _lock(location)
    ahead = sessions_ahead(Session.objects.filter(location=location), now)
    if location.active and changes.get("active") is False:
        _refuse(list(ahead), f"{location.name} has", code="site_has_sessions", field="active")
    if location.rems_certified and changes.get("rems_certified") is False:
        esketamine = list(ahead.filter(course__protocol__modality=Modality.ESKETAMINE_NASAL))
        _refuse(esketamine, "Esketamine needs a REMS-certified setting, and the site has",
                code="site_has_sessions", field="rems_certified")
    if "time_zone" in changes and changes["time_zone"] != location.time_zone:
        if Session.objects.filter(location=location).exists():
            raise Conflict(f"{location.name} already has sessions: their dates and reminder times were set in "
                           f"{location.time_zone}, so its time zone stays.", code="site_has_sessions",
                           fields={"time_zone": [f"Sessions were booked in {location.time_zone}; it stays."]})
    for name, value in changes.items():
        setattr(location, name, value)
    location.save()
    return location


@transaction.atomic
def add_chair(*, location: Location, name: str, serves_esketamine: bool = True,
              has_infusion_pump: bool = False, active: bool = True) -> Chair:
    """A new chair at ``location``; a name the site already has is a 400 (also when two managers race)."""
    _lock(location)
    chair = Chair(location=location, name=name, serves_esketamine=serves_esketamine,
                  has_infusion_pump=has_infusion_pump, active=active)
    return _save_chair(chair)


@transaction.atomic
def change_chair(*, chair: Chair, changes: Mapping, now: datetime | None = None) -> Chair:
    """Rename a chair, change what it serves, or take it out of service (or back in).

    Refuses (409 ``chair_has_sessions``) to take it out of service while sessions are
    booked on it, or to stop it serving a treatment a session booked on it needs.
    A chair never moves to another site (its location is not a change).
    """
    now = now or timezone.now()
    _lock(chair.location)
    ahead = sessions_ahead(Session.objects.filter(chair=chair), now)
    if chair.active and changes.get("active") is False:
        _refuse(list(ahead), f"{chair.name} has", code="chair_has_sessions", field="active")
    after = Chair(serves_esketamine=changes.get("serves_esketamine", chair.serves_esketamine),
                  has_infusion_pump=changes.get("has_infusion_pump", chair.has_infusion_pump))
    unserved = [s for s in ahead if not after.serves(s.course.protocol.modality)]
    if unserved:
        field = ("serves_esketamine" if unserved[0].course.protocol.modality == Modality.ESKETAMINE_NASAL
                 else "has_infusion_pump")
        _refuse(unserved, f"{chair.name} would no longer serve the treatment of", code="chair_has_sessions",
                field=field)
    for name, value in changes.items():
        if name != "location":
            setattr(chair, name, value)
    return _save_chair(chair)


def _save_chair(chair: Chair) -> Chair:
    try:
        with transaction.atomic():
            chair.save()
    except IntegrityError:
        raise Invalid("That chair name is already taken at this location.",
                      fields={"name": ["Already taken at this location."]}) from None
    return chair


@transaction.atomic
def set_opening_hours(*, location: Location, week: Mapping[int, tuple[time, time] | None],
                      now: datetime | None = None) -> None:
    """Set the site's hours for the weekdays in ``week`` (Monday 0): ``(opens, closes)``, or None for closed.

    Refuses (409 ``sessions_outside_hours``) when a session booked on one of those weekdays
    would fall outside the new hours; the error names the first such weekday's field.
    """
    now = now or timezone.now()
    _lock(location)
    current = {row.weekday: (row.opens, row.closes) for row in location.hours.all()}
    changed = {day: span for day, span in week.items() if current.get(day) != span}
    if not changed:
        return
    new_hours = {**current, **changed}
    calendar = SiteCalendar(zone=location.zone, hours={d: s for d, s in new_hours.items() if s is not None})
    ahead = sessions_ahead(Session.objects.filter(location=location, local_date__iso_week_day__in=[
        day + 1 for day in changed]), now)
    outside = [s for s in ahead if not calendar.is_open_for(s.start, s.end)]
    if outside:
        weekday = outside[0].local_start.weekday()
        _refuse(outside, "The new hours would leave out", code="sessions_outside_hours", field=f"hours-{weekday}")
    closed = [day for day, span in changed.items() if span is None]
    OpeningHours.objects.filter(location=location, weekday__in=closed).delete()
    for day, span in changed.items():
        if span is not None:
            OpeningHours.objects.update_or_create(location=location, weekday=day,
                                                  defaults={"opens": span[0], "closes": span[1]})


@transaction.atomic
def add_closure(*, location: Location, day: date, reason: str = "", now: datetime | None = None) -> Closure:
    """Close the site on ``day`` (local) for ``reason``.

    A day before today at the site, or one already closed, is a 400. A day with booked
    sessions is refused (409 ``sessions_on_closure``) with the list: closing the site does
    not cancel them, and their patients would still be reminded to come.
    """
    now = now or timezone.now()
    _lock(location)
    if day < location.local_date(now):
        raise Invalid("A closure is for today or a day to come.", fields={"date": ["Choose today or a later day."]})
    if Closure.objects.filter(location=location, date=day).exists():
        words = f"{location.name} is already closed on {day:%a %b} {day.day}."
        raise Invalid(words, fields={"date": [words]})
    on_the_day = list(sessions_ahead(Session.objects.filter(location=location, local_date=day), now))
    _refuse(on_the_day, f"{location.name} has, on {day:%a %b} {day.day},", code="sessions_on_closure", field="date")
    return Closure.objects.create(location=location, date=day, reason=reason.strip())


@transaction.atomic
def remove_closure(*, closure: Closure) -> None:
    """Open the site again on a closed day: it strands nothing."""
    _lock(closure.location)
    closure.delete()


def time_zone_choices() -> list[str]:
    """IANA zone names a site may take, sorted (the same set ``Location.clean`` accepts)."""
    return sorted(zoneinfo.available_timezones())
