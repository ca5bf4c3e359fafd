"""A pytest plugin (``-p tests.xdist_workers`` in pytest.ini): each xdist worker gets a Redis database of its
own, and ``xdist_group`` marks take effect.

pytest-django already gives each worker a test database of its own (``test_<name>_gw0``,
``_gw1``, ...). The cache is the other thing the workers would share: with REDIS_URL set it
is Redis, DRF's sign-in throttles count there and tests clear it. So worker ``gwN`` uses
database ``(base + N) % 16`` of the same Redis server, where ``base`` is REDIS_URL's own.
Django reads REDIS_URL once, when pytest-django loads the settings, so the variable is
changed before that: in a hook wrapper around pytest-django's ``pytest_load_initial_conftests``.
Subprocesses a test starts (Celery workers, gunicorn) inherit the worker's REDIS_URL.

With ``--dist loadgroup`` pytest-xdist keeps a group's tests on one worker by appending
``@<group>`` to their node ids, which it does by setting ``item._nodeid``; pytest 9 keeps
the id in ``item._id`` instead, so xdist 3.8's suffix is silently lost and every grouped
test is scheduled on its own. ``pytest_collection_modifyitems`` below adds the suffix the
way pytest 9 reads it (and leaves an id alone that already has one).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import pytest
from _pytest.nodes import coerce_node_id

REDIS_DATABASES = 16


def redis_url_for_worker(url: str, worker: str) -> str:
    """``url`` with the database number of xdist worker ``worker`` ("gw0", "gw1", ...)."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    index = int(worker.removeprefix("gw"))
    return urlunsplit((parts.scheme, parts.netloc, f"/{(base + index) % REDIS_DATABASES}", parts.query,
                       parts.fragment))


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = redis_url_for_worker(os.environ["REDIS_URL"], worker)
    return (yield)


def xdist_groups(item) -> list[str]:
    """The names of ``item``'s ``xdist_group`` marks, as xdist reads them."""
    return sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                   for mark in item.iter_markers("xdist_group")})


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    # Only an xdist worker under --dist loadgroup has this option (xdist's remote.py sets it); a run
    # without workers (-n 0, -p no:xdist) has nothing to group.
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        groups = xdist_groups(item)
        if groups and "@" not in item.nodeid.rsplit("::", 1)[-1]:
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(groups)}")
