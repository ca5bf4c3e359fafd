"""What a benchmark case is, and the tools the cases share: raw SQL for the floors, an API client.

A case picks its inputs once (untimed), then ``call(i)`` runs the system's
own code for the i-th input and ``floor(i)`` runs the least SQL that could
answer the same question: what the database must do however the Python is
written. ``prepare(i)`` runs untimed before each timed call (a sweep puts back
what the previous run claimed; booking finds a free slot). The ratio of the
two medians says how much the system adds on top of the database.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from scheduling.benchmark.synthetic import Network

STANDING_SQL = "s.status NOT IN ('cancelled', 'no_show')"


def fetch(sql: str, params: list | tuple | dict = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def api_client(network: Network) -> APIClient:
    """A client that passes host validation and the HTTPS redirect of whatever settings are in force."""
    host = next((host.lstrip(".") for host in settings.ALLOWED_HOSTS if host not in ("*", "")), "localhost")
    client = APIClient(SERVER_NAME=host, HTTP_HOST=host, HTTP_AUTHORIZATION=f"Token {network.token}")
    client.secure = settings.SECURE_SSL_REDIRECT
    return client


def get_json(client: APIClient, path: str, params: dict) -> dict:
    response = client.get(path, params, secure=client.secure)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} {params} answered {response.status_code}: {response.content[:300]!r}")
    return response.json()


class Case:
    """One hot path and its floor."""

    name = ""
    description = ""
    # Sweeps run fewer times; their query count is checked against a fixed ceiling, not "under 8".
    sweep = False
    # Timed calls, when the scale's number does not suit the case (one call may be a thousand plannings).
    repeats: int | None = None

    def __init__(self, network: Network) -> None:
        self.network = network

    def setup(self, count: int) -> None:
        """Pick ``count`` inputs (untimed)."""

    def prepare(self, index: int) -> None:
        """Untimed, before each timed call of ``call`` or ``floor``."""

    def call(self, index: int) -> None:
        raise NotImplementedError

    def floor(self, index: int) -> None:
        raise NotImplementedError

    def teardown(self) -> None:
        """Untimed, after the case: put back what it changed that later cases would see."""

    def extra(self) -> dict:
        """Anything worth reporting beside the timings."""
        return {}
