"""Offers that end by time, and the next patients offered a freed time nobody took (docs/OFFERS.md).

Beat's ``end_offers`` task expires sent offers past ``expires_at`` (OFFER_MINUTES
after sending, or OFFER_STALE_HOURS before the time) and planned ones whose
text could no longer go in time. When every offer of a freed time has ended
without a taker, ``refill`` offers it to the next OFFERS_AT_ONCE patients
(``plan_offers`` does nothing while one is still open, once one took it, or
once the chair is booked).

The same pass catches up on freed times that still have no offer at all: a
cancel or a move writes a ``FreedTimeMark`` in its own transaction and
publishes the planning task on commit, and that publish is lost when the
broker is down at that moment. A mark whose time has no offer is planned once
beat runs again, however long the broker was away, and stamped
``caught_up_at``; a time freed in the last ``CATCH_UP`` is looked at again on
each pass for that hour while it has none (nobody could take it yet). A time
whose own task ran before the pass and offered nobody is looked at once more,
for the same answer. The planner's advisory lock and its "an offer is open or
taken" rule mean the task and this pass together offer a time once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from scheduling.messaging.offers_planning import FreedTime, end_offers, refill
from scheduling.models import Offer, OfferState
from scheduling.models.offers import FreedTimeMark

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


def unoffered_freed_times(*, now: datetime) -> tuple[list[FreedTime], list[int]]:
    """Freed times far enough ahead, at sites with offers on, with no offer at all: not yet caught up, or freed
    in the last ``CATCH_UP`` (each time once); and the marks among them not yet caught up."""
    rows = (FreedTimeMark.objects
            .filter(Q(caught_up_at__isnull=True) | Q(freed_at__gte=now - CATCH_UP),
                    start__gt=now + timedelta(hours=settings.OFFER_STALE_HOURS), location__offers_enabled=True,
                    session__isnull=False)
            .exclude(Exists(Offer.objects.filter(chair_id=OuterRef("chair_id"), start=OuterRef("start"))))
            .order_by("start", "id")
            .values_list("location_id", "chair_id", "start", "end", "session__course__modality", "session_id",
                         "id", "caught_up_at"))
    times, marks = {}, []
    for *freed, mark_id, caught_up_at in rows:
        times.setdefault((freed[1], freed[2]), FreedTime(*freed))
        if caught_up_at is None:
            marks.append(mark_id)
    return list(times.values()), marks


def end_and_refill(*, now: datetime | None = None) -> dict:
    """Beat's pass: expire what ran out, offer those times again, and offer freed times that have no offer."""
    now = now or timezone.now()
    times = expire_offers(now=now)
    missed, marks = unoffered_freed_times(now=now)
    planned = refill(times, now=now) + refill(missed, now=now)
    if marks:
        FreedTimeMark.objects.filter(pk__in=marks, caught_up_at__isnull=True).update(caught_up_at=now)
    return {"ended_times": len(times), "planned": planned, **({"freed_checked": len(missed)} if missed else {})}
