"""A deterministic synthetic clinic network, loaded with COPY: ``generate`` and the ``Network`` it made.

- ``layout``: the sites' zones and hours, the chair lanes, the protocol mix, the names;
- ``generator``: sites and staff, then each patient's course and sessions, their reminders and REMS forms;
- ``copying``: the rows into their tables with COPY, the plain indexes built once afterwards.

The same scale and the same ``today`` give the same rows. After the load the
sequences are reset, the worklist is swept once and the tables analysed, so
the network looks as a live system would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time as clock
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from patients.models import Patient
from protocols.models import CourseStatus, PriorAuthorisation, TreatmentCourse
from scheduling.benchmark.copying import plain_indexes_set_aside
from scheduling.benchmark.generator import Generator
from scheduling.benchmark.scales import Scale
from scheduling.models import Reminder, RemsForm, Session, WorkItem
from scheduling.worklist import sweep


@dataclass
class Network:
    """What the benchmark cases need to know about the generated data."""

    scale: str
    today: date
    now: datetime
    desk_user_id: int
    token: str
    location_ids: list[int]
    counts: dict[str, int]
    seconds: float


# Every discharged session's number in its course, counted from scratch (as migration 0018 first counted them).
NUMBERED = """
SELECT id, course_id, row_number() OVER (PARTITION BY course_id ORDER BY start, id), local_date, location_id,
       recorded_history
  FROM scheduling_session WHERE status = 'discharged'
"""
NUMBER_DISCHARGED = ("INSERT INTO scheduling_sessionnumber (session_id, course_id, number, local_date, location_id, "
                     "recorded_history)" + NUMBERED)


def generate(scale: Scale, *, now: datetime | None = None, log=print) -> Network:
    """Create the whole network in the current (empty, migrated) database and return what the cases need.

    Ends as a live system would look: the worklist as the hourly sweep leaves it, the tables analysed.
    """
    started = clock.perf_counter()
    now = (now or timezone.now()).replace(microsecond=0)
    generator = Generator(scale, now=now)
    loaded = [Patient, TreatmentCourse, Session, Reminder, RemsForm, PriorAuthorisation]
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Skip the audit-history and foreign-key triggers while loading; constraints still apply.
            cursor.execute("SET LOCAL session_replication_role = replica")
        sites, desk = generator.create_staff_and_sites()
        with plain_indexes_set_aside([model._meta.db_table for model in loaded]):
            for number in range(1, scale.patients + 1):
                generator.add_patient_and_course(number, sites[(number - 1) % len(sites)], desk.pk)
                if number % 10_000 == 0:
                    log(f"  {number:,} patients, {generator.sessions.count:,} sessions")
            for table in generator.tables():
                table.flush()
            log(f"  copied in {clock.perf_counter() - started:.0f} s; building indexes...")
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
            for statement in connection.ops.sequence_reset_sql(no_style(), loaded):
                cursor.execute(statement)
            # The discharged sessions' numbers, as the sessions' trigger (off while loading) would have kept them.
            cursor.execute(NUMBER_DISCHARGED)
        token = Token.objects.create(user=desk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"  indexed in {clock.perf_counter() - started:.0f} s; the first worklist sweep...")
    sweep.refresh_worklist(now=now)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    counts = {
        "locations": len(sites),
        "chairs": sum(len(chairs) for site in sites for chairs in site.chairs.values()),
        "patients": generator.patients.count,
        "courses": generator.courses.count,
        "active_courses": TreatmentCourse.objects.filter(status=CourseStatus.ACTIVE).count(),
        "sessions": generator.sessions.count,
        "reminders": generator.reminders.count,
        "rems_forms": generator.forms.count,
        "authorisations": generator.authorisations.count,
        "open_work_items": WorkItem.objects.open().count(),
    }
    return Network(scale=scale.name, today=generator.today, now=now, desk_user_id=desk.pk, token=token.key,
                   location_ids=[site.location.pk for site in sites], counts=counts,
                   seconds=clock.perf_counter() - started)


def generate_into(scale: Scale, path: Path, *, log=print) -> None:
    """``generate``, then write the network to ``path`` as JSON (for ``generate_apart``)."""
    network = generate(scale, log=log)
    path.write_text(json.dumps({**asdict(network), "today": network.today.isoformat(),
                                "now": network.now.isoformat()}))


def generate_apart(scale: Scale, *, log=print) -> Network:
    """``generate`` in a process of its own, and the network it made.

    The measuring process must look like the web and Celery workers it
    stands for, and a process that has built a network's rows does not: at
    large it has held millions of row values in Python, and after they are
    freed its heap is scattered over a gigabyte that it keeps. In a test, a
    process that had allocated and freed three million small objects ran the
    availability search 28% slower than before; the bigger the network, the
    more the generator allocates, so that read as the paths growing with the
    network.
    """
    with tempfile.TemporaryDirectory(prefix="clinic-benchmark-") as folder:
        path = Path(folder) / "network.json"
        command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "benchmark", "--scale", scale.name,
                   "--in-bench-database", "--generate-into", str(path)]
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
            for line in child.stdout:
                log(line.rstrip("\n"))
        if child.returncode:
            raise RuntimeError(f"generating the {scale.name} network failed (exit status {child.returncode})")
        saved = json.loads(path.read_text())
    return Network(**{**saved, "today": date.fromisoformat(saved["today"]),
                      "now": datetime.fromisoformat(saved["now"])})
