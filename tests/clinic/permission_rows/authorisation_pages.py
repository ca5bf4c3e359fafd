"""The role matrix's rows for the authorisation pages and the renewal summary (see ``__init__.py``)."""

from __future__ import annotations

from tests.clinic.permission_rows.table import Row

ROWS: list[Row] = []


def world(objects: dict) -> dict:
    """The keys these rows name, made inside the matrix's world (rolled back after the module)."""
    return {}
