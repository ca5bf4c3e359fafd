"""Patients' replies to texts.

``handle_inbound`` acts on a reply (docs/DOMAIN.md "Reminder texts"):

- a request to stop the texts (a STOP word, or "please stop", "stop texting me", "unsubscribe me"...:
  the rule is ``opt_out.meaning_of``) opts the patient out at once and voids every text still to go;
  a text that may mean more ("cancel my Tuesday visit") does not, and goes to a person;
- START (and YES while opted out) opts back in and plans reminders again;
- HELP answers with the clinic's name and phone, opted out or not (carriers require it);
- YES or Y answers the patient's freed-time offer while one is open (``offers_replies``); C, and YES
  without an offer, confirm the next visit; R asks the front desk for a new time;
- EARLIER marks the next booked visit as wanting an earlier time (``earlier``), so freed times are offered;
- anything else becomes a worklist item for a person to read.

A provider retries a webhook it thinks failed, so a reply is recorded once per
provider message id (a unique constraint on TextMessage) and a second delivery
does nothing. The state changes are one transaction; the answering text, when
there is one, is sent only after that transaction, so a rolled-back or
duplicate delivery never texts the patient.

Phone numbers are personal data: logs name a number by its last four digits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from clinic import sms
from clinic.phones import InvalidPhone, to_e164
from patients.models import ConsentMethod, Patient
from scheduling.messaging import earlier as earlier_reply
from scheduling.messaging import jobs, offers_replies, opt_out, reminders
from scheduling.models import (
    OPEN_REMINDER_STATES,
    UPCOMING_STATUSES,
    URGENCY,
    Direction,
    MessagePurpose,
    Outreach,
    ReminderState,
    Session,
    SessionStatus,
    TextMessage,
    WorkItem,
    WorkKind,
)
from scheduling.tasks import plan_offers_on_commit

logger = logging.getLogger(__name__)

# Keywords matched on the first word, any case. Opting out is read by ``opt_out.meaning_of``.
START_WORDS = frozenset({"START"})
HELP_WORDS = frozenset({"HELP"})
CONFIRM_WORDS = frozenset({"C", "YES"})
RESCHEDULE_WORDS = frozenset({"R"})

OPT_OUT_TEXT = ("{clinic}: you are unsubscribed and will receive no more texts from us. "
                "Reply START to subscribe again. Questions: {phone}")
OPT_IN_TEXT = ("{clinic}: you are subscribed to visit reminders again. "
               "Reply STOP to opt out, HELP for help.")
HELP_TEXT = ("{clinic}: visit reminders. For help call {phone}. "
             "Reply C to confirm a visit, R for a new time, STOP to opt out.")
# HELP is answered at any time (carriers require it), also to a patient who opted out.
HELP_OPTED_OUT_TEXT = ("{clinic}: you have opted out of texts and get no reminders. For help call {phone}. "
                       "Reply START to get visit reminders again.")
MAYBE_STOP_NOTE = ("May be asking to stop the texts, so not opted out: read it, and record the opt-out if it "
                   "is one.")
# Every text this module can send (a test checks none names a treatment or diagnosis).
REPLY_TEXTS = (OPT_OUT_TEXT, OPT_IN_TEXT, HELP_TEXT, HELP_OPTED_OUT_TEXT)

SESSION_SUBJECT = "session:{}"
PATIENT_SUBJECT = "patient:{}"
MESSAGE_SUBJECT = "message:{}"


class Outcome(models.TextChoices):
    UNKNOWN_NUMBER = "unknown_number", "Unknown number: ignored"  # no current patient has this number
    OPTED_OUT = "opted_out", "Opted out"  # a request to stop the texts (``opt_out.meaning_of``)
    OPTED_IN = "opted_in", "Opted in again"  # START, or YES while opted out
    HELP = "help", "Answered HELP"  # opted out or not
    CONFIRMED = "confirmed", "Confirmed the next visit"  # C or YES
    RESCHEDULE_REQUESTED = "reschedule_requested", "Asked for a new time"  # R
    OFFER_TAKEN = "offer_taken", "Took a freed time"  # YES or Y to an open offer, booked
    OFFER_GONE = "offer_gone", "Answered an offer that had ended"  # told the time has been taken
    EARLIER_WANTED = "earlier_wanted", "Asked for an earlier time"  # EARLIER (``earlier``)
    NEEDS_ATTENTION = "needs_attention", "Needs a person"  # anything the system could not act on


@dataclass(frozen=True)
class InboundResult:
    """What a reply did. ``duplicate`` is True when the provider delivered it before and nothing was done now."""

    outcome: str
    patient_id: int | None = None
    message_id: int | None = None
    session_id: int | None = None
    work_item_id: int | None = None
    duplicate: bool = False

    @property
    def label(self) -> str:
        return Outcome(self.outcome).label

    def as_dict(self) -> dict:
        return {"outcome": self.outcome, "label": self.label, "patient": self.patient_id,
                "message": self.message_id, "session": self.session_id, "work_item": self.work_item_id,
                "duplicate": self.duplicate}


@dataclass(frozen=True)
class _Reply:
    body: str
    purpose: str


def last4(phone: str) -> str:
    """How logs name a phone number: its last four digits only."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return f"…{digits[-4:]}" if digits else "(none)"


