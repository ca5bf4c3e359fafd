"""Worklist refreshes after booking changes, coalesced per course and kept in PostgreSQL.

A change (book, move, cancel, no-show, discharge, a REMS form) marks its
course in the change's own transaction (``mark``): one ``WorklistRefresh``
row per course however many changes, so a day of 10,000 bookings is a few
refresh passes, not 10,000 tasks ahead of the texts. A pass (``refresh_marked``)
claims a batch of marked courses under a lease, refreshes them together with
the set-based sweep (``sweep.refresh_worklist(course_ids=...)``), and deletes
the marks it refreshed unless a newer change marked the course again meanwhile.

Nothing here depends on the broker keeping a message: the mark commits with
the change, and beat's periodic pass (``WORKLIST_REFRESH_SECONDS``) refreshes
whatever a lost task or a dead worker left marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from scheduling.models import WorklistRefresh
from scheduling.worklist import sweep

# A pass that has not finished within this long died (the time limit kills it well before).
LEASE = timedelta(minutes=5)


def mark(course_id: int, *, now: datetime | None = None) -> None:
    """Mark ``course_id`` for a refresh, inside the caller's transaction (a later change re-marks it)."""
    table = WorklistRefresh._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (course_id, marked_at, claimed_at) VALUES (%s, %s, NULL)
            ON CONFLICT (course_id) DO UPDATE SET marked_at = EXCLUDED.marked_at, claimed_at = NULL
            """,
            [course_id, now or timezone.now()],
        )


def claim(*, limit: int, now: datetime) -> list[int]:
    """Claim up to ``limit`` marked courses (unclaimed, or whose lease ran out), oldest mark first; committed."""
    table = WorklistRefresh._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} SET claimed_at = %s
            WHERE course_id IN (
                SELECT course_id FROM {table}
                WHERE claimed_at IS NULL OR claimed_at < %s
                ORDER BY marked_at, course_id
                LIMIT %s
                FOR UPDATE SKIP LOCKED
            )
            RETURNING course_id
            """,
            [now, now - LEASE, limit],
        )
        return sorted(row[0] for row in cursor.fetchall())


def release(course_ids: list[int], *, claimed_at: datetime) -> int:
    """Delete the marks this pass refreshed; a course marked again since (claim cleared) keeps its mark."""
    return WorklistRefresh.objects.filter(course_id__in=course_ids, claimed_at=claimed_at).delete()[0]


def pending() -> bool:
    """Whether any course is marked and not claimed by a live pass."""
    return WorklistRefresh.objects.filter(claimed_at__isnull=True).exists()


@dataclass(frozen=True)
class Pass:
    """What one pass did: the courses refreshed, the sweep's counts, and whether more are marked."""

    courses: int
    counts: dict
    more: bool

    def as_dict(self) -> dict:
        return {"courses": self.courses, **self.counts, "more": self.more}


def refresh_marked(*, limit: int | None = None, now: datetime | None = None) -> Pass:
    """Refresh up to ``limit`` marked courses (``WORKLIST_REFRESH_BATCH``) in one set-based sweep."""
    limit = limit or settings.WORKLIST_REFRESH_BATCH
    now = now or timezone.now()
    course_ids = claim(limit=limit, now=now)
    if not course_ids:
        return Pass(0, {}, False)
    counts = sweep.refresh_worklist(course_ids=course_ids, now=now)
    release(course_ids, claimed_at=now)
    return Pass(len(course_ids), counts, len(course_ids) == limit or pending())
