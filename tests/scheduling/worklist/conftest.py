"""Fixtures the worklist's tests share with the booking wing's."""

from tests.scheduling.booking.conftest import session_on  # noqa: F401  (one definition of the fixture, not a copy)
