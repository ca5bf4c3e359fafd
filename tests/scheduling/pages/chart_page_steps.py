"""A session's steps as the chart page posts them, for the clinician pages' tests.

``esk_session`` and ``iv_session`` (tests/scheduling/conftest.py) start at ``NINE``, Tuesday
3 March 2026 09:00 in New York; ``later`` moves the clock through the session and signs the
browser in again, as web sessions end after 15 idle minutes.
"""

from __future__ import annotations

from datetime import timedelta

from tests.scheduling.conftest import TUESDAY_NINE
from tests.scheduling.stock.dose_lots import with_lot

NINE = TUESDAY_NINE
NORMAL = {"systolic": "122", "diastolic": "78", "heart_rate": "72", "spo2": "98"}
CHECKLIST = {"fasted_food_2h": "on", "fasted_drink_30m": "on", "nasal_medicines_ok": "on", "ride_home_arranged": "on"}


def step(client, session, name, body=None):
    if name == "dose":  # a dose draws from the site's stock: the lot (and an IV waste's witness) come along
        body = with_lot(session, body or {})
    response = client.post(f"/sessions/{session.pk}/chart/{name}/", body or {})
    assert "/login/" not in response.get("Location", ""), "signed out: move the clock with later()"
    return response


def later(client, clock, minutes: int) -> None:
    """Move "now" to ``minutes`` after 09:00 and sign in again (web sessions end after 15 idle minutes)."""
    clock.move_to(NINE + timedelta(minutes=minutes))
    client.force_login(client.signed_in_as)


def phq9(items):
    return {f"item{number}": str(value) for number, value in enumerate(items, start=1)}


def checked_in_with_vitals(client, session, vitals=None):
    assert step(client, session, "check-in", CHECKLIST).status_code == 302
    assert step(client, session, "vitals", {"kind": "pre_dose", **(vitals or NORMAL)}).status_code == 302


def dosed(client, session, clock):
    checked_in_with_vitals(client, session)
    later(client, clock, 10)
    assert step(client, session, "dose", {"dose_mg": "56"}).status_code == 302


def discharged(client, session, clock):
    dosed(client, session, clock)
    later(client, clock, 50)
    assert step(client, session, "vitals", {"kind": "post_dose_40", **NORMAL}).status_code == 302
    assert step(client, session, "assessment", {"sedation": "mild", "dissociation": "mild",
                                                "respiratory": "normal"}).status_code == 302
    later(client, clock, 131)
    assert step(client, session, "vitals", {"kind": "discharge", **NORMAL}).status_code == 302
    response = step(client, session, "discharge", {"resolution_attested": "on", "driver": "Her sister",
                                                   "could_have_left_after_minutes": "90"})
    assert response.status_code == 302, response.content.decode()
