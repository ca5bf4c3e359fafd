"""One soak: start the processes, make the reminders due, do the faults and the desk's changes, wait for the
texts to drain, and report from the provider stand-in's log (``report.compute``)."""

from __future__ import annotations

import functools
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from celery import Celery
from django.conf import settings

from scheduling.models import OPEN_REMINDER_STATES, Reminder, ReminderState
from tests.celery_harness import RedisServer, wait_for
from tests.soak import changes as desk_changes
from tests.soak.chaos import Faults, Processes, inflict, schedule
from tests.soak.clinic import build
from tests.soak.provider import faulty_provider
from tests.soak.report import Report, compute

WAITING = [*OPEN_REMINDER_STATES, ReminderState.SENDING]


@dataclass
class Soak:
    reminders: int = 10_000
    span_seconds: float = 120.0
    changed_share: float = 0.05
    faults: Faults = field(default_factory=Faults)
    seed: int = 25
    # The provider's failures: 503s, 429s, and connections dropped after the request arrived.
    unavailable: float = 0.02
    too_many: float = 0.02
    dropped: float = 0.002
    drain_seconds: float = 900.0
    concurrency: int = 2
    log = functools.partial(print, flush=True)


def _ping(broker_url: str, expected: int) -> bool:
    probe = Celery(broker=broker_url, set_as_current=False)
    try:
        return len(probe.control.ping(timeout=1) or []) >= expected
    except Exception:  # the broker is not up yet
        return False
    finally:
        probe.close()


def _waiting(ids: list[int]) -> int:
    # The soak's reminders were written in one go, so their ids are one range (a moved visit's new reminders
    # come after it): an index range scan, where 10,000 ids in an IN list cost the loaded database more
    # than the sends it is waiting for.
    return Reminder.objects.filter(id__gte=min(ids), id__lte=max(ids), state__in=WAITING).count()


def run(soak: Soak, *, redis: RedisServer, directory: Path, worker_env: dict[str, str]) -> Report:
    """Run ``soak`` with this process's Django pointed at the soak's database and its Celery app at ``redis``.

    ``worker_env`` is the workers' and beats' environment (DATABASE_URL, REDIS_URL...); the provider's
    settings are added here.
    """
    rng = random.Random(soak.seed)
    log = soak.log
    with faulty_provider(seed=soak.seed, unavailable=soak.unavailable, too_many=soak.too_many,
                         dropped=soak.dropped) as provider:
        env = {**worker_env, "CELERY_BROKER_URL": redis.url, **provider.environment(timeout=5)}
        processes = Processes(env=env, directory=directory, concurrency=soak.concurrency)
        processes.start()
        try:
            if not wait_for(lambda: _ping(redis.url, 2), 120, every=1):
                raise RuntimeError(f"the soak's workers did not start; their logs are in {directory}")
            began = time.monotonic()
            clinic = build(soak.reminders, span_seconds=soak.span_seconds, rng=rng)
            log(f"{soak.reminders} reminders due from {clinic.due and min(d.due for d in clinic.due):%H:%M:%S} "
                f"within {soak.span_seconds:.0f} s (built in {time.monotonic() - began:.1f} s)")
            ids = [item.reminder_id for item in clinic.due]
            first_due = min(item.due for item in clinic.due).timestamp()
            desk = desk_changes.Desk(clinic, desk_changes.plan(clinic, share=soak.changed_share,
                                                               span_seconds=soak.span_seconds, rng=rng), first_due)
            desk.start()
            events = schedule(soak.faults, rng)
            done_faults: list[str] = []
            deadline = first_due + soak.span_seconds + soak.drain_seconds
            waiting, next_count = len(ids), 0.0
            while time.time() < deadline:
                now = time.time() - first_due
                while events and events[0][0] <= now:
                    at, event, which = events.pop(0)
                    line = inflict(event, which, processes, redis, soak.faults.redis_down_seconds)
                    done_faults.append(f"{at:6.1f} s  {line}")
                    log(done_faults[-1])
                if not events and not desk.is_alive() and now > soak.span_seconds and time.time() >= next_count:
                    waiting = _waiting(ids)
                    if waiting == 0:
                        break
                    next_count = time.time() + 2
                time.sleep(0.5)
            drained = waiting == 0
            desk.stop.set()
            desk.join(30)
        finally:
            processes.stop()
        states = {pk: (state, reason) for pk, state, reason in
                  Reminder.objects.filter(id__in=ids).values_list("id", "state", "reason")}
        return compute(due=clinic.due, log=provider.log(), changes=desk.done, states=states,
                       lead_minutes=clinic.lead_minutes, drained=drained, faults=done_faults)


def environment_for_workers(database_url: str, redis_url: str | None) -> dict[str, str]:
    # PUBLIC_BASE_URL as in production: every text carries its delivery-status callback.
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_DEBUG": "false", "DJANGO_HTTPS": "false",
           "DJANGO_SECRET_KEY": settings.SECRET_KEY, "LOG_LEVEL": "WARNING",
           "PUBLIC_BASE_URL": "https://clinic.example.org"}
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env
