"""The stock API's shapes: products, lots with their balance, ledger entries, discrepancies, what writes take."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework import serializers

from scheduling.api.stock_fields import WholeIdField, WholeNumberField
from scheduling.models import (
    KIT_SIZES,
    Discrepancy,
    EntryKind,
    LedgerEntry,
    Location,
    Lot,
    Product,
    Session,
)

# Far above any clinic's stock, far below the column's limit: a typo is a 400, never an overflow.
MOST = 1_000_000


def _name(user) -> str | None:
    return (user.get_full_name() or user.get_username()) if user else None


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "name", "kind", "strength_mg", "volume_ml", "unit", "devices_per_pack", "active"]
        read_only_fields = fields


class LotSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.name", read_only=True)
    unit = serializers.CharField(source="product.unit", read_only=True)
    location_name = serializers.CharField(source="location.name", read_only=True)
    balance = serializers.IntegerField(read_only=True, help_text="The sum of the lot's ledger entries now.")
    expired = serializers.SerializerMethodField(help_text="Past its expiry date at its location today.")

    class Meta:
        model = Lot
        fields = ["id", "product", "product_name", "unit", "location", "location_name", "lot_number", "expiry",
                  "received_quantity", "balance", "expired", "created_at"]
        read_only_fields = fields

    def get_expired(self, lot) -> bool:
        return lot.is_expired_on(lot.location.local_date(timezone.now()))


class LedgerEntrySerializer(serializers.ModelSerializer):
    lot_number = serializers.CharField(source="lot.lot_number", read_only=True)
    product = serializers.IntegerField(source="lot.product_id", read_only=True)
    product_name = serializers.CharField(source="lot.product.name", read_only=True)
    location = serializers.IntegerField(source="lot.location_id", read_only=True)
    patient_name = serializers.SerializerMethodField()
    by_name = serializers.SerializerMethodField()
    witness_name = serializers.SerializerMethodField()

    class Meta:
        model = LedgerEntry
        fields = ["id", "lot", "lot_number", "product", "product_name", "location", "kind", "quantity",
                  "counted_quantity", "session", "patient", "patient_name", "dose", "supplier", "invoice_number",
                  "received_on", "reason", "by", "by_name", "witness", "witness_name", "at", "corrects"]
        read_only_fields = fields

    def get_patient_name(self, entry) -> str | None:
        return entry.patient.display_name if entry.patient_id else None

    def get_by_name(self, entry) -> str | None:
        return _name(entry.by)

    def get_witness_name(self, entry) -> str | None:
        return _name(entry.witness)


class LedgerRowSerializer(LedgerEntrySerializer):
    balance_after = serializers.IntegerField(read_only=True, help_text="The lot's balance after this entry.")

    class Meta(LedgerEntrySerializer.Meta):
        fields = [*LedgerEntrySerializer.Meta.fields, "balance_after"]
        read_only_fields = fields


class DiscrepancySerializer(serializers.ModelSerializer):
    lot_number = serializers.CharField(source="lot.lot_number", read_only=True)
    product_name = serializers.CharField(source="lot.product.name", read_only=True)
    location = serializers.IntegerField(source="lot.location_id", read_only=True)
    location_name = serializers.CharField(source="lot.location.name", read_only=True)
    counted_by = serializers.IntegerField(source="count_entry.by_id", read_only=True)
    is_open = serializers.BooleanField(read_only=True)
    is_loss = serializers.BooleanField(read_only=True)

    class Meta:
        model = Discrepancy
        fields = ["id", "lot", "lot_number", "product_name", "location", "location_name", "count_entry", "counted_by",
                  "expected", "counted", "difference", "is_loss", "is_open", "opened_at", "explanation",
                  "explained_by", "explained_at", "loss_reported_dea106", "dea106_note"]
        read_only_fields = fields


# --- what the writes take -------------------------------------------------------------------------------


class ReceiptSerializer(serializers.Serializer):
    location = WholeIdField(queryset=Location.objects.all())
    product = WholeIdField(queryset=Product.objects.all())
    lot_number = serializers.CharField(max_length=40)
    expiry = serializers.DateField()
    quantity = WholeNumberField(min_value=1, max_value=MOST, required=False,
                                        help_text="In the product's unit: devices, or mg (vials x the vial's mg).")
    kits = WholeNumberField(min_value=1, max_value=MOST // 3, required=False,
                                    help_text="Esketamine only, instead of quantity: kits received.")
    kit_size = serializers.ChoiceField(choices=KIT_SIZES, required=False,
                                       help_text="Devices per kit: 2 (56 mg) or 3 (84 mg).")
    vials = WholeNumberField(min_value=1, max_value=MOST // 500, required=False,
                                     help_text="Ketamine only, instead of quantity: whole vials received.")
    supplier = serializers.CharField(max_length=120)
    invoice_number = serializers.CharField(max_length=60)
    received_on = serializers.DateField(required=False, help_text="The location's today when omitted.")

    def validate(self, data):
        kits, vials = data.get("kits"), data.get("vials")
        if sum(data.get(name) is not None for name in ("quantity", "kits", "vials")) != 1:
            raise serializers.ValidationError({"quantity": [
                "Give one of: the quantity (devices, or mg), kits and kit size (esketamine), or vials (ketamine)."]})
        if vials is not None and data["product"].is_device:
            raise serializers.ValidationError({"vials": ["Esketamine is received in devices or kits."]})
        if kits is not None:
            if not data["product"].is_device:
                raise serializers.ValidationError({"kits": ["Only esketamine devices come in kits."]})
            if data.get("kit_size") is None:
                raise serializers.ValidationError({"kit_size": ["Say how many devices a kit holds: 2 or 3."]})
        return data


class WitnessedSerializer(serializers.Serializer):
    witness = WholeIdField(queryset=get_user_model().objects.all(),
                                                 help_text="A second clinician or manager.")
    witness_password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True,
                                             style={"input_type": "password"},
                                             help_text="The witness's own password: checked, never kept.")


class WasteSerializer(WitnessedSerializer):
    lot = WholeIdField(queryset=Lot.objects.all())
    quantity = WholeNumberField(min_value=1, max_value=MOST)
    reason = serializers.CharField(max_length=2000)
    session = WholeIdField(queryset=Session.objects.all(), required=False, allow_null=True)


class AdjustmentSerializer(WitnessedSerializer):
    lot = WholeIdField(queryset=Lot.objects.all())
    quantity = WholeNumberField(min_value=-MOST, max_value=MOST, help_text="+ adds, - takes; not 0.")
    reason = serializers.CharField(max_length=2000)
    corrects = WholeIdField(queryset=LedgerEntry.objects.all(), required=False,
                                                  allow_null=True, help_text="The entry this puts right.")


class CountSerializer(serializers.Serializer):
    lot = WholeIdField(queryset=Lot.objects.all())
    counted_quantity = WholeNumberField(min_value=0, max_value=MOST)


class CountResultSerializer(serializers.Serializer):
    entry = LedgerEntrySerializer()
    discrepancy = DiscrepancySerializer(allow_null=True)


class ExplainSerializer(serializers.Serializer):
    explanation = serializers.CharField(max_length=4000)
    loss_reported_dea106 = serializers.BooleanField(default=False, help_text="A loss: was a DEA Form 106 filed?")
    dea106_note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="",
                                        help_text="A loss: the form's date and reference, or why none is needed.")


class LotQuerySerializer(serializers.Serializer):
    location = WholeNumberField(min_value=1, required=False)
    product = WholeNumberField(min_value=1, required=False)
    expired = serializers.BooleanField(required=False, allow_null=True, default=None)
    in_stock = serializers.BooleanField(required=False, allow_null=True, default=None)


class LogQuerySerializer(serializers.Serializer):
    location = WholeNumberField(min_value=1, required=False)
    product = WholeNumberField(min_value=1, required=False)
    lot = WholeNumberField(min_value=1, required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    kind = serializers.ChoiceField(choices=[EntryKind.DISPENSE, EntryKind.WASTE], required=False)

    def validate(self, data):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise serializers.ValidationError({"date_to": ["Not before date_from."]})
        return data


class DiscrepancyQuerySerializer(serializers.Serializer):
    location = WholeNumberField(min_value=1, required=False)
    lot = WholeNumberField(min_value=1, required=False)
    open = serializers.BooleanField(required=False, allow_null=True, default=None)
