"""Controlled-substance stock: products, lots per location, and the append-only ledger that accounts for them.

Esketamine and ketamine are Schedule III: every device and every milligram
received, dispensed, wasted or found missing is an entry in the ledger. A
lot's balance is the sum of its entries' quantities; nothing stores it, so
nothing can drift from the entries. Quantities are integers of the smallest
unit a clinic handles: devices for esketamine, mg for ketamine.
"""

from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from scheduling.models.charting import Dose
from scheduling.models.sessions import Session
from scheduling.models.sites import Location

# An esketamine kit is 2 devices (56 mg) or 3 (84 mg); a receipt may be counted in kits, the ledger in devices.
KIT_SIZES = (2, 3)


class ProductKind(models.TextChoices):
    ESKETAMINE_DEVICE = "esketamine_device", "Esketamine nasal device"  # counted in devices, 28 mg each
    KETAMINE_VIAL = "ketamine_vial", "Ketamine vial"  # counted in mg


class StockUnit(models.TextChoices):
    DEVICE = "device", "device"
    MG = "mg", "mg"


# What a session of each modality draws from (the protocols' modality values).
PRODUCT_KIND_FOR_MODALITY = {
    "esketamine_nasal": ProductKind.ESKETAMINE_DEVICE,
    "ketamine_iv": ProductKind.KETAMINE_VIAL,
}


