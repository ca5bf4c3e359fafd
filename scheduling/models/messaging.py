"""Texts to and from patients: per-site reminder policy, reminders, and the message log."""

from __future__ import annotations

from datetime import time
from string import Formatter

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

# The words live with the start-up check of CLINIC_NAME; re-exported for the app's modules.
from clinic.texts import FORBIDDEN_WORDS as FORBIDDEN_WORDS
from clinic.texts import forbidden_words_in as forbidden_words_in
from scheduling.models.sessions import Session
from scheduling.models.sites import Location

DEFAULT_DAY_BEFORE = ("{clinic}: reminder of your visit {day} at {time}. Please don't eat for 2 hours before, "
                      "and arrange a ride home: you can't drive until tomorrow. Reply C to confirm, R to ask for "
                      "a new time, STOP to opt out. Questions: {phone}")
DEFAULT_SAME_DAY = ("{clinic}: see you today at {time}. Please don't eat for 2 hours before, and arrange a ride "
                    "home. Reply C to confirm, R for a new time. {phone}")
DEFAULT_OUTREACH = "It's time to book your next visit at {clinic}: call {phone}."
PLACEHOLDERS = {"clinic", "phone", "day", "time", "date", "location"}


def validate_template(text: str) -> None:
    """Refuse a template that names a drug, treatment or diagnosis (``clinic.texts``), that ``str.format`` (the
    sending code: ``reminders.render``, ``outreach.render_outreach``) cannot render as written (a lone ``{`` or
    ``}``; a placeholder with more than its name, ``{clinic:>900}``, ``{clinic.upper}``, ``{time[0]}``, ``{}``),
    or that uses an unknown placeholder. The words are checked again in the final text as sent
    (``messaging.jobs.checked_text``)."""
    found = forbidden_words_in(text)
    if found:
        raise ValidationError(f"A text must never name a treatment or diagnosis; remove: {', '.join(found)}.")
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in Formatter().parse(text)
                  if name is not None]
    except ValueError:
        raise ValidationError("Write placeholders as {clinic}, {day}, {time}...; a lone { or } cannot be sent.",
                              code="braces") from None
    if any(spec or conversion or not name.isidentifier() for name, spec, conversion in fields):
        raise ValidationError("Write each placeholder as its name alone, e.g. {clinic}: no : . [ ] or ! inside "
                              "the braces.", code="placeholder_form")
    unknown = {name for name, _, _ in fields} - PLACEHOLDERS
    if unknown:
        raise ValidationError(f"Unknown placeholder(s): {', '.join(sorted(unknown))}. "
                              f"Use: {', '.join(sorted(PLACEHOLDERS))}.")


# Quiet hours always cover these hours of the night (00:00 to 05:00), whatever else a site chooses.
NIGHT_HOURS = tuple(range(0, 5))
SAME_DAY_MAX_HOURS = 12


