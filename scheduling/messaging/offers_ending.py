"""Offers that end by time, and the next patients offered a freed time nobody took (docs/OFFERS.md).

Beat's ``end_offers`` task expires sent offers past ``expires_at`` (OFFER_MINUTES
after sending, or OFFER_STALE_HOURS before the time) and planned ones whose
text could no longer go in time. When every offer of a freed time has ended
without a taker, ``refill`` offers it to the next OFFERS_AT_ONCE patients
(``plan_offers`` does nothing while one is still open, once one took it, or
once the chair is booked).

The same pass offers times cancelled in the last ``CATCH_UP`` that have no
offer at all: the planning task a cancel publishes on commit is lost when the
broker is down at that moment, and this finds the time once beat runs again.
(A move's old chair is not kept on the session, so a lost publish after a move
is not caught up.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from scheduling.messaging.offers_planning import FreedTime, end_offers, refill
from scheduling.models import Offer, OfferState, Session, SessionStatus

CATCH_UP = timedelta(hours=1)


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


def unoffered_cancels(*, now: datetime) -> list[FreedTime]:
    """Chair times cancelled in the last ``CATCH_UP``, far enough ahead, that were never offered."""
    notice = timedelta(hours=settings.FREED_CHAIR_MIN_NOTICE_HOURS)
    rows = (Session.objects.filter(status=SessionStatus.CANCELLED, cancelled_at__gte=now - CATCH_UP,
                                   chair__isnull=False, location__offers_enabled=True,
                                   start__gt=now + timedelta(hours=settings.OFFER_STALE_HOURS),
                                   start__gte=F("cancelled_at") + notice)
            .exclude(Exists(Offer.objects.filter(chair_id=OuterRef("chair_id"), start=OuterRef("start"))))
            .values_list("location_id", "chair_id", "start", "end", "course__modality", "id"))
    times = {}
    for row in rows:
        times.setdefault((row[1], row[2]), FreedTime(*row))
    return list(times.values())


def end_and_refill(*, now: datetime | None = None) -> dict:
    """Beat's pass: expire what ran out, offer those times again, and offer cancelled times never offered."""
    now = now or timezone.now()
    times = expire_offers(now=now)
    missed = unoffered_cancels(now=now)
    planned = refill(times, now=now) + refill(missed, now=now)
    return {"ended_times": len(times), "planned": planned, **({"cancels_checked": len(missed)} if missed else {})}
