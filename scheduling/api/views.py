from __future__ import annotations

from datetime import date

import django_filters
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic import dates
from clinic.roles import ALL_ROLES, CLINICIAN, FRONT_DESK, MANAGER, roles_may, roles_of
from patients.api.access import LogsPatientHistoryReads
from patients.models import PatientAccess
from patients.services import record_access
from scheduling.api.charting import ObservationSerializer, SessionWorkflowActions
from scheduling.api.serializers import (
    AvailabilityQuerySerializer,
    BookSessionSerializer,
    CancelSerializer,
    ChairSerializer,
    LocationSerializer,
    RecordHistorySerializer,
    RescheduleSerializer,
    SeriesSerializer,
    SessionSerializer,
    SlotSerializer,
    localize,
)
from scheduling.booking import selectors as booking_selectors
from scheduling.booking import series, sites
from scheduling.booking import services as booking
from scheduling.booking.availability import find_slots
from scheduling.booking.calendar_feed import feed_for, feed_url
from scheduling.charting.observation import observation_states
from scheduling.models import Chair, Session, SessionStatus

BOOKERS = (FRONT_DESK, CLINICIAN, MANAGER)


class LocationViewSet(viewsets.ModelViewSet):
    """Sites: time zone, hours, closures, REMS certification. Managers configure; everyone reads."""

    serializer_class = LocationSerializer
    permission_classes = [roles_may(read=ALL_ROLES, write=(MANAGER,))]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return booking_selectors.locations_for_lists()

    def perform_update(self, serializer):
        # The same service as the manager's site page: a change that would strand booked sessions is a 409.
        sites.change_location(location=serializer.instance, changes=serializer.validated_data)

    @extend_schema(methods=["GET"], responses=ChairSerializer(many=True))
    @extend_schema(methods=["POST"], request=ChairSerializer, responses={201: ChairSerializer})
    @action(detail=True, methods=["get", "post"], permission_classes=[roles_may(read=ALL_ROLES, write=(MANAGER,))],
            pagination_class=None, filter_backends=[])
    def chairs(self, request, pk=None):
        """The location's chairs; managers add one with POST."""
        location = self.get_object()
        if request.method == "POST":
            serializer = ChairSerializer(data=request.data, context={"location": location})
            serializer.is_valid(raise_exception=True)
            chair = sites.add_chair(location=location, **serializer.validated_data)
            return Response(ChairSerializer(chair).data, status=status.HTTP_201_CREATED)
        return Response(ChairSerializer(location.chairs.order_by("name"), many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, description="Local date; today when omitted")],
        responses=inline_serializer("Board", {
            "location": LocationSerializer(), "date": serializers.DateField(),
            "chairs": ChairSerializer(many=True), "sessions": SessionSerializer(many=True),
        }),
    )
    @action(detail=True, methods=["get"])
    def board(self, request, pk=None):
        """The day's schedule at this location: chairs and sessions, times in the location's zone."""
        location = self.get_object()
        day = _parse_date(request.query_params.get("date"), "date") or location.local_date(timezone.now())
        board = booking_selectors.day_board(location, day)
        states = observation_states(board["sessions"])
        sessions = SessionSerializer(board["sessions"], many=True).data
        for row in sessions:
            row["observation"] = ObservationSerializer(states[row["id"]].as_dict()).data
        return Response({
            "location": LocationSerializer(location).data,
            "date": day,
            "chairs": ChairSerializer(board["chairs"], many=True).data,
            "sessions": sessions,
        })