def keyword_of(body: str) -> str:
    """The reply's first word, upper-cased, without surrounding punctuation ("yes!" -> "YES")."""
    words = (body or "").strip().split(maxsplit=1)
    return words[0].strip(".,!?;:'\"()").upper() if words else ""


def reply_text(template: str) -> str:
    return template.format(clinic=settings.CLINIC_NAME, phone=settings.CLINIC_PHONE)


# --- replies -----------------------------------------------------------------------------------------


def handle_inbound(*, from_phone: str, to_phone: str, body: str, provider_id: str,
                   now: datetime | None = None) -> InboundResult:
    """Record a patient's text and act on it; a second delivery of ``provider_id`` does nothing.

    A text from a number no current patient has is logged (last four digits)
    and ignored: nothing is recorded. When several current patients share the
    number, the one with the next upcoming visit is meant. ``to_phone`` (the
    clinic's number) is not used while the clinic texts from one number.
    Returns what was done.
    """
    provider_id = (provider_id or "")[:64]
    if not provider_id:
        raise ValueError("an inbound text needs the provider's message id")
    now = now or timezone.now()
    body = body or ""
    earlier = TextMessage.objects.filter(provider_id=provider_id, direction=Direction.INBOUND).first()
    if earlier is not None:
        return _replay(earlier)
    try:
        phone = to_e164(from_phone)
    except InvalidPhone:
        phone = ""
    reply = None
    with transaction.atomic():
        patient = _patient_for(phone, now) if phone else None
        if patient is None:
            logger.info("text from unknown number %s ignored", last4(from_phone))
            return InboundResult(outcome=Outcome.UNKNOWN_NUMBER)
        # Serialise replies from one patient (a STOP racing a START, two C's).
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
        try:
            with transaction.atomic():
                message = TextMessage.objects.create(
                    patient=patient, direction=Direction.INBOUND, purpose=MessagePurpose.REPLY, phone=phone,
                    body=body[:1600], provider_id=provider_id, delivery_status="received", at=now)
        except IntegrityError:
            # The same delivery, racing us, committed first: it has acted.
            return _replay(TextMessage.objects.get(provider_id=provider_id, direction=Direction.INBOUND))
        result, reply = _act(patient, message, now)
    logger.info("text %s from %s: %s", message.pk, last4(phone), result.outcome)
    if reply is not None:
        send_reply(patient=patient, phone=phone, reply_body=reply.body, purpose=reply.purpose)
    return result


