"""Protocols, the schedules as data: a protocol and its ordered phases.

The rules a protocol encodes live in docs/DOMAIN.md "Protocols"; the arithmetic
that turns them into due windows is the pure engine in ``protocols.due``.
These models only store the numbers and convert them to the engine's
dataclasses, so the engine never touches the ORM.
"""

from __future__ import annotations

import pghistory
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from clinic.errors import Conflict
from protocols import due, eligibility


class Modality(models.TextChoices):
    # Spravato, given in the clinic under REMS; dose in whole 28 mg devices.
    ESKETAMINE_NASAL = eligibility.ESKETAMINE_NASAL, "Esketamine nasal spray"
    # Off-label, weight-based; observation counted from the end of the infusion.
    KETAMINE_IV = eligibility.KETAMINE_IV, "IV ketamine infusion"


# docs/DOMAIN.md "Treatments": default chair time and observation per modality.
DEFAULT_MINUTES = {
    Modality.ESKETAMINE_NASAL: {"chair_minutes": 150, "observation_minutes": 120},
    Modality.KETAMINE_IV: {"chair_minutes": 90, "observation_minutes": 30},
}

# Fields a manager may still change once a course follows the protocol: they do
# not change what any course's past or future sessions were or will be. Whether bookings need a prior
# authorisation is the payers' rule, not the schedule's: it may change for courses already under way.
EDITABLE_WHEN_IN_USE = frozenset({"name", "active", "requires_authorisation"})
# The esketamine label's floor: at least two hours from the first device, whatever a protocol version says.
# IV recovery is the clinic's setting.
ESKETAMINE_MIN_OBSERVATION_MINUTES = 120


