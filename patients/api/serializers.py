from __future__ import annotations

from rest_framework import serializers
from rest_framework.fields import SkipField

from clinic.phones import for_display
from clinic.serializers import FieldsBuiltOnce
from patients import services
from patients.models import MEDICINE_FIELDS, SCREENING_FIELDS, Patient


class PatientSerializer(serializers.ModelSerializer):
    """A patient record as the API shows it; validation lives in the model so the web pages share it."""

    display_name = serializers.CharField(read_only=True)
    phone_display = serializers.SerializerMethodField()
    is_archived = serializers.BooleanField(read_only=True)
    is_rems_enrolled = serializers.BooleanField(read_only=True)
    can_receive_texts = serializers.BooleanField(read_only=True)
    confirm_new = serializers.BooleanField(
        write_only=True, required=False, default=False,
        help_text="Create even though a patient with the same name and date of birth exists.",
    )

    class Meta:
        model = Patient
        fields = [
            "id", "mrn", "first_name", "last_name", "preferred_name", "display_name", "date_of_birth", "sex",
            "phone", "phone_display", "email",
            "sms_consent", "sms_consent_at", "sms_consent_method", "sms_opted_out_at", "can_receive_texts",
            "diagnosis", *SCREENING_FIELDS, *MEDICINE_FIELDS,
            "rems_enrolled_on", "rems_patient_id", "is_rems_enrolled",
            "emergency_contact_name", "emergency_contact_phone", "notes",
            "is_archived", "archived_at", "created_at", "updated_at", "confirm_new",
        ]
        read_only_fields = ["sms_opted_out_at", "archived_at", "created_at", "updated_at"]
        extra_kwargs = {
            "mrn": {"required": False, "allow_blank": True, "validators": []},
            # Model.clean() gives the clinic's own wording for these.
            "first_name": {"allow_blank": True},
            "last_name": {"allow_blank": True},
        }

    def get_phone_display(self, patient: Patient) -> str:
        return for_display(patient.phone)

    def to_internal_value(self, data):
        """The fields as sent, then the record's rules (``services.field_errors``) on every field that could be
        read: one 400 with every error, the same words as the web form's, not one pass and then another."""
        try:
            values, unreadable = super().to_internal_value(data), {}
        except serializers.ValidationError as error:
            if not isinstance(error.detail, dict) or not isinstance(data, dict):
                raise
            values, unreadable = self._readable_values(data, skip=set(error.detail)), error.detail
        request = self.context.get("request")
        found = services.field_errors(values=values, patient=self.instance, unreadable=set(unreadable),
                                      by=getattr(request, "user", None))
        if unreadable or found:
            raise serializers.ValidationError({**found, **unreadable})
        return values

    def _readable_values(self, data, *, skip: set[str]) -> dict:
        values = {}
        for field in self._writable_fields:
            if field.field_name in skip:
                continue
            check = getattr(self, f"validate_{field.field_name}", None)
            try:
                value = field.run_validation(field.get_value(data))
                values[field.source] = check(value) if check else value
            except (SkipField, serializers.ValidationError):
                continue
        return values

    def validate_mrn(self, value: str) -> str:
        value = value.strip()
        if value and Patient.objects.filter(mrn__iexact=value).exclude(pk=getattr(self.instance, "pk", None)).exists():
            raise serializers.ValidationError("Another patient already has this MRN.")
        return value


class PatientListSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    """The short form for lists and search results."""

    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = Patient
        fields = ["id", "mrn", "first_name", "last_name", "preferred_name", "display_name", "date_of_birth",
                  "phone", "diagnosis", "archived_at"]
        read_only_fields = fields  # only ever an answer: a patient is created and changed in full


class HistoryChangeSerializer(serializers.Serializer):
    event = serializers.CharField()
    at = serializers.DateTimeField()
    user = serializers.IntegerField(allow_null=True)
    username = serializers.CharField(allow_null=True)
    url = serializers.CharField(allow_null=True)
    changes = serializers.DictField()


class HistoryReadSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    username = serializers.CharField()
    at = serializers.DateTimeField()
    channel = serializers.CharField()
    path = serializers.CharField()


class PatientHistorySerializer(serializers.Serializer):
    changes = HistoryChangeSerializer(many=True)
    reads = HistoryReadSerializer(many=True)


class AccessLogEntrySerializer(serializers.Serializer):
    """One opening of a patient's record: who, when, which patient, through which door."""

    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    user = serializers.IntegerField(source="user_id")
    username = serializers.CharField(source="user.username")
    patient = serializers.IntegerField(source="patient_id")
    patient_mrn = serializers.CharField(source="patient.mrn")
    channel = serializers.CharField(help_text="api, web (a page) or export (e.g. a calendar feed)")
    path = serializers.CharField(help_text="The address that was opened (a calendar token is never shown)")
