from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from clinic.pagination import CountedWithThePage
from clinic.roles import ALL_ROLES, CLINICIAN, FRONT_DESK, MANAGER, roles_may
from patients import selectors, services
from patients.access_filters import manager_zone, read_access_query
from patients.api.serializers import (
    AccessLogEntrySerializer,
    PatientHistorySerializer,
    PatientListSerializer,
    PatientSerializer,
)
from patients.models import Diagnosis, Patient, PatientAccess


class PatientFilter(django_filters.FilterSet):
    diagnosis = django_filters.ChoiceFilter(choices=Diagnosis.choices)
    archived = django_filters.BooleanFilter(field_name="archived_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Patient
        fields = ["diagnosis", "sms_consent"]


class PatientViewSet(viewsets.ModelViewSet):
    """Patient records. DELETE archives: records are never deleted."""

    queryset = Patient.objects.all()
    permission_classes = [roles_may(read=ALL_ROLES, write=(FRONT_DESK, CLINICIAN, MANAGER))]
    filterset_class = PatientFilter
    pagination_class = CountedWithThePage
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_permissions(self):
        if self.action == "destroy":
            return [roles_may(write=(FRONT_DESK, MANAGER))()]
        return super().get_permissions()

    def get_serializer_class(self):
        return PatientListSerializer if self.action == "list" else PatientSerializer

    def get_queryset(self):
        if self.action == "list":
            include_archived = self.request.query_params.get("archived") in {"true", "1"}
            return selectors.search_patients(self.request.query_params.get("q", ""),
                                             include_archived=include_archived)
        return Patient.objects.all()

    @extend_schema(parameters=[OpenApiParameter(
        "q", str, description="Search by name (\"Chen, Harper\" works too), MRN, phone, or date of birth "
                              "(\"Mar 4, 1985\", \"1985-03-04\" or \"3/4/1985\"), alone or beside a name")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        patient = self.get_object()
        services.record_access(patient=patient, user=request.user, channel=PatientAccess.Channel.API,
                               path=request.path)
        return Response(self.get_serializer(patient).data)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        confirm_new = values.pop("confirm_new", False)
        patient = services.create_patient(by=request.user, values=values, confirm_new=confirm_new)
        return Response(PatientSerializer(patient).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        patient = self.get_object()
        serializer = self.get_serializer(patient, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        changes.pop("confirm_new", None)
        patient = services.update_patient(patient=patient, by=request.user, changes=changes)
        return Response(PatientSerializer(patient).data)

    @extend_schema(responses={200: PatientSerializer})
    def destroy(self, request, *args, **kwargs):
        patient = services.archive_patient(patient=self.get_object(), by=request.user)
        return Response(PatientSerializer(patient).data, status=status.HTTP_200_OK)

    @extend_schema(responses=PatientHistorySerializer)
    @action(detail=True, methods=["get"], permission_classes=[roles_may(read=(MANAGER,))])
    def history(self, request, pk=None):
        """Every change to the record (who, when, what) and every read of it. Managers only."""
        patient = self.get_object()
        history = PatientHistorySerializer(selectors.patient_history(patient)).data
        # The history carries the record's values as they changed: reading it is a read of the record
        # (logged after it is gathered, so it lists the reads before this one).
        services.record_access(patient=patient, user=request.user, channel=PatientAccess.Channel.API,
                               path=request.path)
        return Response(history)


@extend_schema(parameters=[
    OpenApiParameter("patient", int, description="Only openings of this patient's record"),
    OpenApiParameter("q", str, description="Only openings of the records of patients whose name or MRN matches "
                                           "(as the patients' search finds them, archived records included)"),
    OpenApiParameter("user", int, description="Only openings by this member of staff"),
    OpenApiParameter("channel", str, enum=PatientAccess.Channel.values,
                     description="Only openings through this door: api, web (a page) or export"),
    OpenApiParameter("from", OpenApiTypes.STR,
                     description="From this day (YYYY-MM-DD, the whole day on the manager's site's clock) or "
                                 "instant (ISO 8601; without an offset, on that clock), inclusive"),
    OpenApiParameter("to", OpenApiTypes.STR,
                     description="To this day (YYYY-MM-DD, the whole day included, on the manager's site's "
                                 "clock) or before this instant"),
])
class AccessLogView(generics.ListAPIView):
    """The access log: who opened which patient's record, when and how, newest first. Managers only.

    The filters read as on the access log page (``patients.access_filters``): days on the clock of the
    manager's site.
    """

    serializer_class = AccessLogEntrySerializer
    permission_classes = [roles_may(read=(MANAGER,))]
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no query parameters
            return PatientAccess.objects.none()
        query = read_access_query(self.request.query_params, zone=manager_zone(self.request.user), instants=True)
        return selectors.access_log(**query.selector_arguments())
