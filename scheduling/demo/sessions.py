"""Demo sites, chairs, clinicians and each course's sessions, laid out against the clock at load time.

Two sites in different time zones. Each course has a lane (a chair and a start time)
at its patient's site; its sessions are laid out by the due engine from its start date
on that lane, each on the day nearest its target on which the lane is inside the site's
opening hours, until the session that has not ended by "now":

- a session that ended before now was given (a few older ones were missed or cancelled
  and given the next open day); the last one is a no-show for the ``NO_SHOW`` story;
- a session under way now (its start passed, its end not yet) is left for the charting
  step to bring to where it would be by now; that can only happen inside opening hours;
- the first session that starts after now is the next visit: booked through the real
  booking service for the stories that have one, left for the desk otherwise.

During opening hours a few more of today's visits are placed at moments before now
(``LIVE_MINUTES``), so the board shows patients waiting, dosed, observed and ready to go.
Numbers therefore follow the dates, and a course has at most one session a day.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from clinic.errors import ClinicError
from clinic.roles import CLINICIAN
from protocols import due
from protocols.models import Modality
from scheduling.booking import services as booking
from scheduling.booking.availability import find_slots
from scheduling.demo.courses import DemoCourse, Story
from scheduling.demo.users import DEMO_PASSWORD
from scheduling.models import Chair, Location, OpeningHours, Session, SessionStatus

SITES = (
    # name, zone, address, phone, esketamine chairs, IV chairs
    ("Midtown", "America/New_York", "250 W 57th St, New York, NY", "+12125550142", 4, 2),
    ("Westside", "America/Los_Angeles", "1200 Wilshire Blvd, Los Angeles, CA", "+13105550177", 3, 3),
)
EXTRA_CLINICIANS = (("dr_okafor", "Ngozi", "Okafor"), ("nurse_lind", "Erik", "Lind"))
# Start times per chair that never overlap on one chair (esketamine 150 + 15 min, IV 90 + 15 min).
ESKETAMINE_TIMES = (time(8), time(10, 45), time(13, 30))
IV_TIMES = (time(8), time(9, 45), time(11, 30), time(13, 15), time(15))
# Today's visits placed this many minutes before now, per treatment: a patient just checked in (high BP
# waiting for a clinician), one dosed 40 minutes ago (the BP check is due), one observing, one ready to go.
LIVE_MINUTES = {Modality.ESKETAMINE_NASAL: (10, 55, 95, 145), Modality.KETAMINE_IV: (35,)}
# Older history has a few missed and cancelled visits; the last week's is as planned.
MISS_BEFORE_DAYS = 7


def create_demo_sites(users: dict) -> list[Location]:
    """Two sites with hours (Monday to Friday 08:00-18:00, Saturday 08:00-14:00), chairs and clinicians."""
    User = get_user_model()
    clinicians = [users[CLINICIAN]]
    for username, first, last in EXTRA_CLINICIANS:
        user, created = User.objects.get_or_create(username=username, defaults={"first_name": first,
                                                                                 "last_name": last})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(Group.objects.get(name=CLINICIAN))
        clinicians.append(user)
    sites = []
    for index, (name, zone, address, phone, esketamine_chairs, iv_chairs) in enumerate(SITES):
        site, _ = Location.objects.get_or_create(name=name, defaults={
            "time_zone": zone, "address": address, "phone": phone, "rems_certified": True})
        for weekday in range(5):
            OpeningHours.objects.get_or_create(location=site, weekday=weekday,
                                               defaults={"opens": time(8), "closes": time(18)})
        OpeningHours.objects.get_or_create(location=site, weekday=5, defaults={"opens": time(8), "closes": time(14)})
        for number in range(1, esketamine_chairs + 1):
            Chair.objects.get_or_create(location=site, name=f"Chair {number}",
                                        defaults={"serves_esketamine": True, "has_infusion_pump": False})
        for number in range(1, iv_chairs + 1):
            Chair.objects.get_or_create(location=site, name=f"Infusion {number}",
                                        defaults={"serves_esketamine": False, "has_infusion_pump": True})
        site.staff.add(users[CLINICIAN] if index == 0 else clinicians[1], clinicians[2])
        site.staff.add(*[user for role, user in users.items() if role != CLINICIAN])
        sites.append(site)
    return sites


def site_prescriber(site: Location):
    """The clinician who doses at ``site``: the demo clinician at Midtown, Dr Okafor at Westside."""
    username = "clinician" if site.name == SITES[0][0] else EXTRA_CLINICIANS[0][0]
    return get_user_model().objects.get(username=username)


@dataclass
class Calendar:
    """The sites' opening hours and closures, and the chair time already taken, as the layout fills it."""

    now: datetime
    hours: dict[int, dict[int, tuple[time, time]]] = field(default_factory=dict)
    closed: set[tuple[int, date]] = field(default_factory=set)
    taken: dict[int, list[tuple[datetime, datetime]]] = field(default_factory=dict)

    @classmethod
    def of(cls, sites: list[Location], now: datetime) -> Calendar:
        calendar = cls(now=now)
        for site in sites:
            calendar.hours[site.pk] = {row.weekday: (row.opens, row.closes) for row in site.hours.all()}
            calendar.closed |= {(site.pk, day) for day in site.closures.values_list("date", flat=True)}
        # Sessions already on the chairs (someone's bookings kept from an earlier demo) are respected.
        for chair_id, start, until in Session.objects.standing().filter(chair__location__in=sites).values_list(
                "chair_id", "start", "occupied_until"):
            calendar.taken.setdefault(chair_id, []).append((start, until))
        return calendar

    def fits(self, site: Location, start: datetime, minutes: int) -> bool:
        """The whole session is inside the site's opening hours on an open day."""
        local = site.local(start)
        hours = self.hours[site.pk].get(local.weekday())
        if hours is None or (site.pk, local.date()) in self.closed:
            return False
        end = local + timedelta(minutes=minutes)
        return hours[0] <= local.time() and end.date() == local.date() and end.time() <= hours[1]

    def free(self, chair: Chair, start: datetime, until: datetime) -> bool:
        return all(until <= other_start or other_until <= start
                   for other_start, other_until in self.taken.get(chair.pk, ()))

    def take(self, chair: Chair, start: datetime, until: datetime) -> None:
        self.taken.setdefault(chair.pk, []).append((start, until))


