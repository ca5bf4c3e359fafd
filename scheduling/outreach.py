"""Due-visit outreach texts, sent exactly once, the way reminders are (DESIGN.md invariant 4).

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
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from clinic import sms
from protocols import due
from protocols.models import CourseStatus
from scheduling.models import (
    OUTREACH_PRIORITY,
    Direction,
    MessagePurpose,
    Outreach,
    ReminderPolicy,
    ReminderState,
    TextMessage,
    forbidden_words_in,
)
from scheduling.reminders import MAX_ATTEMPTS, STUCK_AFTER, SWEEP_BATCH, cap_refusal, status_callback_url
from scheduling.worklist import course_view, next_allowed_send

logger = logging.getLogger(__name__)


def render_outreach(template: str, *, location, due_on: date | None) -> str:
    """The outreach text: clinic name and phone (the template may also name the site and the due date)."""
    day = f"{due_on:%A %B} {due_on.day}" if due_on else ""
    return template.format(clinic=settings.CLINIC_NAME, phone=settings.CLINIC_PHONE, location=location.name,
                           day=day, date=f"{due_on:%b} {due_on.day}" if due_on else "", time="")


# --- the sweep ---------------------------------------------------------------------------------------


def claim_due_outreach(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> list[int]:
    """Claim due pending outreach (pending -> queued) and enqueue their sends when this commits.

    ``SKIP LOCKED`` lets two sweeps run at once without waiting on or
    double-claiming each other's rows; each row is claimed by exactly one.
    """
    now = now or timezone.now()
    table = Outreach._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {table} SET state = %s, claimed_at = %s
                WHERE id IN (
                    SELECT id FROM {table}
                    WHERE state = %s AND send_at <= %s
                    ORDER BY send_at, id
                    LIMIT %s
                    FOR UPDATE SKIP LOCKED
                )
                RETURNING id
                """,
                [ReminderState.QUEUED, now, ReminderState.PENDING, now, limit],
            )
            ids = [row[0] for row in cursor.fetchall()]
        _enqueue_on_commit(ids)
    return ids


def _enqueue_on_commit(ids: list[int]) -> None:
    from scheduling.tasks import send_outreach_task

    for outreach_id in ids:
        # robust: a broker that is down must not undo the claim; the reaper re-enqueues.
        transaction.on_commit(lambda oid=outreach_id: send_outreach_task.delay(oid), robust=True)


def reap_stuck_outreach(*, now: datetime | None = None) -> dict[str, int]:
    """Recover outreach whose worker or enqueue was lost (the rules of ``reminders.reap_stuck_reminders``).

    - ``sending`` with no provider call recorded: back to ``queued``, enqueued again.
    - ``sending`` after the provider was called: ``unknown``, for a person to check.
    - ``queued`` for too long (the broker was down): enqueued again; the send
      task's conditional claim makes a duplicate enqueue harmless.
    """
    now = now or timezone.now()
    cutoff = now - STUCK_AFTER
    with transaction.atomic():
        unknown = Outreach.objects.filter(state=ReminderState.SENDING, claimed_at__lt=cutoff,
                                          provider_called_at__isnull=False).update(
            state=ReminderState.UNKNOWN, reason="the worker stopped while the provider was being called; "
                                               "check the provider before sending again")
        requeue = list(Outreach.objects.filter(state=ReminderState.SENDING, claimed_at__lt=cutoff,
                                               provider_called_at__isnull=True).values_list("id", flat=True))
        Outreach.objects.filter(id__in=requeue, state=ReminderState.SENDING).update(
            state=ReminderState.QUEUED, claimed_at=now)
        stale_queued = list(Outreach.objects.filter(state=ReminderState.QUEUED, claimed_at__lt=cutoff)
                            .values_list("id", flat=True))
        Outreach.objects.filter(id__in=stale_queued).update(claimed_at=now)
        _enqueue_on_commit(requeue + stale_queued)
    return {"unknown": unknown, "requeued": len(requeue), "re_enqueued": len(stale_queued)}


# --- sending -----------------------------------------------------------------------------------------


def _set_state(outreach_id: int, state: str, **fields) -> None:
    # Only from `sending`: a row a person or the reaper already moved on is left alone.
    Outreach.objects.filter(pk=outreach_id, state=ReminderState.SENDING).update(state=state, **fields)


def claim_for_sending(outreach_id: int) -> bool:
    """queued -> sending; False when another worker has it or it is no longer queued."""
    return bool(Outreach.objects.filter(pk=outreach_id, state=ReminderState.QUEUED).update(
        state=ReminderState.SENDING, attempts=F("attempts") + 1, claimed_at=timezone.now()))


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
    if not view.wants_outreach:
        return ReminderState.VOID, "the next visit is not due yet"
    if patient.sms_opted_out_at is not None:
        return ReminderState.FAILED, "the patient opted out of texts"
    if not patient.phone:
        return ReminderState.FAILED, "no mobile number on file"
    if not patient.sms_consent:
        return ReminderState.SKIPPED, "no text-message consent recorded"
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
    if forbidden_words_in(body):
        # Templates are checked when saved; this guards against one that slipped past.
        _set_state(outreach_id, ReminderState.FAILED, reason="the template names a treatment or diagnosis")
        return ReminderState.FAILED
    patient = outreach.patient
    # Committed before the call: from here on a crash means "maybe sent".
    Outreach.objects.filter(pk=outreach_id, state=ReminderState.SENDING).update(provider_called_at=now)
    try:
        result = sms.get_backend().send(to=patient.phone, body=body, status_callback=status_callback_url())
    except sms.SmsTimeout as exc:
        _set_state(outreach_id, ReminderState.UNKNOWN,
                   reason=f"{exc}; check the provider before sending again"[-300:])
        return ReminderState.UNKNOWN
    except sms.PermanentSmsError as exc:
        _set_state(outreach_id, ReminderState.FAILED, reason=str(exc)[:300])
        return ReminderState.FAILED
    except sms.TransientSmsError as exc:
        if outreach.attempts >= MAX_ATTEMPTS:
            _set_state(outreach_id, ReminderState.FAILED,
                       reason=f"gave up after {outreach.attempts} tries: {exc}"[:300])
            return ReminderState.FAILED
        # Nothing left the building: back to pending, a little later each time.
        retry_at = now + timedelta(minutes=2 ** (outreach.attempts - 1))
        _set_state(outreach_id, ReminderState.PENDING, send_at=retry_at, provider_called_at=None,
                   reason=f"retrying: {exc}"[:300])
        return ReminderState.PENDING
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
    return deliver_outreach(outreach_id)
