"""Offers that end by time, and the next patients offered a freed time nobody took (docs/OFFERS.md).

Beat's ``end_offers`` task expires sent offers past ``expires_at`` (OFFER_MINUTES
after sending, or OFFER_STALE_HOURS before the time) and planned ones whose
text could no longer go in time. When every offer of a freed time has ended
without a taker, ``refill`` offers it to the next OFFERS_AT_ONCE patients
(``plan_offers`` does nothing while one is still open, once one took it, or
once the chair is booked).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from scheduling.messaging.offers_planning import FreedTime, end_offers, refill
from scheduling.models import Offer, OfferState


def expire_offers(*, now: datetime | None = None) -> list[FreedTime]:
    """End the offers whose time ran out; returns the freed times they belonged to (each once)."""
    now = now or timezone.now()
    stale = now + timedelta(hours=settings.OFFER_STALE_HOURS)
    with transaction.atomic():
        due = (Offer.objects.select_for_update(skip_locked=True, of=("self",)).select_related("course")
               .filter(Q(state=OfferState.SENT, expires_at__lte=now) | Q(state=OfferState.PLANNED, start__lte=stale)))
        ended = list(due)
        end_offers([offer.pk for offer in ended], OfferState.EXPIRED, reason="no answer in time", now=now)
    times = {}
    for offer in ended:
        times.setdefault((offer.chair_id, offer.start), FreedTime.of_offer(offer))
    return list(times.values())


def end_and_refill(*, now: datetime | None = None) -> dict:
    """Beat's pass: expire what ran out, then offer those times again."""
    times = expire_offers(now=now)
    return {"ended_times": len(times), "planned": refill(times, now=now)}
