"""Sending an offer's text exactly once, under every rule a text obeys (docs/OFFERS.md).

The ``OfferText`` row goes through ``messaging.jobs`` as reminders do: the
sweep claims it (pending -> queued), the send task claims it again (queued ->
sending) with a conditional UPDATE, ``provider_called_at`` is committed before
the provider is called (a timeout or a dead worker leaves it ``unknown``,
never re-sent, and its offer counts as sent: the patient may have it), and
the reaper recovers lost claims.

Checked again at the send: the offer is still planned, the site still offers,
the time is more than OFFER_STALE_HOURS away, the patient may be texted, the
daily and weekly caps (an offer counts against them, as outreach does, and
gives way to a reminder), quiet hours (held until they end). The final text
is checked for forbidden words by ``jobs.send_text``. A text that cannot go
ends its offer, and the freed time goes to the next patients.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Least
from django.utils import timezone

from scheduling.messaging import jobs
from scheduling.messaging.desk_texts import Hours
from scheduling.messaging.offers_planning import FreedTime, end_offers, offer_window_open, refill
from scheduling.messaging.reminders import cap_refusal, status_callback_url
from scheduling.models import (
    OUTREACH_PRIORITY,
    Direction,
    MessagePurpose,
    Offer,
    OfferState,
    OfferText,
    ReminderState,
    TextMessage,
)

OFFER_TEXT = "A time opened at {clinic} on {day} at {time}. Reply YES to take it."
OFFER_PRIORITY = OUTREACH_PRIORITY


def day_and_time(location, instant: datetime) -> tuple[str, str]:
    """``("Tuesday March 3", "2:30 PM")``: the site's local day and time, as the texts say them."""
    local = instant.astimezone(location.zone)
    return f"{local:%A %B} {local.day}", local.strftime("%I:%M %p").lstrip("0")


def offer_body(offer) -> str:
    day, clock = day_and_time(offer.location, offer.start)
    return OFFER_TEXT.format(clinic=settings.CLINIC_NAME, day=day, time=clock)


def expires_at(offer, sent_at: datetime) -> datetime:
    """OFFER_MINUTES after sending or OFFER_STALE_HOURS before the time, whichever is first."""
    return min(sent_at + timedelta(minutes=settings.OFFER_MINUTES),
               offer.start - timedelta(hours=settings.OFFER_STALE_HOURS))


def claim_due_offer_texts(*, now: datetime | None = None, limit: int | None = None) -> list[int]:
    return jobs.claim_due(OfferText, now=now or timezone.now(), limit=limit or settings.TEXT_CLAIM_BATCH,
                          order_by="send_at, id")


def reap_stuck_offer_texts(*, now: datetime | None = None) -> jobs.Reaped:
    """The reaper's pass over offer texts; an offer whose text it left ``unknown`` counts as sent."""
    reaped = jobs.reap_stuck(OfferText, now=now or timezone.now())
    offers_of_unknown_texts_sent()
    return reaped


def offers_of_unknown_texts_sent() -> int:
    """An offer still planned whose text is ``unknown`` (a worker died while the provider was being called) is
    treated as sent from that call, as a timeout is in ``deliver``: the patient may have it, so their YES
    counts, and it ends by time. Set-based and idempotent, so a reaper pass that died before it is made good by
    the next."""
    called = OfferText.objects.filter(offer_id=OuterRef("pk")).values("provider_called_at")[:1]
    return Offer.objects.filter(state=OfferState.PLANNED, text__state=ReminderState.UNKNOWN,
                                text__provider_called_at__isnull=False).update(
        state=OfferState.SENT, sent_at=Subquery(called),
        expires_at=Least(Subquery(called) + timedelta(minutes=settings.OFFER_MINUTES),
                         F("start") - timedelta(hours=settings.OFFER_STALE_HOURS)))


def send_claimed(text_id: int) -> str | None:
    """The send task's body: claim (queued -> sending) and deliver; None when another worker has it."""
    if not jobs.claim_for_sending(OfferText, text_id, now=timezone.now()):
        return None
    if not jobs.wait_turn(OfferText, text_id, now=timezone.now()):
        return ReminderState.PENDING
    return deliver(text_id)


