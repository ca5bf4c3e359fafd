"""``python manage.py restore_drill [--threads N] [--dump-file FILE] [--keep]``: the restore drill.

Dumps a demo under booking load with ``pg_dump --format=custom``, restores it
into a fresh database, migrates it and compares every table; exits non-zero on
any difference. Two databases of its own (``clinic_drill_<pid>``...) on the
working server, dropped afterwards. See docs/BACKUP.md; the work is in
``scheduling.backup.drill``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from scheduling.backup import drill

DIFFERENT = 3


class Command(BaseCommand):
    help = "Dump a demo under booking load, restore it into a fresh database, and compare every table."

    def add_arguments(self, parser):
        parser.add_argument("--threads", type=int, default=4, help="front desks booking during the dump (default 4)")
        parser.add_argument("--dump-file", type=Path, help="write the dump here (default: a temporary directory)")
        parser.add_argument("--keep", action="store_true", help="keep the two drill databases afterwards")
        parser.add_argument("--in-drill-database", action="store_true", help=argparse.SUPPRESS)
        parser.add_argument("--restore-into", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if options["threads"] < 1:
            raise CommandError("--threads must be at least 1")
        dump_file = options["dump_file"].resolve() if options["dump_file"] else None
        if not options["in_drill_database"]:
            arguments = ["--threads", str(options["threads"])]
            arguments += ["--dump-file", str(dump_file)] if dump_file else []
            with drill.drill_databases(options["keep"]) as (source, restored):
                self.stdout.write(f"Drill databases {source} and {restored}"
                                  + (" (kept)." if options["keep"] else " (dropped afterwards)."))
                self.stdout.flush()
                code = drill.run_child(source, restored, arguments)
            if code == DIFFERENT:
                raise CommandError("the restore differs from the dump", returncode=1)
            if code:
                raise CommandError(f"the drill failed (exit status {code})", returncode=2)
            return
        name = connection.settings_dict["NAME"]
        if not (drill.is_drill_database(name) and drill.is_drill_database(options["restore_into"])):
            raise CommandError(f"--in-drill-database in {name}: only a drill's databases may be filled.")
        ok = drill.run(restored_name=options["restore_into"], threads=options["threads"], dump_file=dump_file,
                       write=lambda line: self.stdout.write(line) or self.stdout.flush())
        if not ok:
            sys.exit(DIFFERENT)