class ChairViewSet(mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """One chair: managers rename it, take it out of service, or change what it serves."""

    queryset = Chair.objects.select_related("location")
    serializer_class = ChairSerializer
    permission_classes = [roles_may(read=ALL_ROLES, write=(MANAGER,))]

    def perform_update(self, serializer):
        # The same service as the manager's site page: taking a chair with booked sessions away is a 409.
        sites.change_chair(chair=serializer.instance, changes=serializer.validated_data)


class SessionFilter(django_filters.FilterSet):
    date = django_filters.DateFilter(field_name="local_date")
    date_from = django_filters.DateFilter(field_name="local_date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="local_date", lookup_expr="lte")
    status = django_filters.MultipleChoiceFilter(choices=SessionStatus.choices)

    class Meta:
        model = Session
        fields = ["location", "clinician", "patient", "course", "chair", "status", "date"]


class SessionViewSet(SessionWorkflowActions, LogsPatientHistoryReads, mixins.ListModelMixin,
                     mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sessions: book, list, move, cancel, mark no-show, book a series, record past history."""

    serializer_class = SessionSerializer
    filterset_class = SessionFilter
    permission_classes = [roles_may(read=ALL_ROLES, write=BOOKERS)]

    def get_queryset(self):
        return booking_selectors.sessions_for_lists().order_by("start", "id")

    def list(self, request, *args, **kwargs):
        page, sessions = self.page_of_rows(request)
        data = self.get_serializer(sessions, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, *args, **kwargs):
        session = self.get_object()
        record_access(patient=session.patient, user=request.user, channel=PatientAccess.Channel.API,
                      path=request.path)
        return Response(self.get_serializer(session).data)

    @extend_schema(request=BookSessionSerializer, responses={201: SessionSerializer})
    def create(self, request):
        """Book the course's next session on a chair at a time."""
        payload = BookSessionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        session = booking.book_session(by=request.user, course=data["course"], chair=data["chair"],
                                        start=data["start"], clinician=data.get("clinician"),
                                        override_reason=data["override_reason"].strip(),
                                        authorisation_reason=data["authorisation_reason"])
        # The booked session already holds everything the answer shows (course, patient, site, chair,
        # clinician), so it is not read back: one query and its planning fewer on the busiest request.
        return Response(SessionSerializer(session).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RescheduleSerializer, responses=SessionSerializer)
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        """Move the session to a new time (and chair); the old slot is kept if the move is refused."""
        session = self.get_object()
        payload = RescheduleSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        chair = data.get("chair") or session.chair
        # Only a visit recorded from before the system has no chair; it is not booked, so the service refuses
        # the move (409) whatever zone its naive time is read in.
        zone = chair.location.zone if chair else timezone.get_default_timezone()
        start = localize(data["start"], zone, "start")
        moved = booking.reschedule_session(by=request.user, session=session, start=start, chair=chair,
                                            clinician=data.get("clinician"),
                                            override_reason=data["override_reason"].strip(),
                                            authorisation_reason=data["authorisation_reason"])
        return Response(SessionSerializer(_reload(moved)).data)

    @extend_schema(request=CancelSerializer, responses=SessionSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel with a reason; under 24 hours before the start it is recorded as a late cancel."""
        payload = CancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        session = booking.cancel_session(by=request.user, session=self.get_object(),
                                          reason=payload.validated_data["reason"])
        return Response(SessionSerializer(_reload(session)).data)

    @extend_schema(request=None, responses=SessionSerializer)
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, pk=None):
        """Record that the patient did not come (only after the start time)."""
        session = booking.mark_no_show(by=request.user, session=self.get_object())
        return Response(SessionSerializer(_reload(session)).data)

    @extend_schema(request=SeriesSerializer, responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["post"])
    def series(self, request):
        """Propose (``dry_run``) or book every remaining session of the course's current phase."""
        payload = SeriesSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        arguments = {"by": request.user, "course": data["course"], "chair": data["chair"],
                     "first_start": data["first_start"], "weekdays": data["weekdays"]}
        if data["dry_run"]:
            occurrences = series.plan_series(**arguments)
            return Response({"booked": False, "occurrences": [series.serialize_occurrence(o) for o in occurrences]})
        occurrences = series.book_series(**arguments, authorisation_reason=data["authorisation_reason"])
        return Response({"booked": True, "occurrences": [series.serialize_occurrence(o) for o in occurrences]},
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=RecordHistorySerializer, responses={201: SessionSerializer})
    @action(detail=False, methods=["post"], permission_classes=[roles_may(write=(CLINICIAN, MANAGER))])
    def history(self, request):
        """Record a session given before the course was entered (completed, no chair). Clinicians and managers."""
        payload = RecordHistorySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        session = booking.record_past_session(by=request.user, course=data["course"], day=data["date"],
                                               location=data.get("location"), dose_mg=data.get("dose_mg"),
                                               notes=data["notes"])
        return Response(SessionSerializer(_reload(session)).data, status=status.HTTP_201_CREATED)


class AvailabilityView(APIView):
    """Free slots for a course: by default inside its next due window, target day first."""

    permission_classes = [roles_may(read=ALL_ROLES)]

    @extend_schema(
        parameters=[
            OpenApiParameter("course", int, required=True),
            OpenApiParameter("location", int),
            OpenApiParameter("from", OpenApiTypes.DATE),
            OpenApiParameter("to", OpenApiTypes.DATE),
            OpenApiParameter("limit", int),
        ],
        responses=SlotSerializer(many=True),
    )
    def get(self, request):
        query = AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        slots = find_slots(course=data["course"], location=data.get("location"), date_from=data.get("date_from"),
                           date_to=data.get("to"), limit=data["limit"])
        return Response(SlotSerializer(slots, many=True).data)


class MeView(APIView):
    """The signed-in user: name, roles, locations and, for a clinician, the calendar feed's address."""

    @extend_schema(responses=inline_serializer("Me", {
        "id": serializers.IntegerField(), "username": serializers.CharField(), "name": serializers.CharField(),
        "roles": serializers.ListField(child=serializers.CharField()),
        "locations": serializers.ListField(child=serializers.DictField()),
        "calendar_feed": serializers.CharField(allow_null=True),
    }))
    def get(self, request):
        return Response(_me(request))


class RotateCalendarTokenView(APIView):
    """Issue a new calendar-feed address; the old one stops working at once."""

    permission_classes = [roles_may(read=(), write=(CLINICIAN,))]

    @extend_schema(request=None, responses={200: inline_serializer("Feed", {"calendar_feed": serializers.CharField()})})
    def post(self, request):
        feed = feed_for(request.user)
        feed.rotate()
        feed.save()
        return Response({"calendar_feed": feed_url(request, feed)})


def _me(request) -> dict:
    user = request.user
    roles = roles_of(user)
    return {
        "id": user.pk,
        "username": user.get_username(),
        "name": user.get_full_name() or user.get_username(),
        "roles": sorted(roles),
        "locations": [{"id": site.pk, "name": site.name, "time_zone": site.time_zone}
                      for site in user.clinic_locations.order_by("name")],
        "calendar_feed": feed_url(request, feed_for(user)) if CLINICIAN in roles else None,
    }


def _reload(session: Session) -> Session:
    return get_object_or_404(booking_selectors.sessions_for_lists(), pk=session.pk)


def _parse_date(value: str | None, field: str) -> date | None:
    return dates.parse_day(value, field)
