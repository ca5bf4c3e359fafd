"""The role matrix's rows for freed-chair offers at the desk (see ``tests/clinic/permission_rows/__init__.py``)."""

from __future__ import annotations

from datetime import timedelta

from scheduling.models import Offer, OfferState
from tests.clinic.permission_rows.table import ALL, Row

OFFERS = "freed-chair offers: the offers page, wanting an earlier time"
OFFERS_API = ("freed-chair offers through the API: list, read, wanting an earlier time (`/api/offers/`, "
              "`POST /api/sessions/{id}/earlier-wanted/`)")

ROWS: list[Row] = [
    Row("offers/", "GET", ALL, OFFERS, query="location={location}&span=week&day=2026-03-02"),
    # A blank answer is refused 400 after the door, so the row changes nothing.
    Row("sessions/<session_id>/earlier-wanted/", "POST", ALL, OFFERS, args={"session_id": "session"},
        body={"wanted": ""}),
    Row("api/offers/", "GET", ALL, OFFERS_API, query="location={location}&day=2026-03-02&state=sent"),
    Row("api/offers/<pk>/", "GET", ALL, OFFERS_API, args={"pk": "offer"}),
    # Each caller's request runs in a savepoint rolled back after it: every role marks the same booking.
    Row("api/sessions/<pk>/earlier-wanted/", "POST", ALL, OFFERS_API, args={"pk": "session"},
        body={"wanted": True}),
]


def world(objects: dict) -> dict:
    """One sent offer of the matrix's chair, to the second patient, three hours after the matrix's session."""
    session, course = objects["session"], objects["course2"]
    start = session.start + timedelta(hours=3)
    offer = Offer.objects.create(location=objects["site"], chair=objects["chair"], start=start,
                                 end=start + timedelta(minutes=150), patient=course.patient, course=course,
                                 state=OfferState.SENT, sent_at=session.start - timedelta(hours=1))
    return {"offer": offer.pk}
