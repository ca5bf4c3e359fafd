"""The outbox: texts the ``outbox`` SMS backend kept instead of sending, and simulated replies.

Only there when ``SMS_BACKEND=outbox`` (404 ``outbox_off`` otherwise), so a
live system can never fake a patient's reply.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.errors import NotFound
from clinic.models import OutboxMessage
from clinic.phones import InvalidPhone, to_e164
from scheduling.messaging import inbound, outbox


def check_outbox_on() -> None:
    if settings.SMS_BACKEND != "outbox":
        raise NotFound("Texts are not kept in an outbox here: the SMS backend is "
                       f"“{settings.SMS_BACKEND}”.", code="outbox_off")


class OutboxMessageSerializer(serializers.ModelSerializer):
    """A stored text; the patient and the local time come from ``outbox.outbox_entries`` (in context)."""

    patient = serializers.SerializerMethodField()
    patient_name = serializers.SerializerMethodField()
    time_zone = serializers.SerializerMethodField()
    created_local = serializers.SerializerMethodField()

    class Meta:
        model = OutboxMessage
        fields = ["id", "to", "body", "provider_id", "created_at", "created_local", "time_zone", "patient",
                  "patient_name"]
        read_only_fields = fields

    def _entry(self, message) -> outbox.OutboxEntry | None:
        return self.context.get("entries", {}).get(message.pk)

    def get_patient(self, message) -> int | None:
        entry = self._entry(message)
        return entry.patient.pk if entry and entry.patient else None

    def get_patient_name(self, message) -> str | None:
        entry = self._entry(message)
        return entry.patient.display_name if entry and entry.patient else None

    def get_time_zone(self, message) -> str | None:
        entry = self._entry(message)
        return entry.location.time_zone if entry and entry.location else None

    def get_created_local(self, message) -> str | None:
        entry = self._entry(message)
        return entry.local_at.isoformat() if entry and entry.local_at else None


class SimulatedReplySerializer(serializers.Serializer):
    to = serializers.CharField(max_length=40, help_text="The patient's phone: the number the outbox text went to.")
    body = serializers.CharField(max_length=1600)

    def validate_to(self, value: str) -> str:
        try:
            return to_e164(value)
        except InvalidPhone as exc:
            raise serializers.ValidationError(str(exc)) from None


InboundResultSerializer = inline_serializer("InboundResult", {
    "outcome": serializers.ChoiceField(choices=inbound.Outcome.choices),
    "label": serializers.CharField(),
    "patient": serializers.IntegerField(allow_null=True),
    "message": serializers.IntegerField(allow_null=True),
    "session": serializers.IntegerField(allow_null=True),
    "work_item": serializers.IntegerField(allow_null=True),
    "duplicate": serializers.BooleanField(),
})


# 404 ``outbox_off`` when the SMS backend is not the outbox (clinic/schema.py documents it).
OUTBOX_OFF = {"x-error-codes": [404]}


@extend_schema(extensions=OUTBOX_OFF)
class OutboxListView(generics.ListAPIView):
    """Texts the outbox backend stored, newest first, with the patient the number belongs to."""

    serializer_class = OutboxMessageSerializer

    def get_queryset(self):
        return OutboxMessage.objects.order_by("-created_at", "-id")

    def list(self, request, *args, **kwargs):
        check_outbox_on()
        page = self.paginate_queryset(self.get_queryset())
        entries = {entry.message.pk: entry for entry in outbox.outbox_entries(list(page))}
        serializer = self.get_serializer(page, many=True, context={**self.get_serializer_context(),
                                                                  "entries": entries})
        return self.get_paginated_response(serializer.data)


class SimulatedReplyView(APIView):
    """Answer an outbox text as the patient would: the reply goes through the same code as a real one."""

    @extend_schema(request=SimulatedReplySerializer, responses=InboundResultSerializer, extensions=OUTBOX_OFF)
    def post(self, request):
        check_outbox_on()
        payload = SimulatedReplySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = outbox.simulate_reply(phone=payload.validated_data["to"], body=payload.validated_data["body"])
        return Response(result.as_dict())
