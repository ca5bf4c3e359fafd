"""The exactly-once machinery shared by reminders and due-visit outreach.

A text job is a row with ``state``, ``send_at``, ``attempts``, ``claimed_at``
and ``provider_called_at``:

- the sweep claims due rows set-based (pending -> queued, ``FOR UPDATE SKIP
  LOCKED``); the sweep task publishes one send task per claimed id;
- a send task claims its row again (queued -> sending) with a conditional
  UPDATE and does nothing when that fails, so a duplicated or redelivered
  task never sends twice;
- ``provider_called_at`` is committed just before the provider is called, so
  a worker that dies afterwards leaves the row ``unknown`` for a person,
  never re-sent blindly;
- every claim (queued or sending) carries ``claimed_at``; one older than the
  lease (``lease()``: shortly after the send task's time limit) belongs to a
  worker that died or a publish that was lost. The reaper returns such rows
  whose provider was not called to ``queued`` and the reap task publishes
  their sends again, with those whose enqueue was lost;
- a send takes its turn on the provider's rate (``wait_turn``) before it is
  delivered, so all workers together keep to the sender's rate.

Every text of every kind leaves through ``send_text``, which checks the final
text with ``checked_text``: one that names a treatment or diagnosis (from a
location's name, ``CLINIC_NAME`` or a template) is never sent
(docs/DOMAIN.md "Reminder texts"; a test keeps other modules from calling the
provider themselves).
"""

from __future__ import annotations

import logging
import random
import time as clock
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, models, transaction
from django.db.models import F

from clinic import sms
from clinic.texts import forbidden_words_in
from scheduling.models import ReminderState, SmsSendSlot

logger = logging.getLogger(__name__)

# The advisory-lock key space of "the texts of session N" (``texts_of_session_held``): N in the low 32 bits.
_SESSION_TEXTS_LOCK = 0x5458 << 32  # "TX"


def lease() -> timedelta:
    """How long a claim (queued or sending) is good for: shortly after the send task's time limit, so a claim
    older than this belongs to a worker that died or to a lost enqueue (TEXT_CLAIM_LEASE_SECONDS)."""
    return timedelta(seconds=settings.TEXT_CLAIM_LEASE_SECONDS)


# The lease as the settings had it at start-up, for reports (``reminders_status``).
STUCK_AFTER = lease()


class UnsafeText(sms.PermanentSmsError):
    """The text names a treatment or diagnosis: it is never sent, and retrying cannot help."""


def checked_text(text: str) -> str:
    """``text`` unchanged, or ``UnsafeText`` when it contains a forbidden word (``clinic.texts``), any case."""
    found = forbidden_words_in(text)
    if found:
        raise UnsafeText(f"not sent: the text would name a treatment or diagnosis ({', '.join(found)}); check "
                         "CLINIC_NAME, the location's name and the site's templates")
    return text


def send_text(*, phone: str, text: str, status_callback: str | None) -> sms.SendResult:
    """Hand one text to the provider: the only way a text leaves. Checked first (``checked_text``)."""
    return sms.get_backend().send(to=phone, body=checked_text(text), status_callback=status_callback)


def patient_refusal(patient) -> tuple[str, str]:
    """(state, reason) when this patient may not be texted at all, else ("", "").

    An opt-out or a missing number is a permanent failure; no consent yet is a skip.
    """
    if patient.sms_opted_out_at is not None:
        return ReminderState.FAILED, "the patient opted out of texts"
    if not patient.phone:
        return ReminderState.FAILED, "no mobile number on file"
    if not patient.sms_consent:
        return ReminderState.SKIPPED, "no text-message consent recorded"
    return "", ""


def retry_wait(attempts: int, retry_after: float | None = None) -> float:
    """Seconds to wait before the next try of a text the provider refused for now, after ``attempts`` tries.

    The provider's ``Retry-After`` when it gave one (it knows when it will
    take texts again), else the ``attempts``-th of TEXT_RETRY_SECONDS (the
    last repeats) spread by TEXT_RETRY_JITTER_PERCENT, so the texts one burst
    of 429s refused do not all come back in the same second; at most
    TEXT_RETRY_MAX_SECONDS either way. A refusal costs nothing at the
    provider's end, so the first waits are short: a text refused once is
    still on time.
    """
    if retry_after is not None:
        return min(max(0.0, retry_after), settings.TEXT_RETRY_MAX_SECONDS)
    schedule = settings.TEXT_RETRY_SECONDS
    base = schedule[min(max(attempts, 1), len(schedule)) - 1]
    spread = settings.TEXT_RETRY_JITTER_PERCENT / 100
    return min(base * random.uniform(1 - spread, 1 + spread), settings.TEXT_RETRY_MAX_SECONDS)