def policy_problems(values: dict) -> dict[str, str]:
    """What stops a policy with these values from working as the sending code reads it, by field.

    - a cap under 1 would stop every text (the database's ``reminder_caps_positive`` too; said beside the field);
    - quiet hours from and until the same time would be no quiet hours at all (texts at any hour), and
      quiet hours that leave the small hours open (08:00 to 21:00, the two times swapped) would move
      every reminder into the night (docs/DOMAIN.md: never between 21:00 and 08:00 by default);
    - a day-before time inside quiet hours (while that reminder is on) would be moved by the planner to
      another time than the one set;
    - a same-day reminder more than ``SAME_DAY_MAX_HOURS`` before the visit is no longer on the day, and one
      planned closer to the visit than the last-minute limit would always be skipped.

    A value that is None (missing, or refused by its own field) takes no part.
    """
    problems: dict[str, str] = {}
    for name in ("daily_cap", "weekly_cap"):
        if values.get(name) is not None and values[name] < 1:
            problems[name] = "At least 1: a cap of 0 would stop every text; turn a reminder off instead."
    quiet_from, quiet_until = values.get("quiet_from"), values.get("quiet_until")
    if quiet_from is not None and quiet_until is not None:
        probe = ReminderPolicy(quiet_from=quiet_from, quiet_until=quiet_until)
        if quiet_from == quiet_until:
            problems["quiet_until"] = "Quiet hours must end at another time than they start (e.g. 21:00 to 08:00)."
        elif not all(probe.in_quiet_hours(time(hour)) for hour in NIGHT_HOURS):
            problems["quiet_from"] = (f"Quiet hours must cover the night (at least {NIGHT_HOURS[0]:02}:00 to "
                                      f"{NIGHT_HOURS[-1] + 1:02}:00); {quiet_from:%H:%M} to {quiet_until:%H:%M} "
                                      "would text patients at night. Were the two times swapped?")
        else:
            at = values.get("day_before_at")
            if values.get("day_before_enabled") and at is not None and probe.in_quiet_hours(at):
                problems["day_before_at"] = (f"{at:%H:%M} is inside the quiet hours ({quiet_from:%H:%M} to "
                                             f"{quiet_until:%H:%M}): choose a time outside them.")
    hours, lead = values.get("same_day_hours_before"), values.get("min_lead_minutes")
    if values.get("same_day_enabled") and hours is not None and hours > SAME_DAY_MAX_HOURS:
        problems["same_day_hours_before"] = (f"At most {SAME_DAY_MAX_HOURS} hours: it is the reminder on the day; "
                                             "the day-before reminder covers the evening before.")
    elif values.get("same_day_enabled") and hours is not None and lead is not None and hours * 60 < lead:
        problems["same_day_hours_before"] = (
            f"{hours} hour{'s' if hours != 1 else ''} before is closer than the {lead} minutes a reminder must "
            "leave: the same-day reminder would never be sent.")
    return problems


class ReminderPolicy(models.Model):
    """When and how a site texts its patients (defaults of docs/DOMAIN.md)."""

    location = models.OneToOneField(Location, on_delete=models.CASCADE, related_name="reminder_policy")
    day_before_enabled = models.BooleanField(default=True)
    day_before_at = models.TimeField(default=time(17), help_text="Local time, the day before the visit.")
    same_day_enabled = models.BooleanField(default=True)
    same_day_hours_before = models.PositiveSmallIntegerField(default=2)
    quiet_from = models.TimeField(default=time(21), help_text="No texts from this local time...")
    quiet_until = models.TimeField(default=time(8), help_text="...until this local time.")
    daily_cap = models.PositiveSmallIntegerField(default=1, help_text="Texts per patient per day (FCC exemption).")
    weekly_cap = models.PositiveSmallIntegerField(default=3, help_text="Texts per patient per 7 days.")
    min_lead_minutes = models.PositiveSmallIntegerField(
        default=60, help_text="A reminder is never sent when the visit is closer than this."
    )
    day_before_template = models.TextField(default=DEFAULT_DAY_BEFORE, validators=[validate_template])
    same_day_template = models.TextField(default=DEFAULT_SAME_DAY, validators=[validate_template])
    outreach_template = models.TextField(default=DEFAULT_OUTREACH, validators=[validate_template])

    class Meta:
        verbose_name_plural = "reminder policies"
        constraints = [
            models.CheckConstraint(condition=Q(daily_cap__gte=1, weekly_cap__gte=1), name="reminder_caps_positive"),
        ]

    def __str__(self) -> str:
        return f"Reminder policy of {self.location}"

    @classmethod
    def for_location(cls, location: Location) -> ReminderPolicy:
        """The site's policy; the defaults (unsaved) when a manager has not set one."""
        try:
            return location.reminder_policy
        except cls.DoesNotExist:
            return cls(location=location)

    def clean(self) -> None:
        """The rules a policy needs to work as the sending code reads it (``policy_problems``), each beside its
        field: the admin, the manager's page (its ModelForm) and anything calling ``full_clean`` refuse alike."""
        problems = policy_problems({field.name: getattr(self, field.attname) for field in self._meta.concrete_fields})
        if problems:
            raise ValidationError(problems)

    def in_quiet_hours(self, clock: time) -> bool:
        if self.quiet_from > self.quiet_until:  # spans midnight, e.g. 21:00-08:00
            return clock >= self.quiet_from or clock < self.quiet_until
        return self.quiet_from <= clock < self.quiet_until


