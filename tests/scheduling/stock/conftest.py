"""The stock world: Midtown's esketamine and ketamine lots, a witness, and the visits that dose from them.

``site`` (Midtown, New York) and the clock (Monday 2 March 2026, 09:00, with ``now``)
come from tests/conftest.py. The visits are written straight to the table (the
booking rules are not what these tests are about), checked in on Tuesday 3 March.
"""

from __future__ import annotations

from datetime import date

import pytest

from clinic.roles import CLINICIAN, MANAGER
from scheduling.models import ProductKind, SessionStatus
from tests.factories import ChairFactory, SessionRowFactory, UserFactory
from tests.scheduling.stock.factories import LotFactory, product


@pytest.fixture
def device():
    """The esketamine 28 mg nasal device (installed by the migration)."""
    return product(ProductKind.ESKETAMINE_DEVICE)


@pytest.fixture
def vial():
    """The ketamine 500 mg/10 mL vial (installed by the migration)."""
    return product(ProductKind.KETAMINE_VIAL, 500)


@pytest.fixture
def device_lot(site, device):
    """Lot E1 of 12 devices at Midtown, expiring at the end of 2027."""
    return LotFactory(location=site, product=device, lot_number="E1", stock=12)


@pytest.fixture
def vial_lot(site, vial):
    """Lot K1 of 1,000 mg (two 500 mg vials) at Midtown, expiring at the end of 2027."""
    return LotFactory(location=site, product=vial, lot_number="K1", stock=1000)


@pytest.fixture
def expired_lot(site, device):
    """Lot OLD of 6 devices at Midtown, usable until Monday 2 March 2026: expired on the visits' Tuesday."""
    return LotFactory(location=site, product=device, lot_number="OLD", stock=6, expiry=date(2026, 3, 2))


@pytest.fixture
def esk_visit(chair, now):
    """An esketamine-trd patient's first visit, checked in at Midtown on Tuesday 3 March 2026 at 09:00."""
    return SessionRowFactory(chair=chair, status=SessionStatus.CHECKED_IN, slug="esketamine-trd")


@pytest.fixture
def iv_visit(site, now):
    """A ketamine-iv-series patient's first visit, checked in on an infusion chair on Tuesday 3 March at 09:00."""
    pump = ChairFactory(location=site, name="Infusion 9", serves_esketamine=False, has_infusion_pump=True)
    return SessionRowFactory(chair=pump, status=SessionStatus.CHECKED_IN, slug="ketamine-iv-series")


@pytest.fixture
def witness(db):
    """A second clinician who witnesses waste and adjustments (password ``witness-pass-1``)."""
    return UserFactory(username="witness", roles=[CLINICIAN], password="witness-pass-1")


@pytest.fixture
def second_manager(db):
    return UserFactory(username="boss2", roles=[MANAGER], password="boss2-pass-1")
