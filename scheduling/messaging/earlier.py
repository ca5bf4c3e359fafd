"""The "EARLIER" text reply: a patient asks to be offered an earlier time than the one they have booked.

The wish is recorded on their next booked session (``Session.earlier_wanted_at``), which is
what the freed-chair candidates read (docs/OFFERS.md): a patient with a later booking is
offered a freed time only when they asked. A patient with nothing booked is offered times
anyway when due, so they are told to call instead. The first request's time is kept, because
the candidates' order puts the oldest request first and a repeat must not lose that place.
"""

from __future__ import annotations

from datetime import datetime

from patients.models import Patient
from scheduling.models import UPCOMING_STATUSES, Session

EARLIER_WORDS = frozenset({"EARLIER"})

NOTED_TEXT = "We'll text you if an earlier time opens at {clinic}."
NOTHING_BOOKED_TEXT = "{clinic}: you have no visit booked. To find a time, please call {phone}."
# Every text this module can send (a test checks none names a treatment or diagnosis).
REPLY_TEXTS = (NOTED_TEXT, NOTHING_BOOKED_TEXT)


def is_earlier_request(keyword: str) -> bool:
    return keyword in EARLIER_WORDS


def mark_next_session(patient: Patient, now: datetime) -> Session | None:
    """Mark the patient's next booked session as wanting an earlier time; None when nothing is booked.

    The row is locked so a move or cancel racing the reply either sees the mark or clears it after.
    """
    session = (Session.objects.select_for_update(of=("self",))
               .filter(patient=patient, status__in=UPCOMING_STATUSES, start__gt=now)
               .order_by("start", "id").first())
    if session is None:
        return None
    if session.earlier_wanted_at is None:
        session.earlier_wanted_at = now
        session.save(update_fields=["earlier_wanted_at"])
    return session
