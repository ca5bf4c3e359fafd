"""Treatment courses: a patient following one protocol from a start date, and its status transitions."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinic.errors import Conflict
from protocols import due
from protocols.models.schedules import Modality, Protocol


class CourseStatus(models.TextChoices):
    ACTIVE = "active", "Active"  # sessions are being booked and given
    PAUSED = "paused", "Paused"  # on hold (illness, travel); keeps its place in the protocol
    COMPLETED = "completed", "Completed"  # a finite protocol with every session done
    DISCONTINUED = "discontinued", "Discontinued"  # ended early, with a reason


# A patient has at most one course per modality in these states.
OPEN_STATUSES = (CourseStatus.ACTIVE, CourseStatus.PAUSED)


class MaintenanceFrequency(models.TextChoices):
    DEFAULT = "default", "As the protocol says"  # e.g. every 2 weeks from week 9 of esketamine-trd
    WEEKLY = "weekly", "Weekly"  # a clinician's choice where the protocol offers it


class TreatmentCourseQuerySet(models.QuerySet):
    def open(self) -> TreatmentCourseQuerySet:
        """Courses that are active or paused."""
        return self.filter(status__in=OPEN_STATUSES)

    def for_lists(self) -> TreatmentCourseQuerySet:
        """Courses with patient, protocol and phases loaded: a fixed number of queries for any length."""
        return self.select_related("patient", "protocol").prefetch_related("protocol__phases")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class TreatmentCourse(models.Model):
    """A patient's course of treatment following one protocol from a start date."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="courses")
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="courses")
    # Copied from the protocol so the database can enforce one open course per
    # patient and modality with a partial unique index.
    modality = models.CharField(max_length=20, choices=Modality.choices, editable=False)
    start_date = models.DateField()
    status = models.CharField(max_length=20, choices=CourseStatus.choices, default=CourseStatus.ACTIVE)
    maintenance_frequency = models.CharField(
        max_length=10, choices=MaintenanceFrequency.choices, default=MaintenanceFrequency.DEFAULT
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    discontinued_at = models.DateTimeField(null=True, blank=True)
    discontinued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    discontinued_reason = models.TextField(blank=True)

    # Eligibility override at creation: the clinician, their reason, and the
    # finding codes they overrode (so a later change of screening is visible).
    override_reason = models.TextField(blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    override_findings = models.JSONField(default=list, blank=True)

    # The latest phase restart after a lapse (the engine's PhaseRestart);
    # earlier restarts stay in the course's history.
    restart_after_completed = models.PositiveIntegerField(null=True, blank=True)
    restart_phase_index = models.PositiveSmallIntegerField(null=True, blank=True)
    restart_on = models.DateField(null=True, blank=True)
    restart_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    restart_reason = models.TextField(blank=True)
    # The last switch of maintenance frequency: a clinician's decision, with a reason; earlier ones stay in
    # the course's history.
    frequency_changed_at = models.DateTimeField(null=True, blank=True)
    frequency_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    frequency_reason = models.TextField(blank=True)

    objects = TreatmentCourseQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["status", "modality"], name="course_status_modality")]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "modality"],
                condition=Q(status__in=["active", "paused"]),
                name="one_open_course_per_modality",
                violation_error_code="course_exists",
                violation_error_message="The patient already has an open course of this treatment.",
            ),
            models.CheckConstraint(
                condition=Q(restart_after_completed__isnull=True, restart_phase_index__isnull=True,
                            restart_on__isnull=True)
                | Q(restart_after_completed__isnull=False, restart_phase_index__isnull=False,
                    restart_on__isnull=False),
                name="course_restart_recorded_whole",
            ),
            models.CheckConstraint(
                condition=Q(override_reason="", override_by__isnull=True)
                | (~Q(override_reason="") & Q(override_by__isnull=False)),
                name="course_override_has_reason_and_clinician",
            ),
            models.CheckConstraint(
                condition=~Q(status="discontinued") | ~Q(discontinued_reason=""),
                name="course_discontinued_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="paused") | Q(paused_at__isnull=False),
                name="course_paused_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} on {self.protocol.slug} from {self.start_date:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        """True while the course is active or paused (it still holds the patient's one course of its modality)."""
        return self.status in OPEN_STATUSES

    @property
    def has_override(self) -> bool:
        """True when the course started on a clinician's eligibility override."""
        return bool(self.override_reason)

    def restart(self) -> due.PhaseRestart | None:
        """The recorded phase restart as the engine's ``PhaseRestart``, or None."""
        if self.restart_on is None:
            return None
        return due.PhaseRestart(
            after_completed=self.restart_after_completed, phase_index=self.restart_phase_index, on=self.restart_on
        )

    def facts(self, *, completed=(), booked=()) -> due.CourseFacts:
        """The engine's ``CourseFacts`` for this course, given its completed and booked session dates."""
        return due.CourseFacts(
            start_date=self.start_date,
            completed=tuple(completed),
            booked=tuple(booked),
            maintenance_frequency=self.maintenance_frequency,
            restart=self.restart(),
        )

    def require_status(self, *allowed: str, action: str) -> None:
        """Raise Conflict ``invalid_state`` (naming the current status) unless the status is one of ``allowed``."""
        if self.status not in allowed:
            raise Conflict(
                f"This course is {self.get_status_display().lower()}, so it cannot be {action}.",
                code="invalid_state",
                extra={"status": self.status},
            )

    def pause(self) -> None:
        """Put an active course on hold; refuses (409 ``invalid_state``) any other status."""
        self.require_status(CourseStatus.ACTIVE, action="paused")
        self.status = CourseStatus.PAUSED
        self.paused_at = timezone.now()

    def resume(self) -> None:
        """Make a paused course active again; refuses (409 ``invalid_state``) any other status.

        ``paused_at`` is cleared; the pause itself stays in the course's history.
        """
        self.require_status(CourseStatus.PAUSED, action="resumed")
        self.status = CourseStatus.ACTIVE
        self.paused_at = None

    def discontinue(self, *, by, reason: str) -> None:
        """End an active or paused course early with a reason; an ended course refuses (409)."""
        self.require_status(*OPEN_STATUSES, action="discontinued")
        self.status = CourseStatus.DISCONTINUED
        self.discontinued_at = timezone.now()
        self.discontinued_by = by
        self.discontinued_reason = reason
        self.paused_at = None

    def complete(self) -> None:
        """Mark an open course completed (its protocol has no sessions left); refuses an ended course."""
        self.require_status(*OPEN_STATUSES, action="completed")
        self.status = CourseStatus.COMPLETED
        self.completed_at = timezone.now()
        self.paused_at = None
