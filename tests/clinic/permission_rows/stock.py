"""The role matrix's rows for the stock API (see tests/clinic/permission_rows/__init__.py).

Writes are sent empty: a role let through gets the serializer's 400, a role
kept out its 403, so the rows check the door, not the rules (those are in
tests/scheduling/stock/).
"""

from __future__ import annotations

from clinic.roles import CLINICIAN
from scheduling.models import Product
from scheduling.stock import services as stock
from tests.clinic.permission_rows.table import CLINICIAN_AND_MANAGER, CLINICIAN_ONLY, MANAGER_ONLY, Row
from tests.scheduling.stock.factories import LotFactory

READ = "stock: lots, ledger, discrepancies, dispensing log (read)"
WASTE = "stock: dispense and waste (the dose step; waste with a witness)"
MANAGERS = "stock: receive, adjust, explain a discrepancy"
COUNT = "stock: count"
LOT = {"pk": "api_stock_lot"}
DISCREPANCY = {"pk": "api_stock_discrepancy"}

ROWS: list[Row] = [
    Row("api/stock/products/", "GET", CLINICIAN_AND_MANAGER, READ),
    Row("api/stock/products/<pk>/", "GET", CLINICIAN_AND_MANAGER, READ, args={"pk": "api_stock_product"}),
    Row("api/stock/lots/", "GET", CLINICIAN_AND_MANAGER, READ, query="location={location}"),
    Row("api/stock/lots/<pk>/", "GET", CLINICIAN_AND_MANAGER, READ, args=LOT),
    Row("api/stock/lots/<pk>/ledger/", "GET", CLINICIAN_AND_MANAGER, READ, args=LOT),
    Row("api/stock/discrepancies/", "GET", CLINICIAN_AND_MANAGER, READ),
    Row("api/stock/discrepancies/<pk>/", "GET", CLINICIAN_AND_MANAGER, READ, args=DISCREPANCY),
    Row("api/stock/dispensing-log/", "GET", CLINICIAN_AND_MANAGER, READ, query="location={location}"),
    Row("api/stock/waste/", "POST", CLINICIAN_ONLY, WASTE, body={}),
    Row("api/stock/receipts/", "POST", MANAGER_ONLY, MANAGERS, body={}),
    Row("api/stock/adjustments/", "POST", MANAGER_ONLY, MANAGERS, body={}),
    Row("api/stock/discrepancies/<pk>/explain/", "POST", MANAGER_ONLY, MANAGERS, args=DISCREPANCY, body={}),
    Row("api/stock/counts/", "POST", CLINICIAN_AND_MANAGER, COUNT, body={}),
]


def world(objects: dict) -> dict:
    """A lot of 8 devices at the site, counted 7: an open discrepancy."""
    lot = LotFactory(location=objects["site"], lot_number="MATRIX-API-1", stock=8)
    _entry, discrepancy = stock.count(by=objects["users"][CLINICIAN], lot=lot, counted_quantity=7)
    return {"api_stock_lot": lot.pk, "api_stock_discrepancy": discrepancy.pk,
            "api_stock_product": Product.objects.order_by("pk").first().pk}
