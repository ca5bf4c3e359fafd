"""A site's reminder policy saved, and the reminders already planned under it brought in step.

``save_reminder_policy`` is the one way a policy is stored (the manager's page, its restore, the
Django admin): in the same transaction the site's reminders still waiting (``pending``) for its
future sessions are planned again under the new policy:

- a kind turned off: its pending reminders become ``void`` (so they never go);
- a kind still on: the send time is recomputed (``reminders.plan_send_time``: the site's local
  wall-clock time, whatever summer time does); one whose new time has already passed goes as
  soon as quiet hours allow, or is skipped when nothing fits before the last-minute limit;
- a kind turned on: the sessions without one get it (a row this service voided comes back).

Rows a sweep has claimed (``queued``, ``sending``) or that went (``sent``, ``unknown``...) belong to
``messaging.jobs`` and are never touched; a claimed reminder of a kind turned off is stopped by the
send itself (``reminders._why_not_send``), and this service waits for a send of such a session that
is under way (``jobs.hold_texts_of_session``), so that text goes before the change commits or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from scheduling.messaging import jobs
from scheduling.messaging.reminders import (
    kind_enabled,
    plan_send_time,
    planned_reminder,
    quiet_period,
    turned_off_reason,
)
from scheduling.models import (
    Reminder,
    ReminderKind,
    ReminderPolicy,
    ReminderState,
    Session,
    SessionStatus,
)

KINDS = (ReminderKind.DAY_BEFORE, ReminderKind.SAME_DAY)


@dataclass(frozen=True)
class Replanned:
    """What a policy change did to the reminders already planned at its site."""

    voided: int = 0  # pending reminders of a kind turned off
    moved: int = 0  # pending reminders given a new send time
    created: int = 0  # reminders planned for a kind turned on (skipped ones included)
    skipped: int = 0  # pending reminders for which the new policy leaves no time


@transaction.atomic
def save_reminder_policy(*, policy: ReminderPolicy, now: datetime | None = None) -> Replanned:
    """Store ``policy`` (validated by the caller: a form's or ``full_clean``) and re-plan its site's pending
    reminders under it, in one transaction (see the module docstring)."""
    policy.save()
    return replan_site_reminders(policy=policy, now=now)


def _soonest_allowed(policy: ReminderPolicy, zone, now: datetime, latest: datetime) -> datetime | None:
    """``now``, or the end of the quiet hours it is in; None when that is after ``latest``."""
    moment = now
    if policy.in_quiet_hours(now.astimezone(zone).time()):
        moment = quiet_period(policy, zone, now)[1]
    return moment if moment <= latest else None


def _new_send_time(policy: ReminderPolicy, reminder: Reminder, now: datetime) -> datetime | None:
    """When a pending reminder goes under ``policy``: its unchanged time, a new one, or None (nothing fits)."""
    session = reminder.session
    planned = plan_send_time(policy, session, reminder.kind)
    if planned is None or planned >= now:
        return planned
    if reminder.send_at <= now:
        return reminder.send_at  # already due under the old policy too: the sweep takes it as it is
    # The new time has passed (17:00 moved to 12:00 at 14:00 the day before): send as soon as allowed.
    return _soonest_allowed(policy, session.location.zone, now,
                            session.start - timedelta(minutes=policy.min_lead_minutes))


def _future_sessions(policy: ReminderPolicy, now: datetime):
    return Session.objects.filter(location_id=policy.location_id, start__gt=now,
                                  status__in=(SessionStatus.BOOKED, SessionStatus.CONFIRMED))


def _hold_claimed_sends(policy: ReminderPolicy, now: datetime, kinds_off: list[str]) -> None:
    """Wait for each send under way of a kind turned off, and keep its session's texts until this commits; in
    session order, so two changes never wait on each other."""
    claimed = Reminder.objects.filter(
        Q(state=ReminderState.QUEUED) | Q(state=ReminderState.SENDING, provider_called_at__isnull=True),
        session__in=_future_sessions(policy, now), kind__in=kinds_off)
    for session_id in sorted(set(claimed.values_list("session_id", flat=True))):
        jobs.hold_texts_of_session(session_id)


def replan_site_reminders(*, policy: ReminderPolicy, now: datetime | None = None) -> Replanned:
    """Bring the pending reminders of the site's future sessions in step with ``policy``; call inside the
    transaction that saves it. Set-based where it can be: one UPDATE voids, one bulk UPDATE moves, one
    INSERT creates, whatever the number of sessions."""
    now = now or timezone.now()
    kinds_off = [kind for kind in KINDS if not kind_enabled(policy, kind)]
    kinds_on = [kind for kind in KINDS if kind_enabled(policy, kind)]
    current = Q(revision=F("session__revision"), session__in=_future_sessions(policy, now))
    if kinds_off:
        _hold_claimed_sends(policy, now, kinds_off)
    # Locked so the sweep (FOR UPDATE SKIP LOCKED) passes them by until this commits; one it claimed meanwhile
    # is no longer pending when the lock is granted, and is left to its send.
    pending = list(Reminder.objects.select_for_update(of=("self",)).select_related("session__location")
                   .filter(current, state=ReminderState.PENDING).order_by("id"))
    voided = 0
    for kind in kinds_off:
        voided += Reminder.objects.filter(pk__in=[row.pk for row in pending if row.kind == kind]).update(
            state=ReminderState.VOID, reason=turned_off_reason(kind))
    moved, skipped = [], []
    # A row retried after a provider error (attempts) keeps its back-off; only its kind being off stops it.
    for reminder in (row for row in pending if row.kind in kinds_on and row.attempts == 0):
        send_at = _new_send_time(policy, reminder, now)
        if send_at is None:
            reminder.state, reminder.reason = ReminderState.SKIPPED, "no allowed time under the site's new policy"
            skipped.append(reminder)
        elif send_at != reminder.send_at:
            reminder.send_at = send_at
            moved.append(reminder)
    Reminder.objects.bulk_update(moved, ["send_at"])
    Reminder.objects.bulk_update(skipped, ["state", "reason"])
    return Replanned(voided=voided, moved=len(moved), skipped=len(skipped),
                     created=sum(_plan_turned_on(policy, kind, now) for kind in kinds_on))


def _plan_turned_on(policy: ReminderPolicy, kind: str, now: datetime) -> int:
    """Plan ``kind`` for the site's future sessions that lack it: a new row, or the one this service voided
    when the kind was turned off, planned again (one row per session, kind and revision; its history keeps
    the void). Sessions whose reminder of this kind went, was claimed or was skipped for another reason keep it."""
    voided_here = Reminder.objects.filter(kind=kind, state=ReminderState.VOID, reason=turned_off_reason(kind),
                                          revision=F("session__revision"))
    has_row = Reminder.objects.filter(session=OuterRef("pk"), kind=kind, revision=OuterRef("revision"))
    sessions = list(_future_sessions(policy, now).select_related("location")
                    .filter(Q(Exists(voided_here.filter(session=OuterRef("pk")))) | ~Q(Exists(has_row))))
    if not sessions:
        return 0
    late = f"the {ReminderKind(kind).label.lower()} reminder was turned on after its time"
    revived = {row.session_id: row for row in voided_here.select_for_update(of=("self",))
               .filter(session__in=[session.pk for session in sessions])}
    new, again = [], []
    for session in sessions:
        plan = planned_reminder(policy, session, kind, now=now, late_reason=late)
        row = revived.get(session.pk)
        if row is None:
            new.append(plan)
            continue
        row.state, row.reason, row.send_at = plan.state, plan.reason, plan.send_at
        row.session_start, row.attempts, row.claimed_at = plan.session_start, 0, None
        again.append(row)
    Reminder.objects.bulk_update(again, ["state", "reason", "send_at", "session_start", "attempts", "claimed_at"])
    return len(again) + len(Reminder.objects.bulk_create(new, ignore_conflicts=True))
