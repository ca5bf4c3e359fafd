"""Measure every case, run the concurrency test, print the table, write the JSON, check the targets.

Runs inside the benchmark's own database (see ``scheduling.benchmark.database``).
Each case: warm-up calls, one call under a query counter, then ``repeats``
timed calls, then the same for its raw-SQL floor. Times are wall-clock
(``perf_counter``) in this process, so they include Python, the driver and the
round trips to PostgreSQL, as a web worker would see them.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import statistics
import time as clock
from pathlib import Path

from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scheduling.benchmark import concurrency, offer_cases, report_cases, synthetic
from scheduling.benchmark.cases import CASES
from scheduling.benchmark.hot_path import Case
from scheduling.benchmark.scales import (
    CROSS_SCALE_RATIO,
    INTERACTIVE_CASES,
    MAX_INTERACTIVE_QUERIES,
    REMINDER_SWEEP_SECONDS,
    SWEEP_FLOOR_RATIO,
    SWEEP_MAX_QUERIES,
    SWEEP_SECONDS_PER_10K_COURSES,
    Scale,
)

WARM_UP = 3
# Not queries: transaction control (Django logs BEGIN, COMMIT and savepoints beside the queries).
TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b")
SWEEP_WARM_UP = 1


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _timed(run, indexes, prepare, cpu: list[float] | None = None) -> list[float]:
    """Wall time of each run (and, into ``cpu``, this process's CPU time: the Python side, which a busy
    machine inflates far less than the wall time)."""
    times = []
    for index in indexes:
        prepare(index)
        started, started_cpu = clock.perf_counter(), clock.process_time()
        run(index)
        times.append(clock.perf_counter() - started)
        if cpu is not None:
            cpu.append(clock.process_time() - started_cpu)
    return times


def measure(case: Case, *, repeats: int) -> dict:
    warm_up = SWEEP_WARM_UP if case.sweep else WARM_UP
    case.setup(warm_up + 1 + 2 * repeats)
    started = clock.perf_counter()
    first = _timed(case.call, range(warm_up), case.prepare)
    index = warm_up
    case.prepare(index)
    with CaptureQueriesContext(connection) as captured:
        case.call(index)
    # Copied now: the log is cleared by the next request a later call makes.
    logged = list(captured.captured_queries)
    statements = [query["sql"] for query in logged]
    queries = [sql for sql in statements if not TRANSACTION_CONTROL.match(sql)]
    plans = []
    if case.sweep:
        case.prepare(index)  # puts back what the call claimed, so the plans see the work it saw
        plans = explain_slowest(logged)
    index += 1
    cpu: list[float] = []
    calls = _timed(case.call, range(index, index + repeats), case.prepare, cpu)
    index += repeats
    _timed(case.floor, range(index, index + warm_up), case.prepare)
    index += warm_up
    floors = _timed(case.floor, range(index, index + repeats), case.prepare)
    median, floor_median = statistics.median(calls), statistics.median(floors)
    result = {
        "description": case.description,
        "runs": repeats,
        "median_ms": round(median * 1000, 2),
        "p95_ms": round(_p95(calls) * 1000, 2),
        "min_ms": round(min(calls) * 1000, 2),
        "cpu_median_ms": round(statistics.median(cpu) * 1000, 2),
        "queries": len(queries),
        "statements": len(statements),
        "floor_median_ms": round(floor_median * 1000, 2),
        "ratio_to_floor": round(median / floor_median, 2) if floor_median else None,
        "first_call_ms": round(first[0] * 1000, 2) if first else None,
        "seconds": round(clock.perf_counter() - started, 2),
        "sql": [sql[:300] for sql in statements],
        "plans": plans,
        **case.extra(),
    }
    case.teardown()
    return result


def explain_slowest(logged: list[dict], count: int = 2) -> list[dict]:
    """EXPLAIN (ANALYZE, BUFFERS) of the ``count`` slowest statements of one call, rolled back afterwards."""
    slowest = sorted((query for query in logged if query["sql"].lstrip().upper().startswith(("SELECT", "UPDATE"))),
                     key=lambda query: float(query["time"]), reverse=True)[:count]
    plans = []
    for query in slowest:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            plans.append({"sql": query["sql"], "plan": "\n".join(row[0] for row in cursor.fetchall())})
            transaction.set_rollback(True)  # an UPDATE's claims are undone
    return plans


def _check(name: str, value, limit, ok: bool, unit: str = "") -> dict:
    return {"target": name, "value": value, "limit": limit, "unit": unit, "ok": bool(ok)}


def checks(report: dict, scale: Scale, compare: dict | None) -> list[dict]:
    """The issue's targets, scaled for small runs (query counts, winners and errors are the same everywhere)."""
    cases, found = report["cases"], []
    for name in INTERACTIVE_CASES:
        case = cases[name]
        found.append(_check(f"{name}: median", case["median_ms"], scale.interactive_median_ms,
                            case["median_ms"] < scale.interactive_median_ms, "ms"))
        found.append(_check(f"{name}: queries", case["queries"], MAX_INTERACTIVE_QUERIES,
                            case["queries"] <= MAX_INTERACTIVE_QUERIES))
        if compare and name in compare.get("cases", {}):
            limit = round(compare["cases"][name]["median_ms"] * CROSS_SCALE_RATIO, 2)
            found.append(_check(f"{name}: median vs {compare['scale']} x{CROSS_SCALE_RATIO}", case["median_ms"],
                                limit, case["median_ms"] <= limit, "ms"))
    sweep = cases["due_visit_sweep"]
    courses = report["data"]["active_courses"]
    # Small networks get a floor of one second: a fixed cost dominates there.
    limit = round(max(SWEEP_SECONDS_PER_10K_COURSES * courses / 10_000, 1.0), 2)
    found.append(_check("due_visit_sweep: time", round(sweep["median_ms"] / 1000, 3), limit,
                        sweep["median_ms"] / 1000 < limit, "s"))
    found.append(_check("due_visit_sweep: queries (fixed, not per course)", sweep["queries"], SWEEP_MAX_QUERIES,
                        sweep["queries"] <= SWEEP_MAX_QUERIES))
    if scale.name in ("medium", "large"):
        found.append(_check("due_visit_sweep: ratio to its raw-SQL floor", sweep["ratio_to_floor"], SWEEP_FLOOR_RATIO,
                            sweep["ratio_to_floor"] is not None and sweep["ratio_to_floor"] <= SWEEP_FLOOR_RATIO))
    reminder = cases["reminder_sweep"]
    found.append(_check("reminder_sweep: time for the next 24 h", round(reminder["median_ms"] / 1000, 3),
                        REMINDER_SWEEP_SECONDS, reminder["median_ms"] / 1000 < REMINDER_SWEEP_SECONDS, "s"))
    distinct, contested = report["concurrency"]["distinct"], report["concurrency"]["contested"]
    found.append(_check("concurrency: distinct bookings per second", distinct["bookings_per_second"],
                        scale.min_bookings_per_second,
                        (distinct["bookings_per_second"] or 0) >= scale.min_bookings_per_second, "/s"))
    found.append(_check("concurrency: every distinct booking succeeded", distinct["booked"], distinct["attempts"],
                        distinct["booked"] == distinct["attempts"]))
    found.append(_check("concurrency: exactly one winner per contested slot", contested["winners_per_slot"], 1,
                        contested["exactly_one_winner"]))
    errors = distinct["errors"] + contested["errors"]
    found.append(_check("concurrency: errors other than 409", errors, 0, errors == 0))
    found += report_cases.checks(report, _check)
    found += offer_cases.checks(report, _check, scale.name)
    return found


