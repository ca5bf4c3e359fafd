"""The small soak CI runs: 500 reminders due within 20 s under fewer faults, each text exactly once, never stale.

Real processes against the test database: two workers and two beats on a ``redis-server`` of the test's own
(tests/celery_harness.py), the stand-in Twilio failing at seeded rates (tests/soak/provider.py). The send's
time limit is 15 s here (its lease 30 s), so a text stranded by a killed worker is recovered within the test.
"""

from __future__ import annotations

import os

import pytest

from tests.celery_harness import REDIS_SERVER, database_url_for_subprocess, redis_server, use_broker
from tests.soak.chaos import Faults
from tests.soak.run import Soak, environment_for_workers, run

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not os.path.exists(REDIS_SERVER) and not os.environ.get("CI"),
                       reason=f"needs {REDIS_SERVER} (Debian's redis-server package)"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.xdist_group("celery-workers"),
]


def test_a_small_soak_under_faults_loses_duplicates_and_stales_nothing(tmp_path):
    soak = Soak(reminders=500, span_seconds=20, faults=Faults(worker_kill_every=(8, 15), redis_crashes=1,
                                                              redis_down_seconds=2, beat_kills=1, window=30),
                unavailable=0.01, too_many=0.01, dropped=0.004, drain_seconds=240)
    env = {**environment_for_workers(database_url_for_subprocess(), None), "TEXT_SEND_TIME_LIMIT": "15"}
    with redis_server(tmp_path) as redis, use_broker(redis.url):
        report = run(soak, redis=redis, directory=tmp_path, worker_env=env)
    summary = "\n".join(report.lines())
    print(summary)  # shown with -s or -rP: the figures of this run
    assert report.drain_seconds is not None, summary
    assert (report.lost, report.duplicated, report.stale, report.waiting) == ([], [], [], []), summary
    # the faults happened: workers killed, the broker crashed, a beat killed, the provider refused some
    assert sum("SIGKILLed and restarted" in line for line in report.faults) >= 1, summary
    assert any("redis-server" in line for line in report.faults), summary
    assert any("beat" in line for line in report.faults), summary
    assert report.provider_answers.get("503", 0) + report.provider_answers.get("429", 0) > 0, summary
    # every text due either reached the provider or says why not (a cancel, a move, or unknown with its reason)
    assert report.handed + sum(report.not_handed.values()) >= report.reminders, summary
