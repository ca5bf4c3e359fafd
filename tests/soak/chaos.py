"""The soak's processes and the faults done to them, on a seeded schedule.

Two workers (one ``-Q texts``, one ``-Q texts,background``: texts first, as compose runs them) and two
beats, against the soak's own ``redis-server`` (no persistence). Faults: a worker SIGKILLed every 5-15 s
and restarted at once, the broker crashed twice and restarted a few seconds later, one beat killed for good.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from tests.celery_harness import ROOT, RedisServer

WORKER_QUEUES = ("texts", "texts,background")


@dataclass
class Faults:
    """What to do to the processes, and for how long (seconds after the first due time)."""

    worker_kill_every: tuple[float, float] = (5.0, 15.0)
    redis_crashes: int = 2
    redis_down_seconds: float = 3.0
    beat_kills: int = 1
    window: float = 150.0

    @classmethod
    def none(cls) -> Faults:
        return cls(worker_kill_every=(0.0, 0.0), redis_crashes=0, beat_kills=0, window=0.0)


@dataclass
class Processes:
    env: dict[str, str]
    directory: Path
    concurrency: int = 2
    workers: list[subprocess.Popen | None] = field(default_factory=lambda: [None, None])
    beats: list[subprocess.Popen | None] = field(default_factory=lambda: [None, None])
    started: int = 0

    def _spawn(self, args: list[str], log_name: str) -> subprocess.Popen:
        self.started += 1
        with (self.directory / f"{log_name}.log").open("ab") as output:
            return subprocess.Popen([sys.executable, "-m", "celery", "-A", "clinic", *args], cwd=ROOT, env=self.env,
                                    stdout=output, stderr=subprocess.STDOUT, start_new_session=True)

    def start_worker(self, index: int) -> None:
        self.workers[index] = self._spawn(
            ["worker", "--pool", "prefork", "--concurrency", str(self.concurrency), "-Q", WORKER_QUEUES[index],
             "-n", f"soak{index}-{self.started}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "--loglevel", "WARNING"], f"worker-{index}")

    def start_beat(self, index: int) -> None:
        self.beats[index] = self._spawn(
            ["beat", "--schedule", str(self.directory / f"beat-{index}-schedule"), "--loglevel", "WARNING"],
            f"beat-{index}")

    def start(self) -> None:
        for index in range(2):
            self.start_worker(index)
            self.start_beat(index)

    @staticmethod
    def kill(process: subprocess.Popen | None) -> None:
        """SIGKILL the whole process group (a worker's main process and its pool children alike)."""
        if process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            process.wait(30)

    def stop(self) -> None:
        for process in [*self.workers, *self.beats]:
            if process is not None and process.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in [*self.workers, *self.beats]:
            if process is not None:
                with suppress(subprocess.TimeoutExpired):
                    process.wait(20)
                self.kill(process)


def schedule(faults: Faults, rng: random.Random) -> list[tuple[float, str, int]]:
    """(seconds after the first due time, fault, which) in time order, all within ``faults.window``."""
    events = []
    low, high = faults.worker_kill_every
    at = rng.uniform(low, high) if high else faults.window
    while at < faults.window:
        events.append((at, "kill-worker", rng.randrange(2)))
        at += rng.uniform(low, high)
    for n in range(faults.redis_crashes):
        share = (n + 1) / (faults.redis_crashes + 1)
        events.append((faults.window * rng.uniform(share - 0.1, share + 0.1), "crash-redis", 0))
    for n in range(faults.beat_kills):
        events.append((faults.window * rng.uniform(0.3, 0.5), "kill-beat", n % 2))
    return sorted(events)


def inflict(event: str, which: int, processes: Processes, redis: RedisServer, down_seconds: float) -> str:
    """Do one fault; returns a line for the report."""
    if event == "kill-worker":
        processes.kill(processes.workers[which])
        processes.start_worker(which)
        return f"worker {which} SIGKILLed and restarted"
    if event == "crash-redis":
        redis.kill()
        time.sleep(down_seconds)
        redis.start()
        return f"redis-server SIGKILLed (no persistence), back after {down_seconds:.0f} s"
    processes.kill(processes.beats[which])
    processes.beats[which] = None
    return f"beat {which} SIGKILLed (not restarted)"
