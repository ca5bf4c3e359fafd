"""The role matrix's rows for the stock pages and registers (see ``tests/clinic/permission_rows/__init__.py``)."""

from __future__ import annotations

from clinic.roles import CLINICIAN
from scheduling.stock import services as stock
from tests.clinic.permission_rows.table import CLINICIAN_AND_MANAGER, MANAGER_ONLY, Row
from tests.scheduling.stock.factories import LotFactory

PAGES = "stock pages and registers (`/stock/`): lots, counts, discrepancies, registers as page, CSV and print"
MANAGERS = "stock: receive, adjust, explain a discrepancy"
COUNT = "stock: count"
REGISTERS = ("dispensing", "balances", "receipts", "waste", "inventory")

ROWS: list[Row] = [
    Row("stock/", "GET", CLINICIAN_AND_MANAGER, PAGES),
    Row("stock/lots/<lot_id>/", "GET", CLINICIAN_AND_MANAGER, PAGES, args={"lot_id": "stock_lot"}),
    Row("stock/receive/", "GET", MANAGER_ONLY, MANAGERS),
    Row("stock/receive/", "POST", MANAGER_ONLY, MANAGERS, body={"lot_number": ""}),
    Row("stock/count/", "GET", CLINICIAN_AND_MANAGER, PAGES, query="location={location}"),
    Row("stock/count/", "POST", CLINICIAN_AND_MANAGER, COUNT, query="location={location}", body={}),
    Row("stock/discrepancies/", "GET", CLINICIAN_AND_MANAGER, PAGES),
    Row("stock/discrepancies/<discrepancy_id>/explain/", "POST", MANAGER_ONLY, MANAGERS,
        args={"discrepancy_id": "stock_discrepancy"}, body={"explanation": ""}),
    *[Row("stock/registers/<slug>/", "GET", CLINICIAN_AND_MANAGER, PAGES, args={"slug": "=" + slug})
      for slug in REGISTERS],
    *[Row("stock/registers/<slug>.csv", "GET", CLINICIAN_AND_MANAGER, PAGES, args={"slug": "=" + slug})
      for slug in REGISTERS],
]


def world(objects: dict) -> dict:
    """A lot of 10 devices at the site, counted 9: an open discrepancy."""
    lot = LotFactory(location=objects["site"], lot_number="MATRIX-1", stock=10)
    _entry, discrepancy = stock.count(by=objects["users"][CLINICIAN], lot=lot, counted_quantity=9)
    return {"stock_lot": lot.pk, "stock_discrepancy": discrepancy.pk}
