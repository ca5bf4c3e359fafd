"""The demo clinic loaded at a frozen moment, inside a transaction the module rolls back.

``demo_world.at(moment)`` runs the ``load_demo`` command with the clock stopped at
``moment``, in a savepoint undone when its block ends. Loading takes seconds, so a module
loads once per moment and its tests read the same data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, time
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import override_settings

NEW_YORK = ZoneInfo("America/New_York")


def new_york(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=NEW_YORK)


class DemoLoader:
    """Loads the demo with the clock stopped at a moment, in a savepoint of the module's transaction."""

    @contextmanager
    def at(self, moment: datetime) -> Iterator[str]:
        """Load the demo at ``moment``; yields what the command printed; undone when the block ends."""
        with transaction.atomic(), time_machine.travel(moment, tick=False):
            yield self.load()
            transaction.set_rollback(True)

    def load(self) -> str:
        """Run the command at the clock's moment; returns what it printed."""
        out = StringIO()
        call_command("load_demo", stdout=out)
        return out.getvalue()


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker):
    """A transaction for the module: whatever its tests load is rolled back at the end.

    The module's tests carry ``django_db``: pytest-django creates the test database only
    for a run in which some test asks for one.
    """
    with ExitStack() as stack:
        stack.enter_context(django_db_blocker.unblock())
        assert connection.settings_dict["NAME"].startswith("test_"), "the demo loads only into a test database"
        stack.enter_context(override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]))
        stack.enter_context(transaction.atomic())
        yield DemoLoader()
        transaction.set_rollback(True)
