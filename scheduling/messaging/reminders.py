"""Reminder texts, sent exactly once (the exactly-once invariant).

- Booking changes plan or void Reminder rows in the same transaction; one row
  per (session, kind, revision) under a unique constraint.
- The beat sweep claims due rows set-based (``FOR UPDATE SKIP LOCKED``,
  pending -> queued, TEXT_CLAIM_BATCH at a time) and enqueues a send task per
  row on commit.
- The send task claims the row again with a conditional UPDATE (queued ->
  sending) and does nothing when that fails, so a redelivered or duplicated
  task never sends twice.
- Never stale: the send checks the session and calls the provider holding
  the session's texts lock (``jobs.texts_of_session_held``); a cancel, move
  or no-show takes the same lock in its transaction before voiding what has
  not reached the provider, so a text goes before the change commits or not
  at all.
- ``provider_called_at`` is committed just before the provider is called: a
  worker that dies after that point leaves the reminder ``unknown`` for a
  person to check, never re-sent blindly.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinic.errors import Conflict
from scheduling.messaging import jobs
from scheduling.models import (
    KIND_PRIORITY,
    OPEN_REMINDER_STATES,
    Direction,
    MessagePurpose,
    OfferText,
    Outreach,
    Reminder,
    ReminderKind,
    ReminderPolicy,
    ReminderState,
    Session,
    SessionStatus,
    TextMessage,
)

logger = logging.getLogger(__name__)

# As the settings had them at start-up, for reports and the benchmark; the sweep reads the settings.
SWEEP_BATCH = settings.TEXT_CLAIM_BATCH
STUCK_AFTER = jobs.STUCK_AFTER
# What a cancel or move voids: whatever has not reached the provider (a send claimed but still checking
# gives way too: it holds no lock yet, and its call is refused once the row is void).
NOT_YET_SENT = Q(state__in=OPEN_REMINDER_STATES) | Q(state=ReminderState.SENDING, provider_called_at__isnull=True)


# --- planning ---------------------------------------------------------------------------------------


def quiet_period(policy: ReminderPolicy, zone, moment: datetime) -> tuple[datetime, datetime]:
    """The quiet period that contains ``moment`` (which must be in quiet hours): when it began (quiet_from,
    that day or the day before) and ends (quiet_until, that day or the next), in the site's zone."""
    local = moment.astimezone(zone)
    began_day = local.date() if local.time() >= policy.quiet_from else local.date() - timedelta(days=1)
    end_day = began_day + timedelta(days=1) if policy.quiet_from > policy.quiet_until else began_day
    return (datetime.combine(began_day, policy.quiet_from, tzinfo=zone),
            datetime.combine(end_day, policy.quiet_until, tzinfo=zone))


def _nearest_allowed(policy: ReminderPolicy, zone, wanted: datetime, latest: datetime) -> datetime | None:
    """``wanted`` if outside quiet hours, else the nearest allowed instant not after ``latest``, or None."""
    if not policy.in_quiet_hours(wanted.astimezone(zone).time()):
        return wanted if wanted <= latest else None
    quiet_began, quiet_ends = quiet_period(policy, zone, wanted)
    before = quiet_began - timedelta(minutes=1)
    candidates = [moment for moment in (before, quiet_ends) if moment <= latest]
    if not candidates:
        return None
    return min(candidates, key=lambda moment: abs((moment - wanted).total_seconds()))


def plan_send_time(policy: ReminderPolicy, session: Session, kind: str) -> datetime | None:
    """When a reminder of ``kind`` goes out for ``session``, or None when it cannot (skipped).

    The day-before time is the site's wall-clock time on the local day before
    (``datetime.combine`` in the site's zone), so it stays 17:00 across a change
    of summer time.
    """
    zone = session.location.zone
    latest = session.start - timedelta(minutes=policy.min_lead_minutes)
    if kind == ReminderKind.DAY_BEFORE:
        wanted = datetime.combine(session.local_date - timedelta(days=1), policy.day_before_at, tzinfo=zone)
    else:
        wanted = session.start - timedelta(hours=policy.same_day_hours_before)
    return _nearest_allowed(policy, zone, wanted, latest)


def kind_enabled(policy: ReminderPolicy, kind: str) -> bool:
    """Whether the site's policy sends reminders of ``kind`` at all."""
    return policy.day_before_enabled if kind == ReminderKind.DAY_BEFORE else policy.same_day_enabled


