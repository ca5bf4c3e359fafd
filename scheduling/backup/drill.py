"""The restore drill: dump a demo under booking load, restore it into a fresh database, compare.

The parent (``manage.py restore_drill`` in the working settings) creates two
databases on the working server, ``clinic_drill_<pid>`` and
``clinic_drill_<pid>_restored``, runs the drill in a child process connected
to the first, and drops both afterwards (``--keep`` leaves them). The child:

1. migrates and loads the demo (``load_demo``);
2. starts the desks (``load.py``) and waits for their first bookings;
3. opens a REPEATABLE READ transaction, exports its snapshot and runs
   ``pg_dump --format=custom --snapshot=...`` while the desks go on booking;
4. stops the desks once the dump is written, having seen bookings commit
   while it ran, and restores the dump with ``pg_restore --exit-on-error``;
5. runs ``migrate`` on the restored database, as a restore onto a newer
   release would;
6. compares (``compare.py``) the source, read in the exported snapshot so it
   is exactly what the dump saw, with the restored database: every table's
   count and checksum, the schema, the sequences; then checks that the history
   triggers still record a change in the restored database.

Any difference, a failed desk, or no booking during the dump exits non-zero.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from scheduling.backup import compare, load, tools
from scheduling.benchmark.database import url_for

PREFIX = "clinic_drill_"
# The audit history the drill names in its report: who opened which record, and pghistory's event tables.
AUDIT_TABLES = ("patients_patientaccess", "patients_patientevent", "protocols_treatmentcourseevent",
                "scheduling_sessionevent", "scheduling_reminderevent", "pghistory_context")
FIRST_BOOKINGS_TIMEOUT = 120


def is_drill_database(name: str | None) -> bool:
    return bool(name) and name.startswith(PREFIX)


def _server_command(sql: str) -> None:
    with connection._nodb_cursor() as cursor:
        cursor.execute(sql)


@contextmanager
def drill_databases(keep: bool) -> Iterator[tuple[str, str]]:
    working = connection.settings_dict["NAME"]
    if is_drill_database(working):
        raise RuntimeError(f"refusing to start a drill from {working}, itself a drill's database")
    names = (f"{PREFIX}{os.getpid()}", f"{PREFIX}{os.getpid()}_restored")
    quoted = [connection.ops.quote_name(name) for name in names]
    for name in quoted:
        _server_command(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _server_command(f"CREATE DATABASE {name}")
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        yield names
    finally:
        signal.signal(signal.SIGTERM, previous)
        if not keep:
            for name in quoted:
                _server_command(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run_child(source: str, restored: str, arguments: list[str]) -> int:
    env = dict(os.environ)
    env["DATABASE_URL"] = url_for(env["DATABASE_URL"], source)
    # Texts to memory, tasks to an in-memory broker: nothing leaves the machine.
    env["SMS_BACKEND"] = "locmem"
    env["CELERY_BROKER_URL"] = "memory://"
    command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "restore_drill", "--in-drill-database",
               "--restore-into", restored, *arguments]
    return subprocess.run(command, env=env).returncode


def server_major(url: str) -> int:
    with psycopg.connect(url) as conn:
        (number,) = conn.execute("SHOW server_version_num").fetchone()
    return int(number) // 10000


def dump(chosen: tools.Tools, url: str, snapshot: str | None, path: Path) -> None:
    command = [str(chosen.pg_dump), "--format=custom", "--file", str(path), f"--dbname={url}"]
    command += [f"--snapshot={snapshot}"] if snapshot else []
    subprocess.run(command, check=True)


def restore(chosen: tools.Tools, url: str, path: Path) -> None:
    subprocess.run([str(chosen.pg_restore), "--exit-on-error", "--no-owner", f"--dbname={url}", str(path)],
                   check=True)


def migrate(url: str) -> None:
    env = dict(os.environ, DATABASE_URL=url)
    subprocess.run([sys.executable, str(settings.BASE_DIR / "manage.py"), "migrate", "--noinput"], env=env,
                   check=True)


def history_still_recorded(url: str) -> bool:
    """A change to a patient in the restored database writes a history row (then is rolled back)."""
    with psycopg.connect(url) as conn:
        (before,) = conn.execute("SELECT count(*) FROM patients_patientevent").fetchone()
        conn.execute("UPDATE patients_patient SET preferred_name = preferred_name || 'x' "
                     "WHERE id = (SELECT min(id) FROM patients_patient)")
        (after,) = conn.execute("SELECT count(*) FROM patients_patientevent").fetchone()
        conn.rollback()
    return after == before + 1


def run(*, restored_name: str, threads: int, dump_file: Path | None, write: Callable[[str], None]) -> bool:
    """The child's part, in the source database. Returns whether the restore matched."""
    source_url = os.environ["DATABASE_URL"]
    restored_url = url_for(source_url, restored_name)
    chosen = tools.choose(server_major(source_url))
    write(f"Tools: {chosen.pg_dump} (PostgreSQL {chosen.major}).")
    call_command("migrate", interactive=False, verbosity=0)
    started = time.monotonic()
    call_command("load_demo", verbosity=0)
    write(f"Demo loaded in {time.monotonic() - started:.0f} s.")

    desks = load.prepare(threads)
    desks.start()
    path = dump_file or Path(tempfile.mkdtemp(prefix="restore-drill-")) / "clinic.dump"
    try:
        deadline = time.monotonic() + FIRST_BOOKINGS_TIMEOUT
        while desks.booked == 0 and not desks.failures and time.monotonic() < deadline:
            time.sleep(0.2)
        with psycopg.connect(source_url) as snapshot_conn:
            snapshot_conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            (snapshot,) = snapshot_conn.execute("SELECT pg_export_snapshot()").fetchone()
            booked_at_snapshot = desks.booked
            started = time.monotonic()
            dump(chosen, source_url, snapshot, path)
            dump_seconds = time.monotonic() - started
            booked_during_dump = desks.booked - booked_at_snapshot
            desks.stop()
            write(f"{len(desks.desks)} desks booked {desks.booked} visits ({desks.refused} slots refused), "
                  f"{booked_during_dump} of them while the {dump_seconds:.1f} s dump ran; "
                  f"dump {path.stat().st_size:,} bytes at {path}.")
            restore(chosen, restored_url, path)
            migrate(restored_url)
            with psycopg.connect(restored_url) as restored_conn:
                result = compare.compare(snapshot_conn, restored_conn)
    finally:
        desks.stop()
    for line in result.lines():
        write(line)
    audit = {name: result.tables.get(name, (None, None))[1] for name in AUDIT_TABLES}
    write("Audit history in the restore: " + ", ".join(
        f"{name} {fingerprint.rows if fingerprint else 'missing'}" for name, fingerprint in audit.items()))
    recorded = history_still_recorded(restored_url)
    write("History triggers in the restore: " + ("a change is recorded" if recorded else "NOTHING RECORDED"))
    problems = [f"desk failed: {failure!r}" for failure in desks.failures]
    problems += ["no booking committed while the dump ran"] if booked_during_dump == 0 else []
    problems += [f"{name} is empty" for name, fingerprint in audit.items() if not (fingerprint and fingerprint.rows)]
    problems += [] if result.equal else ["the restore differs from the dump's snapshot"]
    problems += [] if recorded else ["the restored history triggers record nothing"]
    for problem in problems:
        write(f"FAILED: {problem}")
    if not problems:
        write("Restore drill passed: every table equal to the dump's snapshot, the audit history kept.")
    return not problems
