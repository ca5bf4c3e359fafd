"""``make benchmark``: ``manage.py benchmark`` against DATABASE_URL's server, or the embedded one when unset.

    python -m scheduling.benchmark --scale medium --json benchmark-medium.json --check
"""

from __future__ import annotations

import subprocess
import sys

from clinic.launcher import ROOT, prepare_environment


def main(argv: list[str]) -> int:
    # The test environment's defaults: texts go to the locmem backend and tasks to an in-memory broker.
    env = prepare_environment(for_tests=True)
    return subprocess.run([sys.executable, "manage.py", "benchmark", *argv], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
