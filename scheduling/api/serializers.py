from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clinic import dates
from clinic.errors import Invalid
from clinic.phones import InvalidPhone, to_e164
from clinic.serializers import ConstraintsChecked, FieldsBuiltOnce
from clinic.texts import refusal
from protocols.models import TreatmentCourse
from scheduling.booking import fast_reads
from scheduling.models import Chair, Closure, Location, OpeningHours, Session, SessionStatus


class LocalDateTimeField(serializers.DateTimeField):
    """A date-time that may come without an offset, meaning local time at the session's location.

    Naive values are kept naive here and placed in the location's zone by
    ``localize``, which refuses wall-clock times that do not exist (the hour
    skipped when clocks go forward) and takes the first of a wall-clock time
    that happens twice (the hour repeated when they go back).
    """

    HELP = ("ISO 8601; without an offset it is wall-clock time at the chair's location. A time the clocks skip "
            "(02:30 the night they go forward) is refused with a 400; a time they repeat (01:30 the night they go "
            "back) is the first one, in daylight time: send the offset (e.g. -05:00 in New York) for the second.")

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", self.HELP)
        super().__init__(**kwargs)

    def enforce_timezone(self, value):
        return value


def localize(value: datetime, zone: zoneinfo.ZoneInfo, field: str) -> datetime:
    """``value`` as an aware instant; a naive value is wall-clock time in ``zone`` (``clinic.dates.at_wall_clock``).

    A date outside ``clinic.dates``'s range is refused, so no arithmetic on it overflows.
    """
    if not dates.in_range(value):
        raise serializers.ValidationError({field: [dates.OUT_OF_RANGE]})
    try:
        return dates.at_wall_clock(value, zone, field)
    except Invalid as error:
        raise serializers.ValidationError(error.fields) from None


class ScheduleDateField(serializers.DateField):
    """A day to schedule on or search from: within ``clinic.dates``'s range, so no arithmetic on it overflows."""

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not dates.in_range(day):
            raise serializers.ValidationError(dates.OUT_OF_RANGE)
        return day


@extend_schema_field({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$",
                      "example": "08:00:00", "description": "Local wall-clock time at the location, no offset."})
class LocalTimeField(serializers.TimeField):
    """A wall-clock time of day. Not ``format: time``: that is RFC 3339's full-time, which carries an offset."""


class OpeningHoursSerializer(ConstraintsChecked, serializers.ModelSerializer):
    opens = LocalTimeField()
    closes = LocalTimeField()

    class Meta:
        model = OpeningHours
        fields = ["weekday", "opens", "closes"]


class ClosureSerializer(ConstraintsChecked, serializers.ModelSerializer):
    class Meta:
        model = Closure
        fields = ["date", "reason"]


class LocationSerializer(ConstraintsChecked, serializers.ModelSerializer):
    hours = OpeningHoursSerializer(many=True, read_only=True)
    closures = ClosureSerializer(many=True, read_only=True)

    class Meta:
        model = Location
        fields = ["id", "name", "time_zone", "address", "phone", "rems_certified", "turnover_minutes",
                  "max_in_treatment_per_clinician", "active", "offers_enabled", "hours", "closures"]

    def validate_name(self, value: str) -> str:
        # The name goes into texts to patients: the same rule as ``Location.clean``.
        reason = refusal("A location's name", value)
        if reason:
            raise serializers.ValidationError(reason)
        return value

    def validate_time_zone(self, value: str) -> str:
        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError(f"“{value}” is not an IANA time zone (e.g. America/Chicago).")
        return value

    def validate_phone(self, value: str) -> str:
        # Stored as E.164 like every phone in the system, shown as dialled (``clinic.phones``).
        try:
            return to_e164(value)
        except InvalidPhone as error:
            raise serializers.ValidationError(str(error)) from None


