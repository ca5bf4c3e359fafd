"""Freed chair time offered to patients by text: the offer and the text that carries it.

An ``Offer`` is one patient's chance at one freed time (a chair from ``start``
to ``end``, freed by a cancel or a move). Its text is an ``OfferText``, a job
row of ``messaging.jobs`` like every other text, so it leaves exactly once.
The offer's own life (``OfferState``) is kept apart from its text's (the
jobs' ``state``): an offer may end while its text is still waiting.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from scheduling.models.messaging import TextJob
from scheduling.models.sessions import Session
from scheduling.models.sites import Chair, Location


class OfferState(models.TextChoices):
    PLANNED = "planned", "Planned"  # its text is waiting (quiet hours, the sweep)
    SENT = "sent", "Sent"  # the patient has it and may answer YES until it expires
    TAKEN = "taken", "Taken"  # the patient's YES booked the time
    DECLINED = "declined", "Declined"  # the patient said no, or the rules refused the booking
    EXPIRED = "expired", "Expired"  # no answer in time
    VOID = "void", "Void"  # ended by something else: the time was booked, the patient opted out, the text failed


OPEN_OFFER_STATES = (OfferState.PLANNED, OfferState.SENT)


class Offer(models.Model):
    """One patient's offer of one freed chair time."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="offers")
    chair = models.ForeignKey(Chair, on_delete=models.CASCADE, related_name="offers")
    start = models.DateTimeField()
    end = models.DateTimeField()
    # The cancelled or moved session whose time this is (kept for the desk; the time is the chair and start).
    freed_from = models.ForeignKey(Session, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="offers")
    course = models.ForeignKey("protocols.TreatmentCourse", on_delete=models.CASCADE, related_name="offers")
    state = models.CharField(max_length=10, choices=OfferState.choices, default=OfferState.PLANNED)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When a sent offer ends unanswered: OFFER_MINUTES after sending, or OFFER_STALE_HOURS before the time.
    expires_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=300, blank=True)
    # The session the YES booked (new, or the patient's later booking moved here).
    session = models.ForeignKey(Session, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["patient"], condition=Q(state__in=["planned", "sent"]),
                                    name="one_open_offer_per_patient"),
            models.UniqueConstraint(fields=["chair", "start", "patient"], name="one_offer_per_freed_time_and_patient"),
        ]
        indexes = [
            models.Index(fields=["chair", "start"], name="offer_freed_time"),
            models.Index(fields=["expires_at"], condition=Q(state="sent"), name="offer_sent_expiry"),
            models.Index(fields=["start"], condition=Q(state="planned"), name="offer_planned_start"),
        ]

    def __str__(self) -> str:
        return f"Offer of chair {self.chair_id} at {self.start:%Y-%m-%d %H:%M} to {self.patient_id} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_OFFER_STATES


class OfferText(TextJob):
    """The text of one offer: a job row for ``messaging.jobs`` (claimed, sent once, reaped)."""

    offer = models.OneToOneField(Offer, on_delete=models.CASCADE, related_name="text")
    body = models.TextField(blank=True, help_text="The text as sent.")

    class Meta:
        ordering = ["send_at", "id"]
        indexes = [
            models.Index(fields=["send_at"], condition=Q(state="pending"), name="offertext_pending_due"),
            models.Index(fields=["state", "claimed_at"], name="offertext_state_claimed"),
        ]

    def __str__(self) -> str:
        return f"Text of offer {self.offer_id} ({self.state})"


class FreedTimeMark(models.Model):
    """A chair time a cancel or a move freed, written in the change's own transaction.

    The planning task a change publishes on commit is lost when the broker is
    down at that moment, and a move leaves nothing on its session that says
    which chair it gave up: this row does, so beat's ``end_offers`` pass offers
    every freed time a lost task left without its offers (``offers_ending``).
    It also keeps what was freed, for the freed-chair numbers.
    """

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    chair = models.ForeignKey(Chair, on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    # The cancelled or moved session (its course says which treatment the time suits).
    session = models.ForeignKey(Session, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    freed_at = models.DateTimeField(default=timezone.now)
    # When beat's pass last planned the time from this mark because a planning task may have been lost (it had
    # no offer, or its offers had ended by a STOP or a refusal); empty while the tasks did their work.
    caught_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["freed_at", "id"]
        indexes = [
            models.Index(fields=["chair", "start"], name="freedtime_chair_start"),
            models.Index(fields=["freed_at"], name="freedtime_freed_at"),
            models.Index(fields=["start"], condition=Q(caught_up_at__isnull=True), name="freedtime_not_caught_up"),
        ]

    def __str__(self) -> str:
        return f"Chair {self.chair_id} freed at {self.start:%Y-%m-%d %H:%M}"
