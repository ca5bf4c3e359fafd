"""Freed chair times and the patients who could take them, for the offer tests.

"Now" is Monday 2 March 2026, 09:00 in New York. Induction sessions of
``esketamine-trd`` are due 2 to 5 days after the last one (target 3, or 4 after
a 4-day gap), so a patient last seen on day D is due D+2 to D+5. The freed time
is Wednesday 4 March at 10:00 on ``chair`` at Midtown, so patients last seen on
27 February (due 1-4 March) or 28 February (due 2-5 March) could take it.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

from clinic import queueing
from protocols.models import Modality
from scheduling.booking import services as booking
from scheduling.messaging import offers_planning, offers_sending
from scheduling.models import Offer, OfferState, OfferText
from tests.factories import PatientFactory, TreatmentCourseFactory, standard_protocol
from tests.scheduling.conftest import local

WEDNESDAY = date(2026, 3, 4)


def last_seen(site, clinician, day: date, *, slug: str = "esketamine-trd", **patient):
    """A course whose last session was given on ``day`` at ``site`` (recorded as history): its next is due."""
    course = TreatmentCourseFactory(protocol=standard_protocol(slug), start_date=date(2026, 2, 10),
                                    patient=PatientFactory(**patient))
    booking.record_past_session(by=clinician, course=course, day=day, location=site)
    return course


def freed_time(chair, *, day: date = WEDNESDAY, hour: int = 10) -> offers_planning.FreedTime:
    """The chair's time at ``hour`` on ``day`` as a cancel would free it (an esketamine session's 150 minutes)."""
    start = local(chair.location, day, hour)
    return offers_planning.FreedTime(chair.location_id, chair.pk, start, start + timedelta(minutes=150),
                                     Modality.ESKETAMINE_NASAL)


def send_due_offers() -> list[str | None]:
    """The sweep's claim and each send task, as beat and a worker would run them; the texts' states."""
    return [offers_sending.send_claimed(text_id) for text_id in offers_sending.claim_due_offer_texts()]


def offered(freed) -> list[Offer]:
    return list(Offer.objects.filter(chair_id=freed.chair_id, start=freed.start).order_by("id"))


def open_patients(freed) -> set[int]:
    return {offer.patient_id for offer in offered(freed) if offer.state in (OfferState.PLANNED, OfferState.SENT)}


def text_of(offer) -> OfferText:
    return OfferText.objects.get(offer=offer)


@contextmanager
def offers_planned_inline(monkeypatch, django_capture_on_commit_callbacks):
    """Run the offer-planning tasks a commit publishes in this process (others are only recorded); yields the
    names of every task published."""
    published = []

    def publish(task, calls):
        published.extend(task.name for _ in calls)
        if task.name == "scheduling.plan_offers":
            for args in calls:
                task(*args)
        return len(calls)

    monkeypatch.setattr(queueing, "publish", publish)
    with django_capture_on_commit_callbacks(execute=True):
        yield published
