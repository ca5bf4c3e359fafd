"""The front desk's worklist: open items by urgency, and assign / snooze / resolve."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from clinic.roles import ALL_ROLES, roles_may
from clinic.serializers import FieldsBuiltOnce
from scheduling.models import WorkItem, WorkKind
from scheduling.worklist import selectors as worklist_selectors
from scheduling.worklist import services as worklist


class WorkItemSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    label = serializers.CharField(source="get_kind_display", read_only=True)
    patient_name = serializers.CharField(source="patient.display_name", read_only=True)
    protocol = serializers.CharField(source="course.protocol.slug", read_only=True, default=None,
                                     allow_null=True)
    location_name = serializers.CharField(source="location.name", read_only=True, default=None,
                                          allow_null=True)
    assigned_to_name = serializers.SerializerMethodField()

    class Meta:
        model = WorkItem
        fields = ["id", "kind", "label", "urgency", "subject", "detail", "due_on", "patient", "patient_name",
                  "course", "protocol", "session", "location", "location_name", "opened_at", "assigned_to",
                  "assigned_to_name", "snoozed_until", "closed_at", "closed_by", "resolution"]
        read_only_fields = fields

    def get_assigned_to_name(self, item) -> str | None:
        user = item.assigned_to
        return (user.get_full_name() or user.get_username()) if user else None


class WorklistQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=WorkKind.choices, required=False)
    location = serializers.IntegerField(min_value=1, required=False)
    assigned_to = serializers.RegexField(r"^(\d+|me|none)$", required=False,
                                         error_messages={"invalid": "A user id, “me” or “none”."})
    include_snoozed = serializers.BooleanField(required=False, default=False)


class AssignSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.filter(is_active=True),
                                              allow_null=True, help_text="The user to give it to; null takes it back.")


class SnoozeSerializer(serializers.Serializer):
    until = serializers.DateField(help_text="Local date at the item's location; the item shows again that day.")


class ResolveSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text="How it was resolved.")


class WorkItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Things that need a person: due visits, no-shows, REMS paperwork, unconfirmed visits, patients' replies."""

    serializer_class = WorkItemSerializer
    permission_classes = [roles_may(read=ALL_ROLES, write=ALL_ROLES)]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no query parameters, no database
            return WorkItem.objects.none()
        hidden = worklist_selectors.kinds_hidden_from(self.request.user)
        if self.action != "list":
            return WorkItem.objects.exclude(kind__in=hidden).select_related(
                "patient", "course__protocol", "session", "location", "assigned_to")
        query = WorklistQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        assigned = data.get("assigned_to")
        return worklist_selectors.open_items(
            kind=data.get("kind"), location_id=data.get("location"),
            assigned_to_id=self.request.user.pk if assigned == "me" else (
                int(assigned) if assigned and assigned.isdigit() else None),
            unassigned=assigned == "none", include_snoozed=data["include_snoozed"], hidden_kinds=hidden)

    @extend_schema(parameters=[
        OpenApiParameter("kind", str, enum=list(WorkKind.values)),
        OpenApiParameter("location", int),
        OpenApiParameter("assigned_to", str, description="A user id, “me”, or “none” for unassigned items."),
        OpenApiParameter("include_snoozed", bool, description="Also list items snoozed past today."),
    ])
    def list(self, request, *args, **kwargs):
        """Open items, most urgent first (then by due date); snoozed items are hidden until their date."""
        return super().list(request, *args, **kwargs)

    def _reply(self, item: WorkItem) -> Response:
        return Response(WorkItemSerializer(self.get_queryset().get(pk=item.pk)).data)

    @extend_schema(request=AssignSerializer, responses=WorkItemSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Give the item to a member of staff (``null`` takes it back)."""
        payload = AssignSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        item = worklist.assign_item(by=request.user, item=self.get_object(), to_user=payload.validated_data["user"])
        return self._reply(item)

    @extend_schema(request=SnoozeSerializer, responses=WorkItemSerializer)
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        """Hide the item until a future date (it stays open and shows again on that date)."""
        payload = SnoozeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        item = worklist.snooze_item(by=request.user, item=self.get_object(),
                                    until=payload.validated_data["until"])
        return self._reply(item)

    @extend_schema(request=ResolveSerializer, responses=WorkItemSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """Close the item with a note; a closed item cannot be resolved again (409)."""
        payload = ResolveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        item = worklist.resolve_item(by=request.user, item=self.get_object(), note=payload.validated_data["note"])
        return self._reply(item)

    @extend_schema(responses=inline_serializer("WorklistCounts", {
        kind: serializers.IntegerField() for kind in WorkKind.values
    } | {"total": serializers.IntegerField()}), parameters=[], request=None)
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def counts(self, request):
        """Open, visible items by kind, and their total: the navigation badge."""
        counts = worklist_selectors.open_counts(hidden_kinds=worklist_selectors.kinds_hidden_from(request.user))
        return Response({**counts, "total": sum(counts.values())})

