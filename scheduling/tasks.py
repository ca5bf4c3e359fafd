"""Celery tasks: thin interfaces that load by id, call a service, and enqueue their own follow-ups.

Each task owns its queue: the services it calls return what they claimed or
recovered, and the task publishes the sends (``clinic.queueing``), so no
service reaches up into this module or is handed a callback to get work queued.

Reminder sends are never scheduled with an ETA or countdown: the beat sweep
claims what is due each minute, so a worker restart or a broker outage can
delay a reminder but never lose or duplicate it.
"""

from __future__ import annotations

from celery import shared_task

from clinic.queueing import publish, publish_on_commit
from scheduling.messaging import desk_texts, new_time, outreach, reminders
from scheduling.worklist import sweep


@shared_task(name="scheduling.sweep_reminders")
def sweep_reminders_task() -> dict:
    """Claim due reminders, outreach texts and staff texts held for quiet hours; publish one send per claimed row."""
    reminder_ids = reminders.claim_due_reminders()
    publish(send_reminder_task, [(reminder_id,) for reminder_id in reminder_ids])
    outreach_ids = outreach.claim_due_outreach()
    publish(send_outreach_task, [(outreach_id,) for outreach_id in outreach_ids])
    desk_text_ids = desk_texts.claim_due_desk_texts()
    publish(send_desk_text_task, [(text_id,) for text_id in desk_text_ids])
    return {"reminders": len(reminder_ids), "outreach": len(outreach_ids), "desk_texts": len(desk_text_ids)}


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
    return {"reminders": reaped_reminders.counts(), "outreach": reaped_outreach.counts(),
            "desk_texts": reaped_desk_texts.counts()}


@shared_task(name="scheduling.refresh_worklist")
def refresh_worklist_task() -> dict:
    """Open and close worklist items for every active course (and plan due-visit outreach)."""
    return sweep.refresh_worklist()


@shared_task(name="scheduling.refresh_course_worklist")
def refresh_course_worklist_task(course_id: int) -> dict:
    """The same for one course, right after a booking change."""
    return sweep.refresh_worklist(course_ids=[course_id])


def refresh_course_worklist_on_commit(course_id: int) -> None:
    """Refresh the course's worklist items once the current transaction commits.

    A broker outage must not undo or fail the change that called this: the
    failure is logged and the hourly sweep catches up.
    """
    publish_on_commit(refresh_course_worklist_task, [(course_id,)])
