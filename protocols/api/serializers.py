from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from patients.models import Patient
from protocols import due, selectors
from protocols.models import MaintenanceFrequency, Phase, Protocol, TreatmentCourse


class WeeklySpacingSerializer(serializers.Serializer):
    earliest_days = serializers.IntegerField()
    target_days = serializers.IntegerField()
    latest_days = serializers.IntegerField()


class PhaseSerializer(serializers.ModelSerializer):
    weekly = serializers.SerializerMethodField(help_text="Spacing when a clinician switches the course to weekly.")

    class Meta:
        model = Phase
        fields = ["order", "name", "sessions", "earliest_days", "target_days", "target_alt_days", "latest_days",
                  "weekly"]

    @extend_schema_field(WeeklySpacingSerializer(allow_null=True))
    def get_weekly(self, phase: Phase):
        if phase.weekly_earliest_days is None:
            return None
        return {"earliest_days": phase.weekly_earliest_days, "target_days": phase.weekly_target_days,
                "latest_days": phase.weekly_latest_days}


class ThresholdsSerializer(serializers.Serializer):
    bp_systolic_max = serializers.IntegerField()
    bp_diastolic_max = serializers.IntegerField()
    spo2_min = serializers.IntegerField()


class DoseRulesSerializer(serializers.Serializer):
    first_dose_mg = serializers.IntegerField(allow_null=True)
    allowed_doses_mg = serializers.ListField(child=serializers.IntegerField())
    requires_prior_56_for_84 = serializers.BooleanField()
    iv_mg_per_kg = serializers.DecimalField(max_digits=4, decimal_places=2, allow_null=True, coerce_to_string=False)


class ProtocolSerializer(serializers.ModelSerializer):
    """A protocol with its session settings and phases; read-only (managers edit in the admin)."""

    thresholds = serializers.SerializerMethodField()
    dose_rules = serializers.SerializerMethodField()
    phases = PhaseSerializer(many=True, read_only=True)
    has_weekly_alternative = serializers.SerializerMethodField()

    class Meta:
        model = Protocol
        fields = ["id", "slug", "name", "modality", "version", "active", "chair_minutes", "observation_minutes",
                  "first_session_latest_days", "requires_authorisation", "thresholds", "dose_rules",
                  "has_weekly_alternative", "phases"]

    @extend_schema_field(ThresholdsSerializer)
    def get_thresholds(self, protocol: Protocol):
        return ThresholdsSerializer(protocol).data

    @extend_schema_field(DoseRulesSerializer)
    def get_dose_rules(self, protocol: Protocol):
        return DoseRulesSerializer(protocol).data

    def get_has_weekly_alternative(self, protocol: Protocol) -> bool:
        return protocol.has_weekly_alternative()


