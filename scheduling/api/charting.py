"""The session workflow endpoints: check-in, vitals, dose, assessment, discharge, observation."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from clinic.roles import ALL_ROLES, CLINICIAN, FRONT_DESK, MANAGER, roles_may
from patients.models import PatientAccess
from patients.services import record_access
from scheduling.api.stock_fields import WholeIdField, WholeNumberField
from scheduling.charting import services as charting
from scheduling.charting.dose_stock import confirm_witness
from scheduling.charting.observation import observation_states
from scheduling.charting.rems import late_entries
from scheduling.models import (
    Assessment,
    DeviceGiven,
    Dose,
    EntryKind,
    LedgerEntry,
    LeftBeforeDischarge,
    Lot,
    Respiratory,
    Severity,
    VitalSigns,
    VitalsKind,
)

LATE_REASON_HELP = "Required when a time is more than 15 minutes before it is entered (a late entry)"


def late_reason_field():
    return serializers.CharField(required=False, allow_blank=True, max_length=2000, default="",
                                 help_text=LATE_REASON_HELP)


class CheckInSerializer(serializers.Serializer):
    fasted_food_2h = serializers.BooleanField(help_text="No food for 2 hours before")
    fasted_drink_30m = serializers.BooleanField(help_text="No drink for 30 minutes before")
    nasal_medicines_ok = serializers.BooleanField(help_text="Nasal steroid or decongestant at least 1 hour before, "
                                                            "or none taken")
    ride_home_arranged = serializers.BooleanField()
    checked_in_at = serializers.DateTimeField(required=False, help_text="Defaults to now; may be earlier the same "
                                                                       "day, up to 2 hours before the booked start")
    late_reason = late_reason_field()
    override_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="",
        help_text="A clinician's reason to override a finding that appeared since the course started")


class VitalsInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=VitalsKind.choices)
    systolic = serializers.IntegerField(min_value=0, max_value=1000)
    diastolic = serializers.IntegerField(min_value=0, max_value=1000)
    heart_rate = serializers.IntegerField(min_value=0, max_value=1000)
    spo2 = serializers.IntegerField(min_value=0, max_value=1000)
    taken_at = serializers.DateTimeField(required=False, help_text="Defaults to now; may be after the fact")
    late_reason = late_reason_field()
    timing_reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="",
                                          help_text="Why a 40-minute reading is outside 35-50 minutes")


class VitalsSerializer(serializers.ModelSerializer):
    class Meta:
        model = VitalSigns
        fields = ["id", "kind", "systolic", "diastolic", "heart_rate", "spo2", "taken_at", "recorded_by",
                  "recorded_at", "late_reason", "timing_reason"]


class AcknowledgeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class DoseInSerializer(serializers.Serializer):
    dose_mg = serializers.DecimalField(max_digits=7, decimal_places=1, required=False, min_value=0)
    devices = WholeNumberField(required=False, min_value=1, max_value=10)
    lot = WholeIdField(
        queryset=Lot.objects.select_related("product"), required=False, allow_null=True,
        help_text="The stock lot the dose is drawn from (at the session's location, its product, in date, with "
                  "enough left): esketamine in whole devices, IV in mg")
    witness_username = serializers.CharField(
        required=False, allow_blank=True, max_length=150, default="",
        help_text="IV: the second clinician or manager who witnesses the waste of an opened vial's rest")
    witness_password = serializers.CharField(
        required=False, allow_blank=True, max_length=128, default="", write_only=True,
        style={"input_type": "password"}, help_text="IV: the witness's own password (checked, never stored)")
    weight_kg = serializers.DecimalField(max_digits=5, decimal_places=1, required=False)
    mg_per_kg = serializers.DecimalField(max_digits=4, decimal_places=2, required=False)
    started_at = serializers.DateTimeField(required=False, help_text="First device / infusion start; default now")
    infusion_ended_at = serializers.DateTimeField(required=False)
    device_times = serializers.ListField(child=serializers.DateTimeField(), required=False, max_length=10,
                                         help_text="Esketamine: each device's time, first device first")
    rest_reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="",
                                        help_text="Why less than 5 minutes between two devices")
    prescriber_on_site = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(), required=False,
        help_text="Esketamine: the prescriber on site (a clinician marked as a prescriber); defaults to the "
                  "clinician dosing when they are one")
    late_reason = late_reason_field()
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class DeviceSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceGiven
        fields = ["number", "given_at", "entered_at", "late_reason", "rest_reason", "recorded_by"]


class DrawnSerializer(serializers.ModelSerializer):
    """A ledger entry of the dose: what was dispensed, and an opened vial's rest wasted before a witness."""

    lot_number = serializers.CharField(source="lot.lot_number")
    expiry = serializers.DateField(source="lot.expiry")
    unit = serializers.CharField(source="lot.product.unit")

    class Meta:
        model = LedgerEntry
        fields = ["id", "kind", "lot", "lot_number", "expiry", "quantity", "unit", "by", "witness", "at"]