def claim_due(model: type[models.Model], *, now: datetime, limit: int, order_by: str) -> list[int]:
    """Claim due pending rows (pending -> queued) and return their ids, committed.

    Two sweeps at once never claim the same row. The caller (the sweep task)
    publishes one send per id: a claimed row whose send is lost stays
    ``queued`` until the reaper hands it back.
    """
    table = model._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {table} SET state = %s, claimed_at = %s
                WHERE id IN (
                    SELECT id FROM {table}
                    WHERE state = %s AND send_at <= %s
                    ORDER BY {order_by}
                    LIMIT %s
                    FOR UPDATE SKIP LOCKED
                )
                RETURNING id
                """,
                [ReminderState.QUEUED, now, ReminderState.PENDING, now, limit],
            )
            ids = [row[0] for row in cursor.fetchall()]
    return ids


@dataclass(frozen=True)
class Reaped:
    """What one pass of the reaper did: rows made ``unknown``, and rows whose send must be published again."""

    unknown: int
    requeued: tuple[int, ...]  # were ``sending`` but the worker died before calling the provider
    re_enqueued: tuple[int, ...]  # were ``queued`` too long: their send task was lost

    @property
    def to_send(self) -> list[int]:
        return [*self.requeued, *self.re_enqueued]

    def counts(self) -> dict[str, int]:
        return {"unknown": self.unknown, "requeued": len(self.requeued), "re_enqueued": len(self.re_enqueued)}


def reap_stuck(model: type[models.Model], *, now: datetime) -> Reaped:
    """Recover rows whose claim's lease ran out (see the module docstring); the caller publishes their sends."""
    cutoff = now - lease()
    rows = model.objects
    with transaction.atomic():
        unknown = rows.filter(state=ReminderState.SENDING, claimed_at__lt=cutoff,
                              provider_called_at__isnull=False).update(
            state=ReminderState.UNKNOWN, reason="the worker stopped while the provider was being called; "
                                               "check the provider before sending again")
        requeue = list(rows.filter(state=ReminderState.SENDING, claimed_at__lt=cutoff,
                                   provider_called_at__isnull=True).values_list("id", flat=True))
        rows.filter(id__in=requeue, state=ReminderState.SENDING).update(state=ReminderState.QUEUED, claimed_at=now)
        stale_queued = list(rows.filter(state=ReminderState.QUEUED, claimed_at__lt=cutoff)
                            .values_list("id", flat=True))
        rows.filter(id__in=stale_queued).update(claimed_at=now)
    return Reaped(unknown=unknown, requeued=tuple(requeue), re_enqueued=tuple(stale_queued))


def claim_for_sending(model: type[models.Model], job_id: int, *, now: datetime) -> bool:
    """queued -> sending; False when another worker has it or it is no longer queued."""
    return bool(model.objects.filter(pk=job_id, state=ReminderState.QUEUED).update(
        state=ReminderState.SENDING, attempts=F("attempts") + 1, claimed_at=now))


def _sender() -> str:
    return settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID or "default"