@dataclass
class Layout:
    """One course's sessions as laid out: rows to insert, and what comes next."""

    rows: list[Session] = field(default_factory=list)
    next_start: datetime | None = None  # the next visit, after now (booked for stories with a booking)
    next_chair: Chair | None = None


def _lanes(site: Location) -> dict[str, list[tuple[Chair, time]]]:
    esketamine = [(chair, clock) for clock in ESKETAMINE_TIMES
                  for chair in site.chairs.filter(serves_esketamine=True).order_by("name")]
    iv = [(chair, clock) for clock in IV_TIMES
          for chair in site.chairs.filter(has_infusion_pump=True, serves_esketamine=False).order_by("name")]
    return {Modality.ESKETAMINE_NASAL: esketamine, Modality.KETAMINE_IV: iv}


def _days_near(window: due.DueWindow, not_before: date):
    """The window's days from the target outwards (later first), then the days after it, for a week."""
    span = (window.latest - window.earliest).days
    order = [window.target]
    for step in range(1, span + 1):
        order += [window.target + timedelta(days=step), window.target - timedelta(days=step)]
    order = [day for day in order if window.earliest <= day <= window.latest]
    order += [window.latest + timedelta(days=step) for step in range(1, 8)]
    return [day for day in order if day >= not_before]


