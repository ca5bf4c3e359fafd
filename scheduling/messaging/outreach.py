"""Due-visit outreach texts, sent exactly once, the way reminders are (the exactly-once invariant).

- The worklist sweep plans an ``Outreach`` row for a patient whose next
  visit is due and not booked, at most once a week (``scheduling.worklist``).
- The beat sweep claims due rows set-based (``FOR UPDATE SKIP LOCKED``,
  pending -> queued) and enqueues a send task per row on commit.
- The send task claims the row again with a conditional UPDATE (queued ->
  sending) and does nothing when that fails; it re-checks that the visit is
  still due and unbooked and that the patient may be texted now.
- ``provider_called_at`` is committed just before the provider is called: a
  worker that dies after that point leaves the outreach ``unknown`` for a
  person to check, never re-sent blindly.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from protocols import due
from protocols.models import CourseStatus
from scheduling.messaging import jobs
from scheduling.messaging.reminders import cap_refusal, status_callback_url
from scheduling.models import (
    OUTREACH_PRIORITY,
    Direction,
    MessagePurpose,
    Outreach,
    ReminderPolicy,
    ReminderState,
    TextMessage,
)
from scheduling.worklist.course_views import course_view
from scheduling.worklist.sweep import next_allowed_send, outreach_due

logger = logging.getLogger(__name__)


def render_outreach(template: str, *, location, due_on: date | None) -> str:
    """The outreach text: clinic name and phone (the template may also name the site and the due date)."""
    day = f"{due_on:%A %B} {due_on.day}" if due_on else ""
    return template.format(clinic=settings.CLINIC_NAME, phone=settings.CLINIC_PHONE, location=location.name,
                           day=day, date=f"{due_on:%b} {due_on.day}" if due_on else "", time="")


# --- the sweep ---------------------------------------------------------------------------------------


def claim_due_outreach(*, now: datetime | None = None, limit: int | None = None) -> list[int]:
    """Claim due pending outreach (pending -> queued, TEXT_CLAIM_BATCH unless ``limit``) and return their ids;
    the sweep task publishes the sends."""
    return jobs.claim_due(Outreach, now=now or timezone.now(), limit=limit or settings.TEXT_CLAIM_BATCH,
                          order_by="send_at, id")


def reap_stuck_outreach(*, now: datetime | None = None) -> jobs.Reaped:
    """Recover outreach whose worker or enqueue was lost (``jobs.reap_stuck``); the reap task publishes their sends."""
    return jobs.reap_stuck(Outreach, now=now or timezone.now())


# --- sending -----------------------------------------------------------------------------------------


def _set_state(outreach_id: int, state: str, **fields) -> None:
    jobs.set_state(Outreach, outreach_id, state, **fields)


def claim_for_sending(outreach_id: int) -> bool:
    """queued -> sending; False when another worker has it or it is no longer queued."""
    return jobs.claim_for_sending(Outreach, outreach_id, now=timezone.now())


def _why_not_send(outreach: Outreach, view, policy: ReminderPolicy, now: datetime) -> tuple[str, str]:
    """(state, reason) when the text must not go out now, else ("", "")."""
    course, patient = outreach.course, outreach.patient
    if course.status != CourseStatus.ACTIVE:
        return ReminderState.VOID, f"the course is {course.get_status_display().lower()}"
    if patient.is_archived:
        return ReminderState.VOID, "the patient's record is archived"
    if view.booked:
        return ReminderState.VOID, "a session is booked"
    if view.timing == due.Timing.LAPSED:
        return ReminderState.VOID, "the course lapsed: a clinician reviews it before it resumes"
    if not outreach_due(view):
        return ReminderState.VOID, "the next visit is not due yet"
    state, reason = jobs.patient_refusal(patient)
    if state:
        return state, reason
    if view.location is None:
        return ReminderState.SKIPPED, "the course has no location to text from"
    refusal = cap_refusal(patient_id=patient.pk, policy=policy, zone=view.location.zone, when=now,
                          priority=OUTREACH_PRIORITY)
    if refusal:
        return ReminderState.SKIPPED, refusal
    return "", ""


def deliver_outreach(outreach_id: int, *, now: datetime | None = None) -> str:
    """Send one claimed (``sending``) outreach text and record the outcome; returns the final state."""
    now = now or timezone.now()
    outreach = Outreach.objects.select_related("patient", "course__protocol").get(pk=outreach_id)
    if outreach.state != ReminderState.SENDING:
        return outreach.state
    view = course_view(outreach.course, now=now)
    policy = ReminderPolicy.for_location(view.location) if view.location else ReminderPolicy()
    state, reason = _why_not_send(outreach, view, policy, now)
    if state:
        _set_state(outreach_id, state, reason=reason)
        return state
    zone = view.location.zone
    if policy.in_quiet_hours(now.astimezone(zone).time()):
        # Late (the workers were down): wait for the morning rather than text at night.
        # Not counted as a try, so the provider's retries stay intact.
        _set_state(outreach_id, ReminderState.PENDING, send_at=next_allowed_send(policy, zone, now),
                   attempts=F("attempts") - 1, reason="moved out of the clinic's quiet hours")
        return ReminderState.PENDING
    window = view.window
    body = render_outreach(policy.outreach_template, location=view.location,
                           due_on=window.target if window else None)
    patient = outreach.patient
    state, result = jobs.call_provider(Outreach, outreach_id, attempts=outreach.attempts, phone=patient.phone,
                                            text=body, now=now, status_callback=status_callback_url())
    if result is None:
        return state
    with transaction.atomic():
        _set_state(outreach_id, ReminderState.SENT, provider_id=result.provider_id, sent_at=now, reason="")
        TextMessage.objects.create(patient=patient, direction=Direction.OUTBOUND, purpose=MessagePurpose.OUTREACH,
                                   counts_toward_caps=True, phone=patient.phone, body=body,
                                   provider_id=result.provider_id, delivery_status=result.status, at=now)
    return ReminderState.SENT


def send_claimed(outreach_id: int) -> str | None:
    """The send task's body: claim (queued -> sending) and deliver; None when the claim fails."""
    if not claim_for_sending(outreach_id):
        return None
    if not jobs.wait_turn(Outreach, outreach_id, now=timezone.now()):
        return ReminderState.PENDING
    return deliver_outreach(outreach_id)