def _why_not_send(row: OfferText, now: datetime) -> tuple[str, str]:
    offer, patient = row.offer, row.offer.patient
    if offer.state != OfferState.PLANNED:
        return ReminderState.VOID, f"the offer is {offer.get_state_display().lower()}"
    if not offer.location.offers_enabled:
        return ReminderState.VOID, "the site turned offers off"
    if not offer_window_open(FreedTime.of_offer(offer), now):
        return ReminderState.SKIPPED, (f"too late: the time is less than {settings.OFFER_STALE_HOURS} hours "
                                       "away")
    if patient.is_archived:
        return ReminderState.VOID, "the patient's record is archived"
    state, reason = jobs.patient_refusal(patient)
    if state:
        return state, reason
    policy = Hours.of(offer.location).policy
    refusal = cap_refusal(patient_id=patient.pk, policy=policy, zone=offer.location.zone, when=now,
                          priority=OFFER_PRIORITY)
    if refusal:
        return ReminderState.SKIPPED, refusal
    return "", ""


def _text_ended(row: OfferText, state: str, reason: str, now: datetime) -> FreedTime | None:
    """The text will not go: end its offer; the freed time to offer again (when the offer was still open)."""
    jobs.set_state(OfferText, row.pk, state, reason=reason[:300])
    if end_offers([row.offer_id], OfferState.VOID, reason=f"the text was not sent: {reason}", now=now):
        return FreedTime.of_offer(row.offer)
    return None


def deliver(text_id: int, *, now: datetime | None = None) -> str:
    """Send one claimed (``sending``) offer text and record it; returns the text's final state.

    When the text ends without going, the freed time's next patients are
    offered (``offers_planning.refill``) once the offer has ended.
    """
    now = now or timezone.now()
    row = OfferText.objects.select_related("offer__location", "offer__patient", "offer__course").get(pk=text_id)
    if row.state != ReminderState.SENDING:
        return row.state
    state, reason = _why_not_send(row, now)
    if state:
        freed = _text_ended(row, state, reason, now)
        if freed is not None:
            refill([freed], now=now)
        return state
    send_at = Hours.of(row.offer.location).next_allowed(now)
    if send_at > now:
        jobs.set_state(OfferText, text_id, ReminderState.PENDING, send_at=send_at, attempts=F("attempts") - 1,
                       reason="held for quiet hours")
        return ReminderState.PENDING
    offer, patient = row.offer, row.offer.patient
    body = offer_body(offer)
    state, result = jobs.call_provider(OfferText, text_id, attempts=row.attempts, phone=patient.phone, text=body,
                                       now=now, status_callback=status_callback_url(), body=body)
    if result is None:
        if state == ReminderState.FAILED:
            row.refresh_from_db(fields=["reason"])
            if end_offers([offer.pk], OfferState.VOID, reason=f"the text was not sent: {row.reason}", now=now):
                refill([FreedTime.of_offer(offer)], now=now)
        if state == ReminderState.UNKNOWN:
            # The patient may have it: their YES must count, and it ends by time as a sent one does.
            offer.__class__.objects.filter(pk=offer.pk, state=OfferState.PLANNED).update(
                state=OfferState.SENT, sent_at=now, expires_at=expires_at(offer, now))
        return state
    with transaction.atomic():
        jobs.set_state(OfferText, text_id, ReminderState.SENT, provider_id=result.provider_id, sent_at=now,
                       reason="")
        offer.__class__.objects.filter(pk=offer.pk, state=OfferState.PLANNED).update(
            state=OfferState.SENT, sent_at=now, expires_at=expires_at(offer, now))
        TextMessage.objects.create(patient=patient, direction=Direction.OUTBOUND, purpose=MessagePurpose.OFFER,
                                   counts_toward_caps=True, phone=patient.phone, body=body,
                                   provider_id=result.provider_id, delivery_status=result.status[:20], at=now)
    return ReminderState.SENT
