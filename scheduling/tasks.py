"""Celery tasks: thin interfaces that load by id, call a service, and enqueue their own follow-ups.

Each task owns its queue: the services it calls return what they claimed or
recovered, and the task publishes the sends (``clinic.queueing``), so no
service reaches up into this module or is handed a callback to get work queued.

Reminder sends are never scheduled with an ETA or countdown: the beat sweep
claims what is due (every TEXT_SWEEP_SECONDS, and again at once while a sweep
finds a full batch), so a worker restart or a broker outage can delay a
reminder but never lose or duplicate it.

Texts and background work go to separate queues (``CELERY_TASK_ROUTES``):
the sweep, the sends and the reaper to ``texts``, the worklist to
``background``.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from clinic.queueing import publish, publish_again_allowed, publish_on_commit, publish_once_on_commit
from scheduling.messaging import (
    desk_texts,
    new_time,
    offers_ending,
    offers_planning,
    offers_sending,
    outreach,
    reminders,
)
from scheduling.worklist import refresh_queue, sweep


@shared_task(name="scheduling.sweep_reminders")
def sweep_reminders_task() -> dict:
    """Claim due reminders, outreach texts and staff texts held for quiet hours; publish one send per claimed row.

    Each kind is claimed in batches of TEXT_CLAIM_BATCH. When a batch comes
    back full there is more due: the sweep publishes itself again, behind the
    sends it just published, so it claims the next batch as soon as the text
    workers reach it: as fast as they drain the queue, however many they are.
    """
    batch = settings.TEXT_CLAIM_BATCH
    reminder_ids = reminders.claim_due_reminders(limit=batch)
    publish(send_reminder_task, [(reminder_id,) for reminder_id in reminder_ids])
    outreach_ids = outreach.claim_due_outreach(limit=batch)
    publish(send_outreach_task, [(outreach_id,) for outreach_id in outreach_ids])
    desk_text_ids = desk_texts.claim_due_desk_texts(limit=batch)
    publish(send_desk_text_task, [(text_id,) for text_id in desk_text_ids])
    offer_text_ids = offers_sending.claim_due_offer_texts(limit=batch)
    publish(send_offer_task, [(text_id,) for text_id in offer_text_ids])
    more = batch in (len(reminder_ids), len(outreach_ids), len(desk_text_ids), len(offer_text_ids))
    if more:
        publish(sweep_reminders_task, [()])
    return {"reminders": len(reminder_ids), "outreach": len(outreach_ids), "desk_texts": len(desk_text_ids),
            "offers": len(offer_text_ids), **({"more": True} if more else {})}


@shared_task(name="scheduling.send_reminder")
def send_reminder_task(reminder_id: int) -> str | None:
    """Send one reminder if this task wins the claim (queued -> sending); otherwise do nothing."""
    return reminders.send_claimed(reminder_id)


@shared_task(name="scheduling.send_outreach")
def send_outreach_task(outreach_id: int) -> str | None:
    """Send one due-visit text if this task wins the claim; otherwise do nothing."""
    return outreach.send_claimed(outreach_id)


@shared_task(name="scheduling.send_desk_text")
def send_desk_text_task(text_id: int) -> str | None:
    """Send one text a member of staff wrote, once its quiet hours are over, if this task wins the claim."""
    return desk_texts.send_claimed(text_id)


@shared_task(name="scheduling.send_offer")
def send_offer_task(text_id: int) -> str | None:
    """Send one offer of a freed time if this task wins the claim; otherwise do nothing."""
    return offers_sending.send_claimed(text_id)


@shared_task(name="scheduling.plan_offers")
def plan_offers_task(*freed_args) -> int:
    """Offer a freed chair time to the next patients who could use it (``offers_planning.plan_offers``)."""
    return len(offers_planning.plan_offers(offers_planning.FreedTime.from_args(*freed_args)))


def plan_offers_on_commit(freed: offers_planning.FreedTime) -> None:
    """Once the change that freed the time (or ended its offers) commits, offer it to the next patients."""
    publish_on_commit(plan_offers_task, [freed.as_args()])


@shared_task(name="scheduling.end_offers")
def end_offers_task() -> dict:
    """End offers whose time ran out and offer their freed times to the next patients."""
    return offers_ending.end_and_refill()


@shared_task(name="scheduling.send_new_time")
def send_new_time_task(session_id: int, request_id: int) -> str:
    """Text the new time of a visit the patient asked to move (at most once per request)."""
    return new_time.send_new_time(session_id, request_id)


def text_new_time_on_commit(session_id: int, request_ids: list[int]) -> None:
    """Once the move commits, text the patient its new time for each request it answered."""
    publish_on_commit(send_new_time_task, [(session_id, request_id) for request_id in request_ids])


@shared_task(name="scheduling.reap_reminders")
def reap_reminders_task() -> dict:
    """Recover texts whose worker or enqueue was lost, and publish their sends again."""
    reaped_reminders = reminders.reap_stuck_reminders()
    publish(send_reminder_task, [(reminder_id,) for reminder_id in reaped_reminders.to_send])
    reaped_outreach = outreach.reap_stuck_outreach()
    publish(send_outreach_task, [(outreach_id,) for outreach_id in reaped_outreach.to_send])
    reaped_desk_texts = desk_texts.reap_stuck_desk_texts()
    publish(send_desk_text_task, [(text_id,) for text_id in reaped_desk_texts.to_send])
    reaped_offers = offers_sending.reap_stuck_offer_texts()
    publish(send_offer_task, [(text_id,) for text_id in reaped_offers.to_send])
    return {"reminders": reaped_reminders.counts(), "outreach": reaped_outreach.counts(),
            "desk_texts": reaped_desk_texts.counts(), "offers": reaped_offers.counts()}


@shared_task(name="scheduling.refresh_worklist")
def refresh_worklist_task() -> dict:
    """Open and close worklist items for every active course (and plan due-visit outreach)."""
    return sweep.refresh_worklist()


@shared_task(name="scheduling.refresh_course_worklist")
def refresh_course_worklist_task(course_id: int) -> dict:
    """The same for one course (kept for messages published before refreshes were coalesced)."""
    return sweep.refresh_worklist(course_ids=[course_id])


@shared_task(name="scheduling.refresh_marked_worklists")
def refresh_marked_worklists_task() -> dict:
    """Refresh the courses that changes marked, a batch at a time; publish itself again while more are marked."""
    publish_again_allowed(refresh_marked_worklists_task)
    done = refresh_queue.refresh_marked()
    if done.more:
        publish(refresh_marked_worklists_task, [()])
    return done.as_dict()


def refresh_course_worklist_on_commit(course_id: int) -> None:
    """Mark the course for a worklist refresh in the current transaction; publish one pass once it commits.

    The mark commits with the change, so neither a broker outage nor a lost
    task loses the refresh (beat's pass finds the mark), and a thousand
    changes publish one pass, not a thousand tasks
    (``scheduling.worklist.refresh_queue``).
    """
    if course_id is None:
        return
    refresh_queue.mark(course_id)
    publish_once_on_commit(refresh_marked_worklists_task, seconds=settings.WORKLIST_REFRESH_SECONDS)