class DoseSerializer(serializers.ModelSerializer):
    devices_given = DeviceSerializer(many=True, read_only=True)
    stock_entries = serializers.SerializerMethodField()

    @extend_schema_field(DrawnSerializer(many=True))
    def get_stock_entries(self, dose: Dose):
        entries = (LedgerEntry.objects.filter(session_id=dose.session_id, kind__in=(EntryKind.DISPENSE,
                                                                                    EntryKind.WASTE))
                   .select_related("lot__product").order_by("at", "id"))
        return DrawnSerializer(entries, many=True).data

    class Meta:
        model = Dose
        fields = ["dose_mg", "devices", "lot_number", "stock_entries", "weight_kg", "mg_per_kg", "started_at",
                  "infusion_ended_at", "infusion_end_entered_at", "prescriber_on_site", "devices_given", "late_reason",
                  "infusion_end_late_reason", "override_reason", "override_by", "recorded_by", "recorded_at"]


class DeviceInSerializer(serializers.Serializer):
    given_at = serializers.DateTimeField(required=False, help_text="Defaults to now")
    rest_reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    late_reason = late_reason_field()


class InfusionEndSerializer(serializers.Serializer):
    ended_at = serializers.DateTimeField(required=False)
    late_reason = late_reason_field()


class AssessmentInSerializer(serializers.Serializer):
    sedation = serializers.ChoiceField(choices=Severity.choices)
    dissociation = serializers.ChoiceField(choices=Severity.choices)
    respiratory = serializers.ChoiceField(choices=Respiratory.choices)
    adverse_event = serializers.BooleanField(default=False)
    adverse_event_serious = serializers.BooleanField(default=False)
    adverse_event_description = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    assessed_at = serializers.DateTimeField(required=False)
    late_reason = late_reason_field()


class AssessmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Assessment
        fields = ["id", "assessed_at", "sedation", "dissociation", "respiratory", "adverse_event",
                  "adverse_event_serious", "adverse_event_description", "recorded_by", "recorded_at", "late_reason"]


class DischargeSerializer(serializers.Serializer):
    resolution_attested = serializers.BooleanField(
        help_text="Sedation, dissociation and breathing have resolved")
    driver = serializers.CharField(max_length=200, allow_blank=True)
    could_have_left_after_minutes = serializers.IntegerField(required=False, allow_null=True, min_value=0,
                                                             max_value=10000)
    discharged_at = serializers.DateTimeField(required=False, help_text="Defaults to now; never in the future")
    late_reason = late_reason_field()


class LeaveSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LeftBeforeDischarge.choices)
    reason = serializers.CharField(max_length=2000, allow_blank=True, help_text="Why the patient left")
    left_with = serializers.CharField(max_length=2000, allow_blank=True, help_text="How, and with whom")
    left_at = serializers.DateTimeField(required=False, help_text="Defaults to now")
    late_reason = late_reason_field()


class LateEntrySerializer(serializers.Serializer):
    what = serializers.CharField()
    at = serializers.CharField(help_text="Local time at the session's location")
    entered_at = serializers.CharField(help_text="Local time it was entered")
    reason = serializers.CharField()


class ObservationSerializer(serializers.Serializer):
    stage = serializers.CharField()
    treatment_started_at = serializers.DateTimeField(allow_null=True)
    minutes_since_start = serializers.IntegerField(allow_null=True)
    observation_ends_at = serializers.DateTimeField(allow_null=True)
    minutes_left = serializers.IntegerField(allow_null=True)
    bp_checkpoint = serializers.CharField(allow_null=True)
    alerts = serializers.ListField(child=serializers.CharField())
    ready_to_discharge = serializers.BooleanField()


class ChartSerializer(serializers.Serializer):
    """Everything recorded for a session, with its live observation state."""

    vitals = VitalsSerializer(many=True)
    dose = DoseSerializer(allow_null=True)
    assessments = AssessmentSerializer(many=True)
    observation = ObservationSerializer()
    late_entries = LateEntrySerializer(many=True)


CLINICIANS_ONLY = roles_may(read=ALL_ROLES, write=(CLINICIAN,))
CHECK_IN_ROLES = roles_may(read=ALL_ROLES, write=(FRONT_DESK, CLINICIAN, MANAGER))


