"""Prior authorisations: a payer's approval of a number of sessions (units) of a course between two days.

The rules are in docs/DOMAIN.md "Prior authorisation". A course may carry
several over time (induction, then maintenance blocks); only an approved one
covers sessions, and two approved ones of a course never cover the same day,
so a session's day names at most one authorisation and its units are counted
once (``scheduling.booking.authorisations``).
"""

from __future__ import annotations

from datetime import date

import pghistory
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeBoundary, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Func, Q


class AuthorisationStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # sent to the payer, no answer yet; covers nothing
    APPROVED = "approved", "Approved"  # covers its units between its first and last day
    DENIED = "denied", "Denied"  # the payer refused; covers nothing (an appeal may still approve it)
    EXPIRED = "expired", "Expired"  # closed early or superseded; covers nothing, kept for the record


# Which status may follow which (docs/DOMAIN.md "Prior authorisation"). A status is not a clock: an approved
# authorisation whose last day has passed simply covers no later day; ``expired`` is the desk's word for an
# approval the payer withdrew or that a new one replaces, and it is final (a renewal is a new authorisation).
STATUS_MOVES: dict[str, frozenset[str]] = {
    AuthorisationStatus.PENDING: frozenset({AuthorisationStatus.APPROVED, AuthorisationStatus.DENIED}),
    # An appeal won, or the request sent again.
    AuthorisationStatus.DENIED: frozenset({AuthorisationStatus.APPROVED, AuthorisationStatus.PENDING}),
    AuthorisationStatus.APPROVED: frozenset({AuthorisationStatus.EXPIRED, AuthorisationStatus.DENIED}),
    AuthorisationStatus.EXPIRED: frozenset(),
}
DOCUMENT_REFERENCE_MAX = 300
NOTES_MAX = 4000  # a few paragraphs, as the record's other free texts; a pasted file belongs in the documents
DECIDED = frozenset({AuthorisationStatus.APPROVED, AuthorisationStatus.DENIED})
# The days a desk may type (as ``clinic.dates`` for scheduling): a year 1 or 9999 is a typo, and a day there has
# no neighbour for the worklist's and the labels' arithmetic.
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2999, 12, 31)
DAY_FIELDS = ("first_day", "last_day", "submitted_on", "decided_on")


