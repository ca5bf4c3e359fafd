"""What the fault tests share (test_faults.py for reminders, test_offer_faults.py for offers).

The marker for tests that start real processes, the reaper run as beat would
once claims are old enough to be stuck, a lock that holds a worker between its
claim and its call to the provider, and the warnings a lost publish logs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from scheduling.messaging import reminders
from scheduling.models import ReminderPolicy
from scheduling.tasks import reap_reminders_task
from tests.celery_harness import REDIS_SERVER, database_url_for_subprocess

# The reaper only touches claims older than STUCK_AFTER: run it as beat would, that much later.
LATER = reminders.STUCK_AFTER + timedelta(minutes=1)


def integration(test):
    """Real processes: a Redis server of the test's own and Celery workers (tests/celery_harness.py)."""
    needs = pytest.mark.skipif(not os.path.exists(REDIS_SERVER) and not os.environ.get("CI"),
                               reason=f"needs {REDIS_SERVER} (Debian's redis-server package)")
    return pytest.mark.integration(needs(test))


def reap_later() -> dict[str, dict[str, int]]:
    """What beat's reaper does, run in this process once the claims are old enough to be stuck; per kind of text."""
    with time_machine.travel(timezone.now() + LATER):
        return reap_reminders_task()


@contextmanager
def warnings_from(logger_name: str) -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


@contextmanager
def policies_locked() -> Iterator[None]:
    """Hold an exclusive lock on the reminder policies, from a connection of its own, until the block ends.

    A send (a reminder's or an offer's) reads its site's policy after its claim
    (queued -> sending) and before it records ``provider_called_at``: a worker
    there waits on this lock.
    """
    with psycopg.connect(database_url_for_subprocess()) as locker:
        locker.execute(f"LOCK TABLE {ReminderPolicy._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            locker.rollback()


def waiting_on_the_policy_lock() -> int:
    """The backends waiting for a lock on the policies' table (from pg_locks: a long query's text in
    pg_stat_activity is cut off before it names every table it reads)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND relation = %s::regclass",
                       [ReminderPolicy._meta.db_table])
        return cursor.fetchone()[0]
