"""The role matrix's rows for the dashboard's pages and CSV (see ``tests/clinic/permission_rows/__init__.py``)."""

from __future__ import annotations

from tests.clinic.permission_rows.table import MANAGER_ONLY, Row

NUMBERS = "the clinic's numbers: dashboard, CSV and API"

ROWS: list[Row] = [
    Row("manage/numbers/", "GET", MANAGER_ONLY, NUMBERS, query="period=week&anchor=2026-03-02"),
    Row("manage/numbers/<figure_key>/<table_key>.csv", "GET", MANAGER_ONLY, NUMBERS,
        args={"figure_key": "=chair_utilisation", "table_key": "=by_site"}, query="period=month"),
]


def world(objects: dict) -> dict:
    """The keys these rows name, made inside the matrix's world (rolled back after the module)."""
    return {}
