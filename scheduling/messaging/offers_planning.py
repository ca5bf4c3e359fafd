"""Freed chair time, and whom it is offered to (docs/OFFERS.md, docs/DOMAIN.md "Freed chairs").

A cancel or a move at least FREED_CHAIR_MIN_NOTICE_HOURS ahead, at a site with
offers on, frees the chair time the session held; once the change commits,
``plan_offers`` offers it to the first OFFERS_AT_ONCE candidates:

- active courses of the same treatment (modality) last seen at that site,
  whose patient may be texted (consent, not opted out, a number, not archived),
  has no session that day and no other open offer, and was not offered this
  time before, nor is the patient whose cancel or move freed it;
- either not booked yet, or booked later in the same window and marked as
  wanting an earlier time (``Session.earlier_wanted_at``);
- whose next session's due window contains the day.

The first two are one SQL statement, over the courses with a session at the
site recent enough for a window to reach the day (see ``_CANDIDATES_SQL``);
the due windows of those left are read together (``course_views_for``, one query and the due
engine), never a query per course. Overdue first (past the target day, still
inside the window), then the longest due (the window opened first), then the
oldest earlier-time request (a patient with no time booked before one who has
a later time and asked for an earlier one, when both are due as long).

Planning and taking hold the freed time's advisory lock, so two planners never
offer it to more than OFFERS_AT_ONCE patients and two YES never both book it.

The change also writes a ``FreedTimeMark`` in its own transaction (``keep_freed``):
a planning task lost with the broker leaves a freed time with no offer, and
beat's ``end_offers`` pass plans it from its mark (``offers_ending``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, QuerySet, Subquery
from django.utils import timezone

from patients.models import Patient
from protocols.models import CourseStatus, Phase, Protocol, TreatmentCourse
from scheduling.booking.selectors import site_calendar, with_calendar
from scheduling.messaging.desk_texts import Hours
from scheduling.models import (
    OPEN_OFFER_STATES,
    RELEASED_STATUSES,
    UPCOMING_STATUSES,
    Location,
    Offer,
    OfferState,
    OfferText,
    ReminderState,
    Session,
    SessionStatus,
)
from scheduling.models.offers import FreedTimeMark
from scheduling.worklist.course_views import course_views_for


@dataclass(frozen=True)
class FreedTime:
    """A chair's time a session no longer holds."""

    location_id: int
    chair_id: int
    start: datetime
    end: datetime
    modality: str
    session_id: int | None = None

    def as_args(self) -> tuple:
        return (self.location_id, self.chair_id, self.start.isoformat(), self.end.isoformat(), self.modality,
                self.session_id)

    @classmethod
    def from_args(cls, location_id, chair_id, start, end, modality, session_id=None) -> FreedTime:
        return cls(location_id, chair_id, datetime.fromisoformat(start), datetime.fromisoformat(end), modality,
                   session_id)

    @classmethod
    def of_offer(cls, offer: Offer) -> FreedTime:
        return cls(offer.location_id, offer.chair_id, offer.start, offer.end, offer.course.modality,
                   offer.freed_from_id)


def freed_by(session: Session, *, now: datetime | None = None) -> FreedTime | None:
    """The time ``session`` holds (read before a move changes it), when giving it up would be worth an offer:
    a chair, at least FREED_CHAIR_MIN_NOTICE_HOURS ahead. The site's switch is read when planning."""
    now = now or timezone.now()
    if session.chair_id is None or session.location_id is None or session.recorded_history:
        return None
    if session.start - now < timedelta(hours=settings.FREED_CHAIR_MIN_NOTICE_HOURS):
        return None
    # The treatment is read by the planning task when the change did not load the course (a cancel's query saved).
    modality = session.course.modality if Session.course.is_cached(session) else ""
    return FreedTime(session.location_id, session.chair_id, session.start, session.end, modality, session.pk)


def keep_freed(freed: FreedTime, *, now: datetime | None = None) -> None:
    """Inside the cancel's or move's transaction: the freed time, kept for beat's catch-up (and the numbers)."""
    FreedTimeMark.objects.create(location_id=freed.location_id, chair_id=freed.chair_id, start=freed.start,
                                 end=freed.end, session_id=freed.session_id, freed_at=now or timezone.now())