@extend_schema_field(OpenApiTypes.STR)
class ProtocolReferenceField(serializers.RelatedField):
    """A protocol by slug (``esketamine-trd``) or by id."""

    default_error_messages = {
        "does_not_exist": "Unknown protocol “{value}”.",
        "incorrect_type": "Give the protocol's slug or id.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("incorrect_type")
        value = str(data).strip()
        lookup = {"pk": int(value)} if value.isdigit() else {"slug": value}
        try:
            return self.get_queryset().get(**lookup)
        except Protocol.DoesNotExist:
            self.fail("does_not_exist", value=value)

    def to_representation(self, protocol: Protocol) -> str:
        return protocol.slug


class CourseCreateSerializer(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    protocol = ProtocolReferenceField(queryset=Protocol.objects.all(), help_text="Slug or id.")
    start_date = serializers.DateField()
    override_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=4000,
        help_text="Clinicians only: why the patient is treated despite the eligibility findings.",
    )


class DueWindowSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    phase = serializers.CharField()
    earliest = serializers.DateField()
    target = serializers.DateField()
    latest = serializers.DateField()


class RestartSerializer(serializers.Serializer):
    after_completed = serializers.IntegerField(help_text="Sessions completed when the phase restarted.")
    phase_index = serializers.IntegerField()
    phase = serializers.CharField(allow_null=True)
    on = serializers.DateField()
    by = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()


TIMING_FIELD = serializers.ChoiceField(choices=selectors.TIMING_CHOICES, allow_null=True)


class CourseSerializer(serializers.ModelSerializer):
    """A course with where it stands: sessions completed, phase, next due window, timing and flags.

    The outlooks come from the view (``context["outlooks"]``, computed in one
    batch for a list); a course missing from it is computed on its own.
    """

    patient_name = serializers.CharField(source="patient.display_name", read_only=True)
    protocol = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    protocol_name = serializers.CharField(source="protocol.name", read_only=True)
    sessions_completed = serializers.SerializerMethodField()
    phase = serializers.SerializerMethodField(help_text="The phase of the next session.")
    next_due = serializers.SerializerMethodField()
    timing = serializers.SerializerMethodField(
        help_text="on_track, due, overdue, lapsed or completed; null for a paused or discontinued course."
    )
    flags = serializers.SerializerMethodField()
    restart = serializers.SerializerMethodField(help_text="The latest phase restart after a lapse.")

    class Meta:
        model = TreatmentCourse
        fields = [
            "id", "patient", "patient_name", "protocol", "protocol_name", "modality", "start_date", "status",
            "maintenance_frequency", "frequency_reason", "frequency_changed_at", "frequency_changed_by",
            "sessions_completed", "phase", "next_due", "timing", "flags",
            "override_reason", "override_by", "override_findings", "restart",
            "paused_at", "completed_at", "discontinued_at", "discontinued_reason",
            "created_at", "created_by",
        ]
        read_only_fields = fields

    def _outlook(self, course: TreatmentCourse) -> due.CourseOutlook:
        outlooks = self.context.setdefault("outlooks", {})
        if course.pk not in outlooks:
            outlooks[course.pk] = selectors.course_outlook(course)
        return outlooks[course.pk]

    def get_sessions_completed(self, course: TreatmentCourse) -> int:
        return self._outlook(course).sessions_completed

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_phase(self, course: TreatmentCourse):
        return self._outlook(course).phase if course.is_open else None

    @extend_schema_field(DueWindowSerializer(allow_null=True))
    def get_next_due(self, course: TreatmentCourse):
        window = selectors.shown_next_due(course, self._outlook(course))
        return None if window is None else DueWindowSerializer(window).data

    @extend_schema_field(TIMING_FIELD)
    def get_timing(self, course: TreatmentCourse):
        return selectors.shown_timing(course, self._outlook(course))

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_flags(self, course: TreatmentCourse):
        return selectors.course_flags(course, self._outlook(course))

    @extend_schema_field(RestartSerializer(allow_null=True))
    def get_restart(self, course: TreatmentCourse):
        if course.restart_on is None:
            return None
        phases = sorted(course.protocol.phases.all(), key=lambda phase: phase.order)
        index = course.restart_phase_index
        return {
            "after_completed": course.restart_after_completed,
            "phase_index": index,
            "phase": phases[index].name if index < len(phases) else None,
            "on": course.restart_on,
            "by": course.restart_by_id,
            "reason": course.restart_reason,
        }


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000)


class MaintenanceFrequencySerializer(serializers.Serializer):
    # Values only: with the labels too, the schema would hold one choice set
    # under two names (FrequencyEnum, MaintenanceFrequencyEnum) and warn.
    frequency = serializers.ChoiceField(choices=MaintenanceFrequency.values)
    reason = serializers.CharField(max_length=2000, help_text="Why: a clinician's decision, recorded on the course.")


class PlanRowSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    phase = serializers.CharField()
    earliest = serializers.DateField()
    target = serializers.DateField()
    latest = serializers.DateField()
    session = serializers.IntegerField(allow_null=True, help_text="The booked session's id, where one is booked.")
    booked = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=["booked", "due", "overdue", "projected"])