class SessionWorkflowActions:
    """Mixed into the session viewset: one action per workflow step, each calling one service."""

    def _chart(self, session) -> dict:
        session.refresh_from_db()
        state = observation_states([session])[session.pk]
        dose = Dose.objects.filter(session=session).prefetch_related("devices_given").first()
        vitals = list(session.vitals.order_by("taken_at", "id"))
        assessments = list(session.assessments.all())
        devices = list(dose.devices_given.all()) if dose else []
        return {
            "vitals": VitalsSerializer(vitals, many=True).data,
            "dose": DoseSerializer(dose).data if dose else None,
            "assessments": AssessmentSerializer(assessments, many=True).data,
            "observation": ObservationSerializer(state.as_dict()).data,
            "late_entries": LateEntrySerializer(late_entries(session, dose, vitals, assessments, devices),
                                                many=True).data,
            "left_before_discharge": None if session.left_at is None else {
                "kind": session.left_kind, "left_at": session.left_at, "reason": session.left_reason,
                "left_with": session.left_with},
            "status": session.status,
        }

    @extend_schema(request=None, responses=ChartSerializer)
    @action(detail=True, methods=["get"])
    def chart(self, request, pk=None):
        """The session's record so far and its live observation state."""
        session = self.get_object()
        record_access(patient=session.patient, user=request.user, channel=PatientAccess.Channel.API,
                      path=request.path)
        return Response(self._chart(session))

    @extend_schema(request=CheckInSerializer, responses=ChartSerializer)
    @action(detail=True, methods=["post"], url_path="check-in", permission_classes=[CHECK_IN_ROLES])
    def check_in(self, request, pk=None):
        """Check the patient in: checklist, eligibility re-check, REMS enrolment (esketamine)."""
        payload = CheckInSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        session = charting.check_in(by=request.user, session=self.get_object(), **payload.validated_data)
        return Response(self._chart(session))

    @extend_schema(request=VitalsInSerializer, responses={201: ChartSerializer})
    @action(detail=True, methods=["post"], permission_classes=[CLINICIANS_ONLY])
    def vitals(self, request, pk=None):
        """Record vital signs (pre-dose, at 40 minutes, before discharge, other)."""
        payload = VitalsInSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        session = self.get_object()
        charting.record_vitals(by=request.user, session=session, **payload.validated_data)
        return Response(self._chart(session), status=201)

    @extend_schema(request=AcknowledgeSerializer, responses=ChartSerializer)
    @action(detail=True, methods=["post"], url_path="acknowledge-bp", permission_classes=[CLINICIANS_ONLY])
    def acknowledge_bp(self, request, pk=None):
        """A clinician lets dosing go ahead despite a high pre-dose blood pressure, with a reason."""
        payload = AcknowledgeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        session = charting.acknowledge_high_bp(by=request.user, session=self.get_object(),
                                               reason=payload.validated_data["reason"])
        return Response(self._chart(session))

    @extend_schema(request=DoseInSerializer, responses={201: ChartSerializer})
    @action(detail=True, methods=["post"], permission_classes=[CLINICIANS_ONLY])
    def dose(self, request, pk=None):
        """Record the dose drawn from a stock lot: esketamine mg, devices, first device; or IV weight, mg/kg, start.

        IV: the rest of an opened vial is wasted before a witness (``witness_username`` + ``witness_password``).
        409 with the stock's code for an expired, other-location, short or wrong-product lot.
        """
        payload = DoseInSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        session = self.get_object()
        fields = dict(payload.validated_data)
        witness = confirm_witness(request, by=request.user, username=fields.pop("witness_username"),
                                  password=fields.pop("witness_password"))
        charting.record_dose(by=request.user, session=session, witness=witness, **fields)
        return Response(self._chart(session), status=201)

    @extend_schema(request=InfusionEndSerializer, responses=ChartSerializer)
    @action(detail=True, methods=["post"], url_path="infusion-end", permission_classes=[CLINICIANS_ONLY])
    def infusion_end(self, request, pk=None):
        """Record when the IV infusion ended (recovery observation counts from here)."""
        payload = InfusionEndSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        session = self.get_object()
        charting.end_infusion(by=request.user, session=session, **payload.validated_data)
        return Response(self._chart(session))

    @extend_schema(request=DeviceInSerializer, responses={201: ChartSerializer})
    @action(detail=True, methods=["post"], permission_classes=[CLINICIANS_ONLY])
    def device(self, request, pk=None):
        """Record the next esketamine device: its time, and a reason for less than 5 minutes' rest."""
        payload = DeviceInSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        session = self.get_object()
        charting.record_device(by=request.user, session=session, **payload.validated_data)
        return Response(self._chart(session), status=201)

    @extend_schema(request=AssessmentInSerializer, responses={201: ChartSerializer})
    @action(detail=True, methods=["post"], permission_classes=[CLINICIANS_ONLY])
    def assessment(self, request, pk=None):
        """Record sedation, dissociation, respiratory status and adverse events."""
        payload = AssessmentInSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        session = self.get_object()
        charting.record_assessment(by=request.user, session=session, **payload.validated_data)
        return Response(self._chart(session), status=201)

    @extend_schema(request=DischargeSerializer, responses=ChartSerializer)
    @action(detail=True, methods=["post"], permission_classes=[CLINICIANS_ONLY])
    def discharge(self, request, pk=None):
        """Discharge once observation is complete (no override): 409 ``observation_not_complete`` before."""
        payload = DischargeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        session = charting.discharge(by=request.user, session=self.get_object(), **payload.validated_data)
        return Response(self._chart(session))

    @extend_schema(request=LeaveSerializer, responses=ChartSerializer)
    @action(detail=True, methods=["post"], permission_classes=[CLINICIANS_ONLY])
    def leave(self, request, pk=None):
        """A dosed patient leaves before discharge (against advice, or to emergency care): when, why, how."""
        payload = LeaveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        session = charting.leave_before_discharge(by=request.user, session=self.get_object(),
                                                  **payload.validated_data)
        return Response(self._chart(session))