class PriorAuthorisationQuerySet(models.QuerySet):
    def approved(self) -> PriorAuthorisationQuerySet:
        """Authorisations that cover sessions (approved, with units and days)."""
        return self.filter(status=AuthorisationStatus.APPROVED)

    def covering(self, day) -> PriorAuthorisationQuerySet:
        """Approved authorisations whose days include ``day`` (at most one per course)."""
        return self.approved().filter(first_day__lte=day, last_day__gte=day)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class PriorAuthorisation(models.Model):
    """A payer's prior authorisation of a course: its status, approved units and the days they cover."""

    course = models.ForeignKey("protocols.TreatmentCourse", on_delete=models.PROTECT, related_name="authorisations")
    payer = models.CharField(max_length=120)
    number = models.CharField("authorisation number", max_length=60, blank=True)
    status = models.CharField(max_length=10, choices=AuthorisationStatus.choices, default=AuthorisationStatus.PENDING)
    units_approved = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Sessions the payer approved; required once approved.")
    first_day = models.DateField(null=True, blank=True, help_text="First day covered; required once approved.")
    last_day = models.DateField(null=True, blank=True, help_text="Last day covered; required once approved.")
    submitted_on = models.DateField(help_text="When the request went to the payer.")
    decided_on = models.DateField(null=True, blank=True, help_text="When the payer approved or denied it.")
    notes = models.TextField(blank=True)
    documents = models.JSONField(default=list, blank=True, help_text="References to the documents sent or received.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PriorAuthorisationQuerySet.as_manager()

    constraint_messages = {
        "authorisation_approved_has_units_and_days": "An approved authorisation needs its units (at least 1) "
                                                     "and its first and last day.",
        "authorisation_days_in_order": "The last day covered cannot be before the first.",
        "authorisation_decided_after_submitted": "The decision cannot come before the request was submitted.",
    }

    class Meta:
        ordering = ["course", "first_day", "submitted_on", "id"]
        indexes = [models.Index(fields=["course", "status"], name="authorisation_course_status")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="approved")
                # Spelled out: a NULL comparison passes a CHECK.
                | Q(units_approved__isnull=False, units_approved__gte=1, first_day__isnull=False,
                    last_day__isnull=False),
                name="authorisation_approved_has_units_and_days",
            ),
            models.CheckConstraint(
                condition=Q(first_day__isnull=True) | Q(last_day__isnull=True) | Q(first_day__lte=models.F("last_day")),
                name="authorisation_days_in_order",
            ),
            models.CheckConstraint(
                condition=Q(decided_on__isnull=True) | Q(decided_on__gte=models.F("submitted_on")),
                name="authorisation_decided_after_submitted",
            ),
            models.CheckConstraint(condition=Q(units_approved__isnull=True) | Q(units_approved__gte=1),
                                   name="authorisation_units_at_least_one"),
            # A day of a course is covered by one approval at most, so a session uses one unit of one
            # authorisation and no count depends on which one a reader picks.
            ExclusionConstraint(
                name="authorisation_no_overlapping_approvals",
                # daterange(first, last, '[]'): both ends included. A plain Func, so the migration that
                # creates it imports nothing of the project's.
                expressions=[(Func("first_day", "last_day", RangeBoundary(inclusive_upper=True), function="DATERANGE",
                                   output_field=DateRangeField()), RangeOperators.OVERLAPS),
                             ("course", RangeOperators.EQUAL)],
                condition=Q(status="approved"),
                violation_error_code="authorisation_overlap",
                violation_error_message="Another approved authorisation of this course already covers some "
                                        "of these days.",
            ),
        ]

    def __str__(self) -> str:
        number = f" {self.number}" if self.number else ""
        return f"{self.payer}{number} ({self.get_status_display().lower()})"

    @property
    def covers_sessions(self) -> bool:
        """True when the authorisation is approved (only an approved one covers any day)."""
        return self.status == AuthorisationStatus.APPROVED

    def covers(self, day) -> bool:
        """True when the authorisation is approved and ``day`` is between its first and last day."""
        return self.covers_sessions and self.first_day <= day <= self.last_day

    def dates_words(self) -> str:
        """The days covered in words ("1 Dec 2026 to 28 Feb 2027"), or "no dates yet"."""
        if self.first_day is None or self.last_day is None:
            return "no dates yet"
        return f"{self.first_day:%-d %b %Y} to {self.last_day:%-d %b %Y}"

    def clean(self) -> None:
        """Field errors for what the constraints refuse, plus the documents' shape."""
        errors: dict[str, list[str]] = {}
        if self.status == AuthorisationStatus.APPROVED:
            if self.units_approved is None:
                errors["units_approved"] = ["An approved authorisation needs its number of sessions."]
            for name in ("first_day", "last_day"):
                if getattr(self, name) is None:
                    errors[name] = ["An approved authorisation needs its first and last day."]
        if self.units_approved is not None and self.units_approved < 1:
            errors["units_approved"] = ["At least 1 session."]
        if self.first_day and self.last_day and self.last_day < self.first_day:
            errors["last_day"] = ["The last day covered cannot be before the first."]
        for name in DAY_FIELDS:
            day = getattr(self, name)
            if isinstance(day, date) and not EARLIEST_DAY <= day <= LATEST_DAY:
                errors[name] = [f"Use a date between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}."]
        if self.decided_on and self.submitted_on and self.decided_on < self.submitted_on:
            errors["decided_on"] = ["The decision cannot come before the request was submitted."]
        if self.notes and len(self.notes) > NOTES_MAX:
            errors["notes"] = [f"At most {NOTES_MAX} characters."]
        documents = self.documents
        if not isinstance(documents, list) or not all(
                isinstance(item, str) and item.strip() and len(item) <= DOCUMENT_REFERENCE_MAX for item in documents):
            errors["documents"] = [f"A list of document references, each a non-empty text of at most "
                                   f"{DOCUMENT_REFERENCE_MAX} characters."]
        if errors:
            raise ValidationError(errors)

    def date_status_move(self, before: PriorAuthorisation | None, today: date) -> None:
        """Date what a new status means when the desk left the dates as they were (``before``: the saved
        version, None for a new entry).

        A decision (approved or denied) whose day was not changed is today's: an approval withdrawn or an
        appeal won is a new answer, not the old one's. A request sent again (pending after a denial) has no
        answer yet, and was sent today unless its day is given, so "pending for more than 7 days" counts from
        the new request. An unchanged status changes nothing.
        """
        if before is not None and before.status == self.status:
            return
        decision_kept = self.decided_on == (before.decided_on if before is not None else None)
        if self.status in DECIDED and decision_kept:
            self.decided_on = today
        elif self.status == AuthorisationStatus.PENDING and before is not None:
            if decision_kept:
                self.decided_on = None
            if self.submitted_on == before.submitted_on:
                self.submitted_on = today

    def check_status_move(self, previous: str) -> None:
        """Raise ``ValidationError`` naming ``status`` when the move from ``previous`` is not one ``STATUS_MOVES``
        allows (an unchanged status always is)."""
        if previous == self.status or self.status in STATUS_MOVES.get(previous, ()):
            return
        allowed = sorted(STATUS_MOVES.get(previous, ()))
        then = f"it can become {' or '.join(allowed)}" if allowed else "it cannot change any more"
        article = "An" if previous[:1] in "aeiou" else "A"
        raise ValidationError({"status": [f"{article} {previous} authorisation cannot become {self.status}; {then}."]})
