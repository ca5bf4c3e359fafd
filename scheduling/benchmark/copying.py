"""Rows into tables with COPY, for the synthetic network: the given columns, every other its default.

Rows go in with COPY while ``session_replication_role = replica`` (the history triggers and foreign-key
triggers are skipped; constraints backed by indexes, including the exclusion constraints, are still
checked); the tables' plain indexes are set aside while they load and built once afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db import connection, models
from psycopg.types.json import Jsonb

FLUSH_EVERY = 50_000


def _default(model_field: models.Field, now: datetime):
    """The value a COPY writes for a column the generator does not set."""
    if isinstance(model_field, models.JSONField):
        return Jsonb(model_field.get_default())
    if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
        return now
    if model_field.has_default():
        return model_field.get_default()
    if model_field.null:
        return None
    if isinstance(model_field, (models.CharField, models.TextField)):
        return ""
    raise ValueError(f"{model_field} needs a value in the synthetic data")


def other_columns(model: type[models.Model], columns: tuple[str, ...], now: datetime) -> tuple[list[str], tuple]:
    """The columns of ``model``'s table not among ``columns``, and the value a new row gets in each."""
    by_column = {model_field.column: model_field for model_field in model._meta.concrete_fields}
    rest = [column for column in by_column if column not in columns]
    return rest, tuple(_default(by_column[column], now) for column in rest)


def column_list(columns) -> str:
    """``"a", "b"``: quoted column names for a statement."""
    return ", ".join(connection.ops.quote_name(column) for column in columns)


class Table:
    """Rows for one model's table: the given columns, every other column its default; COPY in chunks."""

    def __init__(self, model: type[models.Model], columns: tuple[str, ...], now: datetime) -> None:
        rest, self.tail = other_columns(model, columns, now)
        table = connection.ops.quote_name(model._meta.db_table)
        self.sql = f"COPY {table} ({column_list((*columns, *rest))}) FROM STDIN"
        self.rows: list[tuple] = []
        self.count = 0

    def add(self, *row) -> None:
        self.rows.append(row)
        self.count += 1
        if len(self.rows) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        with connection.connection.cursor() as cursor, cursor.copy(self.sql) as copy:
            for row in self.rows:
                copy.write_row(row + self.tail)
        self.rows.clear()


@contextmanager
def plain_indexes_set_aside(tables: list[str]) -> Iterator[None]:
    """Drop the tables' plain indexes (those behind no constraint) and build them again afterwards.

    Building an index once is far quicker than updating it for every copied row; a unique index that
    backs no constraint (a partial one) checks its rows when it is built again.
    """
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
            WHERE i.indrelid = ANY(%s::regclass[])
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """, [tables])
        saved = cursor.fetchall()
        for name, _ in saved:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, definition in saved:
            cursor.execute(definition)
