"""The lot a session's dose draws from, for the charting tests: stocked at the session's site, one per product.

A dose is drawn from stock (``scheduling.charting.dose_stock``): the charting
tests, whose subject is not the stock, take the lot ``lot_for(session)`` gives,
and for an IV dose the witness ``dose_witness()`` with ``WITNESS_LOGIN``.
"""

from __future__ import annotations

from clinic.roles import CLINICIAN
from protocols.models import Modality
from scheduling.models import Lot, ProductKind, Session
from tests.factories import UserFactory
from tests.scheduling.stock.factories import LotFactory, product

# Stocked for a long day of tests: 20 devices (ten doses of 56 mg), twenty 500 mg vials.
DEVICES_STOCKED = 20
VIAL_MG_STOCKED = 10_000
WITNESS_LOGIN = {"witness_username": "dose_witness", "witness_password": "correct-horse-battery"}


def lot_for(session: Session) -> Lot:
    """The stocked lot of the product ``session``'s dose draws from, at its site (made the first time)."""
    iv = session.course.modality == Modality.KETAMINE_IV
    stocked = product(ProductKind.KETAMINE_VIAL) if iv else product()
    number = f"STOCK-{'V' if iv else 'D'}{session.location_id}"
    found = Lot.objects.filter(location_id=session.location_id, product=stocked, lot_number=number).first()
    return found or LotFactory(location=session.location, product=stocked, lot_number=number,
                               stock=VIAL_MG_STOCKED if iv else DEVICES_STOCKED)


def dose_witness():
    """A second clinician who witnesses an opened vial's rest wasted (``WITNESS_LOGIN``)."""
    return UserFactory(username=WITNESS_LOGIN["witness_username"], first_name="Wes", last_name="Witness",
                       roles=[CLINICIAN])


def with_lot(session: Session, body: dict) -> dict:
    """``body`` of a dose step drawing from ``lot_for(session)``; an IV dose also brings its witness's login."""
    body = {"lot": lot_for(session).pk, **body}
    if session.course.modality == Modality.KETAMINE_IV and "witness_username" not in body:
        dose_witness()
        body |= WITNESS_LOGIN
    return body


def lot_named(location, lot_number: str, *, stock: int = DEVICES_STOCKED) -> Lot:
    """A lot of esketamine devices numbered ``lot_number`` at ``location``, stocked (made the first time)."""
    found = Lot.objects.filter(location=location, product=product(), lot_number=lot_number).first()
    return found or LotFactory(location=location, product=product(), lot_number=lot_number, stock=stock)
