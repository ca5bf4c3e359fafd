"""``python -m scheduling.backup [restore_drill options]``: the restore drill on a machine with only Python.

As ``make run`` does (clinic/launcher.py): with DATABASE_URL unset, the
embedded PostgreSQL starts (data in ``.pgdata/``) and the drill's two
databases are made on it; the drill's ``pg_dump``/``pg_restore`` are then
the wheel's own (scheduling/backup/tools.py). With DATABASE_URL set, that
server is used.
"""

from __future__ import annotations

import subprocess
import sys

from clinic.launcher import ROOT, prepare_environment


def main(argv: list[str]) -> int:
    env = prepare_environment(for_tests=False)
    return subprocess.run([sys.executable, "manage.py", "restore_drill", *argv], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
