"""Freed-chair offers, read-only, and a booking's "wants an earlier time" (docs/OFFERS.md, docs/API.md).

The same facts as the desk's ``/offers/`` page, for any role: which freed
chair times were offered to whom, what became of each offer, and the booking
a patient's YES made. Days are the site's own local days (an evening offer in
California is on its own day), as on the page and in the stock registers.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.errors import Conflict
from clinic.roles import ALL_ROLES, roles_may
from patients.api.access import LogsPatientHistoryReads
from patients.models import PatientAccess
from patients.services import record_access
from scheduling.models import UPCOMING_STATUSES, Offer, OfferState, Session
from scheduling.stock.registers import LocalDay


class OfferFilterForm(forms.Form):
    """One day, or a span of days, never both; a span does not end before it starts."""

    def clean(self):
        data = super().clean()
        day, since, until = data.get("day"), data.get("date_from"), data.get("date_to")
        if day is not None and (since is not None or until is not None):
            self.add_error("day", "Give one day, or date_from and date_to, not both.")
        elif since is not None and until is not None and until < since:
            self.add_error("date_to", "Must be on or after date_from.")
        return data


class OfferFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=OfferState.choices,
                                                help_text="Repeat for several states.")
    day = django_filters.DateFilter(field_name="local_day", help_text="The freed time's local day at its site.")
    date_from = django_filters.DateFilter(field_name="local_day", lookup_expr="gte",
                                          help_text="From this local day (inclusive).")
    date_to = django_filters.DateFilter(field_name="local_day", lookup_expr="lte",
                                        help_text="To this local day (inclusive).")

    class Meta:
        model = Offer
        fields = ["location", "chair", "patient", "course", "state", "day", "date_from", "date_to"]
        form = OfferFilterForm


class OfferFreedTimeSerializer(serializers.Serializer):
    """The chair time that was freed: where, and from when to when (UTC, and local at the site)."""

    chair = serializers.IntegerField(source="chair_id")
    chair_name = serializers.CharField(source="chair.name")
    location = serializers.IntegerField(source="location_id")
    location_name = serializers.CharField(source="location.name")
    time_zone = serializers.CharField(source="location.time_zone")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    start_local = serializers.SerializerMethodField()
    freed_from = serializers.IntegerField(source="freed_from_id", allow_null=True,
                                          help_text="The cancelled or moved session that freed it.")

    def get_start_local(self, offer: Offer) -> str:
        return offer.location.local(offer.start).isoformat()


class OfferPatientSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="patient_id")
    name = serializers.CharField(source="patient.display_name")


class OfferSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="get_state_display", read_only=True)
    freed_time = OfferFreedTimeSerializer(source="*", read_only=True)
    patient = OfferPatientSerializer(source="*", read_only=True)
    session = serializers.IntegerField(source="session_id", read_only=True, allow_null=True,
                                       help_text="The session the patient's YES booked (a taken offer only).")

    class Meta:
        model = Offer
        fields = ["id", "state", "label", "freed_time", "patient", "course", "created_at", "sent_at", "expires_at",
                  "answered_at", "ended_at", "ended_reason", "session"]
        read_only_fields = fields


class OfferViewSet(LogsPatientHistoryReads, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                   viewsets.GenericViewSet):
    """Freed-chair offers by freed time (earliest first), filtered by site, chair, patient, course, state and
    local day (``day``, or ``date_from`` and ``date_to``)."""

    serializer_class = OfferSerializer
    filterset_class = OfferFilter
    # Read-only for everyone: a write method is then a 405 (no such method), not a 403 (not your role).
    permission_classes = [roles_may(read=ALL_ROLES, write=ALL_ROLES)]

    def get_queryset(self):
        return (Offer.objects.select_related("location", "chair", "patient")
                .annotate(local_day=LocalDay("location__time_zone", "start"))
                .order_by("start", "chair_id", "created_at", "id"))

    def list(self, request, *args, **kwargs):
        page, offers = self.page_of_rows(request)
        data = self.get_serializer(offers, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, *args, **kwargs):
        offer = self.get_object()
        record_access(patient=offer.patient, user=request.user, channel=PatientAccess.Channel.API, path=request.path)
        return Response(self.get_serializer(offer).data)


class EarlierWantedSerializer(serializers.Serializer):
    wanted = serializers.BooleanField(help_text="True marks the booking as wanting an earlier time; false unmarks.")


class EarlierWantedAnswerSerializer(serializers.Serializer):
    session = serializers.IntegerField()
    earlier_wanted_at = serializers.DateTimeField(allow_null=True,
                                                  help_text="When it was first asked; null when not wanted.")


class EarlierWantedView(APIView):
    """Mark or unmark a booking as wanting an earlier time, as the board's panel and the patient's EARLIER text do.

    A marked booking lets its patient be offered freed chair time before it, inside its due window. Marking
    again keeps the first time asked (the oldest request goes first among equals); the body says which way
    it goes, so a repeated request cannot flip it back. Only a booked or confirmed session: otherwise 409
    ``session_not_upcoming``.
    """

    permission_classes = [roles_may(read=ALL_ROLES, write=ALL_ROLES)]

    @extend_schema(request=EarlierWantedSerializer, responses=EarlierWantedAnswerSerializer)
    def post(self, request, pk: int):
        payload = EarlierWantedSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        wanted = payload.validated_data["wanted"]
        with transaction.atomic():
            # Locked as the EARLIER text and a move lock it: a move racing this clears the mark after, or sees it.
            session = get_object_or_404(Session.objects.select_for_update(of=("self",)).select_related("patient"),
                                        pk=pk)
            if session.status not in UPCOMING_STATUSES:
                raise Conflict("Only an upcoming booking can ask for an earlier time.", code="session_not_upcoming",
                               extra={"status": session.status})
            since = (session.earlier_wanted_at or timezone.now()) if wanted else None
            if since != session.earlier_wanted_at:
                session.earlier_wanted_at = since
                session.save(update_fields=["earlier_wanted_at"])
        record_access(patient=session.patient, user=request.user, channel=PatientAccess.Channel.API,
                      path=request.path)
        return Response({"session": session.pk, "earlier_wanted_at": session.earlier_wanted_at})