def cpu_yardstick_ms() -> float:
    """Milliseconds a fixed pure-Python loop takes: how fast this machine's CPU is right now. A shared
    virtual machine's speed drifts by half again from one run to the next; compare runs by this too."""
    started = clock.perf_counter()
    total = 0
    for number in range(2_000_000):
        total += number
    return round((clock.perf_counter() - started) * 1000, 1)


def _machine() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    return {"cpus": os.cpu_count(), "load_average": [round(load, 2) for load in os.getloadavg()],
            "cpu_yardstick_ms": cpu_yardstick_ms(), "python": platform.python_version(), "postgresql": server,
            "platform": platform.platform()}


def print_table(report: dict, write) -> None:
    data = report["data"]
    write(f"\nScale {report['scale']}: {data['locations']} locations, {data['chairs']} chairs, "
          f"{data['patients']:,} patients, {data['courses']:,} courses ({data['active_courses']:,} active), "
          f"{data['sessions']:,} sessions, {data['reminders']:,} reminders; generated in "
          f"{data['generate_seconds']:.0f} s. Load average {report['machine']['load_average']}; CPU yardstick "
          f"{report['machine']['cpu_yardstick_ms']} ms at the start, {report['machine']['cpu_yardstick_ms_at_end']} ms "
          "at the end (a fixed Python loop: lower is a faster machine).")
    write(f"\n{'case':<18}{'median ms':>11}{'p95 ms':>10}{'cpu ms':>9}{'queries':>9}{'floor ms':>10}{'x floor':>9}")
    for name, case in report["cases"].items():
        write(f"{name:<18}{case['median_ms']:>11.2f}{case['p95_ms']:>10.2f}{case['cpu_median_ms']:>9.2f}"
              f"{case['queries']:>9}{case['floor_median_ms']:>10.2f}{case['ratio_to_floor'] or 0:>9.1f}")
    offers = report["cases"].get("offer_sweep")
    if offers:
        spread = offers["queries_per_freed_time"]
        write(f"\nOffer sweep: {offers['freed_slots']} freed slots, {offers['ms_per_1000_freed_slots']} ms per 1,000 "
              f"(per slot median {offers['per_slot_median_ms']} ms, p95 {offers['per_slot_p95_ms']} ms); "
              f"{spread['min']}-{spread['max']} queries per freed time; {offers['offers_planned']} offers for "
              f"{offers['freed_times_offered']} of the times.")
    distinct, contested = report["concurrency"]["distinct"], report["concurrency"]["contested"]
    write(f"\nConcurrency, {distinct['threads']} threads: {distinct['booked']}/{distinct['attempts']} distinct "
          f"bookings in {distinct['seconds']} s = {distinct['bookings_per_second']}/s, answers "
          f"{distinct['statuses']}; contested slots: winners {contested['winners_per_slot']}, answers "
          f"{contested['statuses']} {contested['conflict_codes']}.")
    if report.get("checks"):
        write("\nTargets:")
        for check in report["checks"]:
            mark = "ok  " if check["ok"] else "MISS"
            write(f"  {mark} {check['target']}: {check['value']}{check['unit']} (limit {check['limit']}"
                  f"{check['unit']})")


