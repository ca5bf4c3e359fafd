"""The benchmark's own database, on the working database's server but never the working database.

The command runs itself again in a child process whose DATABASE_URL names a
fresh database, ``clinic_bench_<scale>_<pid>`` (the pid keeps two runs on one
server apart); the child migrates it, fills it and measures. The parent drops
it afterwards whatever happened, ``WITH (FORCE)`` so a crashed child's
connections cannot keep it alive. A child refuses to start in a database whose
name does not say it is a benchmark's, so the working data is never touched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection

PREFIX = "clinic_bench_"


def is_bench_database(name: str | None) -> bool:
    return bool(name) and name.startswith(PREFIX)


def url_for(database_url: str, name: str) -> str:
    """``database_url`` with its database name replaced (host, port, user and options kept)."""
    return urlunsplit(urlsplit(database_url)._replace(path="/" + name))


def _server_command(sql: str) -> None:
    # Django's own route to the server's maintenance database, as the test runner uses it.
    with connection._nodb_cursor() as cursor:
        cursor.execute(sql)


@contextmanager
def bench_database(scale: str) -> Iterator[str]:
    """Create a fresh benchmark database for ``scale``, yield its name, and drop it on the way out."""
    working = connection.settings_dict["NAME"]
    name = f"{PREFIX}{scale}_{os.getpid()}"
    if name == working or is_bench_database(working):
        raise CommandError(f"Refusing to create {name} from {working}: run the benchmark from the working settings.")
    quoted = connection.ops.quote_name(name)
    _server_command(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    _server_command(f"CREATE DATABASE {quoted}")
    # `kill` (SIGTERM) must still drop the database: turn it into an exception so `finally` runs.
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        yield name
    finally:
        signal.signal(signal.SIGTERM, previous)
        _server_command(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")


def run_inside(name: str, arguments: list[str]) -> int:
    """Run ``manage.py benchmark <arguments>`` in a child process connected to database ``name``."""
    env = dict(os.environ)
    env["DATABASE_URL"] = url_for(env["DATABASE_URL"], name)
    # Texts to memory, tasks to an in-memory broker: nothing leaves the machine.
    env["SMS_BACKEND"] = "locmem"
    env["CELERY_BROKER_URL"] = "memory://"
    command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "benchmark", *arguments, "--in-bench-database"]
    return subprocess.run(command, env=env).returncode