def planned_reminder(policy: ReminderPolicy, session: Session, kind: str, *, now: datetime,
                     late_reason: str) -> Reminder:
    """An unsaved reminder of ``kind`` for the session's revision: pending at its planned time, or skipped with
    the reason when no time outside quiet hours fits or the time has passed (``late_reason``)."""
    send_at = plan_send_time(policy, session, kind)
    state, reason = ReminderState.PENDING, ""
    if send_at is None:
        state, reason, send_at = ReminderState.SKIPPED, "no allowed time outside quiet hours", now
    elif send_at < now - timedelta(minutes=1):
        state, reason = ReminderState.SKIPPED, late_reason
    return Reminder(session=session, kind=kind, priority=KIND_PRIORITY[kind], send_at=send_at,
                    session_start=session.start, revision=session.revision, state=state, reason=reason)


def plan_reminders(session: Session, *, now: datetime | None = None) -> list[Reminder]:
    """Create this revision's reminders for a booked session (idempotent: existing rows are kept).

    A reminder whose time has already passed at booking (the patient booked
    after 17:00 for tomorrow) or that cannot fit outside quiet hours is
    recorded as skipped with the reason, so staff can see why none went out.
    """
    now = now or timezone.now()
    if session.location is None or session.status not in (SessionStatus.BOOKED, SessionStatus.CONFIRMED):
        return []
    policy = ReminderPolicy.for_location(session.location)
    rows = [planned_reminder(policy, session, kind, now=now, late_reason="booked after this reminder's time")
            for kind in (ReminderKind.DAY_BEFORE, ReminderKind.SAME_DAY) if kind_enabled(policy, kind)]
    return Reminder.objects.bulk_create(rows, ignore_conflicts=True)


def void_reminders(session: Session, *, reason: str, keep_revision: int | None = None) -> int:
    """Void the session's reminders that have not reached the provider (cancel, move, no-show).

    Inside the change's transaction, after waiting for a send of this session
    that is under way (``jobs.hold_texts_of_session``): that one has reached
    the provider and stays; any later send waits for this commit and then
    finds its row void or the session changed.
    """
    jobs.hold_texts_of_session(session.pk)
    rows = Reminder.objects.filter(NOT_YET_SENT, session=session)
    if keep_revision is not None:
        rows = rows.exclude(revision=keep_revision)
    return rows.update(state=ReminderState.VOID, reason=reason)


def void_patient_reminders(patient_id: int, *, reason: str) -> int:
    """Void every reminder of the patient that has not gone out (opt-out, consent withdrawn)."""
    return Reminder.objects.filter(session__patient_id=patient_id, state__in=OPEN_REMINDER_STATES).update(
        state=ReminderState.VOID, reason=reason)


def replan_patient_reminders(patient_id: int) -> int:
    """After consent is given again: plan reminders for the patient's upcoming sessions."""
    now = timezone.now()
    sessions = Session.objects.filter(patient_id=patient_id, start__gt=now,
                                      status__in=(SessionStatus.BOOKED, SessionStatus.CONFIRMED)
                                      ).select_related("location")
    Reminder.objects.filter(session__in=sessions, state=ReminderState.VOID,
                            reason__in=("patient opted out", "text consent withdrawn")).delete()
    return sum(len(plan_reminders(session, now=now)) for session in sessions)


def text_consent_changed(patient_id: int, can_receive_texts: bool) -> None:
    """Consent withdrawn (or number removed): void what has not gone out; consent given: plan again."""
    if can_receive_texts:
        replan_patient_reminders(patient_id)
    else:
        void_patient_reminders(patient_id, reason="text consent withdrawn")


def booking_changed(session: Session, *, change: str) -> None:
    """Keep reminders in step with a booking change; call inside the booking's transaction."""
    if change == "booked":
        plan_reminders(session)
    elif change == "moved":
        void_reminders(session, reason="session moved", keep_revision=session.revision)
        plan_reminders(session)
    else:
        void_reminders(session, reason=f"session {change}")


def turned_off_reason(kind: str) -> str:
    """The reason a reminder of ``kind`` is void because its site no longer sends that kind."""
    return f"{ReminderKind(kind).label.lower()} reminders turned off at the site"


# --- the sweep ---------------------------------------------------------------------------------------


def claim_due_reminders(*, now: datetime | None = None, limit: int | None = None) -> list[int]:
    """Claim due pending reminders (pending -> queued, TEXT_CLAIM_BATCH unless ``limit``) and return their ids;
    the sweep task publishes the sends."""
    return jobs.claim_due(Reminder, now=now or timezone.now(), limit=limit or settings.TEXT_CLAIM_BATCH,
                          order_by="priority DESC, send_at, id")


def reap_stuck_reminders(*, now: datetime | None = None) -> jobs.Reaped:
    """Recover reminders whose worker or enqueue was lost (``jobs.reap_stuck``); the reap task publishes their sends."""
    return jobs.reap_stuck(Reminder, now=now or timezone.now())


# --- sending -----------------------------------------------------------------------------------------


def claim_for_sending(reminder_id: int) -> bool:
    """queued -> sending; False when another worker has it or it is no longer queued."""
    return jobs.claim_for_sending(Reminder, reminder_id, now=timezone.now())


