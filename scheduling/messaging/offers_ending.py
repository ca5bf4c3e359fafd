"""Offers that end by time, and the next patients offered a freed time nobody took (docs/OFFERS.md).

Beat's ``end_offers`` task expires sent offers past ``expires_at`` (OFFER_MINUTES
after sending, or OFFER_STALE_HOURS before the time) and planned ones whose
text could no longer go in time. When every offer of a freed time has ended
without a taker, ``refill`` offers it to the next OFFERS_AT_ONCE patients
(``plan_offers`` does nothing while one is still open, once one took it, or
once the chair is booked).

The same pass catches up on freed times whose planning task was lost: a cancel
or a move writes a ``FreedTimeMark`` in its own transaction and publishes the
task on commit, as a STOP or a YES the rules refuse publishes it for the time
whose offer it ended, and a publish is lost when the broker is down at that
moment. From the marks, the pass plans a time still far enough ahead at a site
with offers on when

- it has no offer at all and the pass has not caught it up yet (or it was
  freed in the last ``CATCH_UP``: nobody could take it then, so it is looked
  at again on each pass for that hour); or
- none of its offers is open or taken and one was voided or declined since the
  pass last caught it up (the expired ones this pass offers again itself);

then stamps the marks ``caught_up_at``. A time whose task was not lost is
looked at once more, for the same answer; the planner's advisory lock and its
"an offer is open or taken" rule mean the task and this pass together offer a
time once, however long the broker was away.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from scheduling.messaging.offers_planning import FreedTime, end_offers, refill
from scheduling.models import OPEN_OFFER_STATES, Offer, OfferState
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


def freed_times_to_catch_up(*, now: datetime) -> tuple[list[FreedTime], list[int]]:
    """The freed times a lost planning task left without the offers they should have (see the module
    docstring), each once, and the ids of their marks."""
    of_time = Offer.objects.filter(chair_id=OuterRef("chair_id"), start=OuterRef("start"))
    never_offered = ~Exists(of_time) & (Q(caught_up_at__isnull=True) | Q(freed_at__gte=now - CATCH_UP))
    ended_since = (~Exists(of_time.filter(state__in=(*OPEN_OFFER_STATES, OfferState.TAKEN)))
                   & Exists(of_time.filter(state__in=(OfferState.VOID, OfferState.DECLINED),
                                           ended_at__gt=Coalesce(OuterRef("caught_up_at"), OuterRef("freed_at")))))
    rows = (FreedTimeMark.objects
            .filter(never_offered | ended_since, start__gt=now + timedelta(hours=settings.OFFER_STALE_HOURS),
                    location__offers_enabled=True, session__isnull=False)
            .order_by("start", "id")
            .values_list("location_id", "chair_id", "start", "end", "session__course__modality", "session_id", "id"))
    times, marks = {}, []
    for *freed, mark_id in rows:
        times.setdefault((freed[1], freed[2]), FreedTime(*freed))
        marks.append(mark_id)
    return list(times.values()), marks


def end_and_refill(*, now: datetime | None = None) -> dict:
    """Beat's pass: expire what ran out, offer those times again, and catch up freed times a lost task left."""
    now = now or timezone.now()
    times = expire_offers(now=now)
    missed, marks = freed_times_to_catch_up(now=now)
    planned = refill(times, now=now) + refill(missed, now=now)
    if marks:
        FreedTimeMark.objects.filter(pk__in=marks).update(caught_up_at=now)
    return {"ended_times": len(times), "planned": planned, **({"freed_checked": len(missed)} if missed else {})}