def _patient_for(phone: str, now: datetime) -> Patient | None:
    """The current patient with this number; when several share it, the one whose next visit comes first."""
    return (Patient.objects.current().filter(phone=phone)
            .annotate(next_start=Min("sessions__start", filter=Q(sessions__status__in=UPCOMING_STATUSES,
                                                                   sessions__start__gt=now)))
            .order_by(F("next_start").asc(nulls_last=True), "id").first())


def _next_session(patient: Patient, now: datetime, *, lock: bool = False) -> Session | None:
    sessions = Session.objects.filter(patient=patient, status__in=UPCOMING_STATUSES, start__gt=now)
    if lock:
        sessions = sessions.select_for_update(of=("self",))
    return sessions.select_related("location").order_by("start", "id").first()


def _act(patient: Patient, message: TextMessage, now: datetime) -> tuple[InboundResult, _Reply | None]:
    keyword, meaning = keyword_of(message.body), opt_out.meaning_of(message.body)
    if meaning.kind == opt_out.OPT_OUT:
        return _opt_out(patient, message, now, more=meaning.more)
    if keyword in START_WORDS or (keyword == "YES" and patient.sms_opted_out_at is not None):
        return _opt_in(patient, message, now), _Reply(reply_text(OPT_IN_TEXT), MessagePurpose.CONFIRMATION)
    if keyword in HELP_WORDS:
        # Answered at any time, opted out or not: carriers require it, and it is not a reminder.
        template = HELP_TEXT if patient.sms_opted_out_at is None else HELP_OPTED_OUT_TEXT
        return _result(Outcome.HELP, message), _Reply(reply_text(template), MessagePurpose.HELP)
    offer = offers_replies.offer_answered(patient, keyword)
    if offer is not None:
        return _answer_offer(message, offer, now)
    if keyword in CONFIRM_WORDS:
        return _confirm_next(patient, message, now), None
    if earlier_reply.is_earlier_request(keyword):
        return _want_earlier(patient, message, now)
    if keyword in RESCHEDULE_WORDS:
        return _ask_reschedule(patient, message, now), None
    note = MAYBE_STOP_NOTE if meaning.kind == opt_out.MAYBE else ""
    item = _needs_attention(patient, message, now, note=note)
    return _result(Outcome.NEEDS_ATTENTION, message, item=item), None


def _result(outcome: str, message: TextMessage, *, session: Session | None = None,
            item: WorkItem | None = None) -> InboundResult:
    return InboundResult(outcome=outcome, patient_id=message.patient_id, message_id=message.pk,
                         session_id=session.pk if session else None, work_item_id=item.pk if item else None)


def _opt_out(patient: Patient, message: TextMessage, now: datetime, *,
             more: bool) -> tuple[InboundResult, _Reply | None]:
    """Opt out at once; only the first request gets the confirmation (after it, only HELP is answered).

    ``more``: the text also said something else ("STOP. Cancel my visit"), so a person reads it.
    """
    first_time = patient.sms_opted_out_at is None
    if first_time:
        patient.sms_opted_out_at = now
        patient.save(update_fields=["sms_opted_out_at", "updated_at"])
    reminders.void_patient_reminders(patient.pk, reason="patient opted out")
    Outreach.objects.filter(patient=patient, state__in=OPEN_REMINDER_STATES).update(
        state=ReminderState.VOID, reason="patient opted out")
    for freed in offers_replies.void_for_patient(patient.pk, reason="patient opted out", now=now):
        plan_offers_on_commit(freed)
    item = None
    if more:
        item = _needs_attention(patient, message, now, note="Opted out of texts with this message.")
    reply = _Reply(reply_text(OPT_OUT_TEXT), MessagePurpose.CONFIRMATION) if first_time else None
    return _result(Outcome.OPTED_OUT, message, item=item), reply


