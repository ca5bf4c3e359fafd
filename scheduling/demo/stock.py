"""Demo stock: lots at each demo site for the charted doses to draw from, one expired lot, one open discrepancy.

Each site gets, once, an esketamine lot expiring in four months (suggested
first), a later one, and a lot of 500 mg ketamine vials, all received forty
days before the demo's "now". The receipts are written to the ledger with
that date (``at``): the receiving service stamps the moment it runs, and a
history laid out after the fact would otherwise show ten days of doses drawn
from stock not yet received. Midtown also holds a lot that expired ten days
ago, counted one device short this morning: an open discrepancy on the
worklist for the manager.

The demo's charted doses draw through ``dose_lot`` (the earliest-expiring lot
with enough for the dose, as the chart suggests) and IV waste is witnessed by
``dose_witness``. ``remove_demo_stock`` clears it for a demo laid out again:
the ledger refuses deletes, so it does so with the append-only trigger set
aside for that one transaction, which no page or API can do.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pgtrigger
from django.contrib.auth import get_user_model

from clinic.roles import CLINICIAN, MANAGER
from scheduling.demo.sessions import SITES
from scheduling.models import (
    PRODUCT_KIND_FOR_MODALITY,
    Discrepancy,
    EntryKind,
    LedgerEntry,
    Location,
    Lot,
    Product,
    ProductKind,
    Session,
    WorkItem,
    WorkKind,
)
from scheduling.stock import services as stock
from scheduling.stock.selectors import suggested_lot

RECEIVED_DAYS_AGO = 40
SUPPLIER = "Cardinal Health"
# (lot number suffix, product kind, vial mg or None, quantity in the ledger's unit, days until expiry)
SITE_LOTS = (
    ("ESK-A", ProductKind.ESKETAMINE_DEVICE, None, 150, 120),
    ("ESK-B", ProductKind.ESKETAMINE_DEVICE, None, 240, 400),
    ("KET-A", ProductKind.KETAMINE_VIAL, 500, 40 * 500, 300),
)
EXPIRED_LOT = ("ESK-OLD", 6)  # devices, expired ten days ago, counted 5


def _stock_manager():
    """Who received the demo's stock: the manager (a demo charted without one: the first clinician)."""
    staff = get_user_model().objects.filter(is_active=True).order_by("pk")
    return staff.filter(groups__name=MANAGER).first() or staff.filter(groups__name=CLINICIAN).first()


def _product(kind: str, vial_mg: int | None) -> Product:
    if kind == ProductKind.KETAMINE_VIAL:
        return Product.objects.get(kind=kind, strength_mg=vial_mg)
    return Product.objects.get(kind=kind)


def _receipt(lot: Lot, quantity: int, *, by, at: datetime) -> None:
    entry = LedgerEntry(lot=lot, kind=EntryKind.RECEIPT, quantity=quantity, supplier=SUPPLIER,
                        invoice_number=f"INV-{lot.lot_number}", received_on=lot.location.local_date(at), by=by, at=at)
    entry.full_clean()
    entry.save()
    Lot.objects.filter(pk=lot.pk).update(received_quantity=quantity)


def stock_site(site: Location, *, now: datetime) -> int:
    """Stock ``site`` once (nothing when it holds lots already); returns the lots created."""
    if Lot.objects.filter(location=site).exists():
        return 0
    by = _stock_manager()
    received = now - timedelta(days=RECEIVED_DAYS_AGO)
    today = site.local_date(now)
    prefix = site.name[:3].upper()
    for suffix, kind, vial_mg, quantity, expires_in in SITE_LOTS:
        lot = Lot.objects.create(product=_product(kind, vial_mg), location=site, lot_number=f"{prefix}-{suffix}",
                                 expiry=today + timedelta(days=expires_in), created_at=received)
        _receipt(lot, quantity, by=by, at=received)
    if site.name != SITES[0][0]:
        return len(SITE_LOTS)
    suffix, devices = EXPIRED_LOT
    old = Lot.objects.create(product=_product(ProductKind.ESKETAMINE_DEVICE, None), location=site,
                             lot_number=f"{prefix}-{suffix}", expiry=today - timedelta(days=10),
                             created_at=now - timedelta(days=200))
    _receipt(old, devices, by=by, at=now - timedelta(days=200))
    counter = get_user_model().objects.filter(groups__name=CLINICIAN, is_active=True).order_by("pk").first()
    stock.count(by=counter or by, lot=old, counted_quantity=devices - 1, now=now - timedelta(hours=1))
    return len(SITE_LOTS) + 1


def create_demo_stock(sites, users, now: datetime) -> int:
    """Stock every demo site (once): returns the lots created. Call before the demo's sessions are charted."""
    return sum(stock_site(site, now=now) for site in sites)


def dose_lot(session: Session, *, devices: int | None, mg: int | None, now: datetime) -> Lot | None:
    """The lot the demo's dose of ``session`` draws from: the earliest-expiring with enough, as the chart suggests."""
    stock_site(session.location, now=now)
    kind = PRODUCT_KIND_FOR_MODALITY[session.course.protocol.modality]
    return suggested_lot(session.location, kind, session.local_date, at_least=devices or 500 * -(-mg // 500))


def dose_witness(by):
    """A second member of staff who witnesses an opened vial's rest wasted: the manager, or another clinician."""
    staff = get_user_model().objects.filter(is_active=True).exclude(pk=by.pk)
    return (staff.filter(groups__name=MANAGER).order_by("pk").first()
            or staff.filter(groups__name=CLINICIAN).order_by("pk").first())


def remove_demo_stock() -> int:
    """Remove the demo sites' stock, ledger and discrepancies (the demo laid out again); returns the lots removed."""
    lots = Lot.objects.filter(location__name__in=[site[0] for site in SITES])
    discrepancies = Discrepancy.objects.filter(lot__in=lots)
    WorkItem.objects.filter(kind=WorkKind.STOCK_DISCREPANCY,
                            subject__in=[f"discrepancy:{pk}" for pk in discrepancies.values_list("pk", flat=True)]
                            ).delete()
    discrepancies.delete()
    with pgtrigger.ignore("scheduling.LedgerEntry:ledger_append_only"):
        LedgerEntry.objects.filter(lot__in=lots).delete()
    return lots.delete()[1].get("scheduling.Lot", 0)
