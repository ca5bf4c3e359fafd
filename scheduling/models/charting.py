"""What a clinician records during a session: vital signs, the dose, assessments."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from scheduling.models.sessions import Session

# Physiological limits: a value outside is a typing error, not a reading.
VITAL_LIMITS = {
    "systolic": (50, 260),
    "diastolic": (25, 160),
    "heart_rate": (25, 250),
    "spo2": (50, 100),
}


class VitalsKind(models.TextChoices):
    PRE_DOSE = "pre_dose", "Before dosing"  # required before the first device / infusion
    POST_DOSE_40 = "post_dose_40", "About 40 minutes after dosing"  # BP peaks near 40 minutes
    DISCHARGE = "discharge", "Before discharge"  # required to discharge
    OTHER = "other", "Other"  # as needed


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class VitalSigns(models.Model):
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="vitals")
    kind = models.CharField(max_length=16, choices=VitalsKind.choices)
    systolic = models.PositiveSmallIntegerField()
    diastolic = models.PositiveSmallIntegerField()
    heart_rate = models.PositiveSmallIntegerField()
    spo2 = models.PositiveSmallIntegerField("SpO2 (%)")
    taken_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, help_text="When it was entered.")
    late_reason = models.TextField(blank=True, help_text="Why it was charted more than 15 minutes after the fact.")
    timing_reason = models.TextField(blank=True, help_text="Why a 40-minute reading was taken outside 35-50 minutes.")

    class Meta:
        ordering = ["taken_at", "id"]
        verbose_name_plural = "vital signs"
        constraints = [
            models.CheckConstraint(condition=Q(diastolic__lt=F("systolic")), name="diastolic_below_systolic"),
            *[
                models.CheckConstraint(condition=Q(**{f"{name}__gte": low, f"{name}__lte": high}),
                                       name=f"vitals_{name}_in_range")
                for name, (low, high) in VITAL_LIMITS.items()
            ],
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.systolic}/{self.diastolic}, HR {self.heart_rate}, SpO2 {self.spo2}%"

    def bp_above(self, systolic_max: int, diastolic_max: int) -> bool:
        return self.systolic > systolic_max or self.diastolic > diastolic_max


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Dose(models.Model):
    """The dose given at a session: esketamine devices, or an IV infusion."""

    session = models.OneToOneField(Session, on_delete=models.PROTECT, related_name="dose")
    # Esketamine nasal spray: 28 mg per device.
    dose_mg = models.DecimalField(max_digits=7, decimal_places=1, help_text="Total mg given")
    devices = models.PositiveSmallIntegerField(null=True, blank=True)
    lot_number = models.CharField(max_length=40, blank=True)
    # IV ketamine: weight-based.
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    mg_per_kg = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    # First device given (esketamine) or infusion started (IV): observation counts from here.
    started_at = models.DateTimeField()
    infusion_ended_at = models.DateTimeField(null=True, blank=True)
    infusion_end_entered_at = models.DateTimeField(null=True, blank=True)
    infusion_end_late_reason = models.TextField(blank=True)
    # REMS (31 Dec 2024): an outpatient esketamine dose is given with a prescriber on site.
    prescriber_on_site = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                           null=True, blank=True)
    late_reason = models.TextField(blank=True, help_text="Why the start was charted more than 15 minutes late.")
    override_reason = models.TextField(blank=True, help_text="Why a dose outside the protocol's rules was given.")
    override_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
                                    blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, help_text="When the start was entered.")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(dose_mg__gt=0), name="dose_positive"),
            models.CheckConstraint(
                condition=Q(infusion_ended_at__isnull=True) | Q(infusion_ended_at__gt=F("started_at")),
                name="infusion_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dose_mg} mg at {self.started_at:%H:%M}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class DeviceGiven(models.Model):
    """One esketamine nasal device: when it was given, and when that was entered."""

    dose = models.ForeignKey(Dose, on_delete=models.PROTECT, related_name="devices_given")
    number = models.PositiveSmallIntegerField()
    given_at = models.DateTimeField()
    entered_at = models.DateTimeField(default=timezone.now)
    late_reason = models.TextField(blank=True)
    rest_reason = models.TextField(blank=True, help_text="Why less than 5 minutes' rest after the previous device.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["dose", "number"]
        constraints = [
            models.UniqueConstraint(fields=["dose", "number"], name="one_row_per_device"),
            models.CheckConstraint(condition=Q(number__gte=1), name="device_number_from_one"),
        ]

    def __str__(self) -> str:
        return f"Device {self.number} at {self.given_at:%H:%M}"


class Severity(models.TextChoices):
    NONE = "none", "None"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class Respiratory(models.TextChoices):
    NORMAL = "normal", "Normal"
    DEPRESSED = "depressed", "Depressed"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Assessment(models.Model):
    """Sedation, dissociation and breathing during observation, and any adverse event."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="assessments")
    assessed_at = models.DateTimeField()
    sedation = models.CharField(max_length=10, choices=Severity.choices)
    dissociation = models.CharField(max_length=10, choices=Severity.choices)
    respiratory = models.CharField(max_length=10, choices=Respiratory.choices)
    adverse_event = models.BooleanField(default=False)
    adverse_event_serious = models.BooleanField(default=False)
    adverse_event_description = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    late_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["assessed_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(adverse_event=True) | Q(adverse_event_serious=False),
                                   name="serious_implies_adverse_event"),
            models.CheckConstraint(condition=Q(adverse_event=False) | ~Q(adverse_event_description=""),
                                   name="adverse_event_described"),
        ]

    def __str__(self) -> str:
        return f"Assessment at {self.assessed_at:%H:%M}"