class ProtocolQuerySet(models.QuerySet):
    def active(self) -> ProtocolQuerySet:
        """Protocols new courses may be started on."""
        return self.filter(active=True)

    def with_phases(self) -> ProtocolQuerySet:
        """Protocols with their phases loaded in one extra query, ready for ``rule()``."""
        return self.prefetch_related("phases")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Protocol(models.Model):
    """A treatment schedule: ordered phases plus the session settings (chair time, vitals, doses)."""

    slug = models.SlugField(max_length=60, unique=True, help_text="e.g. esketamine-trd; a new version gets -v2, -v3.")
    name = models.CharField(max_length=200)
    modality = models.CharField(max_length=20, choices=Modality.choices)
    chair_minutes = models.PositiveSmallIntegerField(help_text="Time a chair is held for one session.")
    observation_minutes = models.PositiveSmallIntegerField(
        help_text="Esketamine: from the first device. IV ketamine: from the end of the infusion."
    )
    bp_systolic_max = models.PositiveSmallIntegerField(
        "systolic BP above which dosing needs a clinician", default=140
    )
    bp_diastolic_max = models.PositiveSmallIntegerField(
        "diastolic BP above which dosing needs a clinician", default=90
    )
    spo2_min = models.PositiveSmallIntegerField("lowest acceptable SpO2 (%)", default=92)
    first_dose_mg = models.PositiveSmallIntegerField(
        "first dose (mg)", null=True, blank=True, help_text="Esketamine only."
    )
    allowed_doses_mg = ArrayField(
        models.PositiveSmallIntegerField(), default=list, blank=True, verbose_name="allowed doses (mg)",
        help_text="Esketamine only, e.g. 56, 84. Any other dose needs a clinician's override.",
    )
    requires_prior_56_for_84 = models.BooleanField(
        "84 mg only after a 56 mg dose", default=False, help_text="Esketamine only."
    )
    iv_mg_per_kg = models.DecimalField(
        "IV dose (mg/kg)", max_digits=4, decimal_places=2, null=True, blank=True, help_text="IV ketamine only."
    )
    first_session_latest_days = models.PositiveSmallIntegerField(
        default=7, help_text="Session 1 is due from the start date to this many days after."
    )
    active = models.BooleanField(default=True, help_text="Only active protocols are offered for new courses.")
    requires_authorisation = models.BooleanField(
        "requires prior authorisation", default=False,
        help_text="Bookings of its courses are checked against the course's approved prior authorisations.",
    )
    version = models.PositiveSmallIntegerField(default=1, editable=False)
    previous_version = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_versions", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProtocolQuerySet.as_manager()

    class Meta:
        ordering = ["modality", "slug"]
        constraints = [
            models.CheckConstraint(condition=Q(chair_minutes__gt=0), name="protocol_chair_minutes_positive"),
            models.CheckConstraint(
                condition=Q(observation_minutes__gt=0, observation_minutes__lt=F("chair_minutes")),
                name="protocol_observation_fits_in_chair_time",
            ),
            models.CheckConstraint(
                condition=Q(bp_diastolic_max__gt=0, bp_systolic_max__gt=F("bp_diastolic_max")),
                name="protocol_bp_thresholds_sane",
            ),
            models.CheckConstraint(
                condition=(~Q(modality="esketamine_nasal")
                           | Q(observation_minutes__gte=ESKETAMINE_MIN_OBSERVATION_MINUTES)),
                name="protocol_esketamine_observation_at_least_120",
                violation_error_message="Esketamine observation is at least 120 minutes.",
            ),
            models.CheckConstraint(condition=Q(spo2_min__gte=50, spo2_min__lte=100), name="protocol_spo2_min_range"),
            models.CheckConstraint(condition=Q(version__gte=1), name="protocol_version_positive"),
            # Dose rules belong to one modality: a spray protocol has mg doses, an
            # infusion protocol a weight-based rate, never both.
            models.CheckConstraint(
                condition=(
                    Q(modality="esketamine_nasal", first_dose_mg__isnull=False, iv_mg_per_kg__isnull=True)
                    | Q(modality="ketamine_iv", first_dose_mg__isnull=True, iv_mg_per_kg__isnull=False,
                        iv_mg_per_kg__gt=0,
                        requires_prior_56_for_84=False)
                ),
                name="protocol_dose_rules_match_modality",
            ),
        ]

    def __str__(self) -> str:
        return self.name if self.version == 1 else f"{self.name} (v{self.version})"

    def clean(self) -> None:
        """Dose rules must fit the modality, an esketamine first dose must be an allowed dose, and esketamine
        observation is never under 120 minutes (no protocol version can lower it)."""
        errors: dict[str, list[str]] = {}
        if self.modality == Modality.ESKETAMINE_NASAL:
            if self.observation_minutes is not None and self.observation_minutes < ESKETAMINE_MIN_OBSERVATION_MINUTES:
                errors.setdefault("observation_minutes", []).append(
                    f"Esketamine observation is at least {ESKETAMINE_MIN_OBSERVATION_MINUTES} minutes "
                    "from the first device; no protocol can lower it.")
            if self.first_dose_mg is None:
                errors.setdefault("first_dose_mg", []).append("An esketamine protocol needs a first dose.")
            if not self.allowed_doses_mg:
                errors.setdefault("allowed_doses_mg", []).append("An esketamine protocol needs its allowed doses.")
            elif self.first_dose_mg is not None and self.first_dose_mg not in self.allowed_doses_mg:
                errors.setdefault("first_dose_mg", []).append("The first dose must be one of the allowed doses.")
            if any(dose % 28 for dose in self.allowed_doses_mg or ()):
                # One device holds 28 mg; a dose is a whole number of devices.
                errors.setdefault("allowed_doses_mg", []).append("Esketamine doses are multiples of 28 mg.")
            if self.iv_mg_per_kg is not None:
                errors.setdefault("iv_mg_per_kg", []).append("Only IV ketamine protocols have a mg/kg dose.")
        elif self.modality == Modality.KETAMINE_IV:
            if self.iv_mg_per_kg is None or self.iv_mg_per_kg <= 0:
                errors.setdefault("iv_mg_per_kg", []).append("An IV ketamine protocol needs a mg/kg dose.")
            for name in ("first_dose_mg", "allowed_doses_mg", "requires_prior_56_for_84"):
                if getattr(self, name):
                    errors.setdefault(name, []).append("Only esketamine protocols have this dose rule.")
        if errors:
            raise ValidationError(errors)

    def rule(self) -> due.ProtocolRule:
        """The protocol as the due engine's ``ProtocolRule``, phases in order.

        Reads ``self.phases.all()``, so a prefetched protocol costs no query.
        """
        phases = sorted(self.phases.all(), key=lambda phase: phase.order)
        return due.ProtocolRule(
            slug=self.slug,
            phases=tuple(phase.rule() for phase in phases),
            first_session_latest_days=self.first_session_latest_days,
        )

    def has_weekly_alternative(self) -> bool:
        """True when a phase may run weekly instead (the ``esketamine-trd`` week-9 phase)."""
        return any(phase.weekly_earliest_days is not None for phase in self.phases.all())

    def is_in_use(self) -> bool:
        """True once any course, in any status, follows this protocol."""
        return self.pk is not None and self.courses.exists()

    def check_editable(self) -> None:
        """Raise Conflict ``protocol_in_use`` when a course follows this protocol.

        The schedule, chair time, thresholds and doses of a protocol in use are
        frozen: changing them would rewrite the history of the courses that
        follow it. Managers copy it as a new version and edit the copy instead.
        """
        if self.is_in_use():
            raise Conflict(
                f"“{self}” is followed by treatment courses, so its schedule and settings cannot change: "
                "that would rewrite those courses' history. Copy it as a new version and edit the copy.",
                code="protocol_in_use",
            )


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Phase(models.Model):
    """One phase of a protocol: how many sessions, and how many days may pass before each one."""

    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="phases")
    order = models.PositiveSmallIntegerField(help_text="Phases run in this order, lowest first.")
    name = models.CharField(max_length=100)
    sessions = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty = open-ended.")
    earliest_days = models.PositiveSmallIntegerField(help_text="Days after the previous completed session.")
    target_days = models.PositiveSmallIntegerField()
    target_alt_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="When the target alternates (e.g. 3 or 4): the higher value."
    )
    latest_days = models.PositiveSmallIntegerField()
    weekly_earliest_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Spacing when a clinician switches the course to weekly."
    )
    weekly_target_days = models.PositiveSmallIntegerField(null=True, blank=True)
    weekly_latest_days = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["protocol", "order"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "order"], name="phase_order_unique_in_protocol"),
            models.CheckConstraint(condition=Q(sessions__isnull=True) | Q(sessions__gt=0),
                                   name="phase_sessions_positive_or_open"),
            # Two sessions of a course are never on the same day, so even the
            # earliest gap is at least a day.
            models.CheckConstraint(
                condition=Q(earliest_days__gte=1, target_days__gte=F("earliest_days"),
                            latest_days__gte=F("target_days")),
                name="phase_earliest_target_latest_ordered",
            ),
            models.CheckConstraint(
                condition=Q(target_alt_days__isnull=True)
                | Q(target_alt_days__gt=F("target_days"), target_alt_days__lte=F("latest_days")),
                name="phase_target_alt_within_window",
            ),
            models.CheckConstraint(
                condition=Q(weekly_earliest_days__isnull=True, weekly_target_days__isnull=True,
                            weekly_latest_days__isnull=True)
                # NULL comparisons pass a CHECK, so "all set" is spelled out.
                | Q(weekly_earliest_days__isnull=False, weekly_target_days__isnull=False,
                    weekly_latest_days__isnull=False, weekly_earliest_days__gte=1,
                    weekly_target_days__gte=F("weekly_earliest_days"),
                    weekly_latest_days__gte=F("weekly_target_days")),
                name="phase_weekly_spacing_complete_and_ordered",
            ),
        ]

    def __str__(self) -> str:
        count = "open-ended" if self.sessions is None else f"{self.sessions} sessions"
        return f"{self.order}. {self.name} ({count})"

    def rule(self) -> due.PhaseRule:
        """The phase as the due engine's ``PhaseRule``."""
        weekly = None
        if self.weekly_earliest_days is not None:
            weekly = due.Spacing(self.weekly_earliest_days, self.weekly_target_days, self.weekly_latest_days)
        return due.PhaseRule(
            name=self.name,
            sessions=self.sessions,
            spacing=due.Spacing(self.earliest_days, self.target_days, self.latest_days,
                                target_alt=self.target_alt_days),
            weekly_spacing=weekly,
        )
