"""REMS Patient Monitoring Forms: list by urgency, read with what is missing, mark submitted."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from clinic.errors import Invalid
from clinic.roles import ALL_ROLES, CLINICIAN, MANAGER, roles_may
from patients.models import PatientAccess
from patients.services import record_access
from scheduling.charting import rems
from scheduling.models import RemsForm

URGENCY_FILTERS = ("due", "overdue", "submitted", "draft", "ready")


class RemsFormSerializer(serializers.ModelSerializer):
    session_date = serializers.DateField(source="session.local_date", read_only=True)
    patient = serializers.IntegerField(source="session.patient_id", read_only=True)
    patient_name = serializers.CharField(source="session.patient.display_name", read_only=True)
    location_name = serializers.CharField(source="session.location.name", read_only=True, default=None,
                                          allow_null=True)
    due_on = serializers.DateField(read_only=True)
    deadline = serializers.DateField(read_only=True)
    urgency = serializers.SerializerMethodField()

    class Meta:
        model = RemsForm
        fields = ["id", "session", "session_date", "patient", "patient_name", "location_name", "status", "urgency",
                  "missing", "due_on", "deadline", "submitted_at", "submitted_by", "confirmation_number"]

    def get_urgency(self, form) -> str:
        location = form.session.location
        today = location.local_date(timezone.now()) if location else timezone.localdate()
        return form.urgency(today)


class RemsFormDetailSerializer(RemsFormSerializer):
    content = serializers.SerializerMethodField()

    class Meta(RemsFormSerializer.Meta):
        fields = [*RemsFormSerializer.Meta.fields, "content"]

    def get_content(self, form) -> dict:
        if form.submitted_content is not None:
            return form.submitted_content
        return rems.form_content(form.session)[0]


class SubmitSerializer(serializers.Serializer):
    confirmation_number = serializers.CharField(max_length=60)


class RemsFormViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Monitoring forms, one per esketamine session: due from day 5, overdue after day 7."""

    permission_classes = [roles_may(read=ALL_ROLES, write=(CLINICIAN, MANAGER))]

    def get_queryset(self):
        queryset = RemsForm.objects.select_related("session__patient", "session__location", "session__course__protocol",
                                                   "session__clinician", "session__discharged_by", "session__dose")
        if self.action == "list":
            status = self.request.query_params.get("status")
            if status and status not in URGENCY_FILTERS:
                raise Invalid(f"Unknown status “{status}”.",
                              fields={"status": [f"Use one of: {', '.join(URGENCY_FILTERS)}."]})
            queryset = rems.forms_by_urgency(queryset, status, timezone.now())
        return queryset.order_by("status", "session__local_date", "id")

    def get_serializer_class(self):
        return RemsFormDetailSerializer if self.action == "retrieve" else RemsFormSerializer

    @extend_schema(parameters=[OpenApiParameter("status", str, enum=list(URGENCY_FILTERS))])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        """The form with its content (name, date of birth, medicines, the session's record): a logged read."""
        form = self.get_object()
        record_access(patient=form.session.patient, user=request.user, channel=PatientAccess.Channel.API,
                      path=request.path)
        return Response(self.get_serializer(form).data)

    @extend_schema(request=SubmitSerializer, responses=RemsFormDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Mark the form submitted to the REMS with its confirmation number (only a complete form)."""
        payload = SubmitSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        form = rems.submit_form(by=request.user, form=self.get_object(),
                                confirmation_number=payload.validated_data["confirmation_number"])
        return Response(RemsFormDetailSerializer(self.get_queryset().get(pk=form.pk)).data)
