"""Stock for tests: the products the migration installs, and lots at a location with their receipt.

``LotFactory(stock=20)`` writes the lot and a receipt of 20 (devices, or mg)
straight to the ledger, as a manager received it; the receiving rules
themselves are tested through ``scheduling.stock.services.receive``.
"""

from __future__ import annotations

from datetime import date

import factory

from clinic.roles import MANAGER
from scheduling.models import EntryKind, LedgerEntry, Lot, Product, ProductKind
from tests.factories import LocationFactory, UserFactory


def product(kind: str = ProductKind.ESKETAMINE_DEVICE, strength_mg: int | None = None) -> Product:
    """A product the migration installs: the 28 mg device, or the ketamine vial of ``strength_mg`` (500 unless said)."""
    if kind == ProductKind.KETAMINE_VIAL:
        return Product.objects.get(kind=kind, strength_mg=strength_mg or 500)
    return Product.objects.get(kind=kind)


class LotFactory(factory.django.DjangoModelFactory):
    """A lot of esketamine devices at a new site, expiring at the end of 2027; ``stock=`` receives that many."""

    class Meta:
        model = Lot
        skip_postgeneration_save = True

    product = factory.LazyFunction(product)
    location = factory.SubFactory(LocationFactory)
    lot_number = factory.Sequence(lambda n: f"LOT-{7000 + n}")
    expiry = date(2027, 12, 31)

    @factory.post_generation
    def stock(self, create, extracted, **kwargs):
        if create and extracted:
            receipt(self, extracted)


def receipt(lot: Lot, quantity: int, *, at=None) -> LedgerEntry:
    """A receipt of ``quantity`` into ``lot`` by the stock manager, written to the ledger."""
    manager = UserFactory(username="stock_manager", first_name="Mia", last_name="Stock", roles=[MANAGER])
    extra = {"at": at} if at is not None else {}
    entry = LedgerEntry.objects.create(lot=lot, kind=EntryKind.RECEIPT, quantity=quantity, supplier="Janssen",
                                       invoice_number=f"INV-{lot.lot_number}", received_on=date(2026, 1, 5),
                                       by=manager, **extra)
    lot.received_quantity += quantity
    Lot.objects.filter(pk=lot.pk).update(received_quantity=lot.received_quantity)
    return entry
