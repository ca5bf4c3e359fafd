"""``make soak``: the soak in a database of its own on DATABASE_URL's server (``<name>_soak``, made afresh), its
own ``redis-server`` on SOAK_REDIS_PORT (6390), the project's settings with environment overrides.

    SOAK_REMINDERS=10000 SOAK_SPAN_SECONDS=120 SOAK_SEED=25 SOAK_FAULTS=on SOAK_CONCURRENCY=2 python -m tests.soak

Exits 1 when a text was lost, duplicated or stale.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from clinic.launcher import ROOT, prepare_environment


def fresh_database(url: str) -> str:
    """A new, empty database beside ``url``'s, named ``<name>_soak``; its URL."""
    parts = urlsplit(url)
    name = (parts.path.lstrip("/") or "clinic") + "_soak"
    with psycopg.connect(urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, "")),
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


def main() -> int:
    port = int(os.environ.get("SOAK_REDIS_PORT", "6390"))
    redis_url = f"redis://127.0.0.1:{port}/0"
    env = prepare_environment(for_tests=True)
    database_url = fresh_database(os.environ.get("SOAK_DATABASE_URL") or env["DATABASE_URL"])
    env.update({"DATABASE_URL": database_url, "REDIS_URL": redis_url, "CELERY_BROKER_URL": redis_url,
                "LOG_LEVEL": "WARNING"})
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()
    from tests.celery_harness import RedisServer
    from tests.soak.chaos import Faults
    from tests.soak.run import Soak, environment_for_workers, run

    count = int(os.environ.get("SOAK_REMINDERS", "10000"))
    soak = Soak(reminders=count, span_seconds=float(os.environ.get("SOAK_SPAN_SECONDS", "120")),
                seed=int(os.environ.get("SOAK_SEED", "25")),
                concurrency=int(os.environ.get("SOAK_CONCURRENCY", "2")))
    soak.faults = Faults(window=soak.span_seconds + 30)
    if os.environ.get("SOAK_FAULTS", "on") == "off":
        soak.faults = Faults.none()
        soak.unavailable = soak.too_many = soak.dropped = 0.0
    with tempfile.TemporaryDirectory(prefix="soak-") as directory:
        redis = RedisServer(Path(directory))
        redis.port, redis.url = port, redis_url
        redis.start()
        try:
            report = run(soak, redis=redis, directory=Path(directory),
                         worker_env=environment_for_workers(database_url, redis_url))
        finally:
            redis.kill()
    print("\n".join(report.lines()), flush=True)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
