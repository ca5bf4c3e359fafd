"""The rules a demo clinic keeps whatever the hour it was loaded, each as a check over the whole data set.

Each function returns what breaks its rule, in words (an empty list when the rule holds),
so a failing test names the sessions, courses, patients or texts at fault.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

import phonenumbers

from clinic.models import OutboxMessage
from patients.models import Patient
from protocols.models import CourseStatus, TreatmentCourse
from scheduling.demo.patients import NAMESAKE
from scheduling.models import (
    RELEASED_STATUSES,
    UPCOMING_STATUSES,
    Closure,
    Direction,
    Location,
    MessagePurpose,
    OpeningHours,
    ReminderPolicy,
    Session,
    SessionStatus,
    TextMessage,
    WorkItem,
    WorkKind,
)

UNDER_WAY = (SessionStatus.CHECKED_IN, SessionStatus.IN_TREATMENT)
# What the desk should find on the worklist after the demo's own sweep.
WORKLIST_KINDS = (WorkKind.DUE_UNBOOKED, WorkKind.OVERDUE, WorkKind.LAPSED, WorkKind.NO_SHOW_REBOOK,
                  WorkKind.RESCHEDULE_REQUEST, WorkKind.REMS_FORM_DUE)


def _hours() -> dict[tuple[int, int], tuple]:
    return {(row.location_id, row.weekday): (row.opens, row.closes) for row in OpeningHours.objects.all()}


def is_open(location: Location, moment: datetime, hours=None) -> bool:
    hours = hours or _hours()
    local = location.local(moment)
    day = hours.get((location.pk, local.weekday()))
    return (day is not None and day[0] <= local.time() < day[1]
            and not Closure.objects.filter(location=location, date=local.date()).exists())


def _sessions():
    return Session.objects.select_related("location", "course__protocol", "patient").order_by("start", "id")


def outside_opening_hours() -> list[str]:
    """Every session (cancelled and missed ones too) lies inside its site's hours on an open day."""
    hours, closed = _hours(), set(Closure.objects.values_list("location_id", "date"))
    wrong = []
    for session in _sessions():
        start, end = session.location.local(session.start), session.location.local(session.end)
        day = hours.get((session.location_id, start.weekday()))
        if (day is None or (session.location_id, start.date()) in closed or start.time() < day[0]
                or end.date() != start.date() or end.time() > day[1]):
            wrong.append(f"{session} at {session.location}: {start:%a %H:%M}-{end:%H:%M}, open {day}")
    return wrong


def chairs_shared() -> list[str]:
    """No two standing sessions hold one chair at once (chair time plus turnover).

    Recorded history (a visit given before the course was entered) holds no chair, so it cannot share one.
    """
    wrong, by_chair = [], defaultdict(list)
    for session in _sessions().exclude(status__in=RELEASED_STATUSES).exclude(chair__isnull=True):
        by_chair[session.chair_id].append(session)
    for sessions in by_chair.values():
        for before, after in zip(sessions, sessions[1:], strict=False):
            if after.start < before.occupied_until:
                wrong.append(f"{before} and {after} share chair {before.chair_id}")
    return wrong


def behind_the_clock(now: datetime) -> list[str]:
    """A session that ended is given, missed or cancelled; one to come is booked; one under way is today,
    between its start and end, with its site open."""
    wrong, hours = [], _hours()
    for session in _sessions():
        site = session.location
        if session.end <= now and session.status not in (SessionStatus.DISCHARGED, *RELEASED_STATUSES):
            wrong.append(f"{session} ended at {site.local(session.end):%a %H:%M} but is {session.status}")
        if session.start > now and session.status not in (*UPCOMING_STATUSES, SessionStatus.CANCELLED):
            wrong.append(f"{session} starts at {site.local(session.start):%a %H:%M} but is {session.status}")
        if session.status in UNDER_WAY and not (session.start <= now < session.end and is_open(site, now, hours)):
            wrong.append(f"{session} is {session.status} at {site.local(now):%a %H:%M} ({site})")
        if session.start <= now < session.end and session.status in UPCOMING_STATUSES:
            wrong.append(f"{session} began at {site.local(session.start):%H:%M} and is still {session.status}")
        if session.status == SessionStatus.DISCHARGED and session.discharged_at and session.discharged_at > now:
            wrong.append(f"{session} discharged in the future")
    return wrong


def numbers_out_of_order() -> list[str]:
    """Within a course, session numbers (1 + given sessions before) rise with the dates; one visit a day a
    patient."""
    wrong, given, per_day = [], Counter(), Counter()
    numbers: dict[int, list[tuple[int, Session]]] = defaultdict(list)
    for session in _sessions().exclude(status__in=RELEASED_STATUSES):
        numbers[session.course_id].append((given[session.course_id] + 1, session))
        if session.status == SessionStatus.DISCHARGED:
            given[session.course_id] += 1
        per_day[(session.patient_id, session.local_date)] += 1
    for rows in numbers.values():
        for (number, session), (next_number, later) in zip(rows, rows[1:], strict=False):
            if next_number <= number:
                wrong.append(f"{session} is number {number}, the later {later} number {next_number}")
    wrong += [f"patient {patient} has {count} visits on {day}" for (patient, day), count in per_day.items()
              if count > 1]
    return wrong


