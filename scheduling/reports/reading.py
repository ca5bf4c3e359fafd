"""Reading a report's statements side by side, on one snapshot of the database.

The dashboard's figures are a dozen independent aggregate queries. One
after another they cost the sum of their times; PostgreSQL runs each on one
core, so the dashboard reads them on REPORT_READERS connections at once and
costs about the longest share instead.

Every reader sees the same data: the first opens a REPEATABLE READ READ ONLY
transaction and exports its snapshot (``pg_export_snapshot``), the others
import it before their first statement (as ``pg_dump --jobs`` does), so the
figures agree with each other exactly as if one connection had read them all.
The exporting transaction stays open until every reader is done.

Inside a transaction (a test's, or a caller's ``atomic``) the statements run
on that connection, one after another: other connections could not see what
the transaction has not committed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from queue import Empty, SimpleQueue

from django.conf import settings
from django.db import connection, connections, transaction

from scheduling.reports.sql import fetch

Statement = tuple[str, dict]

_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+-[0-9A-Fa-f]+(-[0-9]+)?")


def _begin_snapshot(snapshot: str | None) -> str:
    """Start this connection's read-only transaction on ``snapshot`` (or export a new one); returns its id."""
    with connection.cursor() as cursor:
        # Just-in-time compilation costs these statements more than it saves (29 ms of the 370 the phase numbering
        # once took at large scale, for nothing back). PostgreSQL's own parallel workers would only compete with
        # the other readers for the same cores: one core per reader is the parallelism here.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL jit = off; "
                       "SET LOCAL max_parallel_workers_per_gather = 0")
        if snapshot is None:
            cursor.execute("SELECT pg_export_snapshot()")
            return cursor.fetchone()[0]
        # SET takes no bound parameter: the id is checked to be the server's own format before it is written in.
        if not _SNAPSHOT_ID.fullmatch(snapshot):
            raise ValueError(f"not a snapshot id: {snapshot!r}")
        cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        return snapshot


def _drain(work: SimpleQueue, found: dict[int, list[dict]]) -> None:
    while True:
        try:
            index, (sql, params) = work.get_nowait()
        except Empty:
            return
        found[index] = fetch(sql, params)


def _reader(snapshot: str, work: SimpleQueue, found: dict[int, list[dict]]) -> None:
    """A helper thread: its own connection, on the shared snapshot, until the queue is empty; then closed."""
    try:
        with transaction.atomic():
            _begin_snapshot(snapshot)
            _drain(work, found)
    finally:
        connections.close_all()


def read_together(statements: Sequence[Statement], *, readers: int | None = None) -> list[list[dict]]:
    """The rows of each statement, in order. Give the longest-running first: readers take the next one free."""
    readers = settings.REPORT_READERS if readers is None else readers
    readers = min(readers, len(statements))
    if readers <= 1 or connection.in_atomic_block:
        return [fetch(sql, params) for sql, params in statements]
    work: SimpleQueue = SimpleQueue()
    for item in enumerate(statements):
        work.put(item)
    found: dict[int, list[dict]] = {}
    with transaction.atomic(), ThreadPoolExecutor(max_workers=readers - 1) as pool:
        snapshot = _begin_snapshot(None)
        helpers = [pool.submit(_reader, snapshot, work, found) for _ in range(readers - 1)]
        _drain(work, found)
        for helper in helpers:
            helper.result()  # a reader's error is the caller's
    return [found[index] for index in range(len(statements))]