class Product(models.Model):
    """A stocked form of the drug: the 28 mg esketamine device, or a ketamine vial of a strength and volume."""

    name = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=ProductKind.choices)
    strength_mg = models.PositiveIntegerField(help_text="mg per device, or the vial's total mg.")
    volume_ml = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True,
                                    help_text="Vials only: the vial's volume in mL.")
    unit = models.CharField(max_length=8, choices=StockUnit.choices,
                            help_text="The unit the ledger counts in: devices, or mg.")
    devices_per_pack = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Devices in one pack when every pack is alike; empty when kits vary.")
    active = models.BooleanField(default=True)

    constraint_messages = {
        "product_unit_matches_kind": "An esketamine device is counted in devices (28 mg, no volume); a ketamine "
                                     "vial in mg, with its volume.",
        "product_strength_positive": "The strength must be more than 0 mg.",
    }

    class Meta:
        ordering = ["kind", "strength_mg", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(strength_mg__gt=0), name="product_strength_positive"),
            models.CheckConstraint(
                condition=(Q(kind=ProductKind.ESKETAMINE_DEVICE, unit=StockUnit.DEVICE, volume_ml__isnull=True)
                           | Q(kind=ProductKind.KETAMINE_VIAL, unit=StockUnit.MG, volume_ml__gt=0)),
                name="product_unit_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_device(self) -> bool:
        return self.kind == ProductKind.ESKETAMINE_DEVICE


class Lot(models.Model):
    """A manufacturer's lot of one product held at one location."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_lots")
    lot_number = models.CharField(max_length=40)
    expiry = models.DateField()
    received_quantity = models.PositiveIntegerField(
        default=0, help_text="Everything received into this lot, in the product's unit (devices, or mg).")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["expiry", "lot_number", "id"]
        constraints = [
            models.UniqueConstraint(fields=["location", "product", "lot_number"], name="one_lot_per_number_at_a_site"),
        ]
        indexes = [models.Index(fields=["location", "product", "expiry"], name="lot_by_site_product_expiry")]

    def __str__(self) -> str:
        return f"{self.product} lot {self.lot_number} (exp. {self.expiry:%Y-%m-%d})"

    def is_expired_on(self, day) -> bool:
        """A lot may be used on its expiry date, not after it."""
        return self.expiry < day


NEVER_BELOW_ZERO = """
    PERFORM 1 FROM scheduling_lot WHERE id = NEW.lot_id FOR UPDATE;
    IF (SELECT COALESCE(SUM(quantity), 0) FROM scheduling_ledgerentry WHERE lot_id = NEW.lot_id) + NEW.quantity < 0
    THEN
        RAISE EXCEPTION 'lot % would go below zero', NEW.lot_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_never_below_zero';
    END IF;
    RETURN NEW;
"""


class EntryKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"  # stock in from a supplier: +
    DISPENSE = "dispense", "Dispensed"  # given at a session: -
    WASTE = "waste", "Waste"  # destroyed or unused, witnessed: -
    ADJUSTMENT = "adjustment", "Adjustment"  # a witnessed correction: + or -
    COUNT = "count", "Count"  # a physical count: moves nothing, records what was found


class LedgerEntry(models.Model):
    """One movement of stock (or one count) in a lot; append-only, a correction is a new entry."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    quantity = models.IntegerField(help_text="Signed, in the product's unit: + in, - out, 0 for a count.")
    counted_quantity = models.IntegerField(null=True, blank=True, help_text="Counts only: what was found.")
    session = models.ForeignKey(Session, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="stock_entries")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="stock_entries")
    dose = models.ForeignKey(Dose, on_delete=models.PROTECT, null=True, blank=True, related_name="stock_entries")
    supplier = models.CharField(max_length=120, blank=True)
    invoice_number = models.CharField(max_length=60, blank=True)
    received_on = models.DateField(null=True, blank=True)
    reason = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    witness = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")
    at = models.DateTimeField(default=timezone.now)
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="corrections")

    constraint_messages = {
        "ledger_receipt_rules": "A receipt adds stock (more than 0) and names its supplier, invoice number and date.",
        "ledger_dispense_rules": "A dispense takes stock (less than 0) for a session.",
        "ledger_waste_rules": "Waste takes stock (less than 0) and has a witness.",
        "ledger_adjustment_rules": "An adjustment changes stock (not 0) and has a reason and a witness.",
        "ledger_count_rules": "A count moves no stock and records the quantity found (0 or more).",
        "ledger_witness_not_self": "The witness must be someone other than the person recording.",
    }

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "ledger entries"
        triggers = [
            # The ledger is the legal record: an entry once written is never changed or removed, whoever connects.
            pgtrigger.Protect(name="ledger_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            # The services lock the lot and check its balance first; this is the database's own word on it, for
            # any writer: an entry that takes stock locks the lot's row, then sums, so it is never below zero.
            pgtrigger.Trigger(
                name="ledger_never_below_zero",
                operation=pgtrigger.Insert,
                when=pgtrigger.Before,
                condition=pgtrigger.Q(new__quantity__lt=0),
                func=NEVER_BELOW_ZERO,
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.RECEIPT) | (
                    Q(quantity__gt=0, received_on__isnull=False) & ~Q(supplier="") & ~Q(invoice_number="")),
                name="ledger_receipt_rules",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.DISPENSE) | Q(quantity__lt=0, session__isnull=False),
                name="ledger_dispense_rules",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.WASTE) | Q(quantity__lt=0, witness__isnull=False),
                name="ledger_waste_rules",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.ADJUSTMENT) | (
                    ~Q(quantity=0) & Q(witness__isnull=False) & ~Q(reason="")),
                name="ledger_adjustment_rules",
            ),
            models.CheckConstraint(
                condition=(Q(kind=EntryKind.COUNT, quantity=0, counted_quantity__gte=0)
                           | (~Q(kind=EntryKind.COUNT) & Q(counted_quantity__isnull=True))),
                name="ledger_count_rules",
            ),
            models.CheckConstraint(
                condition=Q(witness__isnull=True) | ~Q(witness=F("by")), name="ledger_witness_not_self",
            ),
        ]
        indexes = [
            models.Index(fields=["lot", "at", "id"], name="ledger_by_lot_in_order"),
            models.Index(fields=["kind", "at"], name="ledger_by_kind_and_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity:+d} in {self.lot_id} at {self.at:%Y-%m-%d %H:%M}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Discrepancy(models.Model):
    """A count that found other than the ledger's balance: open until a manager explains it."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="discrepancies")
    count_entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="discrepancy")
    expected = models.IntegerField(help_text="The ledger's balance when counted.")
    counted = models.IntegerField()
    difference = models.IntegerField(help_text="counted - expected: below 0 is a loss.")
    opened_at = models.DateTimeField(default=timezone.now)
    explanation = models.TextField(blank=True)
    explained_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    explained_at = models.DateTimeField(null=True, blank=True)
    loss_reported_dea106 = models.BooleanField(
        "DEA Form 106 filed", default=False, help_text="A loss: whether a DEA Form 106 (theft or loss) was filed.")
    dea106_note = models.TextField("DEA Form 106 note", blank=True)

    constraint_messages = {
        "discrepancy_is_a_difference": "A discrepancy is a count that differs from the balance.",
        "discrepancy_explained_whole": "An explanation has its text, who gave it and when.",
    }

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name_plural = "discrepancies"
        constraints = [
            models.CheckConstraint(
                condition=Q(difference=F("counted") - F("expected")) & ~Q(difference=0),
                name="discrepancy_is_a_difference",
            ),
            models.CheckConstraint(
                condition=(Q(explained_at__isnull=True, explained_by__isnull=True, explanation="")
                           | (Q(explained_at__isnull=False, explained_by__isnull=False) & ~Q(explanation=""))),
                name="discrepancy_explained_whole",
            ),
        ]
        indexes = [models.Index(fields=["lot"], condition=Q(explained_at__isnull=True),
                                name="discrepancy_open_by_lot")]

    def __str__(self) -> str:
        return f"Count of lot {self.lot_id}: {self.difference:+d}"

    @property
    def is_open(self) -> bool:
        return self.explained_at is None

    @property
    def is_loss(self) -> bool:
        return self.difference < 0