def _answer_offer(message: TextMessage, offer, now: datetime) -> tuple[InboundResult, _Reply]:
    """YES to a freed-time offer: taken (booked) or gone; a refused or expired time goes to the next patients."""
    answer = offers_replies.take(offer, now=now)
    for freed in answer.offer_again:
        plan_offers_on_commit(freed)
    offers_replies.mark_answered(answer.offer, at=message.at)
    if answer.booked:
        message.session = answer.session
        message.save(update_fields=["session"])
    outcome = Outcome.OFFER_TAKEN if answer.booked else Outcome.OFFER_GONE
    return (_result(outcome, message, session=answer.session, item=answer.item),
            _Reply(answer.reply, MessagePurpose.OFFER))


def _want_earlier(patient: Patient, message: TextMessage, now: datetime) -> tuple[InboundResult, _Reply | None]:
    """EARLIER: mark the next booked session; an opted-out patient is not answered (only HELP is)."""
    session = earlier_reply.mark_next_session(patient, now)
    if session is not None:
        message.session = session
        message.save(update_fields=["session"])
    template = earlier_reply.NOTED_TEXT if session is not None else earlier_reply.NOTHING_BOOKED_TEXT
    reply = _Reply(reply_text(template), MessagePurpose.CONFIRMATION) if patient.sms_opted_out_at is None else None
    return _result(Outcome.EARLIER_WANTED, message, session=session), reply


def _opt_in(patient: Patient, message: TextMessage, now: datetime) -> InboundResult:
    """Clear the opt-out (a START is also consent when none was recorded) and plan reminders again."""
    patient.sms_opted_out_at = None
    fields = ["sms_opted_out_at", "updated_at"]
    if not patient.sms_consent:
        patient.sms_consent, patient.sms_consent_at = True, now
        patient.sms_consent_method = ConsentMethod.TEXT_REPLY
        fields += ["sms_consent", "sms_consent_at", "sms_consent_method"]
    patient.save(update_fields=fields)
    reminders.replan_patient_reminders(patient.pk)
    return _result(Outcome.OPTED_IN, message)


def _confirm_next(patient: Patient, message: TextMessage, now: datetime) -> InboundResult:
    """Confirm the next upcoming visit and close its "unconfirmed for tomorrow" item."""
    session = _next_session(patient, now, lock=True)
    if session is None:
        item = _needs_attention(patient, message, now, note="Replied to confirm, but no upcoming visit is booked.")
        return _result(Outcome.NEEDS_ATTENTION, message, item=item)
    if session.status == SessionStatus.BOOKED:
        session.status, session.confirmed_at = SessionStatus.CONFIRMED, now
        session.save(update_fields=["status", "confirmed_at"])
    WorkItem.objects.open().filter(kind=WorkKind.UNCONFIRMED_TOMORROW).filter(
        Q(session=session) | Q(subject=SESSION_SUBJECT.format(session.pk))
    ).update(closed_at=now, resolution="confirmed by text")
    message.session = session
    message.save(update_fields=["session"])
    return _result(Outcome.CONFIRMED, message, session=session)


def _ask_reschedule(patient: Patient, message: TextMessage, now: datetime) -> InboundResult:
    """Open (or add to) the front desk's "asked for a new time" item for the next visit."""
    session = _next_session(patient, now)
    subject = (SESSION_SUBJECT.format(session.pk) if session
               else PATIENT_SUBJECT.format(patient.pk))
    item = _open_item(WorkKind.RESCHEDULE_REQUEST, subject, patient=patient, session=session, now=now,
                      detail=f"Replied: {message.body.strip()}")
    if session is not None:
        message.session = session
        message.save(update_fields=["session"])
    return _result(Outcome.RESCHEDULE_REQUESTED, message, session=session, item=item)


def _needs_attention(patient: Patient, message: TextMessage, now: datetime, *, note: str = "") -> WorkItem:
    text = message.body.strip() or "(an empty text)"
    detail = f"{note} Replied: {text}" if note else f"Replied: {text}"
    return _open_item(WorkKind.REPLY_NEEDS_ATTENTION, MESSAGE_SUBJECT.format(message.pk), patient=patient,
                      session=_next_session(patient, now), now=now, detail=detail)


