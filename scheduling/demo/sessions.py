"""Demo sites, chairs, clinicians and session histories; deterministic and safe to run twice.

Two sites in different time zones. Each demo course gets its past sessions
(mostly given, a few cancelled or missed) laid out by the due engine from
its start date to today, and its next session booked through the real
booking service, so the board, plans and worklist look like a real clinic's.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from clinic.errors import ClinicError
from clinic.roles import CLINICIAN
from protocols import due
from protocols.models import CourseStatus, Modality, TreatmentCourse
from scheduling.booking import selectors as booking_selectors
from scheduling.booking import services as booking
from scheduling.booking.availability import find_slots
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


def create_demo_sites(users: dict) -> list[Location]:
    """Two sites with hours, chairs and clinicians on staff."""
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


def _weekday_on_or_after(day: date, site: Location) -> date:
    open_days = set(site.hours.values_list("weekday", flat=True))
    while day.weekday() not in open_days:
        day += timedelta(days=1)
    return day


def create_demo_sessions(courses: list[TreatmentCourse], sites: list[Location], booker) -> int:
    """Lay out each course's history up to yesterday and book its next session. Returns sessions created."""
    rng = random.Random(11)
    today = timezone.localdate()
    created = 0
    lanes: dict[int, list[tuple[Chair, time]]] = {}
    for site in sites:
        esketamine = [(chair, clock) for clock in ESKETAMINE_TIMES
                      for chair in site.chairs.filter(serves_esketamine=True).order_by("name")]
        iv = [(chair, clock) for clock in IV_TIMES
              for chair in site.chairs.filter(has_infusion_pump=True).order_by("name")]
        lanes[site.pk] = {Modality.ESKETAMINE_NASAL: esketamine, Modality.KETAMINE_IV: iv}
    used: dict[tuple[int, str], int] = {}
    for index, course in enumerate(courses):
        if Session.objects.filter(course=course).exists():
            continue
        site = sites[index % len(sites)]
        key = (site.pk, course.modality)
        lane = used.get(key, 0)
        used[key] = lane + 1
        chair, clock = lanes[site.pk][course.modality][lane % len(lanes[site.pk][course.modality])]
        created += _lay_out_history(course, site, chair, clock, today, rng)
        if course.status == CourseStatus.ACTIVE:
            created += _book_next(course, site, chair, clock, booker)
    return created


def _lay_out_history(course, site, chair, clock, today, rng) -> int:
    rule = course.protocol.rule()
    completed: list[date] = []
    rows = []
    stop = today if course.status == CourseStatus.ACTIVE else (course.paused_at or course.discontinued_at
                                                               or timezone.now()).date()
    while True:
        window = due.next_due(rule, course.facts(completed=completed))
        if window is None or window.target >= stop:
            break
        day = _weekday_on_or_after(window.target, site)
        if day >= stop:
            break
        roll = rng.random()
        if roll < 0.08 and day + timedelta(days=1) < stop:
            rows.append(_past(course, site, chair, day, clock, SessionStatus.NO_SHOW))
            day = _weekday_on_or_after(day + timedelta(days=1), site)
        elif roll < 0.14 and day + timedelta(days=1) < stop:
            rows.append(_past(course, site, chair, day, clock, SessionStatus.CANCELLED))
            day = _weekday_on_or_after(day + timedelta(days=1), site)
        rows.append(_past(course, site, chair, day, clock, SessionStatus.DISCHARGED))
        completed.append(day)
    Session.objects.bulk_create(rows)
    return len(rows)


def _past(course, site, chair, day, clock, status) -> Session:
    start = datetime.combine(day, clock, tzinfo=site.zone)
    end = start + timedelta(minutes=course.protocol.chair_minutes)
    session = Session(course=course, patient_id=course.patient_id, location=site, chair=chair, start=start, end=end,
                      occupied_until=end + timedelta(minutes=site.turnover_minutes), local_date=day, status=status,
                      booked_at=start - timedelta(days=3))
    if status == SessionStatus.CANCELLED:
        session.cancel_reason, session.cancelled_at = "Patient unwell", start - timedelta(days=1)
    elif status == SessionStatus.NO_SHOW:
        session.no_show_at = start + timedelta(minutes=30)
    return session


def _book_next(course, site, chair, clock, booker) -> int:
    window = booking_selectors.due_window_for_booking(course)
    if window is None:
        return 0
    now = timezone.now()
    for day in sorted((window.earliest + timedelta(days=n) for n in range((window.latest - window.earliest).days + 1)),
                      key=lambda d: abs((d - window.target).days)):
        start = datetime.combine(day, clock, tzinfo=site.zone)
        if start <= now:
            continue
        try:
            booking.book_session(by=booker, course=course, chair=chair, start=start)
            return 1
        except ClinicError:
            continue
    # The lane is taken every day of the window: any free slot in it, else leave the
    # course unbooked, which is what the worklist is for.
    for slot in find_slots(course=course, location=site, limit=3):
        try:
            booking.book_session(by=booker, course=course, chair=slot.chair, start=slot.start)
            return 1
        except ClinicError:
            continue
    return 0
