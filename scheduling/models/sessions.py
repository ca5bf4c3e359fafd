"""Sessions: a course's visit on a chair, from booking to discharge, and the clinician calendar feed."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import pghistory
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.db import models
from django.db.models import Func, Q
from django.utils import timezone

from scheduling.models.sites import Chair, Location


class TsTzRange(Func):
    """PostgreSQL's tstzrange(start, end): the half-open interval a session occupies."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class SessionStatus(models.TextChoices):
    BOOKED = "booked", "Booked"  # on the schedule, not yet confirmed by the patient
    CONFIRMED = "confirmed", "Confirmed"  # the patient replied C to a reminder
    CHECKED_IN = "checked_in", "Checked in"  # arrived; checklist done
    IN_TREATMENT = "in_treatment", "In treatment"  # first device given / infusion started
    DISCHARGED = "discharged", "Discharged"  # completed: counts toward the protocol
    CANCELLED = "cancelled", "Cancelled"  # frees the chair; does not count
    NO_SHOW = "no_show", "No-show"  # did not come; frees the chair; does not count


class LeftBeforeDischarge(models.TextChoices):
    AGAINST_ADVICE = "against_advice", "Left against medical advice"  # chose to go before observation ended
    EMERGENCY_TRANSFER = "emergency_transfer", "Transferred to emergency care"  # sent on for urgent care


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
    # A booking beyond the course's prior authorisation (outside its days, or with no unit left): the clinician's
    # or manager's reason, who gave it and when (docs/DOMAIN.md "Prior authorisation").
    authorisation_override_reason = models.TextField(blank=True)
    authorisation_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    authorisation_override_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    late_cancel = models.BooleanField(default=False)
    no_show_at = models.DateTimeField(null=True, blank=True)
    rescheduled_from = models.DateTimeField(null=True, blank=True)
    # The patient would take an earlier time for this visit if one frees up (asked when); a move clears it.
    earlier_wanted_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every move: reminders belong to one revision, so a moved
    # session gets fresh reminders for its new time.
    revision = models.PositiveIntegerField(default=0)

    # Check-in: the pre-visit checklist as the patient answered it.
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    fasted_food_2h = models.BooleanField("no food for 2 hours", null=True, blank=True)
    fasted_drink_30m = models.BooleanField("no drink for 30 minutes", null=True, blank=True)
    nasal_medicines_ok = models.BooleanField(
        "nasal steroid or decongestant at least 1 hour before, or none", null=True, blank=True
    )
    ride_home_arranged = models.BooleanField(null=True, blank=True)
    # Every charted time is kept beside the moment it was entered (docs/DOMAIN.md, "Charting after the fact").
    checked_in_entered_at = models.DateTimeField(null=True, blank=True)
    checked_in_late_reason = models.TextField(blank=True)
    # A finding that appeared mid-course, overridden at check-in by a clinician (also added to the course).
    eligibility_override_findings = models.JSONField(default=list, blank=True)
    eligibility_override_reason = models.TextField(blank=True)
    eligibility_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    # A clinician's acknowledgement that dosing may go ahead despite a high pre-dose BP.
    high_bp_acknowledged_at = models.DateTimeField(null=True, blank=True)
    high_bp_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    high_bp_acknowledgement = models.TextField(blank=True)

    # Discharge.
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    resolution_attested = models.BooleanField(
        default=False, help_text="Sedation, dissociation and breathing have resolved (clinician's attestation)."
    )
    driver = models.CharField("who drives the patient home", max_length=200, blank=True)
    could_have_left_after_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="REMS: if there were no two-hour rule, after how many minutes?"
    )
    discharge_entered_at = models.DateTimeField(null=True, blank=True)
    discharge_late_reason = models.TextField(blank=True)

    # Leaving before discharge: the session ends ``discharged`` (the dose counts) with no ``discharged_at``.
    left_at = models.DateTimeField(null=True, blank=True)
    left_entered_at = models.DateTimeField(null=True, blank=True)
    left_kind = models.CharField(max_length=20, choices=LeftBeforeDischarge.choices, blank=True)
    left_reason = models.TextField("why the patient left", blank=True)
    left_with = models.TextField("how the patient left, and with whom", blank=True)
    left_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    left_late_reason = models.TextField(blank=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["location", "local_date"], name="session_location_day"),
            models.Index(fields=["course", "start"], name="session_course_start"),
            models.Index(fields=["clinician", "start"], name="session_clinician_start"),
            models.Index(fields=["patient", "start"], name="session_patient_start"),
            models.Index(fields=["status", "start"], name="session_status_start"),
            # The day board: a site's sessions between two instants.
            models.Index(fields=["location", "start"], name="session_location_start"),
            # Overlap checks look forward from an instant: keyed on the end, they never read a chair's,
            # a patient's or a clinician's past sessions (booking, the availability search).
            models.Index(fields=["chair", "occupied_until"], condition=STANDING, name="session_chair_occupied"),
            models.Index(fields=["patient", "occupied_until"], condition=STANDING, name="session_patient_occupied"),
            models.Index(fields=["clinician", "occupied_until"], condition=STANDING,
                         name="session_clinician_occupied"),
            # The clinic's numbers: a period's sessions at every site from the index alone (an index-only range
            # scan on the local day, no visit to the wide rows), whatever the figure reads of them.
            models.Index(fields=["local_date"], include=["location", "chair", "course", "status", "start", "end",
                                                         "late_cancel", "recorded_history", "id"],
                         name="session_report_day"),
            # A discharged session's number in its course (the phase it belonged to), counted from this index
            # alone, with what the figure then asks of the session.
            models.Index(fields=["course", "start", "id"], include=["local_date", "recorded_history", "location"],
                         condition=Q(status=SessionStatus.DISCHARGED), name="session_course_discharged"),
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
            models.CheckConstraint(condition=Q(left_at__isnull=True) | Q(discharged_at__isnull=True),
                                   name="left_or_discharged_not_both"),
            models.CheckConstraint(
                condition=Q(authorisation_override_reason="", authorisation_override_by__isnull=True,
                            authorisation_override_at__isnull=True)
                | (~Q(authorisation_override_reason="") & Q(authorisation_override_by__isnull=False,
                                                            authorisation_override_at__isnull=False)),
                name="session_authorisation_override_recorded_whole",
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

    @property
    def left_before_discharge(self) -> bool:
        """True when the patient left (against advice, or to emergency care) before a discharge."""
        return self.left_at is not None

    @property
    def status_words(self) -> str:
        """The status as pages show it: a patient who left before discharge is not shown as discharged."""
        return "Left before discharge" if self.left_at is not None else self.get_status_display()

    @property
    def ended_at(self):
        """When monitoring ended: the discharge, or the moment the patient left; None while under way."""
        return self.discharged_at or self.left_at

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


class SessionNumber(models.Model):
    """A discharged session's number among its course's discharged sessions (in order of start, then id).

    Kept by the database alone: a trigger on the sessions table (migration 0018) numbers a course's discharged
    sessions again whenever one is discharged, moved, corrected, recorded from before the system or deleted, so
    every path that changes a session keeps it right and the application never writes it. The clinic's numbers
    read the phase each session belonged to from it without counting each course's history (docs/REPORTS.md),
    a period's rows by their day from its own index: the session's day, site and history flag are kept beside.
    """

    session = models.OneToOneField(Session, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False,
                                   related_name="number_in_course")
    course = models.ForeignKey("protocols.TreatmentCourse", on_delete=models.DO_NOTHING, db_constraint=False,
                               related_name="+")
    number = models.PositiveIntegerField()
    local_date = models.DateField()
    location = models.ForeignKey(Location, on_delete=models.DO_NOTHING, db_constraint=False, null=True,
                                 related_name="+")
    recorded_history = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["local_date"], include=["course", "number", "location", "recorded_history"],
                                name="sessionnumber_day")]

    def __str__(self) -> str:
        return f"Session {self.session_id}: number {self.number} of course {self.course_id}"
