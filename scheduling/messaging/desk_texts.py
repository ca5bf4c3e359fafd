"""Texts staff write to a patient on the patient page ("Text the patient"), under every rule a text obeys.

- Only to a patient who may be texted: not archived, not opted out (STOP), a
  mobile number and text consent on file; each refusal is a 409 with its code.
- The words are checked as for every text: the final text (the clinic's name
  first) never names a treatment or diagnosis (``clinic.texts``, 400 naming
  ``message``), and it fits in ``MAX_SEGMENTS`` SMS parts (``sms_parts``).
- Quiet hours at the patient's site hold it until they end: it is queued and
  the desk is told when it will go (``send_at``).
- It leaves once, through the machinery every text job uses
  (``messaging.jobs``): a ``DeskText`` row is claimed (queued -> sending)
  before ``jobs.call_provider`` records ``provider_called_at`` and sends
  through ``jobs.send_text``. A form posted twice (``form_key``) is one text.

A person writing to their own patient is not an automated reminder: the text
is recorded in the patient's messages but not counted toward the reminders'
daily and weekly caps, so it never pushes out the visit's reminder.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.errors import Conflict, Invalid, NotAllowed
from clinic.roles import ALL_ROLES, has_role
from clinic.texts import forbidden_words_in
from patients.models import Patient
from scheduling.messaging import jobs, reminders
from scheduling.models import (
    UPCOMING_STATUSES,
    Direction,
    Location,
    MessagePurpose,
    ReminderPolicy,
    ReminderState,
    Session,
    TextMessage,
)
from scheduling.models.messaging import DeskText

logger = logging.getLogger(__name__)

MAX_SEGMENTS = 3
# The GSM 03.38 alphabet: a text in it is sent 7 bits a character; one character outside it sends the
# whole text as UCS-2, which fits fewer characters in each part (a typed ’ instead of ' is enough).
GSM_BASIC = frozenset("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")  # two characters' room each


@dataclass(frozen=True)
class Parts:
    """How a text travels: its length as the network counts it, the parts it is split into, the alphabet."""

    characters: int
    segments: int
    unicode: bool

    @property
    def per_part(self) -> int:
        if self.unicode:
            return 70 if self.segments <= 1 else 67
        return 160 if self.segments <= 1 else 153


def sms_parts(text: str) -> Parts:
    """Characters and SMS parts of ``text`` (GSM-7: 160, or 153 a part when split; UCS-2: 70, or 67)."""
    if all(char in GSM_BASIC or char in GSM_EXTENDED for char in text):
        units, single, multi, unicode = sum(2 if char in GSM_EXTENDED else 1 for char in text), 160, 153, False
    else:
        units, single, multi, unicode = sum(2 if ord(char) > 0xFFFF else 1 for char in text), 70, 67, True
    segments = 0 if units == 0 else 1 if units <= single else math.ceil(units / multi)
    return Parts(characters=units, segments=segments, unicode=unicode)


def prefix() -> str:
    """What every text from staff begins with, so the patient knows who wrote."""
    return f"{settings.CLINIC_NAME}: "


def final_text(message: str) -> str:
    return prefix() + (message or "").strip()


# --- who may be texted, and when ---------------------------------------------------------------------


def refusal(patient: Patient) -> Conflict | None:
    """Why ``patient`` may not be texted at all (409, with its code), or None."""
    if patient.is_archived:
        return Conflict("The patient's record is archived.", code="patient_archived")
    if patient.sms_opted_out_at is not None:
        return Conflict(f"{patient.display_name} opted out of texts (replied STOP) and gets none until they "
                        "reply START.", code="opted_out")
    if not patient.phone:
        return Conflict("No mobile number is on file: add one under Contact first.", code="no_phone")
    if not patient.sms_consent:
        return Conflict("No text-message consent is recorded: record it under Contact first.",
                        code="no_text_consent")
    return None


def site_for(patient: Patient, now: datetime, *, by=None) -> Location | None:
    """The site whose quiet hours a text to ``patient`` keeps: their next visit's, else their last visit's,
    else (a patient not seen yet) the writer's first site, else the clinic's first site."""
    sessions = Session.objects.filter(patient=patient, location__isnull=False).select_related("location")
    upcoming = sessions.filter(status__in=UPCOMING_STATUSES, start__gt=now).order_by("start", "id").first()
    session = upcoming or sessions.order_by("-start", "-id").first()
    if session is not None:
        return session.location
    mine = by.clinic_locations.filter(active=True) if by is not None else Location.objects.none()
    return mine.order_by("name").first() or Location.objects.active().order_by("name").first()


@dataclass(frozen=True)
class Hours:
    """The quiet hours a text keeps: the site's policy and time zone (the clinic's defaults without a site)."""

    location: Location | None
    policy: ReminderPolicy
    zone: object

    @classmethod
    def of(cls, location: Location | None) -> Hours:
        if location is None:
            return cls(None, ReminderPolicy(), timezone.get_default_timezone())
        return cls(location, ReminderPolicy.for_location(location), location.zone)

    def next_allowed(self, now: datetime) -> datetime:
        """``now`` outside quiet hours, else the moment they end (local wall time)."""
        local = now.astimezone(self.zone)
        if not self.policy.in_quiet_hours(local.time()):
            return now
        ends = datetime.combine(local.date(), self.policy.quiet_until, tzinfo=self.zone)
        if ends <= local:
            ends = datetime.combine(local.date() + timedelta(days=1), self.policy.quiet_until,
                                    tzinfo=self.zone)
        return ends


def checked_message(message: str) -> str:
    """The final text for ``message``, or ``Invalid`` naming ``message`` (empty, forbidden word, too long)."""
    if not (message or "").strip():
        raise Invalid("Write the text to send.", fields={"message": ["Write the text to send."]})
    text = final_text(message)
    found = forbidden_words_in(text)
    if found:
        words = ", ".join(found)
        raise Invalid(f"A text must never name a treatment or diagnosis; remove: {words}.", code="unsafe_text",
                      fields={"message": [f"Remove: {words}."]})
    parts = sms_parts(text)
    if parts.segments > MAX_SEGMENTS:
        raise Invalid(f"Too long: it would go as {parts.segments} texts; keep it to {MAX_SEGMENTS}.",
                      code="text_too_long",
                      fields={"message": [f"{parts.characters} characters make {parts.segments} texts; "
                                          f"at most {MAX_SEGMENTS}."]})
    return text


# --- writing one -------------------------------------------------------------------------------------


def text_patient(*, by, patient: Patient, message: str, form_key: str, now: datetime | None = None) -> DeskText:
    """Send ``message`` to ``patient`` now, or queue it until the site's quiet hours end; returns its row.

    Refuses as the module docstring says. The same ``form_key`` again returns
    the first row and sends nothing. Sent in this call when it may go now
    (after the row is committed), so the answer says whether it went.
    """
    if not has_role(by, *ALL_ROLES):
        raise NotAllowed("Only front desk, clinicians and managers may text patients.")
    try:
        key = uuid.UUID(str(form_key))
    except ValueError:
        raise Invalid("The form is out of date: reload the page.", fields={"message": ["Reload the page."]}) \
            from None
    now = now or timezone.now()
    with transaction.atomic():
        # One at a time per patient, as replies are: a STOP being recorded is seen before this text goes.
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        earlier = DeskText.objects.filter(form_key=key).first()
        if earlier is not None:
            return earlier
        problem = refusal(locked)
        if problem is not None:
            raise problem
        body = checked_message(message)
        hours = Hours.of(site_for(locked, now, by=by))
        send_at = hours.next_allowed(now)
        goes_now = send_at <= now
        try:
            with transaction.atomic():
                row = DeskText.objects.create(
                    patient=locked, location=hours.location, written_by=by, form_key=key, body=body,
                    send_at=send_at, created_at=now, claimed_at=now if goes_now else None,
                    state=ReminderState.QUEUED if goes_now else ReminderState.PENDING)
        except IntegrityError:  # the same form, racing from another tab, was first
            return DeskText.objects.get(form_key=key)
    if goes_now:
        send_claimed(row.pk)
        row.refresh_from_db()
    return row


def withdraw(*, by, text: DeskText) -> DeskText:
    """Take back a text still waiting for quiet hours to end (409 ``invalid_state`` once it is on its way)."""
    if not has_role(by, *ALL_ROLES):
        raise NotAllowed("Only front desk, clinicians and managers may text patients.")
    who = by.get_full_name() or by.get_username()
    taken = DeskText.objects.filter(pk=text.pk, state=ReminderState.PENDING).update(
        state=ReminderState.VOID, reason=f"not sent: withdrawn by {who}"[:300])
    text.refresh_from_db()
    if not taken:
        raise Conflict(f"This text can no longer be withdrawn: it is {text.get_state_display().lower()}.",
                       code="invalid_state", extra={"state": text.state})
    return text


# --- the sweep and the send (the jobs machinery) -----------------------------------------------------


def claim_due_desk_texts(*, now: datetime | None = None, limit: int | None = None) -> list[int]:
    """Claim queued-for-the-morning texts now due (pending -> queued, TEXT_CLAIM_BATCH unless ``limit``); the
    sweep task publishes their sends."""
    return jobs.claim_due(DeskText, now=now or timezone.now(), limit=limit or settings.TEXT_CLAIM_BATCH,
                          order_by="send_at, id")


def reap_stuck_desk_texts(*, now: datetime | None = None) -> jobs.Reaped:
    """Recover texts whose worker or request died (``jobs.reap_stuck``); the reap task publishes their sends."""
    return jobs.reap_stuck(DeskText, now=now or timezone.now())


def send_claimed(text_id: int) -> str | None:
    """Claim (queued -> sending) and deliver; None when another worker has it."""
    if not jobs.claim_for_sending(DeskText, text_id, now=timezone.now()):
        return None
    if not jobs.wait_turn(DeskText, text_id, now=timezone.now()):
        return ReminderState.PENDING
    return deliver(text_id)


def deliver(text_id: int, *, now: datetime | None = None) -> str:
    """Send one claimed (``sending``) text and record it; returns the final state.

    The patient is checked again (a STOP may have come while it waited), and
    quiet hours too: a text claimed late, inside them, waits for their end.
    """
    now = now or timezone.now()
    row = DeskText.objects.select_related("patient", "location").get(pk=text_id)
    if row.state != ReminderState.SENDING:
        return row.state
    patient = row.patient
    problem = refusal(patient)
    if problem is not None:
        jobs.set_state(DeskText, text_id, ReminderState.FAILED, reason=problem.detail[:300])
        return ReminderState.FAILED
    send_at = Hours.of(row.location).next_allowed(now)
    if send_at > now:
        jobs.set_state(DeskText, text_id, ReminderState.PENDING, send_at=send_at, reason="held for quiet hours")
        return ReminderState.PENDING
    state, result = jobs.call_provider(DeskText, text_id, attempts=row.attempts, phone=patient.phone,
                                       text=row.body, now=now, status_callback=reminders.status_callback_url())
    if result is None:
        return state
    with transaction.atomic():
        jobs.set_state(DeskText, text_id, ReminderState.SENT, provider_id=result.provider_id, sent_at=now, reason="")
        TextMessage.objects.create(patient=patient, direction=Direction.OUTBOUND, purpose=MessagePurpose.DESK,
                                   counts_toward_caps=False, phone=patient.phone, body=row.body,
                                   provider_id=result.provider_id, delivery_status=result.status[:20], at=now)
    return ReminderState.SENT


# --- what the section shows ----------------------------------------------------------------------------

RECENT_SHOWN = 5


def recent(patient: Patient) -> list[DeskText]:
    """The patient's latest texts from staff, newest first, with who wrote them."""
    return list(DeskText.objects.filter(patient=patient).select_related("written_by", "location")
                .order_by("-created_at", "-id")[:RECENT_SHOWN])
