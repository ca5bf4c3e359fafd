"""The REMS Patient Monitoring Form: one per outpatient esketamine session."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q

from scheduling.models.sessions import Session
from scheduling.models.sites import Location

# Submitted to the REMS within 7 calendar days; flagged from day 5.
DUE_FROM_DAY = 5
OVERDUE_AFTER_DAY = 7


class RemsFormStatus(models.TextChoices):
    DRAFT = "draft", "Draft"  # something the form needs is missing from the record
    READY = "ready", "Ready to submit"  # complete; waiting to be sent to the REMS
    SUBMITTED = "submitted", "Submitted"  # sent, with the REMS confirmation number


class RemsFormQuerySet(models.QuerySet):
    def unsubmitted(self) -> RemsFormQuerySet:
        return self.exclude(status=RemsFormStatus.SUBMITTED)

    def _by_local_day(self, now: datetime, first_day: int | None, last_day: int | None) -> RemsFormQuerySet:
        # "Day 5" is counted in the session's own location: a form is due at
        # local midnight there, not at UTC midnight.
        condition = Q(pk__in=[])
        for location in Location.objects.all():
            today = location.local_date(now)
            bounds = {}
            if first_day is not None:
                bounds["session__local_date__lte"] = today - timedelta(days=first_day)
            if last_day is not None:
                bounds["session__local_date__gte"] = today - timedelta(days=last_day)
            condition |= Q(session__location=location, **bounds)
        return self.unsubmitted().filter(condition)

    def due(self, now: datetime) -> RemsFormQuerySet:
        """Unsubmitted forms from day 5 to day 7 after the session (days in the session's location)."""
        return self._by_local_day(now, DUE_FROM_DAY, OVERDUE_AFTER_DAY)

    def overdue(self, now: datetime) -> RemsFormQuerySet:
        """Unsubmitted forms past day 7."""
        return self._by_local_day(now, OVERDUE_AFTER_DAY + 1, None)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class RemsForm(models.Model):
    session = models.OneToOneField(Session, on_delete=models.PROTECT, related_name="rems_form")
    status = models.CharField(max_length=10, choices=RemsFormStatus.choices, default=RemsFormStatus.DRAFT)
    missing = models.JSONField(default=list, blank=True, help_text="What the record still lacks.")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    confirmation_number = models.CharField(max_length=60, blank=True)
    # The content as submitted: later edits to the record do not rewrite what the REMS received.
    submitted_content = models.JSONField(null=True, blank=True)

    objects = RemsFormQuerySet.as_manager()

    class Meta:
        ordering = ["session__local_date", "id"]
        indexes = [
            # Few forms are unsubmitted, and the hourly worklist sweep asks for exactly those.
            models.Index(fields=["session"], condition=~Q(status="submitted"), name="remsform_unsubmitted"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="submitted") | (Q(submitted_at__isnull=False) & ~Q(confirmation_number="")),
                name="submitted_form_has_confirmation",
            ),
        ]

    def __str__(self) -> str:
        return f"REMS form for session {self.session_id} ({self.status})"

    def due_on(self) -> date:
        return self.session.local_date + timedelta(days=DUE_FROM_DAY)

    def deadline(self) -> date:
        return self.session.local_date + timedelta(days=OVERDUE_AFTER_DAY)

    def urgency(self, today: date) -> str:
        """``submitted``, ``overdue`` (past day 7), ``due`` (day 5 to 7) or ``pending``."""
        if self.status == RemsFormStatus.SUBMITTED:
            return "submitted"
        if today > self.deadline():
            return "overdue"
        if today >= self.due_on():
            return "due"
        return "pending"
