"""A pytest plugin (``-p tests.flushed_data`` in pytest.ini): the migrations' data comes back after a flush.

A transactional test (``django_db(transaction=True, serialized_rollback=True)``) ends
by flushing its database, which empties the rows the data migrations installed: the
role groups, the standard protocols, the prescriber group. Run alone, pytest-django
orders such tests last, so nothing comes after the flush. Under xdist's ``loadgroup``
a group of them can be sent to a worker before other tests, which would then find no
groups and no protocols. So after each transactional test, once its fixtures (and the
flush) are torn down, the contents serialized when the test database was made are
loaded again, exactly as the next ``serialized_rollback`` test would load them.
"""

from __future__ import annotations

import pytest
from django.db import connections
from django.db.backends.base.creation import TEST_DATABASE_PREFIX
from pytest_django.plugin import blocking_manager_key


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is None:
        return False
    return bool(marker.kwargs.get("transaction") or (marker.args and marker.args[0]))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    # With no next item the session's fixtures were torn down in this same phase: the test database is gone.
    if nextitem is None or not _is_transactional(item):
        return
    with item.config.stash[blocking_manager_key].unblock():
        for alias in connections:
            connection = connections[alias]
            serialized = getattr(connection, "_test_serialized_contents", None)
            # Only into a test database: once the session has destroyed it (xdist does not always say which
            # test is a worker's last), the connection is back on the configured database, which must never
            # receive these rows.
            if serialized and connection.settings_dict["NAME"].startswith(TEST_DATABASE_PREFIX):
                connection.creation.deserialize_db_from_string(serialized)
