"""Where treatment happens: sites, their hours and closures, and chairs."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from clinic.texts import refusal
from protocols.models import Modality


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
    offers_enabled = models.BooleanField(
        "offer freed times by text", default=True,
        help_text="A cancelled or moved time is offered by text to patients who could use it.")

    objects = LocationQuerySet.as_manager()
    # The words a refused value gets (clinic.constraints), beside the constraints they explain.
    constraint_messages = {"location_capacity_positive": "A clinician can look after at least 1 patient at once."}

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
        """Refuse a time zone that is not IANA's, and a name that names a treatment or diagnosis: the
        name goes into texts to patients (``{location}`` in a template)."""
        errors = {}
        if self.time_zone not in zoneinfo.available_timezones():
            errors["time_zone"] = f"“{self.time_zone}” is not an IANA time zone (e.g. America/Chicago)."
        name_refused = refusal("A location's name", self.name)
        if name_refused:
            errors["name"] = name_refused
        if errors:
            raise ValidationError(errors)

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

    constraint_messages = {"opens_before_closes": "Opening time must be before closing time."}

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
