"""``python manage.py benchmark --scale {small,medium,large} [--json FILE] [--check] [--compare FILE]``.

Generates a synthetic clinic network in a database of its own, measures the
hot paths against their raw-SQL floors, runs sixteen desks booking at once,
and with ``--check`` exits non-zero when a target is missed. See
docs/PERFORMANCE.md; the work is in ``scheduling.benchmark``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from scheduling.benchmark import database, runner, synthetic
from scheduling.benchmark.scales import PUBLIC_SCALES, SCALES

# The child's exit status for "measured, but a target was missed" (a crash exits 1).
TARGETS_MISSED = 3


class Command(BaseCommand):
    help = "Measure the hot paths on synthetic data in a database the command creates and drops itself."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=tuple(SCALES), default="small", metavar="{" + ",".join(PUBLIC_SCALES)
                            + "}", help="small: 1 site, 500 patients; medium: 10 sites, 20,000 patients; "
                                        "large: 30 sites, 60,000 patients (default small)")
        parser.add_argument("--json", type=Path, help="write the figures and the targets' results to this file")
        parser.add_argument("--check", action="store_true", help="exit with status 1 when a target is missed")
        parser.add_argument("--compare", type=Path,
                            help="a medium run's JSON: also check each median is at most 1.3x that run's")
        parser.add_argument("--in-bench-database", action="store_true", help=argparse.SUPPRESS)
        # The generating process (scheduling.benchmark.synthetic.generate_apart): fill, write the network, exit.
        parser.add_argument("--generate-into", type=Path, help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        scale = options["scale"]
        json_path = options["json"].resolve() if options["json"] else None
        compare_path = options["compare"].resolve() if options["compare"] else None
        if compare_path and not compare_path.is_file():
            raise CommandError(f"--compare {compare_path}: no such file")
        if not options["in_bench_database"]:
            arguments = ["--scale", scale]
            arguments += ["--json", str(json_path)] if json_path else []
            arguments += ["--compare", str(compare_path)] if compare_path else []
            arguments += ["--check"] if options["check"] else []
            with database.bench_database(scale) as name:
                self.stdout.write(f"Benchmark database {name} (dropped afterwards).")
                code = database.run_inside(name, arguments)
            if code == TARGETS_MISSED:
                raise CommandError("benchmark targets missed", returncode=1)
            if code:
                raise CommandError(f"the benchmark failed (exit status {code})", returncode=2)
            return
        name = connection.settings_dict["NAME"]
        if not database.is_bench_database(name):
            raise CommandError(f"--in-bench-database in {name}: only a benchmark database may be filled.")
        if options["generate_into"]:
            synthetic.generate_into(SCALES[scale], options["generate_into"],
                                    log=lambda line: self.stdout.write(line) or self.stdout.flush())
            return
        call_command("migrate", interactive=False, verbosity=0)
        ok = runner.run(SCALES[scale], json_path=json_path, compare_path=compare_path,
                        write=lambda line: self.stdout.write(line) or self.stdout.flush())
        if options["check"] and not ok:
            sys.exit(TARGETS_MISSED)  # the parent says so