class ChairSerializer(ConstraintsChecked, serializers.ModelSerializer):
    class Meta:
        model = Chair
        fields = ["id", "location", "name", "active", "serves_esketamine", "has_infusion_pump"]
        read_only_fields = ["location"]

    def validate_name(self, value: str) -> str:
        value = value.strip()
        location = self.instance.location if self.instance else self.context.get("location")
        taken = Chair.objects.filter(location=location, name__iexact=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if location is not None and taken.exists():
            raise serializers.ValidationError(f"{location.name} already has a chair called “{value}”.")
        return value


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


class SessionSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    """A session as lists and the board show it; times in UTC and in the location's zone."""

    start_local = serializers.SerializerMethodField()
    end_local = serializers.SerializerMethodField()
    patient_name = serializers.CharField(source="patient.display_name", read_only=True)
    patient_mrn = serializers.CharField(source="patient.mrn", read_only=True)
    protocol = serializers.CharField(source="course.protocol.slug", read_only=True)
    chair_name = serializers.CharField(source="chair.name", read_only=True, default=None, allow_null=True)
    clinician_name = serializers.SerializerMethodField()
    time_zone = serializers.CharField(source="location.time_zone", read_only=True, default=None,
                                      allow_null=True)
    left_before_discharge = serializers.BooleanField(
        read_only=True, help_text="The patient left (against advice, or to emergency care) before discharge; "
                                  "the status stays discharged so the dose counts for the protocol.")

    class Meta:
        model = Session
        fields = ["id", "course", "patient", "patient_name", "patient_mrn", "protocol", "location", "time_zone",
                  "chair", "chair_name", "clinician", "clinician_name", "start", "end", "occupied_until",
                  "start_local", "end_local", "local_date", "status", "left_before_discharge", "recorded_history",
                  "recorded_dose_mg",
                  "notes", "booked_by", "booked_at", "override_reason", "authorisation_override_reason",
                  "authorisation_override_by", "authorisation_override_at", "confirmed_at", "cancel_reason",
                  "cancelled_at", "late_cancel", "no_show_at", "rescheduled_from"]
        read_only_fields = fields

    def get_start_local(self, session: Session) -> str:
        return session.location.local(session.start).isoformat() if session.location else session.start.isoformat()

    def get_end_local(self, session: Session) -> str:
        return session.location.local(session.end).isoformat() if session.location else session.end.isoformat()

    def get_clinician_name(self, session: Session) -> str | None:
        if session.clinician is None:
            return None
        return session.clinician.get_full_name() or session.clinician.get_username()


class ReadByIdField(serializers.PrimaryKeyRelatedField):
    """A related object's id, read with one of ``fast_reads``' fixed statements rather than the field's
    queryset (which stays for the schema and the browsable API): composing and compiling that queryset
    cost a booking more than the read itself."""

    # The largest id PostgreSQL's bigint holds; a larger one is no object (not a database error).
    LARGEST_ID = 2**63 - 1

    def read(self, pk: int):
        raise NotImplementedError

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            pk = int(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 0 < pk <= self.LARGEST_ID:
            self.fail("does_not_exist", pk_value=data)
        try:
            return self.read(pk)
        except ObjectDoesNotExist:
            self.fail("does_not_exist", pk_value=data)


class BookableCourseField(ReadByIdField):
    """A course id, read with everything a booking checks (``fast_reads.course_for_booking``), so the
    booking does not read it again: one query, where the id's check and the booking took two."""

    def __init__(self, **kwargs):
        super().__init__(queryset=TreatmentCourse.objects.all(), **kwargs)

    def read(self, pk):
        return fast_reads.course_for_booking(pk)


class ChairField(ReadByIdField):
    """A chair id, read with its location (``fast_reads.chair_with_location``)."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Chair.objects.select_related("location"), **kwargs)

    def read(self, pk):
        return fast_reads.chair_with_location(pk)


class BookSessionSerializer(serializers.Serializer):
    course = BookableCourseField()
    chair = ChairField()
    start = LocalDateTimeField()
    clinician = serializers.PrimaryKeyRelatedField(queryset=Session._meta.get_field("clinician").related_model
                                                   .objects.filter(is_active=True), required=False, allow_null=True)
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    authorisation_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="",
        help_text="Why the session is booked beyond the course's prior authorisation (clinicians and managers).")

    def validate(self, attrs):
        attrs["start"] = localize(attrs["start"], attrs["chair"].location.zone, "start")
        return attrs


class RescheduleSerializer(serializers.Serializer):
    start = LocalDateTimeField()
    chair = ChairField(required=False)
    clinician = serializers.PrimaryKeyRelatedField(queryset=Session._meta.get_field("clinician").related_model
                                                   .objects.filter(is_active=True), required=False, allow_null=True)
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    authorisation_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="",
        help_text="Why the session is moved beyond the course's prior authorisation (clinicians and managers).")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class SeriesSerializer(serializers.Serializer):
    course = serializers.PrimaryKeyRelatedField(queryset=TreatmentCourse.objects.all())
    chair = ChairField()
    first_start = LocalDateTimeField()
    weekdays = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=6), min_length=1,
                                     max_length=7)
    dry_run = serializers.BooleanField(default=False)
    authorisation_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="",
        help_text="Why sessions of the series are booked beyond the course's prior authorisation "
                  "(clinicians and managers).")

    def validate(self, attrs):
        attrs["first_start"] = localize(attrs["first_start"], attrs["chair"].location.zone, "first_start")
        return attrs


class RecordHistorySerializer(serializers.Serializer):
    course = serializers.PrimaryKeyRelatedField(queryset=TreatmentCourse.objects.all())
    date = ScheduleDateField()
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all(), required=False, allow_null=True)
    dose_mg = serializers.DecimalField(max_digits=6, decimal_places=1, required=False, allow_null=True,
                                       min_value=0)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    start_local = serializers.SerializerMethodField()
    chair = serializers.IntegerField(source="chair.pk")
    chair_name = serializers.CharField(source="chair.name")
    location = serializers.IntegerField(source="chair.location_id")
    clinician = serializers.IntegerField(source="clinician.pk", default=None, allow_null=True)
    clinician_name = serializers.SerializerMethodField()
    within_due_window = serializers.BooleanField()

    def get_start_local(self, slot) -> str:
        return slot.chair.location.local(slot.start).isoformat()

    def get_clinician_name(self, slot) -> str | None:
        return None if slot.clinician is None else (slot.clinician.get_full_name() or slot.clinician.username)


class AvailabilityQuerySerializer(serializers.Serializer):
    course = serializers.PrimaryKeyRelatedField(queryset=TreatmentCourse.objects.select_related("protocol",
                                                                                               "patient"))
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all(), required=False)
    to = ScheduleDateField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=20)

    def get_fields(self):
        # "from" is a Python keyword, so it cannot be a class attribute; errors still name "from".
        fields = super().get_fields()
        fields["from"] = ScheduleDateField(required=False, source="date_from")
        return fields

    def validate(self, attrs):
        if attrs.get("date_from") and attrs.get("to") and attrs["date_from"] > attrs["to"]:
            raise serializers.ValidationError({"to": ["Must be on or after “from”."]})
        return attrs


SESSION_STATUS_CHOICES = SessionStatus.choices