def render(template: str, session: Session) -> str:
    local = session.location.local(session.start)
    return template.format(
        clinic=settings.CLINIC_NAME, phone=settings.CLINIC_PHONE, location=session.location.name,
        day=f"{local:%A %B} {local.day}", date=f"{local:%b} {local.day}", time=local.strftime("%-I:%M %p"),
    )


def body_for(reminder: Reminder, policy: ReminderPolicy) -> str:
    template = policy.day_before_template if reminder.kind == ReminderKind.DAY_BEFORE else policy.same_day_template
    return render(template, reminder.session)


def cap_refusal(*, patient_id: int, policy: ReminderPolicy, zone, when: datetime, priority: int,
                exclude_reminder: int | None = None) -> str | None:
    """Why a text of ``priority`` may not go to the patient at ``when`` (daily / weekly cap), or None.

    Counts texts already sent, texts left ``unknown`` (the provider may well
    have delivered them: until a person settles one, it counts from the
    moment the provider was called), and higher-priority reminders still to
    come, so when a cap would be exceeded it is the lower-priority text that
    gives way. Days are the patient's local days at the session's location.
    One statement.
    """
    day = when.astimezone(zone).date()
    horizon_start = datetime.combine(day - timedelta(days=6), time(0), tzinfo=zone)
    horizon_end = datetime.combine(day + timedelta(days=7), time(0), tzinfo=zone)
    until = when + timedelta(seconds=1)
    unknown = {"state": ReminderState.UNKNOWN, "provider_called_at__gte": horizon_start,
               "provider_called_at__lt": until}
    sent = TextMessage.objects.filter(patient_id=patient_id, direction=Direction.OUTBOUND, counts_toward_caps=True,
                                      at__gte=horizon_start, at__lt=until).values_list("at", flat=True)
    maybe_sent = [
        Reminder.objects.filter(session__patient_id=patient_id, **unknown),
        Outreach.objects.filter(patient_id=patient_id, **unknown),
        OfferText.objects.filter(offer__patient_id=patient_id, **unknown),
    ]
    planned = Reminder.objects.filter(
        session__patient_id=patient_id, state__in=OPEN_REMINDER_STATES, priority__gt=priority,
        send_at__gte=when, send_at__lt=horizon_end).exclude(pk=exclude_reminder).values_list("send_at", flat=True)
    moments = sent.union(*(rows.values_list("provider_called_at", flat=True) for rows in maybe_sent), planned,
                         all=True)
    days = [at.astimezone(zone).date() for at in moments]
    if sum(1 for other in days if other == day) + 1 > policy.daily_cap:
        return f"daily cap of {policy.daily_cap} text{'' if policy.daily_cap == 1 else 's'} reached"
    for start in (day - timedelta(days=offset) for offset in range(7)):
        window = [other for other in days if start <= other <= start + timedelta(days=6)]
        if len(window) + 1 > policy.weekly_cap:
            return f"weekly cap of {policy.weekly_cap} text{'' if policy.weekly_cap == 1 else 's'} reached"
    return None


def _why_not_send(reminder: Reminder, session: Session, policy: ReminderPolicy, now: datetime) -> tuple[str, str]:
    """(state, reason) when the reminder must not go out now, else ("", "")."""
    if session.status in (SessionStatus.CANCELLED, SessionStatus.NO_SHOW):
        return ReminderState.VOID, f"session {session.status}"
    if session.revision != reminder.revision or session.start != reminder.session_start:
        return ReminderState.VOID, "session moved"
    if session.status not in (SessionStatus.BOOKED, SessionStatus.CONFIRMED):
        return ReminderState.SKIPPED, "the patient has already arrived"
    if not kind_enabled(policy, reminder.kind):
        # Claimed before the site turned this kind off (``policy_changes`` voids only pending rows).
        return ReminderState.VOID, turned_off_reason(reminder.kind)
    if session.start - now < timedelta(minutes=policy.min_lead_minutes):
        return ReminderState.SKIPPED, f"too late: the visit is less than {policy.min_lead_minutes} minutes away"
    patient = session.patient
    state, reason = jobs.patient_refusal(patient)
    if state:
        return state, reason
    if policy.in_quiet_hours(now.astimezone(session.location.zone).time()):
        return ReminderState.SKIPPED, "it is quiet hours at the patient's clinic"
    refusal = cap_refusal(patient_id=patient.pk, policy=policy, zone=session.location.zone, when=now,
                          priority=reminder.priority, exclude_reminder=reminder.pk)
    if refusal:
        return ReminderState.SKIPPED, refusal
    return "", ""


