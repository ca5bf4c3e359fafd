"""The desk's "Offer taken" item: a patient's YES booked a freed time (docs/OFFERS.md, "The desk").

Nobody at the desk booked it, so the item is there for a call if needed: to
confirm the details, or to tell the patient that their later visit was moved
to the freed time. It is an event item (not derived by the sweep from the
facts), opened by ``open_taken`` in the YES's own transaction, beside the
booking, so there is never a taken offer without its item, nor an item for a
booking that rolled back.

A person closes it on the worklist like any other item. It also closes
itself once there is nothing left to call about (``close_settled``, run by
the worklist pass after every booking change and hourly):

- the visit was cancelled (by staff or the patient): the booking it reports is gone;
- the visit was moved to another time (by staff, or by the patient taking another
  freed time, which opens that offer's own item): the desk has the patient's new
  time, and a move the patient asked for by R texts it to them;
- the visit has taken place (the patient arrived) or the patient did not come (the
  sweep's "No-show to rebook" takes over).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db.models import BigIntegerField, Case, OuterRef, Subquery, TextField, Value, When
from django.db.models.functions import Cast, Substr

from scheduling.models import URGENCY, Offer, Session, SessionStatus, WorkItem, WorkKind

SUBJECT = "offer:{}"
# Where the offer's id starts in the subject (1-based, as SQL's substring counts).
_ID_FROM = len(SUBJECT.format("")) + 1


def day_and_clock(location, instant: datetime) -> str:
    local = location.local(instant)
    return f"{local:%a %-d %b %H:%M}"


def taken_summary(offer: Offer, *, moved_from: Session | None) -> str:
    """What the desk reads: "Took the freed time Thu 5 Mar 09:00 at Midtown (moved from Tue 10 Mar 14:00)"."""
    taken = f"Took the freed time {day_and_clock(offer.location, offer.start)} at {offer.location.name}"
    if moved_from is None:
        return f"{taken} (a new booking)."
    was = day_and_clock(moved_from.location, moved_from.start)
    if moved_from.location_id != offer.location_id:
        was = f"{was} at {moved_from.location.name}"
    return f"{taken} (moved from {was})."


def open_taken(offer: Offer, session: Session, *, moved_from: Session | None, now: datetime) -> WorkItem:
    """Open the item for ``offer``, which the patient's YES just booked as ``session``.

    ``moved_from`` is the patient's later booking as it was before the YES moved
    it (None: a new booking). Inside the YES's transaction.
    """
    item, _created = WorkItem.objects.open().get_or_create(
        kind=WorkKind.OFFER_TAKEN, subject=SUBJECT.format(offer.pk),
        defaults={"patient_id": offer.patient_id, "course_id": offer.course_id, "session": session,
                  "location_id": offer.location_id, "urgency": URGENCY[WorkKind.OFFER_TAKEN],
                  "due_on": session.local_date, "opened_at": now,
                  "detail": taken_summary(offer, moved_from=moved_from)},
    )
    return item


def _why_settled(status: str | None, start: datetime | None, offered: datetime | None) -> str | None:
    """Why an open item has nothing left to call about, in the desk's words; None while it has."""
    if status is None:
        return "the booking is gone"
    if status == SessionStatus.CANCELLED:
        return "the visit was cancelled"
    if status == SessionStatus.NO_SHOW:
        return "the patient did not come"
    if status in (SessionStatus.CHECKED_IN, SessionStatus.IN_TREATMENT, SessionStatus.DISCHARGED):
        return "the patient came"
    if offered is not None and start != offered:
        return "the visit was moved to another time"
    return None


def close_settled(*, course_ids: list[int] | None, now: datetime) -> int:
    """Close the open "Offer taken" items of ``course_ids`` (None: all) with nothing left to call about.

    One statement reads them with their session and the offer's time; one more
    closes those that settled, only when there are some. Returns how many closed.
    """
    items = WorkItem.objects.open().filter(kind=WorkKind.OFFER_TAKEN)
    if course_ids is not None:
        items = items.filter(course_id__in=course_ids)
    offered = Offer.objects.filter(
        pk=Cast(Substr(OuterRef("subject"), _ID_FROM), BigIntegerField())).values("start")[:1]
    rows = items.annotate(offered=Subquery(offered)).values("id", "session__status", "session__start", "offered")
    reasons: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        why = _why_settled(row["session__status"], row["session__start"], row["offered"])
        if why is not None:
            reasons[f"resolved itself: {why}"].append(row["id"])
    if not reasons:
        return 0
    ids = [pk for pks in reasons.values() for pk in pks]
    return WorkItem.objects.filter(pk__in=ids, closed_at__isnull=True).update(
        closed_at=now, resolution=Case(*(When(pk__in=pks, then=Value(text)) for text, pks in reasons.items()),
                                       default=Value("resolved itself"), output_field=TextField()))