class Layouter:
    """Lays out every course's sessions on one calendar, so no two share chair time."""

    def __init__(self, sites: list[Location], now: datetime, booker, seed: int = 11):
        self.sites, self.now, self.booker = sites, now, booker
        self.calendar = Calendar.of(sites, now)
        self.lanes = {site.pk: _lanes(site) for site in sites}
        self.used: dict[tuple[int, str], int] = {}
        self.live_left = {(site.pk, modality): list(minutes) for site in sites
                          for modality, minutes in LIVE_MINUTES.items()}
        self.rng = random.Random(seed)

    def lane(self, site: Location, modality: str) -> tuple[Chair, time]:
        key = (site.pk, modality)
        index = self.used.get(key, 0)
        self.used[key] = index + 1
        lanes = self.lanes[site.pk][modality]
        # More courses than lanes share one: the calendar moves the later one to another day of its window.
        return lanes[index % len(lanes)]

    def _place(self, site, chair, day, clock, minutes) -> datetime | None:
        start = site.at(day, clock)
        until = start + timedelta(minutes=minutes + site.turnover_minutes)
        if self.calendar.fits(site, start, minutes) and self.calendar.free(chair, start, until):
            return start
        return None

    def _live_now(self, site: Location, modality: str, minutes: int) -> tuple[Chair, datetime] | None:
        """A start some minutes before now, today, inside hours, on a free chair of the treatment; or None."""
        left = self.live_left[(site.pk, modality)]
        for offset in list(left):
            moment = self.now - timedelta(minutes=offset)
            local = site.local(moment)
            start = site.at(local.date(), time(local.hour, local.minute - local.minute % 5))
            until = start + timedelta(minutes=minutes + site.turnover_minutes)
            if site.local_date(start) != site.local_date(self.now) or not self.calendar.fits(site, start, minutes):
                continue
            for chair in site.chairs.filter(Chair.serving(modality), active=True).order_by("name"):
                if self.calendar.free(chair, start, until):
                    left.remove(offset)
                    return chair, start
        return None

    def _row(self, course, site, chair, start, status, clinician) -> Session:
        minutes = course.protocol.chair_minutes
        end = start + timedelta(minutes=minutes)
        until = end + timedelta(minutes=site.turnover_minutes)
        self.calendar.take(chair, start, until)
        row = Session(course=course, patient_id=course.patient_id, location=site, chair=chair, clinician=clinician,
                      start=start, end=end, occupied_until=until, local_date=site.local_date(start), status=status,
                      booked_by=self.booker, booked_at=min(start, max(start - timedelta(days=3), course.created_at)))
        if status == SessionStatus.CANCELLED:
            row.cancel_reason, row.cancelled_at = "Patient unwell", start - timedelta(days=1)
            self.calendar.taken[chair.pk].pop()  # a cancelled visit frees its chair
        elif status == SessionStatus.NO_SHOW:
            row.no_show_at = start + timedelta(minutes=30)
            self.calendar.taken[chair.pk].pop()
        return row

    def _stops(self, story: str, window: due.DueWindow, today: date) -> bool:
        """Where a story's history ends before today: its next window is already past, or it paused."""
        limits = {Story.OVERDUE: window.latest >= today - timedelta(days=10),
                  Story.LAPSED: window.latest >= today - timedelta(days=24),
                  Story.PAUSED: window.target >= today - timedelta(days=6),
                  Story.DISCONTINUED: window.target >= today - timedelta(days=10)}
        return limits.get(story, False)

    def lay_out(self, demo: DemoCourse, site: Location, clinician) -> Layout:
        course, story = demo.course, demo.story
        chair, clock = self.lane(site, course.modality)
        rule, minutes = course.protocol.rule(), course.protocol.chair_minutes
        today = site.local_date(self.now)
        layout, completed, last_day = Layout(), [], course.start_date - timedelta(days=1)
        while True:
            window = due.next_due(rule, course.facts(completed=completed))
            if window is None or self._stops(story, window, today):
                break
            if story == Story.BOOKED and window.earliest <= today <= window.latest and last_day < today:
                live = self._live_now(site, course.modality, minutes)
                if live is not None:
                    layout.rows.append(self._row(course, site, live[0], live[1], SessionStatus.CONFIRMED, clinician))
                    break
            start = next((moment for moment in (self._place(site, chair, day, clock, minutes)
                                                for day in _days_near(window, last_day + timedelta(days=1)))
                          if moment is not None), None)
            if start is None:
                break
            if start > self.now:
                layout.next_start, layout.next_chair = start, chair
                break
            if start + timedelta(minutes=minutes) > self.now:  # under way now, so inside opening hours
                if story == Story.DUE:
                    break
                layout.rows.append(self._row(course, site, chair, start, SessionStatus.CONFIRMED, clinician))
                break
            day = site.local_date(start)
            if day < today - timedelta(days=MISS_BEFORE_DAYS) and self.rng.random() < 0.14:
                retry = next((moment for moment in (self._place(site, chair, later, clock, minutes)
                                                    for later in _days_near(window, day + timedelta(days=1)))
                              if moment is not None), None)
                if retry is not None and retry + timedelta(minutes=minutes) <= self.now:
                    missed = SessionStatus.NO_SHOW if self.rng.random() < 0.5 else SessionStatus.CANCELLED
                    layout.rows.append(self._row(course, site, chair, start, missed, clinician))
                    start, day = retry, site.local_date(retry)
            layout.rows.append(self._row(course, site, chair, start, SessionStatus.DISCHARGED, clinician))
            completed.append(day)
            last_day = day
        if story == Story.NO_SHOW and layout.rows and layout.rows[-1].status == SessionStatus.DISCHARGED:
            last = layout.rows[-1]
            last.status, last.no_show_at = SessionStatus.NO_SHOW, last.start + timedelta(minutes=30)
        return layout


def create_demo_sessions(demos: list[DemoCourse], sites: list[Location], booker, *, now: datetime) -> int:
    """Lay out each course's sessions up to now and book the next visit where its story has one.

    Returns the number of sessions created. The history is inserted in bulk;
    the next visits go through ``booking.book_session`` (all its checks), as
    if booked by the desk when the previous visit ended.
    """
    layouter = Layouter(sites, now, booker)
    created = 0
    for demo in demos:
        site = sites[demo.site_index]
        layout = layouter.lay_out(demo, site, site_prescriber(site))
        Session.objects.bulk_create(layout.rows)
        created += len(layout.rows)
        if demo.story in Story.WITH_BOOKING and layout.next_start is not None:
            booked_at = max((row.end for row in layout.rows), default=demo.course.created_at)
            created += _book_next(demo.course, site, layout.next_chair, layout.next_start, booker,
                                  booked_at=min(booked_at, now))
    return created


def _book_next(course, site, chair, start, booker, *, booked_at: datetime) -> int:
    """Book ``start`` on ``chair``; when the service refuses it, the nearest free slot of the window."""
    try:
        booking.book_session(by=booker, course=course, chair=chair, start=start, now=booked_at)
        return 1
    except ClinicError:
        pass
    for slot in find_slots(course=course, location=site, limit=5):
        try:
            booking.book_session(by=booker, course=course, chair=slot.chair, start=slot.start, now=booked_at)
            return 1
        except ClinicError:
            continue
    return 0