def lock_freed_time(chair_id: int, start: datetime) -> None:
    """Inside a transaction: one planner or one taker at a time for this chair's time (until commit)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [chair_id, int(start.timestamp()) % 2_000_000_000])


def void_offers_of_booking(session: Session, offer_ids, *, reason: str = "the time was booked") -> int:
    """Inside a booking's (or a move's) transaction: the open offers of chair time this session now holds
    (``offer_ids``, read with the slot's facts: ``fast_reads.SlotFacts.open_offers``) end at once, and a planned
    one's text is withdrawn. The booked patient's own offer ends too: when their YES made the booking, ``take``
    marks it taken right after. Returns how many ended."""
    return end_offers(list(offer_ids), OfferState.VOID, reason=reason, now=timezone.now()) if offer_ids else 0


def end_offers(ids, state: str, *, reason: str, now: datetime) -> int:
    """End these offers (those still open) with ``state`` and ``reason``; a text not yet claimed is voided."""
    ended = Offer.objects.filter(pk__in=ids, state__in=OPEN_OFFER_STATES).update(
        state=state, ended_at=now, ended_reason=reason[:300])
    OfferText.objects.filter(offer_id__in=ids, state=ReminderState.PENDING).update(
        state=ReminderState.VOID, reason=f"not sent: the offer ended ({reason})"[:300])
    return ended


def _holding(freed: FreedTime) -> QuerySet[Session]:
    """Sessions that hold the freed chair time (it was booked again)."""
    return Session.objects.filter(chair_id=freed.chair_id, start__lt=freed.end, occupied_until__gt=freed.start) \
        .exclude(status__in=RELEASED_STATUSES)


def chair_taken(freed: FreedTime) -> bool:
    return _holding(freed).exists()


# With each course, the oldest request for an earlier time among its upcoming bookings (None: none asked),
# read for the few rows that pass rather than in a statement of its own.
#
# ``reach``: a next session's window closes at most this many days after its anchor (the last kept session,
# or the course's start or restart date; protocols.due), so a course whose window can hold the day has a
# session at the site on or after the day less the reach (its latest kept session is there and no earlier
# than the anchor), or started or restarted since. That test reads the site's recent sessions by
# (location, day) and leaves a few hundred courses, not every active course of the treatment in the network,
# to the per-course reads below (at large, half the statement's time). The due engine still decides.
_CANDIDATES_SQL = f"""
    WITH reach AS (
        SELECT %(day)s::date - max(greatest(ph.latest_days, coalesce(ph.weekly_latest_days, 0),
                                            pr.first_session_latest_days))
        FROM {Protocol._meta.db_table} pr JOIN {Phase._meta.db_table} ph ON ph.protocol_id = pr.id
        WHERE pr.modality = %(modality)s
    )
    SELECT c.id,
           (SELECT min(s.earlier_wanted_at) FROM {Session._meta.db_table} s
            WHERE s.course_id = c.id AND s.start >= %(now)s AND s.earlier_wanted_at IS NOT NULL
              AND s.status IN ('{UPCOMING_STATUSES[0]}', '{UPCOMING_STATUSES[1]}'))
    FROM {TreatmentCourse._meta.db_table} c
    JOIN {Patient._meta.db_table} p ON p.id = c.patient_id
    WHERE c.status = '{CourseStatus.ACTIVE}' AND c.modality = %(modality)s
      AND (c.id IN (SELECT s.course_id FROM {Session._meta.db_table} s
                    WHERE s.location_id = %(location)s AND s.local_date >= (TABLE reach)
                      AND s.status <> '{SessionStatus.CANCELLED}')
           OR c.start_date >= (TABLE reach) OR c.restart_on >= (TABLE reach))
      AND p.sms_consent AND p.sms_opted_out_at IS NULL AND p.phone <> '' AND p.archived_at IS NULL
      -- Never offered back to the patient whose own cancel or move freed it.
      AND p.id IS DISTINCT FROM (SELECT s.patient_id FROM {Session._meta.db_table} s WHERE s.id = %(freed_from)s)
      AND NOT EXISTS (SELECT 1 FROM {Session._meta.db_table} s
                      WHERE s.patient_id = p.id AND s.local_date = %(day)s
                        AND s.status NOT IN ('{SessionStatus.CANCELLED}', '{SessionStatus.NO_SHOW}'))
      AND NOT EXISTS (SELECT 1 FROM {Offer._meta.db_table} o
                      WHERE o.patient_id = p.id
                        AND (o.state IN ('{OfferState.PLANNED}', '{OfferState.SENT}')
                             OR (o.chair_id = %(chair)s AND o.start = %(start)s)))
      AND NOT EXISTS (SELECT 1 FROM {Session._meta.db_table} s
                      WHERE s.course_id = c.id AND s.start >= %(now)s AND s.earlier_wanted_at IS NULL
                        AND s.status IN ('{UPCOMING_STATUSES[0]}', '{UPCOMING_STATUSES[1]}'))
      AND (SELECT s.location_id FROM {Session._meta.db_table} s
           WHERE s.course_id = c.id AND s.status <> '{SessionStatus.CANCELLED}'
           ORDER BY s.start DESC, s.id DESC LIMIT 1) = %(location)s
"""


@dataclass(frozen=True)
class Candidate:
    course_id: int
    patient_id: int
    overdue: bool
    opened: date
    asked_earlier_at: datetime | None


def candidates_statement(freed: FreedTime, *, modality: str, day: date, now: datetime) -> tuple[str, dict]:
    """The candidates' statement for ``freed`` and its parameters: one (course id, asked earlier at) row each
    (``candidates`` reads it, and the benchmark's floor runs it raw)."""
    return _CANDIDATES_SQL, {"modality": modality, "day": day, "chair": freed.chair_id, "start": freed.start,
                             "now": now, "location": freed.location_id, "freed_from": freed.session_id}


def candidates(freed: FreedTime, *, day: date, now: datetime) -> list[Candidate]:
    """Everyone who could take ``freed`` on ``day`` (its local date), best first (see the module docstring)."""
    with connection.cursor() as cursor:
        cursor.execute(*candidates_statement(freed, modality=freed.modality, day=day, now=now))
        rows = cursor.fetchall()
    if not rows:
        return []
    ids = [course_id for course_id, _ in rows]
    asked = {course_id: asked_at for course_id, asked_at in rows if asked_at is not None}
    found = []
    for view in course_views_for(ids, now):
        plan = view.outlook.plan
        if not plan or view.timing not in ("due", "on_track", "overdue"):
            continue
        row = plan[0]  # the next session: its window, and its booking if it has one
        if not row.earliest <= day <= row.latest:
            continue
        if row.booked is not None and not (row.booked > day and view.course.pk in asked):
            continue
        found.append(Candidate(course_id=view.course.pk, patient_id=view.course.patient_id,
                               overdue=view.today > row.target, opened=row.earliest,
                               asked_earlier_at=asked.get(view.course.pk)))
    # Among patients due as long, one with no time at all comes before one booked later who asked.
    never = datetime.max.replace(tzinfo=now.tzinfo)
    found.sort(key=lambda c: (not c.overdue, c.opened, c.asked_earlier_at is not None, c.asked_earlier_at or never,
                              c.course_id))
    return found


def offer_window_open(freed: FreedTime, now: datetime) -> bool:
    """An offer can still be sent and answered: the time is more than OFFER_STALE_HOURS away."""
    return freed.start - now > timedelta(hours=settings.OFFER_STALE_HOURS)


def plan_offers(freed: FreedTime, *, now: datetime | None = None) -> list[Offer]:
    """Offer ``freed`` to the next OFFERS_AT_ONCE candidates, unless some offer of it is still open, one took
    it, it was booked meanwhile, it is outside opening hours, too close, or the site has offers off.
    Their texts wait for the sweep (after quiet hours, when inside them)."""
    now = now or timezone.now()
    with transaction.atomic():
        lock_freed_time(freed.chair_id, freed.start)
        # One query: the site with its calendar and quiet hours, whether the chair was booked again, whether an
        # offer of the time is open or was taken, and (when the change did not load the course) the treatment.
        location = with_calendar(Location.objects.filter(pk=freed.location_id).select_related("reminder_policy")) \
            .annotate(chair_booked=Exists(_holding(freed)),
                      time_offered=Exists(Offer.objects.filter(chair_id=freed.chair_id, start=freed.start,
                                                               state__in=(*OPEN_OFFER_STATES, OfferState.TAKEN))),
                      freed_modality=Subquery(Session.objects.filter(pk=freed.session_id)
                                              .values("course__modality")[:1])).first()
        if location is None or not location.active or not location.offers_enabled:
            return []
        if not freed.modality:
            if location.freed_modality is None:
                return []
            freed = replace(freed, modality=location.freed_modality)
        if not offer_window_open(freed, now) or location.chair_booked:
            return []
        if not site_calendar(location).is_open_for(freed.start, freed.end):
            return []
        if location.time_offered:
            return []
        chosen = candidates(freed, day=location.local_date(freed.start), now=now)
        send_at = Hours.of(location).next_allowed(now)
        planned = []
        for candidate in chosen:
            if len(planned) == settings.OFFERS_AT_ONCE:
                break
            try:
                with transaction.atomic():
                    offer = Offer.objects.create(
                        location_id=freed.location_id, chair_id=freed.chair_id, start=freed.start, end=freed.end,
                        freed_from_id=freed.session_id, patient_id=candidate.patient_id,
                        course_id=candidate.course_id, created_at=now)
                    OfferText.objects.create(offer=offer, send_at=send_at, created_at=now)
            except IntegrityError:  # an offer to this patient opened meanwhile (one open offer per patient)
                continue
            planned.append(offer)
    return planned


def refill(times: list[FreedTime], *, now: datetime | None = None) -> int:
    """Offer each freed time whose offers all ended to its next patients; returns how many offers were planned."""
    return sum(len(plan_offers(freed, now=now)) for freed in times)
