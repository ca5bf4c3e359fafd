"""A session's steps as the API takes them, and PHQ-9s at sessions, for the charting tests.

``esk_session`` and ``iv_session`` (tests/scheduling/conftest.py) start at ``BOOKED_AT``,
Tuesday 3 March 2026 09:00 in New York, where the clock stands when a test begins.
"""

from __future__ import annotations

from datetime import timedelta

from patients.models import OutcomeMeasure
from scheduling.charting import outcomes
from scheduling.models import Session
from tests.factories import PHQ9_CLEAR
from tests.scheduling.conftest import TUESDAY_NINE
from tests.scheduling.stock.dose_lots import with_lot

BOOKED_AT = TUESDAY_NINE
NORMAL = {"systolic": 122, "diastolic": 78, "heart_rate": 72, "spo2": 98}
CHECKLIST = {"fasted_food_2h": True, "fasted_drink_30m": True, "nasal_medicines_ok": True,
             "ride_home_arranged": True}
DISCHARGE = {"resolution_attested": True, "driver": "Sister, Maria", "could_have_left_after_minutes": 90}


def post(api, session, step, body=None):
    if step == "dose":  # a dose draws from the site's stock: the lot (and an IV waste's witness) come along
        body = with_lot(session, body or {})
    return api.post(f"/api/sessions/{session.pk}/{step}/", body or {}, format="json")


def dosed(api, session, clock, *, dose=None):
    """Check in, record normal pre-dose vitals and dose at 09:10; returns the dose response."""
    assert post(api, session, "check-in", CHECKLIST).status_code == 200
    assert post(api, session, "vitals", {"kind": "pre_dose", **NORMAL}).status_code == 201
    clock.move_to(BOOKED_AT + timedelta(minutes=10))
    body = dose or {"dose_mg": "56", "devices": 2}
    return post(api, session, "dose", body)


def observe(api, session):
    """The 40-minute vitals and the assessment, all normal."""
    post(api, session, "vitals", {"kind": "post_dose_40", **NORMAL})
    post(api, session, "assessment", {"sedation": "mild", "dissociation": "moderate", "respiratory": "normal"})


def discharge(api, session, body=None):
    """Normal discharge vitals now (they belong to the 15 minutes before discharge), then the discharge."""
    post(api, session, "vitals", {"kind": "discharge", **NORMAL})
    return post(api, session, "discharge", DISCHARGE if body is None else body)


def full_session(api, session, clock):
    """Dose at 09:10, observe at 09:50, discharge at 11:15."""
    dosed(api, session, clock)
    clock.move_to(BOOKED_AT + timedelta(minutes=50))
    observe(api, session)
    clock.move_to(BOOKED_AT + timedelta(minutes=135))
    assert discharge(api, session).status_code == 200


# --- outcome measures at sessions --------------------------------------------------------------------

PHQ9_ITEM9 = [2, 2, 2, 2, 2, 2, 2, 2, 1]  # total 17, item 9 at 1


def phq9_at(session: Session, by, items=PHQ9_CLEAR) -> OutcomeMeasure:
    """A PHQ-9 recorded through the service five minutes into ``session``."""
    return outcomes.record_measure(by=by, patient=session.patient, instrument="phq9", items=items,
                                   taken_at=session.start + timedelta(minutes=5), session=session)
