"""Sixteen desks booking at once through the API of a real web server.

The benchmark starts gunicorn against its own database (as many worker
processes as ``web_workers``, twice the CPUs by default) and sixteen client
threads post bookings to it over HTTP, so the figure is the deployment's, not
one Python process's: the desks are clients, the server's processes use every
core, and the database decides every race.

(a) Distinct free slots: every thread books its own list of slots one after
another; the rate is successful bookings per second of wall time, from the
moment a barrier releases all threads until the last one finishes.
(b) Contested slots: for each slot all sixteen threads, for sixteen different
patients, book the same chair at the same time; exactly one may win, and
every other answer must be a 409.

Fresh patients and courses are created for this (their first session due on
a day past every generated booking), so the slots are free by construction.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time as clock
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from protocols.models import Modality
from scheduling.benchmark.inputs import new_courses
from scheduling.benchmark.layout import BOOKING_HORIZON_DAYS, LANE_STARTS
from scheduling.benchmark.scales import THREADS, Scale
from scheduling.benchmark.synthetic import Network
from scheduling.models import Chair, Closure, Location


def default_web_workers() -> int:
    return min(2 * (os.cpu_count() or 1), 8)


@contextmanager
def web_server(workers: int) -> Iterator[str]:
    """gunicorn serving this database on a free local port; yields its base URL and stops it afterwards."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Plain HTTP on 127.0.0.1: the benchmark's own server, never exposed.
    env = dict(os.environ, DJANGO_ALLOWED_HOSTS="127.0.0.1", DJANGO_HTTPS="false")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "clinic.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--preload", "--timeout", "120", "--log-level", "warning"],
        cwd=settings.BASE_DIR, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = clock.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health/", timeout=5):
                    break
            except OSError:
                if server.poll() is not None or clock.monotonic() > deadline:
                    raise RuntimeError("the benchmark's web server did not start") from None
                clock.sleep(0.3)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _call(base: str, token: str, method: str, path: str, payload: dict | None = None) -> tuple[int, str | None]:
    """(status, the error's code or None) of one API request."""
    request = urllib.request.Request(
        base + path, method=method, data=json.dumps(payload).encode() if payload is not None else None,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, None
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body).get("code")
        except ValueError:
            return error.code, None


def _first_open_weekday(network: Network):
    day = network.today + timedelta(days=BOOKING_HORIZON_DAYS + 3)
    closed = set(Closure.objects.values_list("date", flat=True))
    while day.weekday() != 0 or any(day + timedelta(days=n) in closed for n in range(5)):
        day += timedelta(days=1)
    return day


def _slots(network: Network, first_day, count: int) -> list[tuple[str, Chair, datetime]]:
    """``count`` distinct (modality, chair, start) on the week of ``first_day``, spread over sites and chairs."""
    locations = list(Location.objects.filter(pk__in=network.location_ids).order_by("pk"))
    chairs = {location.pk: list(Chair.objects.filter(location=location).select_related("location").order_by("name"))
              for location in locations}
    found = []
    for offset in range(5):
        day = first_day + timedelta(days=offset)
        for modality in (Modality.ESKETAMINE_NASAL, Modality.KETAMINE_IV):
            for lane_start in LANE_STARTS[modality]["weekday"]:
                for location in locations:
                    for chair in chairs[location.pk]:
                        if chair.serves(modality):
                            found.append((modality, chair, location.at(day, lane_start)))
    if len(found) < count:
        raise RuntimeError(f"only {len(found)} free slots for the concurrency test, {count} wanted")
    # Round-robin over sites first, so the threads are not all queued on one site's clinicians.
    found.sort(key=lambda slot: (slot[2], slot[1].location_id, slot[1].name))
    return found[:count]


def _run_threads(base: str, token: str, plans: list[list[dict]]) -> tuple[list[list[tuple]], float]:
    """Each thread posts its bookings in order; returns each thread's (status, code) and the wall time."""
    barrier = threading.Barrier(len(plans) + 1)
    results: list[list] = [[] for _ in plans]
    failures: list[BaseException] = []

    def desk(number: int) -> None:
        try:
            _call(base, token, "GET", "/api/me/")  # warms a server process before the start
            barrier.wait(timeout=60)
            for payload in plans[number]:
                results[number].append(_call(base, token, "POST", "/api/sessions/", payload))
        except BaseException as error:  # reported below; a thread must never hang the barrier
            failures.append(error)
            barrier.abort()

    threads = [threading.Thread(target=desk, args=(number,), name=f"desk-{number}") for number in range(len(plans))]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=120)
    started = clock.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = clock.perf_counter() - started
    if failures:
        raise RuntimeError(f"a booking thread failed: {failures[0]!r}") from failures[0]
    return results, elapsed


def run(network: Network, scale: Scale, *, web_workers: int | None = None) -> dict:
    first_day = _first_open_weekday(network)
    web_workers = web_workers or default_web_workers()
    per_thread = scale.bookings_per_thread
    distinct = _slots(network, first_day, THREADS * per_thread + scale.contested_slots)
    contested, distinct = distinct[-scale.contested_slots:], distinct[:-scale.contested_slots]
    courses = new_courses(network, first_day, [modality for modality, _, _ in distinct])
    plans: list[list[dict]] = [[] for _ in range(THREADS)]
    for index, ((_, chair, start), course) in enumerate(zip(distinct, courses, strict=True)):
        plans[index % THREADS].append({"course": course.pk, "chair": chair.pk, "start": start.isoformat()})
    rivals = [new_courses(network, first_day, [modality] * THREADS) for modality, _, _ in contested]

    with web_server(web_workers) as base:
        # (a) distinct slots
        results, elapsed = _run_threads(base, network.token, plans)
        statuses = Counter(status for thread in results for status, _ in thread)
        codes = Counter(code for thread in results for status, code in thread if status == 409)
        booked = statuses.get(201, 0)
        report = {
            "web_workers": web_workers,
            "distinct": {
                "threads": THREADS, "attempts": sum(len(plan) for plan in plans), "booked": booked,
                "seconds": round(elapsed, 3),
                "bookings_per_second": round(booked / elapsed, 1) if elapsed else None,
                "statuses": {str(status): count for status, count in sorted(statuses.items())},
                "conflict_codes": dict(codes),
                "errors": sum(count for status, count in statuses.items() if status not in (201, 409)),
            },
        }
        # (b) contested slots: sixteen patients, one chair, one start
        winners, statuses, codes, seconds = [], Counter(), Counter(), []
        for (_, chair, start), courses in zip(contested, rivals, strict=True):
            results, elapsed = _run_threads(base, network.token, [
                [{"course": course.pk, "chair": chair.pk, "start": start.isoformat()}] for course in courses])
            answers = [answer for thread in results for answer in thread]
            winners.append(sum(1 for status, _ in answers if status == 201))
            statuses.update(status for status, _ in answers)
            codes.update(code for status, code in answers if status == 409)
            seconds.append(elapsed)
    report["contested"] = {
        "threads": THREADS, "slots": len(contested), "winners_per_slot": winners,
        "exactly_one_winner": all(count == 1 for count in winners),
        "statuses": {str(status): count for status, count in sorted(statuses.items())},
        "conflict_codes": dict(codes),
        "errors": sum(count for status, count in statuses.items() if status not in (201, 409)),
        "seconds_per_slot": round(sum(seconds) / len(seconds), 3) if seconds else None,
    }
    report["day"] = first_day.isoformat()
    report["measured_at"] = timezone.now().isoformat()
    return report
