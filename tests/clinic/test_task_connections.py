"""Tasks and the database connection: a worker keeps its connection between tasks as the web does between
requests (``clinic/celery.py``), but a task run eagerly inside its caller's transaction leaves it alone."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from scheduling.tasks import refresh_worklist_task
from tests.factories import UserFactory


@pytest.mark.django_db
def test_a_task_run_eagerly_inside_a_transaction_leaves_the_callers_connection_working():
    # given a caller inside a transaction that has written a row
    with transaction.atomic():
        user = UserFactory(username="caller")
        # when a task runs eagerly in it
        refresh_worklist_task.apply().get()
        # then the caller's connection and transaction are still there: its row is still visible
        assert connection.connection is not None and not connection.needs_rollback
        assert type(user).objects.filter(username="caller").count() == 1
