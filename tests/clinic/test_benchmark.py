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

from scheduling.benchmark.scales import INTERACTIVE_CASES, MAX_INTERACTIVE_QUERIES, SWEEP_MAX_QUERIES

ROOT = Path(__file__).resolve().parents[2]
CASES = (*INTERACTIVE_CASES, "due_visit_sweep", "reminder_sweep", "dashboard_month")

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