class ReminderKind(models.TextChoices):
    DAY_BEFORE = "day_before", "Day before"  # the main reminder: time to arrange a ride
    SAME_DAY = "same_day", "Same day"  # a nudge a couple of hours before


# When a cap would be exceeded, the lower-priority text is the one skipped.
KIND_PRIORITY = {ReminderKind.DAY_BEFORE: 2, ReminderKind.SAME_DAY: 1}
OUTREACH_PRIORITY = 0


class ReminderState(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for its send time
    QUEUED = "queued", "Queued"  # claimed by the sweep, a send task is on its way
    SENDING = "sending", "Sending"  # a worker holds it and may be talking to the provider
    SENT = "sent", "Sent"  # the provider accepted it
    FAILED = "failed", "Failed"  # permanently refused (opted out, invalid number, retries used up)
    UNKNOWN = "unknown", "Unknown"  # the provider may or may not have sent it: a person must check
    SKIPPED = "skipped", "Skipped"  # deliberately not sent (quiet hours, caps, too late, no consent)
    VOID = "void", "Void"  # the session was cancelled or moved, or the patient opted out


OPEN_REMINDER_STATES = (ReminderState.PENDING, ReminderState.QUEUED)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Reminder(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=12, choices=ReminderKind.choices)
    priority = models.PositiveSmallIntegerField(default=1)
    send_at = models.DateTimeField()
    # The start and revision the reminder was planned for: a moved session's reminder is stale.
    session_start = models.DateTimeField()
    revision = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=10, choices=ReminderState.choices, default=ReminderState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Set, and committed, just before the provider is called: a worker that died
    # after this point may have sent the text, so its reminder becomes "unknown".
    provider_called_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    body = models.TextField(blank=True)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["send_at", "id"]
        constraints = [
            # Exactly one reminder of each kind per session (and per move of it), whatever the races.
            models.UniqueConstraint(fields=["session", "kind", "revision"], name="one_reminder_per_session_and_kind"),
        ]
        indexes = [
            models.Index(fields=["send_at"], condition=Q(state="pending"), name="reminder_pending_due"),
            models.Index(fields=["state", "claimed_at"], name="reminder_state_claimed"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} reminder for session {self.session_id} ({self.state})"


class Direction(models.TextChoices):
    OUTBOUND = "outbound", "To the patient"
    INBOUND = "inbound", "From the patient"


class MessagePurpose(models.TextChoices):
    REMINDER = "reminder", "Reminder"
    OUTREACH = "outreach", "Due-visit outreach"
    HELP = "help", "Answer to HELP"
    CONFIRMATION = "confirmation", "Opt-out / opt-in confirmation"
    REPLY = "reply", "Patient's reply"
    NEW_TIME = "new_time", "New time after R"  # the desk moved the visit the patient asked to move
    DESK = "desk", "Written by staff"  # typed on the patient page ("Text the patient")
    OFFER = "offer", "Freed time offer"  # an offer of a freed chair time, and the answer to its YES


# The site of a patient's latest session started at or before an instant, else of their next one: two probes of
# the (patient, start) index.
_NEAREST_SITE = """
SELECT coalesce(
    (SELECT s.location_id FROM scheduling_session s
      WHERE s.patient_id = %(patient)s AND s.start <= %(at)s AND s.location_id IS NOT NULL
      ORDER BY s.start DESC LIMIT 1),
    (SELECT s.location_id FROM scheduling_session s
      WHERE s.patient_id = %(patient)s AND s.start > %(at)s AND s.location_id IS NOT NULL
      ORDER BY s.start LIMIT 1))
"""


class TextMessage(models.Model):
    """Every text sent or received, for the patient's message history and the caps."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="text_messages",
                                null=True, blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    purpose = models.CharField(max_length=14, choices=MessagePurpose.choices)
    counts_toward_caps = models.BooleanField(
        default=False, help_text="Reminders and outreach count; answers to the patient's own texts do not."
    )
    phone = models.CharField(max_length=20)
    body = models.TextField()
    provider_id = models.CharField(max_length=64, blank=True)
    delivery_status = models.CharField(max_length=20, blank=True)
    reminder = models.ForeignKey(Reminder, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages")
    session = models.ForeignKey(Session, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages")
    at = models.DateTimeField(default=timezone.now)
    # The site the text counts at in the clinic's numbers, fixed by ``save`` when the text is recorded (or linked
    # to a session): its session's site, else that of the patient's latest session started before it (or their
    # next one). Stored so a report over a month of texts reads a column instead of probing sessions per text.
    location = models.ForeignKey(Location, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                 help_text="The site the text belongs to (its session's, else the patient's "
                                           "nearest session's when it was recorded).")

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            # A provider retrying a webhook must not record (or act on) a reply twice.
            models.UniqueConstraint(fields=["provider_id", "direction"], condition=~Q(provider_id=""),
                                    name="one_message_per_provider_id"),
        ]
        indexes = [
            models.Index(fields=["patient", "direction", "at"], name="message_patient_dir_at"),
            # The clinic's numbers read a period's texts by time.
            models.Index(fields=["at"], name="message_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        """Record the text's site with the row: when it is created, and when it is linked to a session."""
        update_fields = kwargs.get("update_fields")
        if self._state.adding:
            if self.location_id is None:
                self.location_id = self.site_when_recorded()
        elif self.session_id is not None and (update_fields is None or "session" in update_fields):
            self.location_id = self.site_when_recorded()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "location"}
        super().save(*args, **kwargs)

    def site_when_recorded(self) -> int | None:
        """Its session's site; for a text about no session, the site of the patient's latest session started
        at or before it, else of their next one (None when the patient has no session at a site)."""
        if self.session_id is not None:
            return self.session.location_id  # the caller's session object: no query
        if self.patient_id is None:
            return None
        with connection.cursor() as cursor:
            cursor.execute(_NEAREST_SITE, {"patient": self.patient_id, "at": self.at})
            return cursor.fetchone()[0]


class TextJob(models.Model):
    """The columns ``messaging.jobs`` claims, sends and reaps by: one row per text, sent once.

    (``Reminder`` carries the same columns among its own, declared there for its history.)
    """

    state = models.CharField(max_length=10, choices=ReminderState.choices, default=ReminderState.PENDING)
    send_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    provider_called_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class DeskText(TextJob):
    """A text a member of staff wrote on the patient page: a job row for ``messaging.jobs`` (sent once).

    Sent at once, or held until the site's quiet hours end (``send_at``).
    ``form_key`` is the form's own id, so a form posted twice sends one text.
    """

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="desk_texts")
    # Whose quiet hours the text keeps (the patient's site); None: the clinic's zone and the default hours.
    location = models.ForeignKey(Location, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    form_key = models.UUIDField(unique=True)
    body = models.TextField(help_text="The text as the patient reads it, the clinic's name first.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["send_at"], condition=Q(state="pending"), name="desktext_pending_due"),
            models.Index(fields=["state", "claimed_at"], name="desktext_state_claimed"),
        ]

    def __str__(self) -> str:
        return f"Text from staff to patient {self.patient_id} ({self.state})"


class Outreach(TextJob):
    """A due-visit text planned for a patient whose next visit is due and not booked."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="outreach")
    course = models.ForeignKey("protocols.TreatmentCourse", on_delete=models.CASCADE, related_name="outreach")

    class Meta:
        ordering = ["send_at", "id"]
        constraints = [
            # At most one outreach waiting per course at a time; the weekly limit is checked on creation.
            models.UniqueConstraint(fields=["course"], condition=Q(state__in=["pending", "queued", "sending"]),
                                    name="one_open_outreach_per_course"),
        ]

    def __str__(self) -> str:
        return f"Outreach to patient {self.patient_id} ({self.state})"


class SmsSendSlot(models.Model):
    """The next moment a sender may hand the provider a text: every worker takes its turn from this row.

    One row per sender (``messaging.jobs.take_turn``), moved on by one
    interval of the provider's rate at each text, so workers together keep
    to SMS_RATE_PER_NUMBER x SMS_SENDING_NUMBERS texts a second.
    """

    sender = models.CharField(max_length=64, primary_key=True)
    next_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Next text from {self.sender} at {self.next_at:%H:%M:%S}"
