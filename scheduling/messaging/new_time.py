"""The one text with the new time, when the desk moves a visit the patient asked to move (replied R).

It answers the patient's own message, so it is recorded but not counted
against the daily and weekly caps, and (like HELP) it is not held back by quiet
hours: the patient is waiting for it. Every other text rule holds: consent and
opt-out, the final text checked for forbidden words (``jobs.send_text``), and
never stale (nothing for a visit that is no longer standing or is under an hour
away).

At most once per request: the row is recorded (``delivery_status`` "sending")
and committed before the provider is called, under a lock on the session, so a
redelivered task finds it and does nothing; a worker that dies mid-call leaves
a row that says so rather than a second text. The session's texts lock
(``jobs.texts_of_session_held``) is taken under that row lock, as a cancel or
move takes it, and held until the provider answers: the text goes before a
cancel or another move commits, or not at all.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinic import sms
from scheduling.messaging import jobs, reminders
from scheduling.models import (
    UPCOMING_STATUSES,
    Direction,
    MessagePurpose,
    Session,
    SessionStatus,
    TextMessage,
    WorkItem,
    WorkKind,
)

logger = logging.getLogger(__name__)

NEW_TIME_TEXT = ("{clinic}: your visit has moved to {day} at {time}. Reply C to confirm or R for another time. "
                 "Questions: call {phone}.")
# The same "never stale" margin as reminders.
NOT_WITHIN = timedelta(hours=1)
SUBJECT = "session:{}"


def answer_reschedule_requests(session: Session, *, by, now: datetime) -> list[int]:
    """Close the open "asked for a new time" items of ``session`` as answered by this move; returns their ids.

    Called inside the move's transaction; the task that texts the new time is
    published for each id once it commits.
    """
    items = WorkItem.objects.open().filter(kind=WorkKind.RESCHEDULE_REQUEST, subject=SUBJECT.format(session.pk))
    ids = list(items.values_list("id", flat=True))
    if ids:
        WorkItem.objects.filter(id__in=ids).update(closed_at=now, closed_by=by,
                                                   resolution=_answered(session, "Moved"))
    return ids


def _answered(session: Session, how: str) -> str:
    """The resolution of a request answered by ``session``: when and where it now is, and whether a text tells."""
    local = session.location.local(session.start)
    told = ("the new time is texted to the patient" if jobs.patient_refusal(session.patient)[0] == ""
            else "the patient gets no texts, so tell them by phone")
    return f"{how} to {local:%a %-d %b} at {local:%H:%M} ({session.location.name}); {told}."


def answer_rebooked_requests(*, course_ids: list[int] | None, now: datetime) -> list[tuple[int, int]]:
    """Close the requests a desk answered by cancelling the visit and booking another; (session, item) pairs.

    A desk that answers an R by cancelling the visit and booking a new one
    (rather than moving it) has answered it too: an open request whose visit
    was cancelled (or that named none: the patient had no visit booked) is
    answered by the patient's first upcoming visit booked since the request,
    of the same course when the request names one. Run by the worklist sweep
    after each booking change (``course_ids``) and hourly (None: every open
    request); the caller texts the new time for each pair once it commits.
    """
    requests = (WorkItem.objects.open().filter(kind=WorkKind.RESCHEDULE_REQUEST)
                .filter(Q(session__isnull=True) | Q(session__status=SessionStatus.CANCELLED)))
    if course_ids is not None:
        requests = requests.filter(patient__courses__id__in=course_ids).distinct()
    answered = []
    for request in requests.only("id", "patient_id", "course_id", "opened_at"):
        sessions = Session.objects.filter(patient_id=request.patient_id, status__in=UPCOMING_STATUSES,
                                          start__gt=now, booked_at__gte=request.opened_at, location__isnull=False)
        if request.course_id:
            sessions = sessions.filter(course_id=request.course_id)
        session = sessions.select_related("location", "patient", "booked_by").order_by("start", "id").first()
        if session is None:
            continue
        closed = WorkItem.objects.filter(pk=request.pk, closed_at__isnull=True).update(
            closed_at=now, closed_by=session.booked_by, resolution=_answered(session, "Rebooked"))
        if closed:
            answered.append((session.pk, request.pk))
    return answered


def send_new_times(answered: list[tuple[int, int]]) -> dict[str, int]:
    """Text each (session, request) pair its new time, after the transaction that answered them; outcomes counted."""
    outcomes: dict[str, int] = {}
    for session_id, request_id in answered:
        outcome = send_new_time(session_id, request_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def new_time_text(session: Session) -> str:
    local = session.location.local(session.start)
    return NEW_TIME_TEXT.format(clinic=settings.CLINIC_NAME, phone=settings.CLINIC_PHONE,
                                day=f"{local:%A %B} {local.day}", time=local.strftime("%-I:%M %p"))


def send_new_time(session_id: int, request_id: int) -> str:
    """Text the patient the new time of ``session_id`` for the answered request ``request_id``; says what happened."""
    with ExitStack() as held:
        return _check_and_send(session_id, request_id, held)


def _check_and_send(session_id: int, request_id: int, held: ExitStack) -> str:
    with transaction.atomic():
        session = (Session.objects.select_for_update(of=("self",)).select_related("patient", "location")
                   .get(pk=session_id))
        # The row first, then the texts lock: the order a cancel takes them in, so neither waits on the other.
        held.enter_context(jobs.texts_of_session_held(session_id))
        request = WorkItem.objects.get(pk=request_id)
        already = TextMessage.objects.filter(session=session, purpose=MessagePurpose.NEW_TIME,
                                             at__gte=request.closed_at).exists()
        if already:
            return "already_sent"
        if session.status not in UPCOMING_STATUSES or session.start - timezone.now() < NOT_WITHIN:
            return "stale"
        state, _reason = jobs.patient_refusal(session.patient)
        if state:
            return "not_allowed"
        body = new_time_text(session)
        message = TextMessage.objects.create(
            patient=session.patient, session=session, direction=Direction.OUTBOUND, purpose=MessagePurpose.NEW_TIME,
            counts_toward_caps=False, phone=session.patient.phone, body=body, delivery_status="sending",
            at=timezone.now())
    try:
        result = jobs.send_text(phone=message.phone, text=body, status_callback=reminders.status_callback_url())
    except jobs.UnsafeText:
        logger.error("new-time text for session %s not sent: it would name a treatment or diagnosis", session_id)
        TextMessage.objects.filter(pk=message.pk).update(delivery_status="not_sent")
        return "unsafe"
    except sms.SmsTimeout:
        TextMessage.objects.filter(pk=message.pk).update(delivery_status="unknown")
        return "unknown"
    except sms.SmsError as exc:
        logger.warning("new-time text for session %s not sent: %s", session_id, type(exc).__name__)
        TextMessage.objects.filter(pk=message.pk).update(delivery_status="not_sent")
        return "not_sent"
    TextMessage.objects.filter(pk=message.pk).update(delivery_status=result.status[:20],
                                                      provider_id=result.provider_id)
    return "sent"
