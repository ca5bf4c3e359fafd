"""A patient's answer to an offer: YES (or Y) takes the freed time (docs/OFFERS.md).

- YES or Y from a patient with a sent offer takes it: the time is booked by
  the booking service staff use (``book_session``: the exclusion constraints,
  eligibility, the due window, clinician capacity, prior authorisation), or,
  when the patient was booked later in the window, that booking is moved
  there (``reschedule_session``: its reminders follow the move). The patient
  is answered "Booked: ..." (recorded, not counted against the caps).
- The freed time's advisory lock (``offers_planning.lock_freed_time``) lets
  one YES at a time try it: the first books it and its booking ends the other
  offers; the next finds its offer ended and gets ``TAKEN_TEXT``.
- An offer past its end, or one the rules refuse (the reason kept on the
  offer), gets ``TAKEN_TEXT`` too; a refused offer's time goes to the next
  patients.
- A YES to an offer that already ended, when the offer was the last text the
  patient had from us, gets ``TAKEN_TEXT``; otherwise, without an open offer,
  YES keeps its meaning (``inbound``: it confirms the next visit).
- STOP ends the patient's open offers (``void_for_patient``).
- A taken offer opens the desk's "Offer taken" worklist item in the same
  transaction as the booking (``worklist.offer_items``): a call may be needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction

from clinic.errors import ClinicError
from scheduling.booking import services as booking
from scheduling.messaging.offers_planning import FreedTime, end_offers, lock_freed_time
from scheduling.messaging.offers_sending import day_and_time
from scheduling.models import (
    OPEN_OFFER_STATES,
    UPCOMING_STATUSES,
    Direction,
    MessagePurpose,
    Offer,
    OfferState,
    Session,
    TextMessage,
    WorkItem,
)
from scheduling.worklist import offer_items

OFFER_WORDS = frozenset({"YES", "Y"})
TAKEN_TEXT = "That time has been taken; we'll text you if another opens."
BOOKED_TEXT = "Booked: {day} at {time} at {clinic}."
REPLY_TEXTS = (TAKEN_TEXT, BOOKED_TEXT)


@dataclass(frozen=True)
class Answer:
    """What a YES to an offer did: ``session`` when it booked (and the desk's ``item``), the reply to send,
    freed times to offer again."""

    offer: Offer
    reply: str
    session: Session | None = None
    item: WorkItem | None = None
    offer_again: tuple[FreedTime, ...] = ()

    @property
    def booked(self) -> bool:
        return self.session is not None


def offer_answered(patient, keyword: str) -> Offer | None:
    """The offer a YES (or Y) from ``patient`` answers: their sent offer; else their latest sent offer that
    ended without them taking it, when it was the last text they had from us. None: YES keeps its meaning."""
    if keyword not in OFFER_WORDS:
        return None
    offers = Offer.objects.filter(patient=patient, sent_at__isnull=False)
    sent = offers.filter(state=OfferState.SENT).order_by("-sent_at", "-id").first()
    if sent is not None:
        return sent
    latest = offers.order_by("-sent_at", "-id").first()
    if latest is None or latest.state == OfferState.TAKEN:
        return None
    last_text = (TextMessage.objects.filter(patient=patient, direction=Direction.OUTBOUND)
                 .order_by("-at", "-id").values_list("purpose", "at").first())
    if last_text is None or last_text[0] != MessagePurpose.OFFER or last_text[1] < latest.sent_at:
        return None
    return latest


def _later_booking(offer: Offer) -> Session | None:
    """The patient's booking of this course after the offered time, which taking it moves."""
    return (Session.objects.filter(course_id=offer.course_id, status__in=UPCOMING_STATUSES, start__gt=offer.start)
            .select_related("location").order_by("start", "id").first())


def _held_by_the_patient(offer: Offer) -> bool:
    """The offered time is booked for the offer's own course (by the desk, or by an earlier YES)."""
    return Session.objects.filter(course_id=offer.course_id, chair_id=offer.chair_id, start=offer.start,
                                  status__in=UPCOMING_STATUSES).exists()


def booked_text(offer: Offer) -> str:
    day, clock = day_and_time(offer.location, offer.start)
    return BOOKED_TEXT.format(day=day, time=clock, clinic=settings.CLINIC_NAME)


def take(offer: Offer, *, now: datetime) -> Answer:
    """The patient said YES to ``offer``: book it if it is still theirs to take (see the module docstring).
    Inside the reply's transaction, with the patient's row locked."""
    lock_freed_time(offer.chair_id, offer.start)
    offer = Offer.objects.select_related("location", "course", "chair__location").get(pk=offer.pk)
    if offer.state != OfferState.SENT:
        # The desk may have booked the time for this very patient on the phone (which ends the offer): telling
        # them it was "taken" would read as if they had lost it.
        if _held_by_the_patient(offer):
            return Answer(offer, booked_text(offer))
        return Answer(offer, TAKEN_TEXT)
    if offer.expires_at is not None and offer.expires_at <= now:
        end_offers([offer.pk], OfferState.EXPIRED, reason="no answer in time", now=now)
        return Answer(offer, TAKEN_TEXT, offer_again=(FreedTime.of_offer(offer),))
    later = _later_booking(offer)
    # As it was before the move, for the desk's item ("moved from ...").
    moved_from = Session(location=later.location, start=later.start) if later is not None else None
    try:
        with transaction.atomic():
            if later is not None:
                session = booking.reschedule_session(by=None, session=later, start=offer.start, chair=offer.chair,
                                                     now=now)
            else:
                session = booking.book_session(by=None, course=offer.course, chair=offer.chair, start=offer.start,
                                               now=now)
    except ClinicError as refusal:
        why = f"the booking was refused ({refusal.code}): {refusal.detail}"
        end_offers([offer.pk], OfferState.DECLINED, reason=why, now=now)
        Offer.objects.filter(pk=offer.pk).update(answered_at=now)
        return Answer(offer, TAKEN_TEXT, offer_again=(FreedTime.of_offer(offer),))
    Offer.objects.filter(pk=offer.pk).update(state=OfferState.TAKEN, answered_at=now, ended_at=now, session=session,
                                             ended_reason="taken by the patient's reply")
    item = offer_items.open_taken(offer, session, moved_from=moved_from, now=now)
    return Answer(offer, booked_text(offer), session=session, item=item)


def mark_answered(offer: Offer, *, at: datetime) -> None:
    """Record when the patient answered (the first answer), also on an offer that had ended."""
    Offer.objects.filter(pk=offer.pk, answered_at__isnull=True).update(answered_at=at)


def replayed_outcome(message: TextMessage) -> bool | None:
    """For a repeated delivery of ``message``: True when it took an offer, False when it answered one that had
    ended, None when it answered none."""
    if message.body and message.body.split()[0].strip(".,!?;:'\"()").upper() not in OFFER_WORDS:
        return None
    offer = Offer.objects.filter(patient_id=message.patient_id, answered_at=message.at).first()
    if offer is None:
        return None
    return offer.state == OfferState.TAKEN and offer.session_id == message.session_id


def void_for_patient(patient_id: int, *, reason: str, now: datetime) -> list[FreedTime]:
    """End the patient's open offers (they opted out); returns the freed times to offer again."""
    offers = list(Offer.objects.filter(patient_id=patient_id, state__in=OPEN_OFFER_STATES).select_related("course"))
    end_offers([offer.pk for offer in offers], OfferState.VOID, reason=reason, now=now)
    return [FreedTime.of_offer(offer) for offer in offers]
