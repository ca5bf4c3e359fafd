"""Sixteen doses reach for the last devices of one lot at once: the lot's row lock lets exactly enough through.

Each thread has its own connection and waits at a barrier, then dispenses one
device through the service. Whatever the interleaving, as many succeed as there
were devices, every other one is refused ``lot_short``, and the balance ends at
zero, never below.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from scheduling.stock import services
from scheduling.stock.selectors import balance
from tests.scheduling.stock.factories import LotFactory

THREADS = 16
UNITS = 5


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sixteen_doses_of_the_last_five_devices_leave_five_dispensed_and_none_below_zero(chair, device, esk_visit,
                                                                                          staff_clinician):
    # given a lot with five devices left
    lot = LotFactory(location=chair.location, product=device, stock=UNITS)
    barrier = threading.Barrier(THREADS)

    def dose(_):
        try:
            barrier.wait(timeout=30)
            services.dispense(by=staff_clinician, session=esk_visit, lot=lot, quantity=1)
            return "dispensed"
        except services.StockRefused as refusal:
            return refusal.code
        finally:
            connection.close()

    # when
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(dose, range(THREADS)))
    # then
    assert sorted(results) == ["dispensed"] * UNITS + ["lot_short"] * (THREADS - UNITS)
    assert balance(lot) == 0
    assert lot.entries.filter(kind="dispense").count() == UNITS
