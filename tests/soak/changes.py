"""The desk's changes during the soak: a share of the visits cancelled or moved, through the booking services.

Each change records the wall clock after its transaction committed: a text to that patient the provider
received later is stale (the no-stale lock means a text racing the change reached the provider before the
commit, or not at all).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import close_old_connections, connection, transaction

from scheduling.booking import services as booking
from scheduling.models import Session
from tests.soak.clinic import SoakClinic


@dataclass(frozen=True)
class Change:
    session_id: int
    what: str  # "cancelled" or "moved"
    committed_at: float | None  # wall clock; None when the service refused (``refusal``)
    refusal: str = ""


def plan(clinic: SoakClinic, *, share: float, span_seconds: float, rng: random.Random) -> list[tuple[float, int, str]]:
    """(seconds after the first due time, session id, what) for ``share`` of the visits, in time order."""
    chosen = rng.sample(clinic.due, round(len(clinic.due) * share))
    return sorted((rng.uniform(0, span_seconds), due.session_id, rng.choice(("cancelled", "moved")))
                  for due in chosen)


def _apply(clinic: SoakClinic, session_id: int, what: str) -> Change:
    try:
        with transaction.atomic():
            session = Session.objects.get(pk=session_id)
            if what == "cancelled":
                booking.cancel_session(by=clinic.desk, session=session, reason="Patient called to cancel (soak)")
            else:
                # An hour later on the same chair and day: free (one visit per chair a day), inside the window.
                booking.reschedule_session(by=clinic.desk, session=session, start=session.start + timedelta(hours=1))
    except Exception as exc:  # a refusal is reported, not hidden; the visit then still stands
        return Change(session_id, what, None, refusal=f"{type(exc).__name__}: {exc}"[:200])
    return Change(session_id, what, time.time())


class Desk(threading.Thread):
    """Makes the planned changes at their times (relative to ``first_due``, a wall-clock instant)."""

    def __init__(self, clinic: SoakClinic, planned, first_due: float):
        super().__init__(name="soak-desk", daemon=True)
        self.clinic, self.planned, self.first_due = clinic, planned, first_due
        self.done: list[Change] = []
        self.stop = threading.Event()

    def run(self):
        try:
            for offset, session_id, what in self.planned:
                wait = self.first_due + offset - time.time()
                if wait > 0 and self.stop.wait(wait):
                    return
                self.done.append(_apply(self.clinic, session_id, what))
        finally:
            close_old_connections()
            connection.close()
