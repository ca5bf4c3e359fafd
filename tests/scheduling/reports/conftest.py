"""The known week: every row behind the clinic's numbers for Monday 9 to Sunday 15 February 2026, and the week before.

Built once per module (``known_week``) inside a transaction rolled back after the module. The tests
compute each figure by hand from what is listed here; "now" is Monday 2 March 2026, 14:00 UTC (``NOW``).

Sites
- Midtown (New York, UTC-5 in February), open Monday-Friday 09:00-17:00, closed Wednesday 11 February.
  Active chairs: E1 (esketamine only), B1 (esketamine and a pump), IV1 (pump only); "Old" (inactive).
- Westside (Los Angeles, UTC-8), open Monday-Friday 10:00-14:00; one chair W1 (pump only).

Sessions this week (local times; esketamine 150 chair minutes, IV 90)
  s1  Mon 9   09:00 Midtown E1   esketamine  discharged   course A #1
  s2  Mon 9   16:00 Midtown B1   esketamine  discharged   course C #9 (8 sessions recorded from before)
  s3  Tue 10  10:00 Midtown IV1  IV          discharged   course B #1
  s4  Tue 10  13:00 Midtown E1   esketamine  no-show      course X
  s10 Tue 10  13:00 Westside W1  IV          discharged   course E #1
  s7  Wed 11  10:00 Midtown E1   esketamine  discharged   course D #1 (the site is closed that day)
  s5  Thu 12  09:00 Midtown B1   esketamine  late cancel  course Z
  s6  Thu 12  11:00 Midtown E1   esketamine  cancelled 3 days ahead, course Y
  s11 Thu 12  10:00 Westside W1  IV          booked (never marked), course B
  s8  Fri 13  23:30 Midtown IV1  IV          no-show (Saturday 04:30 UTC), course E
The week before: p1 Mon 2 Feb 09:00 Midtown E1 discharged (course F #1); p2 Tue 3 Feb 09:00 Midtown B1 no-show.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import override_settings

from patients.models import Patient
from protocols.models import CourseStatus
from scheduling.models import Direction, Location, MessagePurpose, SessionStatus, WorkKind
from tests.factories import (
    ChairFactory,
    ClosureFactory,
    LocationFactory,
    OutcomeMeasureFactory,
    PatientFactory,
    RemsFormFactory,
    SessionRowFactory,
    TextMessageFactory,
    TreatmentCourseFactory,
    UserFactory,
    WorkItemFactory,
    opening_hours,
    standard_protocol,
)

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
WEEK_START = date(2026, 2, 9)
PHQ9_ITEMS = {  # a PHQ-9 answered to each total, item 9 at 0
    total: [min(3, max(0, total - 3 * index)) for index in range(8)] + [0] for total in range(25)
}


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def feb(day: int) -> date:
    return date(2026, 2, day)


@dataclass
class KnownWeek:
    midtown: Location
    westside: Location
    sessions: dict = field(default_factory=dict)
    courses: dict = field(default_factory=dict)
    patients: dict = field(default_factory=dict)


def _phq9(patient: Patient, taken: datetime, total: int) -> None:
    OutcomeMeasureFactory(patient=patient, items=PHQ9_ITEMS[total], taken_at=taken)


def _build() -> KnownWeek:
    midtown = LocationFactory(name="Midtown", time_zone="America/New_York",
                              hours=opening_hours(range(5), time(9), time(17)))
    westside = LocationFactory(name="Westside", time_zone="America/Los_Angeles",
                               hours=opening_hours(range(5), time(10), time(14)))
    ClosureFactory(location=midtown, date=feb(11))
    e1 = ChairFactory(location=midtown, name="E1", serves_esketamine=True, has_infusion_pump=False)
    b1 = ChairFactory(location=midtown, name="B1", serves_esketamine=True, has_infusion_pump=True)
    iv1 = ChairFactory(location=midtown, name="IV1", serves_esketamine=False, has_infusion_pump=True)
    ChairFactory(location=midtown, name="Old", serves_esketamine=True, active=False)
    w1 = ChairFactory(location=westside, name="W1", serves_esketamine=False, has_infusion_pump=True)
    world = KnownWeek(midtown=midtown, westside=westside)
    author = UserFactory()

    def course(key: str, slug: str, start: date, **fields):
        patient = PatientFactory()
        world.patients[key] = patient
        world.courses[key] = TreatmentCourseFactory(patient=patient, protocol=standard_protocol(slug),
                                                    start_date=start, created_by=author, **fields)
        return world.courses[key]

    esk, iv = "esketamine-trd", "ketamine-iv-series"
    course("A", esk, feb(9))
    course("B", iv, feb(10))
    course("C", esk, date(2026, 1, 14))
    course("D", esk, date(2025, 12, 17))
    course("E", iv, date(2026, 1, 12))
    course("F", esk, date(2026, 1, 7))
    course("X", esk, date(2026, 1, 13))
    course("Y", esk, date(2026, 1, 15))
    course("Z", esk, date(2026, 1, 12))
    course("G", esk, date(2025, 12, 1), status=CourseStatus.COMPLETED, completed_at=utc(feb(16), 5))
    course("H", esk, feb(3), status=CourseStatus.DISCONTINUED, discontinued_at=utc(feb(5), 15),
           discontinued_by=author, discontinued_reason="Moved away")

    def session(key: str, chair, day: date, hour: int, minute: int, course_key: str, status: str, **fields):
        start = chair.location.at(day, time(hour, minute))
        world.sessions[key] = SessionRowFactory(chair=chair, start=start, course=world.courses[course_key],
                                                status=status, **fields)
        return world.sessions[key]

    done, booked = SessionStatus.DISCHARGED, SessionStatus.BOOKED
    s1 = session("s1", e1, feb(9), 9, 0, "A", done)
    s2 = session("s2", b1, feb(9), 16, 0, "C", done)
    session("s3", iv1, feb(10), 10, 0, "B", done)
    session("s4", e1, feb(10), 13, 0, "X", SessionStatus.NO_SHOW)
    session("s10", w1, feb(10), 13, 0, "E", done)
    s7 = session("s7", e1, feb(11), 10, 0, "D", done)
    session("s5", b1, feb(12), 9, 0, "Z", SessionStatus.CANCELLED, late_cancel=True)
    session("s6", e1, feb(12), 11, 0, "Y", SessionStatus.CANCELLED, late_cancel=False)
    session("s11", w1, feb(12), 10, 0, "B", booked)
    session("s8", iv1, feb(13), 23, 30, "E", SessionStatus.NO_SHOW)
    p1 = session("p1", e1, feb(2), 9, 0, "F", done)
    session("p2", b1, feb(3), 9, 0, "F", SessionStatus.NO_SHOW)
    # Course C's first eight sessions, recorded from before the system (no chair, no site).
    for number in range(8):
        SessionRowFactory(chair=None, start=utc(date(2026, 1, 14) + timedelta(days=3 * number), 15),
                          course=world.courses["C"], status=done)
    # Course G's only session, at Westside: G's site, and a form overdue since January.
    g1 = session("g1", w1, date(2026, 1, 20), 10, 0, "G", done)
    a2 = session("a2", e1, feb(26), 9, 0, "A", done)

    # REMS forms: s1 on time; s2 on its seventh day at 23:30 New York (the 17th in UTC); s7 never submitted;
    # p1 (the week before) late; g1 overdue since January; a2 (26 Feb) inside its seven days.
    def form(for_session, submitted: datetime | None):
        if submitted is None:
            return RemsFormFactory(session=for_session)
        return RemsFormFactory(session=for_session, status="submitted", submitted_at=submitted,
                               confirmation_number="RC-1")

    form(s1, utc(feb(12), 15))
    form(s2, utc(feb(17), 4, 30))
    form(s7, None)
    form(p1, utc(feb(12), 15))
    form(g1, None)
    form(a2, None)

    # PHQ-9s (noon UTC, linked to no session): baselines at the start, readings around week 4 or 8.
    patients = world.patients
    for key, baseline, readings in (
        ("C", 20, [(feb(10), 9), (feb(17), 10)]),  # week 4 = 11 Feb: the latest reading, 10, is exactly half
        ("Z", 12, [(feb(9), 7)]),  # week 4 = 9 Feb: 12 -> 7, neither
        ("E", 16, [(feb(6), 3)]),  # IV week 4 = 9 Feb: response and remission
        ("D", 18, [(feb(12), 4)]),  # week 8 = 11 Feb: response and remission
        ("X", 15, []),  # week 4 = 10 Feb: no reading, not counted
        ("F", 14, [(feb(3), 3)]),  # week 4 = 4 Feb, the week before: response and remission
    ):
        _phq9(patients[key], utc(world.courses[key].start_date, 12), baseline)
        for day, total in readings:
            _phq9(patients[key], utc(day, 12), total)
    _phq9(patients["Y"], utc(feb(5), 12), 18)  # Y's first PHQ-9 falls inside its week-4 window: no baseline

    # Texts.
    def text(patient_key, at, *, direction=Direction.OUTBOUND, purpose=MessagePurpose.REMINDER, status="sent",
             body="Reminder", session=None):
        TextMessageFactory(patient=patients[patient_key], at=at, direction=direction, purpose=purpose,
                           delivery_status=status, body=body, session=session)

    text("A", utc(feb(9), 15), status="delivered", session=s1)
    text("B", utc(feb(10), 13), status="failed", session=world.sessions["s3"])
    text("E", utc(feb(10), 7, 30), status="undelivered", session=world.sessions["s10"])  # 9 Feb 23:30 in LA
    text("A", utc(feb(16), 3), purpose=MessagePurpose.DESK, status="delivered")  # 15 Feb 22:00 in New York
    text("A", utc(feb(11), 15), purpose=MessagePurpose.NEW_TIME, status="not_sent")
    text("F", utc(feb(3), 15), status="delivered", session=p1)
    for body, day in (("C", feb(10)), ("yes!", feb(10)), ("R", feb(10)), ("STOP", feb(10)), ("help", feb(11)),
                      ("Can I come later?", feb(11)), ("please stop", feb(12)), ("C", feb(3))):
        text("A" if day >= WEEK_START else "F", utc(day, 16), direction=Direction.INBOUND,
             purpose=MessagePurpose.REPLY, status="received", body=body)
    # Opt-outs: A twice this week (opted in again between), B once the week before.
    for at in (utc(feb(10), 16), None, utc(feb(12), 16)):
        Patient.objects.filter(pk=patients["A"].pk).update(sms_opted_out_at=at)
    Patient.objects.filter(pk=patients["B"].pk).update(sms_opted_out_at=utc(feb(4), 16))

    # The worklist found course Z lapsed on Thursday.
    WorkItemFactory(kind=WorkKind.LAPSED, patient=patients["Z"], course=world.courses["Z"], location=midtown,
                    opened_at=utc(feb(12), 15))
    return world


@pytest.fixture(scope="module")
def known_week(django_db_setup, django_db_blocker):
    """The known week's rows, in a transaction of the module's own; the module's tests carry ``django_db``."""
    with ExitStack() as stack:
        stack.enter_context(django_db_blocker.unblock())
        assert connection.settings_dict["NAME"].startswith("test_")
        stack.enter_context(override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]))
        stack.enter_context(transaction.atomic())
        yield _build()
        transaction.set_rollback(True)
