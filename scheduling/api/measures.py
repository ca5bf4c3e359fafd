"""Outcome measures over the API: ``/api/measures/`` and ``/api/patients/{id}/measures/``.

Views validate the shape of the input and call one service or selector in
``scheduling.charting.outcomes``; scoring and every rule live there and in
``patients.measures``.
"""

from __future__ import annotations

import re

import django_filters
from django.core.exceptions import ObjectDoesNotExist
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.utils import html
from rest_framework.views import APIView

from clinic.roles import ALL_ROLES, CLINICIAN, FRONT_DESK, roles_may
from patients import measures
from patients.models import Instrument, OutcomeMeasure, Patient, PatientAccess
from protocols.models import TreatmentCourse
from scheduling.charting import outcomes
from scheduling.models import Session

_WHOLE_NUMBER = re.compile(r"^\s*\d+\s*$")
_ITEM_MAX = max(spec.item_max for spec in measures.INSTRUMENTS.values())
_ITEM_COUNT = max(spec.item_count for spec in measures.INSTRUMENTS.values())


@extend_schema_field({
    "type": "array",
    "items": {"type": "integer", "minimum": 0, "maximum": _ITEM_MAX},
    "minItems": 1,
    "maxItems": _ITEM_COUNT,
    "description": "The answers in form order: PHQ-9 nine 0-3, GAD-7 seven 0-3, MADRS ten 0-6.",
})
class ItemScoresField(serializers.Field):
    """The answers as a list; each answer is checked by the scoring rules, which name the item at fault."""

    default_error_messages = {"not_a_list": "Send the answers as a list of whole numbers."}

    def get_value(self, dictionary):
        if html.is_html_input(dictionary):
            # A form post repeats the field; its values arrive as text.
            values = dictionary.getlist(self.field_name)
            if not values:
                return serializers.empty
            return [int(value) if isinstance(value, str) and _WHOLE_NUMBER.match(value) else value
                    for value in values]
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list")
        return data

    def to_representation(self, value):
        return list(value)


class OutcomeMeasureSerializer(serializers.ModelSerializer):
    """A scored measure as lists and the patient's record show it."""

    instrument_label = serializers.CharField(source="get_instrument_display", read_only=True)
    band_label = serializers.CharField(source="get_band_display", read_only=True)
    items = ItemScoresField(read_only=True)
    alerts = serializers.ListField(child=serializers.CharField(), read_only=True,
                                   help_text="Alerts this measure raised, e.g. item9_positive.")
    alert_open = serializers.BooleanField(read_only=True,
                                          help_text="An item-9 alert waits for a clinician's acknowledgement.")
    session = serializers.SerializerMethodField()
    recorded_by_name = serializers.SerializerMethodField()

    class Meta:
        model = OutcomeMeasure
        fields = ["id", "patient", "instrument", "instrument_label", "items", "total", "band", "band_label",
                  "taken_at", "session", "recorded_by", "recorded_by_name", "item9_positive", "alerts", "alert_open",
                  "alert_acknowledged_at", "alert_acknowledged_by", "alert_note", "created_at"]
        read_only_fields = fields

    def get_session(self, measure: OutcomeMeasure) -> int | None:
        try:
            return measure.session_link.session_id
        except ObjectDoesNotExist:
            return None

    def get_recorded_by_name(self, measure: OutcomeMeasure) -> str:
        return measure.recorded_by.get_full_name() or measure.recorded_by.get_username()


class RecordMeasureSerializer(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    instrument = serializers.ChoiceField(choices=Instrument.choices)
    items = ItemScoresField()
    taken_at = serializers.DateTimeField(required=False, help_text="When the form was completed; defaults to now.")
    session = serializers.PrimaryKeyRelatedField(queryset=Session.objects.all(), required=False, allow_null=True,
                                                 help_text="The session the measure was taken at, if any.")


class Item9AcknowledgementSerializer(serializers.Serializer):
    # Blank is let through to the service, so a front-desk user learns first that
    # the role is wrong (403), and a clinician that the note is missing (400).
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000,
                                 help_text="The clinician's suicide-risk assessment (required).")


class OutcomePointSerializer(serializers.Serializer):
    measure = serializers.IntegerField()
    date = serializers.DateField()
    taken_at = serializers.DateTimeField()
    total = serializers.IntegerField()
    band = serializers.CharField()
    session = serializers.IntegerField(allow_null=True)


class InstrumentOutcomeSerializer(serializers.Serializer):
    instrument = serializers.ChoiceField(choices=Instrument.choices)
    label = serializers.CharField()
    baseline = OutcomePointSerializer()
    latest = OutcomePointSerializer()
    change = serializers.IntegerField(help_text="Latest minus baseline; negative is better.")
    response = serializers.BooleanField(help_text="A drop of 50% or more from the baseline.")
    remission = serializers.BooleanField(help_text="PHQ-9 and GAD-7 below 5, MADRS 10 or below.")
    points = OutcomePointSerializer(many=True)


