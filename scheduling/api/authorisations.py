"""Prior authorisations of a course through the API.

``/api/courses/{id}/authorisations/`` lists a course's authorisations with their units used and left and
enters a new one; ``/api/authorisations/{id}/`` reads and changes one; ``/api/authorisations/{id}/history/``
gives every recorded version. Front desk, clinicians and managers enter and change them. There is no
DELETE: an entry made in error is corrected, as the rest of the record is, and its history keeps both.
Each read is a read of the patient's record, logged as one.
"""

from __future__ import annotations

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.roles import ALL_ROLES, CLINICIAN, FRONT_DESK, MANAGER, roles_may
from clinic.serializers import ConstraintsChecked
from patients.models import PatientAccess
from patients.services import record_access
from protocols import authorisations as entering
from protocols.models import PriorAuthorisation, TreatmentCourse
from protocols.models.authorisations import NOTES_MAX
from scheduling.booking.authorisations import AuthorisationUse, uses_for_courses

ENTERERS = (FRONT_DESK, CLINICIAN, MANAGER)


class DocumentReference(serializers.CharField):
    """A document's reference as typed: text only (DRF's CharField would take 12 or true as "12", "True")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class DocumentsField(serializers.ListField):
    child = DocumentReference(max_length=300, allow_blank=False, trim_whitespace=True)


class AuthorisationSerializer(ConstraintsChecked, serializers.ModelSerializer):
    """An authorisation as entered; ``units_used``, ``units_left`` and ``label`` are counted from the course's
    sessions (booked, confirmed, checked in, in treatment, discharged) on the days it covers."""

    documents = DocumentsField(required=False, max_length=50, help_text="References to documents (text each).")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=NOTES_MAX)
    # Declared so the schema says what the rules take (at least 1), and 0 or -3 get the same words.
    units_approved = serializers.IntegerField(
        min_value=1, max_value=32767, allow_null=True, required=False,
        help_text="Sessions the payer approved; required once approved.",
        error_messages={"min_value": "At least 1 session."})
    units_used = serializers.SerializerMethodField()
    units_left = serializers.SerializerMethodField()
    label = serializers.SerializerMethodField()

    class Meta:
        model = PriorAuthorisation
        fields = ["id", "course", "payer", "number", "status", "units_approved", "first_day", "last_day",
                  "submitted_on", "decided_on", "notes", "documents", "units_used", "units_left", "label",
                  "created_by", "updated_by", "created_at", "updated_at"]
        read_only_fields = ["id", "course", "created_by", "updated_by", "created_at", "updated_at"]

    def _use(self, authorisation) -> AuthorisationUse:
        return self.context["uses"][authorisation.pk]

    def get_units_used(self, authorisation) -> int:
        return self._use(authorisation).used

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_units_left(self, authorisation) -> int | None:
        return self._use(authorisation).left

    def get_label(self, authorisation) -> str:
        return self._use(authorisation).label

    def validate(self, attrs):
        # The model's own rules (approved needs units and days, days in order, documents' shape, the status's
        # moves) on the values the save would write, so a refusal names the field.
        candidate = copy.copy(self.instance) if self.instance is not None else PriorAuthorisation()
        for name, value in attrs.items():
            setattr(candidate, name, value)
        # The days a new status implies, as the service sets them, written into what is checked next (the
        # constraints) and saved, so a resent request's new day is not judged against the old decision.
        implied = ("submitted_on", "decided_on")
        typed = {name: getattr(candidate, name) for name in implied}
        candidate.date_status_move(self.instance, timezone.localdate())
        attrs.update({name: getattr(candidate, name) for name in implied if getattr(candidate, name) != typed[name]})
        errors: dict[str, list[str]] = {}
        try:
            candidate.clean()
        except DjangoValidationError as error:
            errors.update(error.message_dict)
        if self.instance is not None:
            try:
                candidate.check_status_move(self.instance.status)
            except DjangoValidationError as error:
                errors.update(error.message_dict)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class HistoryEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="pgh_created_at")
    change = serializers.CharField(source="pgh_label")
    by = serializers.IntegerField(source="updated_by_id", allow_null=True)
    status = serializers.CharField()
    payer = serializers.CharField()
    number = serializers.CharField()
    units_approved = serializers.IntegerField(allow_null=True)
    first_day = serializers.DateField(allow_null=True)
    last_day = serializers.DateField(allow_null=True)
    submitted_on = serializers.DateField()
    decided_on = serializers.DateField(allow_null=True)
    notes = serializers.CharField()
    documents = serializers.ListField(child=serializers.CharField())


def _answer(authorisations: list[PriorAuthorisation], *, many: bool, status_code: int = status.HTTP_200_OK):
    course_ids = sorted({authorisation.course_id for authorisation in authorisations})
    uses = {use.authorisation.pk: use for found in uses_for_courses(course_ids).values() for use in found}
    data = AuthorisationSerializer(authorisations if many else authorisations[0], many=many,
                                   context={"uses": uses}).data
    return Response(data, status=status_code)


class CourseAuthorisationsView(APIView):
    """A course's prior authorisations: list (with units used and left) and enter a new one."""

    permission_classes = [roles_may(read=ALL_ROLES, write=ENTERERS)]

    @extend_schema(responses=AuthorisationSerializer(many=True))
    def get(self, request, course_id: int):
        """Every authorisation of the course, first day first, with its units used, left and label."""
        course = get_object_or_404(TreatmentCourse.objects.select_related("patient"), pk=course_id)
        record_access(patient=course.patient, user=request.user, channel=PatientAccess.Channel.API, path=request.path)
        uses = uses_for_courses([course.pk])[course.pk]
        data = AuthorisationSerializer([use.authorisation for use in uses], many=True,
                                       context={"uses": {use.authorisation.pk: use for use in uses}}).data
        return Response(data)

    @extend_schema(request=AuthorisationSerializer, responses={201: AuthorisationSerializer})
    def post(self, request, course_id: int):
        """Enter an authorisation (pending unless told): 400 with field errors, 409 ``authorisation_overlap``."""
        course = get_object_or_404(TreatmentCourse.objects.select_related("patient"), pk=course_id)
        payload = AuthorisationSerializer(data=request.data, context={"uses": {}})
        payload.is_valid(raise_exception=True)
        authorisation = entering.enter_authorisation(by=request.user, course=course, **payload.validated_data)
        return _answer([authorisation], many=False, status_code=status.HTTP_201_CREATED)


