"""Reminders and their states, and settling a reminder whose fate is ``unknown``.

An ``unknown`` reminder is one whose send may or may not have reached the
provider (a timeout, a worker that died mid-call). It is never re-sent by
the system: a person looks in the provider's console and records here
whether it went out.
"""

from __future__ import annotations

from datetime import datetime

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from clinic.roles import ALL_ROLES, FRONT_DESK, MANAGER, roles_may
from scheduling.messaging.reminders import NOT_SENT, SENT, resolve_unknown_reminder
from scheduling.models import (
    Reminder,
    ReminderKind,
    ReminderState,
)


class ReminderFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=ReminderState.choices)
    kind = django_filters.ChoiceFilter(choices=ReminderKind.choices)
    session = django_filters.NumberFilter(field_name="session")
    patient = django_filters.NumberFilter(field_name="session__patient")

    class Meta:
        model = Reminder
        fields = ["state", "kind", "session", "patient"]


class ReminderSerializer(serializers.ModelSerializer):
    patient = serializers.IntegerField(source="session.patient_id", read_only=True)
    patient_name = serializers.CharField(source="session.patient.display_name", read_only=True)
    location = serializers.IntegerField(source="session.location_id", read_only=True, default=None,
                                        allow_null=True)
    time_zone = serializers.CharField(source="session.location.time_zone", read_only=True, default=None,
                                      allow_null=True)
    send_at_local = serializers.SerializerMethodField()
    session_start_local = serializers.SerializerMethodField()

    class Meta:
        model = Reminder
        fields = ["id", "session", "patient", "patient_name", "location", "time_zone", "kind", "priority", "state",
                  "send_at", "send_at_local", "session_start", "session_start_local", "revision", "attempts",
                  "claimed_at", "provider_called_at", "provider_id", "sent_at", "body", "reason", "created_at",
                  "updated_at"]
        read_only_fields = fields

    def _local(self, reminder: Reminder, instant: datetime) -> str:
        location = reminder.session.location
        return (location.local(instant) if location else instant).isoformat()

    def get_send_at_local(self, reminder: Reminder) -> str:
        return self._local(reminder, reminder.send_at)

    def get_session_start_local(self, reminder: Reminder) -> str:
        return self._local(reminder, reminder.session_start)


class ResolveUnknownSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=[(SENT, "The provider sent it"), (NOT_SENT, "It was not sent")])
    note = serializers.CharField(max_length=240, help_text="What the provider's console showed.")


class ReminderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Reminders, latest send time first; filter by ``state`` (repeatable), ``kind``, ``session``, ``patient``."""

    serializer_class = ReminderSerializer
    filterset_class = ReminderFilter
    permission_classes = [roles_may(read=ALL_ROLES, write=(FRONT_DESK, MANAGER))]

    def get_queryset(self):
        return Reminder.objects.select_related("session__patient", "session__location").order_by("-send_at", "-id")

    @extend_schema(request=ResolveUnknownSerializer, responses=ReminderSerializer)
    @action(detail=True, methods=["post"], url_path="resolve-unknown")
    def resolve_unknown(self, request, pk=None):
        """Record whether an ``unknown`` reminder went out, as the provider's console shows (409 otherwise)."""
        payload = ResolveUnknownSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        reminder = resolve_unknown_reminder(by=request.user, reminder=self.get_object(),
                                            outcome=payload.validated_data["outcome"],
                                            note=payload.validated_data["note"])
        return Response(ReminderSerializer(self.get_queryset().get(pk=reminder.pk)).data)