def active_on_ended_courses(now: datetime) -> list[str]:
    """A course that is not active has no visit to come or under way, and ended after its last visit."""
    wrong = []
    for course in TreatmentCourse.objects.exclude(status=CourseStatus.ACTIVE):
        open_visits = course.sessions.filter(status__in=(*UPCOMING_STATUSES, *UNDER_WAY))
        if open_visits.exists():
            wrong.append(f"course {course.pk} is {course.status} with {list(open_visits)}")
        ended = course.completed_at or course.discontinued_at or course.paused_at
        last = course.sessions.filter(status=SessionStatus.DISCHARGED).order_by("-start").first()
        if ended is None or ended > now or (last is not None and ended < last.end - timedelta(minutes=30)):
            wrong.append(f"course {course.pk} {course.status} at {ended}, last visit {last}")
    return wrong


def namesakes() -> list[str]:
    """Names are unique but for the documented pair, who differ in date of birth and MRN."""
    pair = {f"DEMO{NAMESAKE[0] + 1:04d}", f"DEMO{NAMESAKE[1] + 1:04d}"}
    wrong = []
    groups = defaultdict(list)
    for patient in Patient.objects.all():
        groups[(patient.first_name, patient.last_name)].append(patient)
    for name, patients in groups.items():
        if len(patients) == 1:
            continue
        if {p.mrn for p in patients} != pair or len({p.date_of_birth for p in patients}) != 2:
            wrong.append(f"{' '.join(name)}: {[(p.mrn, p.date_of_birth) for p in patients]}")
    return wrong


def missing_worklist_kinds() -> list[str]:
    present = set(WorkItem.objects.open().values_list("kind", flat=True))
    return [kind for kind in WORKLIST_KINDS if kind not in present]


def untidy_contacts(now: datetime) -> list[str]:
    """Phones are US numbers from the fictional 555-01xx range; every consent has a method and a date."""
    wrong = []
    for patient in Patient.objects.all():
        for phone in (patient.phone, patient.emergency_contact_phone):
            number = phonenumbers.parse(phone, None)
            if not (phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) == "US"
                    and str(number.national_number)[3:6] == "555" and str(number.national_number)[6:8] == "01"):
                wrong.append(f"{patient.mrn}: {phone}")
        if patient.sms_consent and not (patient.sms_consent_method and patient.sms_consent_at
                                        and patient.sms_consent_at <= now):
            wrong.append(f"{patient.mrn}: consent without method or date")
    return wrong


def texts_disagreeing(now: datetime) -> list[str]:
    """Each reminder text is for a visit of its patient, standing when sent, outside quiet hours, at least an
    hour ahead, naming the visit's day and time, within the caps; the outbox holds exactly what was sent."""
    wrong, counted = [], defaultdict(list)
    texts = TextMessage.objects.select_related("session__location", "patient", "reminder").order_by("at")
    outbox = {message.provider_id: message for message in OutboxMessage.objects.all()}
    for text in texts:
        if text.at > now:
            wrong.append(f"text {text.pk} sent in the future")
        if text.direction == Direction.INBOUND:
            earlier = texts.filter(patient=text.patient, direction=Direction.OUTBOUND, at__lt=text.at)
            if not earlier.exists():
                wrong.append(f"reply {text.pk} from {text.patient.mrn} answers no text")
            continue
        if text.counts_toward_caps:
            counted[text.patient_id].append(text)
        if text.purpose != MessagePurpose.REMINDER:
            continue
        session, site = text.session, text.session.location
        policy = ReminderPolicy.for_location(site)
        local = site.local(session.start)
        if session.patient_id != text.patient_id or text.phone != text.patient.phone:
            wrong.append(f"text {text.pk} went to someone else")
        if session.status == SessionStatus.CANCELLED and session.cancelled_at <= text.at:
            wrong.append(f"text {text.pk} for {session}, cancelled before it")
        if session.start - text.at < timedelta(minutes=policy.min_lead_minutes):
            wrong.append(f"text {text.pk} sent {session.start - text.at} before {session}")
        if policy.in_quiet_hours(site.local(text.at).time()):
            wrong.append(f"text {text.pk} sent in quiet hours at {site.local(text.at):%H:%M}")
        if local.strftime("%-I:%M %p") not in text.body:
            wrong.append(f"text {text.pk} does not name {local:%-I:%M %p}: {text.body}")
        if not text.patient.sms_consent or text.patient.sms_consent_at > text.at:
            wrong.append(f"text {text.pk} to {text.patient.mrn} without consent")
        message = outbox.pop(text.provider_id, None)
        if message is None or (message.to, message.body, message.created_at) != (text.phone, text.body, text.at):
            wrong.append(f"text {text.pk} is not in the outbox as sent")
    for patient_id, sent in counted.items():
        site = sent[0].session.location if sent[0].session else None
        days = [site.local_date(text.at) if site else text.at.date() for text in sent]
        wrong += [f"patient {patient_id}: {count} texts on {day}" for day, count in Counter(days).items()
                  if count > 1]
        for day in days:
            week = [other for other in days if day <= other < day + timedelta(days=7)]
            if len(week) > 3:
                wrong.append(f"patient {patient_id}: {len(week)} texts in the week from {day}")
    wrong += [f"outbox text {message.pk} to {message.to} was never sent" for message in outbox.values()
              if message.created_at <= now]
    return wrong