class AuthorisationView(APIView):
    """One prior authorisation: read, or change (PATCH for some fields, PUT for all). No DELETE."""

    permission_classes = [roles_may(read=ALL_ROLES, write=ENTERERS)]

    def _authorisation(self, request, pk: int) -> PriorAuthorisation:
        authorisation = get_object_or_404(PriorAuthorisation.objects.select_related("course__patient"), pk=pk)
        if request.method == "GET":
            record_access(patient=authorisation.course.patient, user=request.user,
                          channel=PatientAccess.Channel.API, path=request.path)
        return authorisation

    @extend_schema(responses=AuthorisationSerializer)
    def get(self, request, pk: int):
        return _answer([self._authorisation(request, pk)], many=False)

    def _change(self, request, pk: int, *, partial: bool):
        authorisation = self._authorisation(request, pk)
        payload = AuthorisationSerializer(authorisation, data=request.data, partial=partial, context={"uses": {}})
        payload.is_valid(raise_exception=True)
        changed = entering.change_authorisation(by=request.user, authorisation=authorisation,
                                                **payload.validated_data)
        return _answer([changed], many=False)

    @extend_schema(request=AuthorisationSerializer, responses=AuthorisationSerializer)
    def patch(self, request, pk: int):
        """Change some fields; the status moves only as the rules allow (400 naming ``status``)."""
        return self._change(request, pk, partial=True)

    @extend_schema(request=AuthorisationSerializer, responses=AuthorisationSerializer)
    def put(self, request, pk: int):
        """Change every writable field."""
        return self._change(request, pk, partial=False)


class AuthorisationHistoryView(APIView):
    """Every recorded version of an authorisation, oldest first, with when and by whom."""

    permission_classes = [roles_may(read=ALL_ROLES)]

    @extend_schema(responses=HistoryEntrySerializer(many=True))
    def get(self, request, pk: int):
        authorisation = get_object_or_404(PriorAuthorisation.objects.select_related("course__patient"), pk=pk)
        record_access(patient=authorisation.course.patient, user=request.user, channel=PatientAccess.Channel.API,
                      path=request.path)
        events = authorisation.events.order_by("pgh_created_at", "pgh_id")
        return Response(HistoryEntrySerializer(events, many=True).data)


urlpatterns = [
    path("courses/<int:course_id>/authorisations/", CourseAuthorisationsView.as_view(), name="course-authorisations"),
    path("authorisations/<int:pk>/", AuthorisationView.as_view(), name="authorisation"),
    path("authorisations/<int:pk>/history/", AuthorisationHistoryView.as_view(), name="authorisation-history"),
]