def settle(scale: Scale, write) -> None:
    """Let the machine finish the bulk load before anything is timed.

    Measured straight after generating the large network, every hot path used
    from a fifth more CPU to twice as much as in a run that paused first (per
    call: availability 12.6 ms against 10.5, plan 5.8 against 3.0), and the
    large/medium checks failed on paths whose work does not depend on the
    network's size. A CHECKPOINT writes the load's dirty pages now rather
    than under the measurements; the pause lets the rest of the load's wake
    (the virtual machine's memory, PostgreSQL's background writers) pass.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError as error:  # a role without pg_checkpoint: the pause alone
        write(f"  no CHECKPOINT ({error.__class__.__name__}); pausing only")
    if scale.settle_seconds:
        write(f"Settling for {scale.settle_seconds} s...")
        clock.sleep(scale.settle_seconds)


def run(scale: Scale, *, json_path: Path | None, compare_path: Path | None, write) -> bool:
    """Generate, measure, report; returns True when every target is met."""
    started = timezone.now()
    machine_before = _machine()
    write(f"Generating the {scale.name} network...")
    network = synthetic.generate_apart(scale, log=write)
    settle(scale, write)
    data = {**network.counts, "generate_seconds": round(network.seconds, 1), "today": network.today.isoformat(),
            "settle_seconds": scale.settle_seconds}
    write(f"  done in {network.seconds:.0f} s: {data}")
    cases = {}
    for case_class in CASES:
        case = case_class(network)
        write(f"Measuring {case.name}...")
        cases[case.name] = measure(case, repeats=case.repeats or (scale.sweep_repeats if case.sweep else scale.repeats))
    write("Concurrency test...")
    report = {
        "scale": scale.name,
        "started_at": started.isoformat(),
        "machine": {**machine_before, "load_average_at_end": [round(load, 2) for load in os.getloadavg()],
                    "cpu_yardstick_ms_at_end": cpu_yardstick_ms()},
        "data": data,
        "cases": cases,
        "concurrency": concurrency.run(network, scale),
    }
    compare = json.loads(compare_path.read_text()) if compare_path else None
    report["checks"] = checks(report, scale, compare)
    report["ok"] = all(check["ok"] for check in report["checks"])
    report["seconds"] = round((timezone.now() - started).total_seconds(), 1)
    print_table(report, write)
    if json_path:
        json_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
        write(f"\nWrote {json_path}")
    return report["ok"]
