"""Celery tasks: thin interfaces that load by id and call a service.

Reminder sends are never scheduled with an ETA or countdown: the beat sweep
claims what is due each minute, so a worker restart or a broker outage can
delay a reminder but never lose or duplicate it.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

logger = logging.getLogger(__name__)


@shared_task(name="scheduling.sweep_reminders")
def sweep_reminders_task() -> dict:
    """Claim due reminders and outreach texts; their sends are enqueued when the claim commits."""
    from scheduling import outreach, reminders

    return {"reminders": len(reminders.claim_due_reminders()), "outreach": len(outreach.claim_due_outreach())}


@shared_task(name="scheduling.send_reminder")
def send_reminder_task(reminder_id: int) -> str | None:
    """Send one reminder if this task wins the claim (queued -> sending); otherwise do nothing."""
    from scheduling import reminders

    return reminders.send_claimed(reminder_id)


@shared_task(name="scheduling.send_outreach")
def send_outreach_task(outreach_id: int) -> str | None:
    from scheduling import outreach

    return outreach.send_claimed(outreach_id)


@shared_task(name="scheduling.reap_reminders")
def reap_reminders_task() -> dict:
    from scheduling import outreach, reminders

    return {"reminders": reminders.reap_stuck_reminders(), "outreach": outreach.reap_stuck_outreach()}


@shared_task(name="scheduling.refresh_worklist")
def refresh_worklist_task() -> dict:
    """Open and close worklist items for every active course (and plan due-visit outreach)."""
    from scheduling import worklist

    return worklist.refresh_worklist()


@shared_task(name="scheduling.refresh_course_worklist")
def refresh_course_worklist_task(course_id: int) -> dict:
    """The same for one course, right after a booking change."""
    from scheduling import worklist

    return worklist.refresh_worklist(course_ids=[course_id])


def refresh_course_worklist_on_commit(course_id: int) -> None:
    """Refresh the course's worklist items once the current transaction commits.

    A broker outage must not undo or fail the change that called this: the
    failure is logged and the hourly sweep catches up.
    """
    transaction.on_commit(lambda: publish(refresh_course_worklist_task, [(course_id,)]), robust=True)


def publish(task, calls: list[tuple]) -> int:
    """Publish ``task`` once per argument tuple in ``calls``; returns how many were published.

    Call it after the work that needs the tasks has committed. When the broker
    cannot be reached it logs one warning and stops at the first failure: the
    periodic sweeps find what was not enqueued (due reminders every minute,
    lost sends through the reaper, worklist items hourly), so an outage delays
    that work but never fails the request that caused it, and a sweep of 500
    rows does not wait out 500 failed connections.
    """
    published = 0
    try:
        # One producer (one broker connection) for the whole batch: taking one from the pool for each
        # message added half again to every message a sweep enqueues (docs/PERFORMANCE.md).
        with task.app.producer_or_acquire() as producer:
            for args in calls:
                task.apply_async(args, producer=producer)
                published += 1
    except Exception as exc:  # kombu.exceptions.OperationalError, redis and socket errors alike
        logger.warning("broker unavailable: %d of %d %s task(s) not enqueued (%s: %s); "
                       "the periodic sweep will pick them up", len(calls) - published, len(calls), task.name,
                       type(exc).__name__, exc)
    return published
