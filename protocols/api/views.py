from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from clinic.roles import ALL_ROLES, CLINICIAN, FRONT_DESK, MANAGER, roles_may
from patients.api.access import LogsPatientHistoryReads
from patients.models import PatientAccess
from patients.services import record_access
from protocols import selectors, services
from protocols.api.serializers import (
    CourseCreateSerializer,
    CourseSerializer,
    MaintenanceFrequencySerializer,
    PlanRowSerializer,
    ProtocolSerializer,
    ReasonSerializer,
)
from protocols.models import CourseStatus, Modality, Protocol, TreatmentCourse


class ProtocolFilter(django_filters.FilterSet):
    class Meta:
        model = Protocol
        fields = ["modality", "active"]


@extend_schema(parameters=[OpenApiParameter("id_or_slug", str, OpenApiParameter.PATH,
                                            description="The protocol's id or slug.")])
class ProtocolViewSet(viewsets.ReadOnlyModelViewSet):
    """Protocols with their phases. Read-only here: managers edit them in the admin."""

    queryset = Protocol.objects.with_phases()
    serializer_class = ProtocolSerializer
    permission_classes = [roles_may(read=ALL_ROLES)]
    filterset_class = ProtocolFilter
    lookup_url_kwarg = "id_or_slug"
    lookup_value_regex = "[^/]+"

    def get_object(self) -> Protocol:
        value = self.kwargs["id_or_slug"]
        lookup = {"pk": int(value)} if value.isdigit() else {"slug": value}
        protocol = get_object_or_404(self.get_queryset(), **lookup)
        self.check_object_permissions(self.request, protocol)
        return protocol


class CourseFilter(django_filters.FilterSet):
    patient = django_filters.NumberFilter(field_name="patient_id")
    protocol = django_filters.CharFilter(field_name="protocol__slug", help_text="The protocol's slug.")
    status = django_filters.ChoiceFilter(choices=CourseStatus.choices)
    modality = django_filters.ChoiceFilter(choices=Modality.choices)
    # Declared last: django-filter applies filters in declaration order, and the
    # timing (computed, not stored) must be worked out on the other filters' result.
    timing = django_filters.ChoiceFilter(choices=selectors.TIMING_CHOICES, method="filter_timing")

    class Meta:
        model = TreatmentCourse
        fields = ["patient", "protocol", "status", "modality", "timing"]

    def filter_timing(self, queryset, name, value):
        return selectors.courses_with_timing(queryset, value)


CLINICAL_WRITE = roles_may(write=(CLINICIAN, MANAGER))


class CourseViewSet(LogsPatientHistoryReads, mixins.CreateModelMixin, mixins.ListModelMixin,
                    mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Treatment courses: start one (eligibility is checked), see where it stands, pause, resume, end it."""

    queryset = TreatmentCourse.objects.for_lists()
    serializer_class = CourseSerializer
    permission_classes = [roles_may(read=ALL_ROLES, write=(FRONT_DESK, CLINICIAN, MANAGER))]
    filterset_class = CourseFilter

    def _course_response(self, course: TreatmentCourse, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(CourseSerializer(course, context=self.get_serializer_context()).data, status=status_code)

    def list(self, request, *args, **kwargs):
        page, courses = self.page_of_rows(request)
        context = {**self.get_serializer_context(), "outlooks": selectors.course_outlooks(courses)}
        data = CourseSerializer(courses, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, *args, **kwargs):
        course = self.get_object()
        record_access(patient=course.patient, user=request.user, channel=PatientAccess.Channel.API,
                      path=request.path)
        return self._course_response(course)

    @extend_schema(request=CourseCreateSerializer, responses={201: CourseSerializer})
    def create(self, request, *args, **kwargs):
        serializer = CourseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        course = services.start_course(by=request.user, **serializer.validated_data)
        return self._course_response(course, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=CourseSerializer)
    @action(detail=True, methods=["post"], permission_classes=[CLINICAL_WRITE])
    def pause(self, request, pk=None):
        """Put an active course on hold."""
        return self._course_response(services.pause_course(by=request.user, course=self.get_object()))

    @extend_schema(request=None, responses=CourseSerializer)
    @action(detail=True, methods=["post"], permission_classes=[CLINICAL_WRITE])
    def resume(self, request, pk=None):
        """Make a paused course active again."""
        return self._course_response(services.resume_course(by=request.user, course=self.get_object()))

    @extend_schema(request=ReasonSerializer, responses=CourseSerializer)
    @action(detail=True, methods=["post"], permission_classes=[CLINICAL_WRITE])
    def discontinue(self, request, pk=None):
        """End an active or paused course early, with a reason."""
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        course = services.discontinue_course(by=request.user, course=self.get_object(),
                                             reason=serializer.validated_data["reason"])
        return self._course_response(course)

    @extend_schema(request=MaintenanceFrequencySerializer, responses=CourseSerializer)
    @action(detail=True, methods=["post"], url_path="maintenance-frequency",
            permission_classes=[roles_may(write=(CLINICIAN,))])
    def maintenance_frequency(self, request, pk=None):
        """Switch maintenance between the protocol's spacing and weekly, where the protocol allows. Clinicians only."""
        serializer = MaintenanceFrequencySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        course = services.set_maintenance_frequency(by=request.user, course=self.get_object(),
                                                    frequency=serializer.validated_data["frequency"],
                                                    reason=serializer.validated_data["reason"])
        return self._course_response(course)

    @extend_schema(request=ReasonSerializer, responses=CourseSerializer)
    @action(detail=True, methods=["post"], url_path="restart-phase", permission_classes=[roles_may(write=(CLINICIAN,))])
    def restart_phase(self, request, pk=None):
        """Restart the current phase of a lapsed course after a clinician's review. Clinicians only."""
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        course = services.restart_phase(by=request.user, course=self.get_object(),
                                        reason=serializer.validated_data["reason"])
        return self._course_response(course)

    @extend_schema(responses=PlanRowSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def plan(self, request, pk=None):
        """The projected sessions from the next one on, each with its window, booking and status."""
        course = self.get_object()
        record_access(patient=course.patient, user=request.user, channel=PatientAccess.Channel.API,
                      path=request.path)
        rows = selectors.course_plan(course)
        return Response(PlanRowSerializer(rows, many=True).data)