# The delivery-status webhook's path (``reverse("sms-status")``), written out: reversing it loads the whole URL
# tree, every page and API view with matplotlib, reportlab and the FHIR models, which costs each worker process
# over a second of CPU on its first send after every start. A test keeps the two the same.
STATUS_CALLBACK_PATH = "/api/sms/status/"


def status_callback_url() -> str | None:
    if not settings.PUBLIC_BASE_URL:
        return None
    return settings.PUBLIC_BASE_URL.rstrip("/") + STATUS_CALLBACK_PATH


def _check_and_call(reminder_id: int, now: datetime):
    """Under the session's texts lock: re-read, check, and call the provider; (state, result, session, body)."""
    reminder = Reminder.objects.select_related("session__patient", "session__location__reminder_policy").get(
        pk=reminder_id)
    if reminder.state != ReminderState.SENDING:
        return reminder.state, None, None, ""
    session = reminder.session
    policy = ReminderPolicy.for_location(session.location)
    state, reason = _why_not_send(reminder, session, policy, now)
    if state:
        jobs.set_state(Reminder, reminder_id, state, reason=reason)
        return state, None, None, ""
    body = body_for(reminder, policy)
    state, result = jobs.call_provider(Reminder, reminder_id, attempts=reminder.attempts,
                                       phone=session.patient.phone, text=body, now=now,
                                       status_callback=status_callback_url(), body=body)
    return state, result, session, body


def deliver_reminder(reminder_id: int, *, now: datetime | None = None) -> str:
    """Send one claimed (``sending``) reminder and record the outcome; returns the final state.

    The check that the visit still stands and the provider's call happen
    holding the session's texts lock; the outcome is recorded after letting
    go (recording waits on a cancel that holds the session row, and the
    cancel waits on the lock).
    """
    now = now or timezone.now()
    session_id = Reminder.objects.values_list("session_id", flat=True).get(pk=reminder_id)
    with jobs.texts_of_session_held(session_id):
        state, result, session, body = _check_and_call(reminder_id, now)
    if result is None:
        return state
    with transaction.atomic():
        jobs.set_state(Reminder, reminder_id, ReminderState.SENT, provider_id=result.provider_id, sent_at=now,
                            reason="")
        TextMessage.objects.create(patient=session.patient, direction=Direction.OUTBOUND,
                                   purpose=MessagePurpose.REMINDER, counts_toward_caps=True,
                                   phone=session.patient.phone, body=body, provider_id=result.provider_id,
                                   delivery_status=result.status, reminder_id=reminder_id, session=session, at=now)
    return ReminderState.SENT


def send_claimed(reminder_id: int) -> str | None:
    """The send task's body: claim (queued -> sending) and deliver; None when the claim fails."""
    if not claim_for_sending(reminder_id):
        return None
    if not jobs.wait_turn(Reminder, reminder_id, now=timezone.now()):
        return ReminderState.PENDING
    return deliver_reminder(reminder_id)


# --- settling an unknown send ------------------------------------------------------------------------

SENT, NOT_SENT = "sent", "not_sent"


@transaction.atomic
def resolve_unknown_reminder(*, by, reminder: Reminder, outcome: str, note: str,
                             now: datetime | None = None) -> Reminder:
    """Record what the provider's console showed for an ``unknown`` reminder.

    ``sent``: the reminder becomes sent and its text is logged (it counts
    toward the caps). ``not_sent``: it becomes failed with the note; a person
    may book another reminder. Refuses with 409 ``invalid_state`` unless the
    reminder is ``unknown`` (under a row lock, so two people cannot both settle it).
    """
    now = now or timezone.now()
    locked = Reminder.objects.select_for_update(of=("self",)).select_related("session__patient").get(pk=reminder.pk)
    if locked.state != ReminderState.UNKNOWN:
        raise Conflict(f"Only a reminder whose outcome is unknown can be settled; this one is {locked.state}.",
                       code="invalid_state", extra={"state": locked.state})
    who = by.get_username()
    note = note.strip()
    if outcome == SENT:
        session, patient = locked.session, locked.session.patient
        locked.state, locked.sent_at = ReminderState.SENT, locked.provider_called_at or now
        locked.reason = f"marked sent by {who}: {note}"[:300]
        taken = bool(locked.provider_id) and TextMessage.objects.filter(
            provider_id=locked.provider_id, direction=Direction.OUTBOUND).exists()
        TextMessage.objects.create(
            patient=patient, direction=Direction.OUTBOUND, purpose=MessagePurpose.REMINDER, counts_toward_caps=True,
            phone=patient.phone, body=locked.body, provider_id="" if taken else locked.provider_id,
            delivery_status="sent", reminder=locked, session=session, at=locked.sent_at)
    else:
        locked.state = ReminderState.FAILED
        locked.reason = f"not sent (checked by {who}): {note}"[:300]
    locked.save(update_fields=["state", "sent_at", "reason", "updated_at"])
    return locked