def take_turn(*, max_wait: float) -> float | None:
    """Book the next moment the sender may send and return the seconds until it; None when that is more than
    ``max_wait`` away (nothing booked: the provider's rate is spoken for).

    One row per sender, moved on by one interval (1 / (SMS_RATE_PER_NUMBER x
    SMS_SENDING_NUMBERS)) per text in a single statement, on the database's
    clock, so every worker and web process takes its turn from one schedule.
    Call it outside a transaction: the row is locked only for the statement.
    """
    interval = timedelta(seconds=1 / (settings.SMS_RATE_PER_NUMBER * settings.SMS_SENDING_NUMBERS))
    table = SmsSendSlot._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} AS slot (sender, next_at) VALUES (%(sender)s, clock_timestamp() + %(interval)s)
            ON CONFLICT (sender) DO UPDATE
                SET next_at = GREATEST(slot.next_at, clock_timestamp()) + %(interval)s
                WHERE slot.next_at <= clock_timestamp() + %(max_wait)s
            RETURNING EXTRACT(EPOCH FROM (slot.next_at - %(interval)s - clock_timestamp()))
            """,
            {"sender": _sender(), "interval": interval, "max_wait": timedelta(seconds=max_wait)},
        )
        row = cursor.fetchone()
    return None if row is None else max(0.0, float(row[0]))


def wait_turn(model: type[models.Model], job_id: int, *, now: datetime) -> bool:
    """Wait for this text's turn on the provider's rate (``take_turn``); True when it may be sent now.

    When the rate is spoken for beyond a quarter of the send's time limit,
    the claimed row goes back to ``pending`` for the next sweep, a moment
    later, without counting as a try.
    """
    max_wait = settings.TEXT_SEND_TIME_LIMIT / 4
    wait = take_turn(max_wait=max_wait)
    if wait is None:
        model.objects.filter(pk=job_id, state=ReminderState.SENDING).update(
            state=ReminderState.PENDING, send_at=now + timedelta(seconds=max_wait), attempts=F("attempts") - 1,
            reason="waiting for a turn on the provider's rate")
        return False
    if wait:
        clock.sleep(wait)
    return True


@contextmanager
def texts_of_session_held(session_id: int | None) -> Iterator[None]:
    """Hold "the texts of this session" from the last check of the session until the provider has answered.

    A session-level advisory lock on this connection (it outlives the small
    transactions of the send, and dies with the connection if the worker
    does). ``hold_texts_of_session`` takes the same lock inside a cancel's or
    a move's transaction, so a text goes either before that change commits
    or not at all.
    """
    if session_id is None:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_SESSION_TEXTS_LOCK | session_id])
    try:
        yield
    finally:
        with suppress(DatabaseError), connection.cursor() as cursor:  # a broken connection has let go already
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_SESSION_TEXTS_LOCK | session_id])


def hold_texts_of_session(session_id: int) -> None:
    """Inside a change's transaction: wait for a send of this session that is under way, and keep any other from
    checking the session until the change commits (``texts_of_session_held``)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SESSION_TEXTS_LOCK | session_id])


def set_state(model: type[models.Model], job_id: int, state: str, **fields) -> None:
    """Move a row on from ``sending`` only: one a person or the reaper already moved is left alone."""
    model.objects.filter(pk=job_id, state=ReminderState.SENDING).update(state=state, **fields)


def call_provider(model: type[models.Model], job_id: int, *, attempts: int, phone: str, text: str, now: datetime,
                  status_callback: str | None, **before_call) -> tuple[str, sms.SendResult | None]:
    """Send the text and record a failure; on success return ``("sent", result)`` for the caller to record.

    A text naming a treatment or diagnosis -> ``failed`` with the reason, and
    the provider is never called; timeout -> ``unknown``; permanent refusal ->
    ``failed``; transient error -> back to ``pending`` after ``retry_wait``,
    ``failed`` after TEXT_SEND_ATTEMPTS tries. The retry goes through the
    sweep and ``wait_turn`` again, so it keeps to the provider's rate, and
    through the send's checks, so it is never sent once its visit is
    cancelled, moved or nearer than the policy's lead time. ``before_call``
    fields are saved with ``provider_called_at``.
    """
    try:
        checked_text(text)
    except UnsafeText as exc:
        # Before provider_called_at: nothing left the building. The log names the row, never the text.
        set_state(model, job_id, ReminderState.FAILED, reason=str(exc)[:300])
        logger.error("%s %s not sent: its text would name a treatment or diagnosis", model._meta.model_name, job_id)
        return ReminderState.FAILED, None
    # Committed before the call: from here on a crash means "maybe sent". A row voided meanwhile (a cancel,
    # an opt-out) is no longer sending: nothing is called.
    if not model.objects.filter(pk=job_id, state=ReminderState.SENDING).update(provider_called_at=now,
                                                                               **before_call):
        return model.objects.values_list("state", flat=True).get(pk=job_id), None
    try:
        result = send_text(phone=phone, text=text, status_callback=status_callback)
    except sms.SmsTimeout as exc:
        set_state(model, job_id, ReminderState.UNKNOWN,
                  reason=f"{exc}; check the provider before sending again"[:300])
        return ReminderState.UNKNOWN, None
    except sms.PermanentSmsError as exc:
        set_state(model, job_id, ReminderState.FAILED, reason=str(exc)[:300])
        return ReminderState.FAILED, None
    except sms.TransientSmsError as exc:
        if attempts >= settings.TEXT_SEND_ATTEMPTS:
            set_state(model, job_id, ReminderState.FAILED, reason=f"gave up after {attempts} tries: {exc}"[:300])
            return ReminderState.FAILED, None
        # Nothing left the building: back to pending for the sweep to claim again after the wait.
        wait = retry_wait(attempts, exc.retry_after)
        set_state(model, job_id, ReminderState.PENDING, send_at=now + timedelta(seconds=wait),
                  provider_called_at=None, reason=f"retrying in {wait:.0f} s: {exc}"[:300])
        return ReminderState.PENDING, None
    return ReminderState.SENT, result
