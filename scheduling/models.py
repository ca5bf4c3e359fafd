"""Sites, chairs and sessions: where and when treatment happens."""

from __future__ import annotations

import secrets
import zoneinfo
from datetime import date, datetime, time, timedelta

import pghistory
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Func, Q
from django.utils import timezone

from protocols.models import Modality


class TsTzRange(Func):
    """PostgreSQL's tstzrange(start, end): the half-open interval a session occupies."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class LocationQuerySet(models.QuerySet):
    def active(self) -> LocationQuerySet:
        return self.filter(active=True)


class Location(models.Model):
    name = models.CharField(max_length=120, unique=True)
    time_zone = models.CharField(max_length=64, help_text="IANA name, e.g. America/New_York")
    address = models.TextField(blank=True)
    phone = models.CharField(max_length=20, blank=True)
    rems_certified = models.BooleanField(
        "REMS-certified", default=False, help_text="Esketamine may only be booked at a certified setting."
    )
    turnover_minutes = models.PositiveSmallIntegerField(
        default=15, help_text="Cleaning and reset time kept free on a chair after each session."
    )
    max_in_treatment_per_clinician = models.PositiveSmallIntegerField(
        default=4, help_text="At most this many patients in treatment at once for one clinician."
    )
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="clinic_locations")
    active = models.BooleanField(default=True)

    objects = LocationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_in_treatment_per_clinician__gte=1), name="location_capacity_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.time_zone not in zoneinfo.available_timezones():
            raise ValidationError({"time_zone": f"“{self.time_zone}” is not an IANA time zone (e.g. America/Chicago)."})

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone)

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def at(self, day: date, clock: time) -> datetime:
        """The instant of ``clock`` local time on ``day`` (stays at that wall-clock time across DST)."""
        return datetime.combine(day, clock, tzinfo=self.zone)

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """UTC-aware start and end of a local day (23 or 25 hours long on DST days)."""
        return self.at(day, time(0)), self.at(day + timedelta(days=1), time(0))


class OpeningHours(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["location", "weekday"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.UniqueConstraint(fields=["location", "weekday"], name="one_opening_per_weekday"),
            models.CheckConstraint(condition=Q(opens__lt=models.F("closes")), name="opens_before_closes"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Closure(models.Model):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["location", "date"]
        constraints = [models.UniqueConstraint(fields=["location", "date"], name="one_closure_per_day")]

    def __str__(self) -> str:
        return f"{self.location} closed {self.date}"


class Chair(models.Model):
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="chairs")
    name = models.CharField(max_length=60)
    active = models.BooleanField(default=True)
    serves_esketamine = models.BooleanField(default=True)
    # An IV chair needs an infusion pump beside it.
    has_infusion_pump = models.BooleanField(default=False)

    class Meta:
        ordering = ["location", "name"]
        constraints = [models.UniqueConstraint(fields=["location", "name"], name="chair_name_unique_per_location")]

    def __str__(self) -> str:
        return f"{self.location.name} · {self.name}"

    def serves(self, modality: str) -> bool:
        if modality == Modality.ESKETAMINE_NASAL:
            return self.serves_esketamine
        return self.has_infusion_pump

    @staticmethod
    def serving(modality: str) -> Q:
        """Filter for chairs that can host ``modality``."""
        return Q(serves_esketamine=True) if modality == Modality.ESKETAMINE_NASAL else Q(has_infusion_pump=True)


class SessionStatus(models.TextChoices):
    BOOKED = "booked", "Booked"  # on the schedule, not yet confirmed by the patient
    CONFIRMED = "confirmed", "Confirmed"  # the patient replied C to a reminder
    CHECKED_IN = "checked_in", "Checked in"  # arrived; checklist done
    IN_TREATMENT = "in_treatment", "In treatment"  # first device given / infusion started
    DISCHARGED = "discharged", "Discharged"  # completed: counts toward the protocol
    CANCELLED = "cancelled", "Cancelled"  # frees the chair; does not count
    NO_SHOW = "no_show", "No-show"  # did not come; frees the chair; does not count


# Sessions in these states no longer hold a chair, a patient or a day.
RELEASED_STATUSES = (SessionStatus.CANCELLED, SessionStatus.NO_SHOW)
STANDING = ~Q(status__in=RELEASED_STATUSES)
UPCOMING_STATUSES = (SessionStatus.BOOKED, SessionStatus.CONFIRMED)


class SessionQuerySet(models.QuerySet):
    def standing(self) -> SessionQuerySet:
        """Sessions that still hold their slot (not cancelled, not no-show)."""
        return self.filter(STANDING)

    def upcoming(self) -> SessionQuerySet:
        return self.filter(status__in=UPCOMING_STATUSES)

    def completed(self) -> SessionQuerySet:
        return self.filter(status=SessionStatus.DISCHARGED)

    def overlapping(self, start: datetime, end: datetime) -> SessionQuerySet:
        """Sessions whose occupied time (chair time plus turnover) overlaps [start, end)."""
        return self.filter(start__lt=end, occupied_until__gt=start)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Session(models.Model):
    course = models.ForeignKey("protocols.TreatmentCourse", on_delete=models.PROTECT, related_name="sessions")
    # Copied from the course so the database itself can refuse a patient in two places at once.
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="sessions")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="sessions", null=True, blank=True)
    # Null only for history recorded on adoption, which took place before the clinic used the system.
    chair = models.ForeignKey(Chair, on_delete=models.PROTECT, related_name="sessions", null=True, blank=True)
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="clinician_sessions", null=True, blank=True
    )
    start = models.DateTimeField()
    end = models.DateTimeField(help_text="start + the protocol's chair minutes")
    occupied_until = models.DateTimeField(help_text="end + the location's turnover minutes")
    local_date = models.DateField(help_text="The session's date in the location's time zone.")
    status = models.CharField(max_length=16, choices=SessionStatus.choices, default=SessionStatus.BOOKED)
    recorded_history = models.BooleanField(
        default=False, help_text="Recorded on adoption: a past session from before the clinic used the system."
    )
    recorded_dose_mg = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    notes = models.TextField(blank=True)

    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    booked_at = models.DateTimeField(default=timezone.now)
    override_reason = models.TextField(blank=True, help_text="Why a clinician booked outside the due window.")
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    late_cancel = models.BooleanField(default=False)
    no_show_at = models.DateTimeField(null=True, blank=True)
    rescheduled_from = models.DateTimeField(null=True, blank=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["location", "local_date"], name="session_location_day"),
            models.Index(fields=["course", "start"], name="session_course_start"),
            models.Index(fields=["clinician", "start"], name="session_clinician_start"),
            models.Index(fields=["patient", "start"], name="session_patient_start"),
            models.Index(fields=["status", "start"], name="session_status_start"),
        ]
        constraints = [
            # The guarantee against double-booking lives in PostgreSQL, so no race
            # between two desks (or two web workers) can slip past it.
            ExclusionConstraint(
                name="no_chair_double_booking",
                expressions=[(TsTzRange("start", "occupied_until"), RangeOperators.OVERLAPS), ("chair", "=")],
                condition=STANDING,
            ),
            ExclusionConstraint(
                name="no_patient_double_booking",
                expressions=[(TsTzRange("start", "occupied_until"), RangeOperators.OVERLAPS), ("patient", "=")],
                condition=STANDING,
            ),
            models.UniqueConstraint(
                fields=["course", "local_date"], condition=STANDING, name="one_session_per_course_day"
            ),
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="session_starts_before_it_ends"),
            models.CheckConstraint(condition=Q(end__lte=models.F("occupied_until")), name="turnover_not_negative"),
            models.CheckConstraint(
                condition=Q(recorded_history=True) | Q(chair__isnull=False), name="booked_session_has_chair"
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.pk} {self.start:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def is_standing(self) -> bool:
        return self.status not in RELEASED_STATUSES

    @property
    def local_start(self) -> datetime:
        return self.location.local(self.start) if self.location else self.start

    def cancel(self, *, by, reason: str, now: datetime | None = None) -> None:
        """Cancel; a cancel less than 24 hours before the start is flagged as late."""
        now = now or timezone.now()
        self.status = SessionStatus.CANCELLED
        self.cancel_reason = reason
        self.cancelled_by = by
        self.cancelled_at = now
        self.late_cancel = self.start - now < timedelta(hours=24)

    def mark_no_show(self, *, now: datetime | None = None) -> None:
        self.status = SessionStatus.NO_SHOW
        self.no_show_at = now or timezone.now()


class CalendarFeed(models.Model):
    """A clinician's secret iCalendar address; rotating the token revokes every old subscription."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True)
    rotated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    def rotate(self) -> None:
        self.token = self.new_token()
        self.rotated_at = timezone.now()