class CourseOutcomesSerializer(serializers.Serializer):
    course = serializers.IntegerField(source="pk")
    protocol = serializers.CharField(source="protocol.slug")
    protocol_name = serializers.CharField(source="protocol.name")
    start_date = serializers.DateField()
    # Text, not a choice field: one more enum for a field named "status" would be another schema name collision.
    status = serializers.CharField(help_text="active, paused, completed or discontinued")
    outcomes = serializers.SerializerMethodField()

    @extend_schema_field(serializers.DictField(child=InstrumentOutcomeSerializer(),
                                               help_text="Per instrument measured during the course."))
    def get_outcomes(self, course: TreatmentCourse) -> dict:
        found = self.context["outcomes"].get(course.pk, {})
        return {instrument: InstrumentOutcomeSerializer(summary).data for instrument, summary in found.items()}


class PatientMeasuresSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    measures = OutcomeMeasureSerializer(many=True)
    courses = CourseOutcomesSerializer(many=True)


class MeasureFilter(django_filters.FilterSet):
    instrument = django_filters.ChoiceFilter(choices=Instrument.choices)
    session = django_filters.NumberFilter(field_name="session_link__session")

    class Meta:
        model = OutcomeMeasure
        fields = ["patient", "instrument", "session"]


def _log_reads(request, patient_ids) -> None:
    # Measures are clinical record: every patient whose measures were shown gets
    # an access row, in one INSERT however many patients a page holds.
    PatientAccess.objects.bulk_create([
        PatientAccess(patient_id=patient_id, user=request.user, channel=PatientAccess.Channel.API,
                      path=request.path[:300])
        for patient_id in sorted(set(patient_ids))
    ])


class MeasureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """PHQ-9, GAD-7 and MADRS: answers in; total, band and alerts out. Newest first."""

    serializer_class = OutcomeMeasureSerializer
    filterset_class = MeasureFilter
    permission_classes = [roles_may(read=ALL_ROLES, write=(CLINICIAN, FRONT_DESK))]

    def get_queryset(self):
        return outcomes.measures_for_lists().order_by("-taken_at", "-id")

    def get_permissions(self):
        if self.action == "acknowledge":
            # Every role reaches the service, which answers a non-clinician with
            # 403 ``clinician_only`` rather than a generic refusal.
            return [roles_may(read=ALL_ROLES, write=ALL_ROLES)()]
        return super().get_permissions()

    @extend_schema(parameters=[
        OpenApiParameter("patient", int, description="Only this patient's measures"),
        OpenApiParameter("session", int, description="Only measures taken at this session"),
    ])
    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = page if page is not None else list(queryset)
        _log_reads(request, [measure.patient_id for measure in rows])
        data = self.get_serializer(rows, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, *args, **kwargs):
        measure = self.get_object()
        _log_reads(request, [measure.patient_id])
        return Response(self.get_serializer(measure).data)

    @extend_schema(request=RecordMeasureSerializer, responses={201: OutcomeMeasureSerializer})
    def create(self, request):
        """Score and record a completed form; a PHQ-9 with item 9 above 0 returns ``alerts: ["item9_positive"]``."""
        payload = RecordMeasureSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        measure = outcomes.record_measure(by=request.user, patient=data["patient"], instrument=data["instrument"],
                                          items=data["items"], taken_at=data.get("taken_at"),
                                          session=data.get("session"))
        measure = outcomes.measures_for_lists().get(pk=measure.pk)
        return Response(self.get_serializer(measure).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=Item9AcknowledgementSerializer, responses=OutcomeMeasureSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """A clinician records the suicide-risk assessment of an item-9 alert; dosing may then go ahead."""
        payload = Item9AcknowledgementSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        measure = outcomes.acknowledge_item9_alert(by=request.user, measure=self.get_object(),
                                                   note=payload.validated_data["note"])
        measure = outcomes.measures_for_lists().get(pk=measure.pk)
        return Response(self.get_serializer(measure).data)


class PatientMeasuresView(APIView):
    """A patient's measures, oldest first, and per course: baseline, latest, change, response, remission."""

    permission_classes = [roles_may(read=ALL_ROLES)]

    @extend_schema(responses=PatientMeasuresSerializer)
    def get(self, request, pk: int):
        patient = get_object_or_404(Patient, pk=pk)
        _log_reads(request, [patient.pk])
        found = list(outcomes.measures_for_lists(patient.outcome_measures.all()).order_by("taken_at", "id"))
        courses = list(TreatmentCourse.objects.filter(patient=patient).select_related("protocol")
                       .order_by("start_date", "id"))
        context = {"outcomes": outcomes.outcomes_by_course(courses)}
        return Response({
            "patient": patient.pk,
            "measures": OutcomeMeasureSerializer(found, many=True).data,
            "courses": CourseOutcomesSerializer(courses, many=True, context=context).data,
        })
