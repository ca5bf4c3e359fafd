"""The benchmark command end to end, at its smallest scale, in a database it creates and drops itself."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from scheduling.benchmark import offer_cases
from scheduling.benchmark.runner import _check
from scheduling.benchmark.scales import INTERACTIVE_CASES, MAX_INTERACTIVE_QUERIES, SWEEP_MAX_QUERIES

ROOT = Path(__file__).resolve().parents[2]
CASES = (*INTERACTIVE_CASES, "due_visit_sweep", "reminder_sweep", "dashboard_month", "offer_sweep")

# One xdist worker runs this module's tests, so the benchmark (a module-scoped fixture) runs once.
pytestmark = pytest.mark.xdist_group("benchmark")
CASE_FIGURES = {"median_ms", "p95_ms", "queries", "floor_median_ms", "ratio_to_floor", "runs"}


def _manage(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=timeout)


def _databases() -> set[str]:
    url = re.sub(r"^postgres(ql)?://", "postgresql://", os.environ["DATABASE_URL"])
    with psycopg.connect(url) as conn:
        return {name for (name,) in conn.execute("SELECT datname FROM pg_database")}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One run of ``benchmark --scale tiny --check --json``: (completed process, its report)."""
    report = tmp_path_factory.mktemp("benchmark") / "tiny.json"
    result = _manage("benchmark", "--scale", "tiny", "--check", "--json", str(report))
    return result, (json.loads(report.read_text()) if report.exists() else None)


def test_a_tiny_run_meets_every_target_and_says_so_in_its_exit_status(tiny_run):
    # given / when
    result, report = tiny_run
    # then
    missed = [check for check in (report or {}).get("checks", []) if not check["ok"]]
    assert result.returncode == 0, (missed, result.stdout[-3000:], result.stderr[-3000:])
    assert report["ok"] is True
    assert "Targets:" in result.stdout


def test_the_report_has_every_hot_path_with_its_figures_and_its_floor(tiny_run):
    # given
    _, report = tiny_run
    # then
    assert report["scale"] == "tiny"
    assert set(report["cases"]) == set(CASES)
    for name, case in report["cases"].items():
        assert CASE_FIGURES <= set(case), name
        assert case["median_ms"] > 0 and case["p95_ms"] >= case["median_ms"] and case["floor_median_ms"] > 0, name
    assert report["data"]["sessions"] > 0 and report["data"]["active_courses"] > 0
    assert {"cpus", "load_average", "cpu_yardstick_ms", "postgresql"} <= set(report["machine"])


def test_every_interactive_hot_path_stays_under_eight_queries_and_the_sweep_under_its_ceiling(tiny_run):
    # given
    _, report = tiny_run
    # then
    for name in INTERACTIVE_CASES:
        assert report["cases"][name]["queries"] <= MAX_INTERACTIVE_QUERIES, name
    assert report["cases"]["due_visit_sweep"]["queries"] <= SWEEP_MAX_QUERIES


def test_sixteen_desks_book_distinct_slots_and_exactly_one_wins_each_contested_slot(tiny_run):
    # given
    _, report = tiny_run
    distinct, contested = report["concurrency"]["distinct"], report["concurrency"]["contested"]
    # then
    assert distinct["threads"] == 16 and distinct["booked"] == distinct["attempts"] > 0
    assert distinct["errors"] == 0 and distinct["bookings_per_second"] > 0
    assert contested["winners_per_slot"] and set(contested["winners_per_slot"]) == {1}
    assert contested["statuses"] == {"201": contested["slots"], "409": 15 * contested["slots"]}
    assert contested["errors"] == 0


def test_the_offer_sweep_plans_every_freed_time_with_a_fixed_number_of_queries_and_reports_its_cost(tiny_run):
    # given
    _, report = tiny_run
    case = report["cases"]["offer_sweep"]
    # then every freed time was planned, some were offered, and the cost is given per 1,000 and per slot
    assert case["freed_slots"] == offer_cases.FREED_SLOTS["tiny"]
    assert 0 < case["freed_times_offered"] <= case["freed_slots"] and case["offers_planned"] > 0
    assert case["ms_per_1000_freed_slots"] > 0 and 0 < case["per_slot_median_ms"] <= case["per_slot_p95_ms"]
    # the statements of a freed time that was offered depend on the offers it made (at most OFFERS_AT_ONCE),
    # never on how many candidates it had
    counts = {int(planned): seen for planned, seen in case["queries_by_offers_planned"].items()}
    assert all(len(seen) == 1 for planned, seen in counts.items() if planned), counts
    assert 0 < case["queries_per_freed_time"]["max"] <= offer_cases.MAX_QUERIES_PER_FREED_TIME
    assert any(sql.startswith("INSERT INTO \"scheduling_offer\"") for sql in case["sql"])
    # its floor is reported; the ratio is a target at medium and large only
    assert case["ratio_to_floor"] > 0
    targets = {check["target"] for check in report["checks"]}
    assert "offer_sweep: ratio to its raw-SQL floor" not in targets


def test_the_offer_sweep_check_fails_when_planning_is_far_above_its_floor_or_its_queries_grow():
    # given the figures of a run whose planning costs four times its floor and 40 statements a freed time
    case = {"ratio_to_floor": 4.0, "queries_per_freed_time": {"min": 12, "max": 40, "median": 19},
            "freed_times_offered": 0, "freed_slots": 1000}
    # when
    found = offer_cases.checks({"cases": {"offer_sweep": case}}, _check, "large")
    # then every target is missed
    assert [check["ok"] for check in found] == [False, False, False], found
    # and within its limits it passes
    case.update(ratio_to_floor=2.9, queries_per_freed_time={"min": 3, "max": 13, "median": 13},
                freed_times_offered=640)
    assert all(check["ok"] for check in offer_cases.checks({"cases": {"offer_sweep": case}}, _check, "large"))


def test_the_benchmark_database_is_dropped_after_the_run(tiny_run):
    # given
    result, _ = tiny_run
    name = re.search(r"Benchmark database (clinic_bench_tiny_\d+)", result.stdout).group(1)
    # then
    assert name not in _databases()


def test_the_benchmark_refuses_to_fill_a_database_that_is_not_its_own():
    # when the child mode is asked to run in the working database
    result = _manage("benchmark", "--scale", "tiny", "--in-bench-database", timeout=60)
    # then
    assert result.returncode != 0
    assert "only a benchmark database may be filled" in result.stderr
