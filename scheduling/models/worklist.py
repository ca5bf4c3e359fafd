"""The front desk's worklist: things that need a person, opened and closed by the facts."""

from __future__ import annotations

from datetime import date

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from scheduling.models.sessions import Session
from scheduling.models.sites import Location


class WorkKind(models.TextChoices):
    LAPSED = "lapsed", "Lapsed course"  # 14+ days past the window: needs a clinician's review
    OVERDUE = "overdue", "Overdue visit"  # past the latest day of the window, nothing booked
    NO_SHOW_REBOOK = "no_show_rebook", "No-show to rebook"  # missed a visit, nothing booked since
    REMS_FORM_DUE = "rems_form_due", "REMS form due"  # monitoring form not submitted by day 5
    RESCHEDULE_REQUEST = "reschedule_request", "Asked for a new time"  # replied R to a reminder
    REPLY_NEEDS_ATTENTION = "reply_needs_attention", "Reply to read"  # a text the system could not act on
    # A patient's YES took a freed time (docs/OFFERS.md): a call may be needed before a visit that may be today.
    OFFER_TAKEN = "offer_taken", "Offer taken"
    UNCONFIRMED_TOMORROW = "unconfirmed_tomorrow", "Unconfirmed for tomorrow"  # booked, no C reply yet
    REMS_ENROLMENT_MISSING = "rems_enrolment_missing", "REMS enrolment missing"  # esketamine booked, not enrolled
    DUE_UNBOOKED = "due_unbooked", "Due, not booked"  # the next window opens within 3 days
    # Prior authorisation (docs/DOMAIN.md): the payer's approval running out, or no answer, or a refusal.
    AUTHORISATION_ENDING = "authorisation_ending", "Authorisation ending"  # last covered day within 14 days
    AUTHORISATION_UNITS_LOW = "authorisation_units_low", "Authorisation units low"  # 2 sessions or fewer left
    AUTHORISATION_PENDING = "authorisation_pending", "Authorisation pending"  # no answer 7+ days after submitting
    AUTHORISATION_DENIED = "authorisation_denied", "Authorisation denied"  # denied, sessions still booked
    STOCK_DISCREPANCY = "stock_discrepancy", "Stock count to explain"  # a count differed: a manager explains it


# Lower sorts first: what is most urgent for the front desk.
URGENCY = {kind: rank for rank, kind in enumerate(WorkKind.values)}

# Kinds the sweep derives from the facts (and closes when the facts change);
# the others are opened by events (a patient's reply, a taken offer) and closed
# by a person or by the booking change that answers them.
COMPUTED_KINDS = (
    WorkKind.DUE_UNBOOKED, WorkKind.OVERDUE, WorkKind.LAPSED, WorkKind.NO_SHOW_REBOOK,
    WorkKind.REMS_ENROLMENT_MISSING, WorkKind.REMS_FORM_DUE, WorkKind.UNCONFIRMED_TOMORROW,
    WorkKind.AUTHORISATION_ENDING, WorkKind.AUTHORISATION_UNITS_LOW, WorkKind.AUTHORISATION_PENDING,
    WorkKind.AUTHORISATION_DENIED,
)


class WorkItemQuerySet(models.QuerySet):
    def open(self) -> WorkItemQuerySet:
        return self.filter(closed_at__isnull=True)

    def visible(self, today: date) -> WorkItemQuerySet:
        """Open and not snoozed past ``today``."""
        return self.open().filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today))


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class WorkItem(models.Model):
    kind = models.CharField(max_length=24, choices=WorkKind.choices)
    # What the item is about, as a stable key ("course:12", "session:40",
    # "form:7", "message:88"): one open item per kind and subject.
    subject = models.CharField(max_length=40)
    urgency = models.PositiveSmallIntegerField(default=0)
    # Empty only for an item about no patient (a stock count to explain at a location).
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="work_items")
    course = models.ForeignKey("protocols.TreatmentCourse", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="work_items")
    session = models.ForeignKey(Session, on_delete=models.SET_NULL, null=True, blank=True, related_name="work_items")
    location = models.ForeignKey(Location, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="work_items")
    detail = models.TextField(blank=True)
    due_on = models.DateField(null=True, blank=True, help_text="The date that makes it urgent (window, deadline).")
    opened_at = models.DateTimeField(default=timezone.now)
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="work_items")
    snoozed_until = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    resolution = models.TextField(blank=True, help_text="A person's note, or why the system closed it.")

    objects = WorkItemQuerySet.as_manager()

    class Meta:
        ordering = ["urgency", "due_on", "opened_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "subject"], condition=Q(closed_at__isnull=True),
                                    name="one_open_item_per_kind_and_subject"),
        ]
        indexes = [
            models.Index(fields=["location", "urgency"], condition=Q(closed_at__isnull=True),
                         name="workitem_open_by_location"),
            # The list's own order: a page of open items is read in order and stops after the page.
            models.Index(fields=["urgency", "due_on", "opened_at", "id"], condition=Q(closed_at__isnull=True),
                         name="workitem_open_in_order"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.subject})"


class WorklistRefresh(models.Model):
    """A course whose worklist items a change made stale: one row per course however many changes.

    Marked in the change's own transaction, so a refresh is never lost with a
    broker; ``claimed_at`` is the lease of the task refreshing it (a task that
    died leaves a claim that runs out), and a new change clears it so the
    course is refreshed again after that task (``scheduling.worklist.refresh_queue``).
    """

    course = models.OneToOneField("protocols.TreatmentCourse", on_delete=models.CASCADE, primary_key=True,
                                  related_name="+")
    marked_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Worklist refresh of course {self.course_id}"
