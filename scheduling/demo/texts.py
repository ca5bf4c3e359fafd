"""The demo's last week of texts: the reminders the sweep would have sent, and the patients' replies.

Every visit of the last seven days and every visit booked ahead gets the reminders its
site's policy plans (``reminders.plan_send_time``: the day before at 17:00, on the day two
hours before, never in quiet hours). Those whose time has passed are settled in time
order with the same rules the send task applies at that moment (consent, the daily and
weekly caps, the visit still standing): sent, with the text in the patient's history
and in the outbox (the demo's phones), or skipped with the reason. Nothing goes to a
provider: this is history. Some patients answered C (confirmed); one patient with a
visit booked answered R and waits for the desk to find a new time. A cancelled visit
was cancelled before any of its reminders, so it has none.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db.models import F

from clinic.models import OutboxMessage
from scheduling.messaging import inbound, jobs, reminders
from scheduling.messaging.outbox import simulated_provider_id
from scheduling.models import (
    KIND_PRIORITY,
    UPCOMING_STATUSES,
    Direction,
    MessagePurpose,
    Reminder,
    ReminderKind,
    ReminderPolicy,
    ReminderState,
    Session,
    SessionStatus,
    TextMessage,
)

HISTORY_DAYS = 7
# Patients whose id leaves this remainder by 3 confirm by text twenty minutes after the day-before reminder.
CONFIRMING = 0
REPLY_AFTER = timedelta(minutes=20)


def _plan_history(now: datetime) -> None:
    """The reminder rows of the last week's visits (visits booked ahead got theirs from the booking)."""
    rows = []
    sessions = (Session.objects.filter(start__gte=now - timedelta(days=HISTORY_DAYS), start__lte=now + timedelta(
        hours=3), location__isnull=False).exclude(status=SessionStatus.CANCELLED)
                .exclude(reminders__isnull=False).select_related("location"))
    for session in sessions:
        policy = ReminderPolicy.for_location(session.location)
        for kind in (ReminderKind.DAY_BEFORE, ReminderKind.SAME_DAY):
            send_at = reminders.plan_send_time(policy, session, kind)
            if send_at is None or send_at < session.booked_at:
                continue
            rows.append(Reminder(session=session, kind=kind, priority=KIND_PRIORITY[kind], send_at=send_at,
                                 session_start=session.start, revision=session.revision,
                                 state=ReminderState.PENDING, created_at=session.booked_at))
    Reminder.objects.bulk_create(rows)


def _due_reminders(now: datetime) -> list[Reminder]:
    """Reminders whose time has come, in time order: pending ones, and those the booking marked as past
    (the demo's bookings are dated at the previous visit, before these reminders' times)."""
    Reminder.objects.filter(state=ReminderState.SKIPPED, reason="booked after this reminder's time",
                            send_at__lte=now, send_at__gte=F("session__booked_at")).update(
        state=ReminderState.PENDING, reason="")
    return list(Reminder.objects.filter(state=ReminderState.PENDING, send_at__lte=now)
                .select_related("session__patient", "session__location").order_by("send_at", "id"))


def _send_as_then(reminder: Reminder, now: datetime) -> TextMessage | None:
    """Settle one reminder at its own time with the send task's rules; the text when it went out."""
    session, at = reminder.session, reminder.send_at
    policy = ReminderPolicy.for_location(session.location)
    patient = session.patient
    state, reason = jobs.patient_refusal(patient)
    if not state:
        refusal = reminders.cap_refusal(patient_id=patient.pk, policy=policy, zone=session.location.zone, when=at,
                                        priority=reminder.priority, exclude_reminder=reminder.pk)
        state, reason = (ReminderState.SKIPPED, refusal) if refusal else ("", "")
    if state:
        Reminder.objects.filter(pk=reminder.pk).update(state=state, reason=reason)
        return None
    body = jobs.checked_text(reminders.body_for(reminder, policy))
    provider_id = f"OB{uuid.uuid4().hex[:30]}"
    OutboxMessage.objects.create(to=patient.phone, body=body, provider_id=provider_id, created_at=at)
    Reminder.objects.filter(pk=reminder.pk).update(state=ReminderState.SENT, claimed_at=at, provider_called_at=at,
                                                   sent_at=at, provider_id=provider_id, body=body, attempts=1)
    return TextMessage.objects.create(patient=patient, direction=Direction.OUTBOUND, purpose=MessagePurpose.REMINDER,
                                      counts_toward_caps=True, phone=patient.phone, body=body,
                                      provider_id=provider_id, delivery_status="delivered", reminder=reminder,
                                      session=session, at=at)


def _confirm(text: TextMessage, now: datetime) -> None:
    """The patient answered C: through the real reply handling for a visit still ahead, else as it was then."""
    at, session = text.at + REPLY_AFTER, text.session
    if at > now:
        return
    if session.start > now and session.status in UPCOMING_STATUSES:
        inbound.handle_inbound(from_phone=text.phone, to_phone="", body="C", provider_id=simulated_provider_id(),
                               now=at)
        return
    TextMessage.objects.create(patient=text.patient, direction=Direction.INBOUND, purpose=MessagePurpose.REPLY,
                               phone=text.phone, body="C", provider_id=simulated_provider_id(),
                               delivery_status="received", session=session, at=at)
    Session.objects.filter(pk=session.pk).update(confirmed_at=at)


def write_text_history(now: datetime, *, asking_for_new_time=None) -> int:
    """Write the last week's texts; ``asking_for_new_time`` (a course) has a patient who replied R.

    Returns the number of reminder texts sent.
    """
    _plan_history(now)
    sent = [text for text in (_send_as_then(reminder, now) for reminder in _due_reminders(now)) if text]
    asking = asking_for_new_time.patient_id if asking_for_new_time is not None else None
    for text in sent:
        if text.reminder.kind == ReminderKind.DAY_BEFORE and text.patient_id % 3 == CONFIRMING \
                and text.patient_id != asking:
            _confirm(text, now)
    if asking_for_new_time is not None:
        _ask_for_new_time(asking_for_new_time, sent, now)
    return len(sent)


def _ask_for_new_time(course, sent: list[TextMessage], now: datetime) -> None:
    """R to the reminder of the course's next visit, or (none sent yet) on the patient's own an hour ago."""
    upcoming = (Session.objects.filter(course=course, status__in=UPCOMING_STATUSES, start__gt=now)
                .select_related("patient").order_by("start").first())
    if upcoming is None:
        return
    reminded = [text.at for text in sent if text.session_id == upcoming.pk]
    at = reminded[-1] + timedelta(minutes=25) if reminded else max(now - timedelta(hours=1), upcoming.booked_at)
    if at > now:
        return
    inbound.handle_inbound(from_phone=upcoming.patient.phone, to_phone="", body="R",
                           provider_id=simulated_provider_id(), now=at)
