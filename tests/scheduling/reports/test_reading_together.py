"""The dashboard's statements read side by side (scheduling/reports/reading.py): same rows, one snapshot, no
connection left behind, and one connection inside a transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection, transaction
from django.test.utils import override_settings

from scheduling.models import SessionStatus
from scheduling.reports.dashboard import clinic_numbers
from scheduling.reports.period import period_from
from scheduling.reports.reading import _begin_snapshot, read_together
from tests.factories import ChairFactory, SessionFactory, SessionRowFactory

# Each statement names the backend that ran it and the snapshot it saw; the sleep keeps a reader busy long enough
# for the other to take the next statement.
WHO = ("SELECT pg_backend_pid() AS pid, pg_current_snapshot()::text AS snapshot, pg_sleep(0.05) IS NULL AS slept",
       {})


def _backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_statements_are_read_on_two_connections_on_one_snapshot_and_answered_in_order():
    rows = read_together([WHO] * 6 + [("SELECT %(n)s::int AS n", {"n": 7})], readers=2)
    pids = {found[0]["pid"] for found in rows[:6]}
    assert len(pids) == 2
    assert len({found[0]["snapshot"] for found in rows[:6]}) == 1
    assert rows[6] == [{"n": 7}]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_readers_connections_are_closed_afterwards():
    connection.ensure_connection()
    before = _backends()
    read_together([WHO] * 4, readers=3)
    assert _backends() == before


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_readers_error_is_the_callers_and_leaves_no_transaction_open():
    with pytest.raises(Exception, match="division by zero"):
        read_together([WHO, ("SELECT 1 / 0", {}), WHO, WHO], readers=2)
    assert not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


@pytest.mark.django_db
def test_inside_a_transaction_one_connection_reads_them_all_and_sees_what_it_has_not_committed():
    session = SessionFactory()
    assert connection.in_atomic_block
    rows = read_together([WHO, WHO, ("SELECT count(*) AS n FROM scheduling_session WHERE id = %(id)s",
                                     {"id": session.pk})], readers=2)
    assert rows[0][0]["pid"] == rows[1][0]["pid"]
    assert rows[2] == [{"n": 1}]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_snapshot_id_not_in_the_servers_format_is_refused_before_it_reaches_sql():
    with transaction.atomic(), pytest.raises(ValueError, match="not a snapshot id"):
        _begin_snapshot("1'; DROP TABLE scheduling_session; --")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_dashboard_read_side_by_side_equals_the_dashboard_read_one_by_one():
    chair = ChairFactory()
    for hour, status in enumerate((SessionStatus.DISCHARGED, SessionStatus.NO_SHOW, SessionStatus.DISCHARGED)):
        SessionRowFactory(chair=chair, start=datetime(2026, 2, 10, 14 + 3 * hour, tzinfo=UTC), status=status)
    period = period_from(kind="month", anchor=date(2026, 2, 10), today=date(2026, 3, 2))
    now = datetime(2026, 3, 2, 14, tzinfo=UTC)
    with override_settings(REPORT_READERS=1):
        one_by_one = clinic_numbers(period=period, location_id=None, now=now)
    with override_settings(REPORT_READERS=3):
        side_by_side = clinic_numbers(period=period, location_id=None, now=now)
    assert side_by_side == one_by_one
    # The figures read real rows: two discharged sessions' chair hours, one no-show.
    assert one_by_one["figures"][0]["numerator"] > 0
    assert one_by_one["figures"][1]["value"] > 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_dashboards_api_read_side_by_side_through_the_whole_request_answers_as_one_reader(manager_api):
    # given: committed sessions, so the readers' own connections see them
    chair = ChairFactory()
    for hour, status in enumerate((SessionStatus.DISCHARGED, SessionStatus.NO_SHOW)):
        SessionRowFactory(chair=chair, start=datetime(2026, 2, 10, 14 + 3 * hour, tzinfo=UTC), status=status)
    query = {"period": "month", "anchor": "2026-02-10"}
    # when: asked through the API (its middleware, the audit's context, the token) with two readers and with one
    with override_settings(REPORT_READERS=2):
        side_by_side = manager_api.get("/api/reports/dashboard/", query)
    with override_settings(REPORT_READERS=1):
        one_by_one = manager_api.get("/api/reports/dashboard/", query)
    # then
    assert side_by_side.status_code == 200, side_by_side.content
    assert side_by_side.json() == one_by_one.json()
    assert side_by_side.json()["figures"][1]["value"] > 0
