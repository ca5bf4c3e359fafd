"""The role matrix's rows for freed-chair offers at the desk (see ``tests/clinic/permission_rows/__init__.py``)."""

from __future__ import annotations

from tests.clinic.permission_rows.table import ALL, Row

OFFERS = "freed-chair offers: the offers page, wanting an earlier time"

ROWS: list[Row] = [
    Row("offers/", "GET", ALL, OFFERS, query="location={location}&span=week&day=2026-03-02"),
    # A blank answer is refused 400 after the door, so the row changes nothing.
    Row("sessions/<session_id>/earlier-wanted/", "POST", ALL, OFFERS, args={"session_id": "session"},
        body={"wanted": ""}),
]


def world(objects: dict) -> dict:
    """The matrix's own site and session are enough: the page reads offers, the panel's button the session."""
    return {}
