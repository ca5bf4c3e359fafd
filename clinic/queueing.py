"""Publishing Celery tasks without letting a broker outage fail the work that asked for them.

A leaf module: tasks modules import it to enqueue their own follow-ups, and it
imports nothing of the apps, so no service has to reach up into a tasks module
(or be handed a callback) to get work queued.
"""

from __future__ import annotations

import logging
from contextlib import suppress

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)


def publish(task, calls: list[tuple]) -> int:
    """Publish ``task`` once per argument tuple in ``calls``; returns how many were published.

    Call it after the work that needs the tasks has committed. When the broker
    cannot be reached it logs one warning and stops at the first failure: the
    periodic sweeps find what was not enqueued (due reminders every minute,
    lost sends through the reaper, marked worklist refreshes), so an outage delays
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


def publish_on_commit(task, calls: list[tuple]) -> None:
    """Publish ``task`` for each argument tuple once the current transaction commits (now, outside one).

    ``robust``: a broker that is down must not undo or fail the change that
    asked for the tasks; ``publish`` logs it and the periodic sweeps catch up.
    """
    if calls:
        transaction.on_commit(lambda: publish(task, calls), robust=True)


def _pending_key(task) -> str:
    return f"queueing:pending:{task.name}"


def publish_once_on_commit(task, *, seconds: int) -> None:
    """Publish ``task`` (no arguments) once the transaction commits, unless one is already waiting.

    For a task that works through rows the caller has committed (a coalescing
    pass): a thousand changes in a row publish it once. The flag lives in the
    cache for ``seconds`` at most and the task clears it when it starts
    (``publish_again_allowed``), so a change committed after that publishes
    again. A lost flag or message only costs a duplicate pass or a wait for
    beat's periodic run of the same task, never the work: that is in the rows.
    """
    transaction.on_commit(lambda: _publish_once(task, seconds), robust=True)


def _publish_once(task, seconds: int) -> None:
    key = _pending_key(task)
    try:
        if not cache.add(key, 1, seconds):
            return
    except Exception as exc:  # the cache (Redis) is down: publish anyway, the broker may be elsewhere
        logger.warning("cache unavailable (%s): publishing %s without coalescing", type(exc).__name__, task.name)
    if not publish(task, [()]):
        with suppress(Exception):
            cache.delete(key)  # nothing is waiting after all: the next change tries again


def publish_again_allowed(task) -> None:
    """Called by the task as it starts: changes committed from now on publish it again."""
    with suppress(Exception):
        cache.delete(_pending_key(task))