def _open_item(kind: str, subject: str, *, patient: Patient, session: Session | None, now: datetime,
               detail: str) -> WorkItem:
    """The open item of ``kind`` about ``subject``, created if none is open; a new text is added to it."""
    item, created = WorkItem.objects.open().get_or_create(
        kind=kind, subject=subject,
        defaults={"patient": patient, "session": session, "course_id": session.course_id if session else None,
                  "location_id": session.location_id if session else None, "detail": detail,
                  "urgency": URGENCY[kind], "due_on": session.local_date if session else None,
                  "opened_at": now},
    )
    if not created and detail not in item.detail:
        item.detail = f"{item.detail}\n{detail}".strip()
        item.save(update_fields=["detail"])
    return item


def _replay(message: TextMessage) -> InboundResult:
    """The result the first delivery of ``message`` had, rebuilt from what it recorded."""
    keyword = keyword_of(message.body)
    attention = WorkItem.objects.filter(kind=WorkKind.REPLY_NEEDS_ATTENTION,
                                        subject=MESSAGE_SUBJECT.format(message.pk)).first()
    item = attention
    if opt_out.is_opt_out(message.body):
        outcome = Outcome.OPTED_OUT
    elif keyword in START_WORDS:
        outcome = Outcome.OPTED_IN
    elif keyword in RESCHEDULE_WORDS:
        outcome = Outcome.RESCHEDULE_REQUESTED
        subject = (SESSION_SUBJECT.format(message.session_id) if message.session_id
                   else PATIENT_SUBJECT.format(message.patient_id))
        item = WorkItem.objects.filter(kind=WorkKind.RESCHEDULE_REQUEST, subject=subject).order_by(
            "-opened_at", "-id").first()
    elif attention is not None:
        outcome = Outcome.NEEDS_ATTENTION
    elif earlier_reply.is_earlier_request(keyword):
        outcome = Outcome.EARLIER_WANTED
    elif (offer_outcome := offers_replies.replayed_outcome(message)) is not None:
        outcome = Outcome.OFFER_TAKEN if offer_outcome else Outcome.OFFER_GONE
    elif keyword in HELP_WORDS:
        outcome = Outcome.HELP
    elif keyword in CONFIRM_WORDS and message.session_id:
        outcome = Outcome.CONFIRMED
    else:  # YES with no session confirmed and no item opened: it was an opt-in
        outcome = Outcome.OPTED_IN
    return InboundResult(outcome=outcome, patient_id=message.patient_id, message_id=message.pk,
                         session_id=message.session_id, work_item_id=item.pk if item else None, duplicate=True)


def send_reply(*, patient: Patient, phone: str, reply_body: str, purpose: str) -> TextMessage | None:
    """Send an answer to the patient's own text and record it; it does not count toward the caps.

    A provider error is logged and recorded on the message, never raised: the
    patient's reply has been acted on whatever happens to the answer. An answer
    that would name a treatment or diagnosis (``jobs.checked_text``) is never
    sent and nothing is recorded (its text must not be kept as sent).
    """
    status, provider_id = "", ""
    try:
        result = jobs.send_text(phone=phone, text=reply_body, status_callback=reminders.status_callback_url())
        status, provider_id = result.status, result.provider_id
    except jobs.UnsafeText:
        logger.error("answer to %s not sent: it would name a treatment or diagnosis (check CLINIC_NAME)",
                     last4(phone))
        return None
    except sms.SmsTimeout:
        logger.warning("reply text to %s: the provider did not answer; it may have been sent", last4(phone))
        status = "unknown"
    except sms.SmsError as exc:
        logger.warning("reply text to %s not sent: %s", last4(phone), type(exc).__name__)
        status = "not_sent"
    return TextMessage.objects.create(patient=patient, direction=Direction.OUTBOUND, purpose=purpose,
                                      counts_toward_caps=False, phone=phone, body=reply_body,
                                      provider_id=provider_id, delivery_status=status[:20], at=timezone.now())
