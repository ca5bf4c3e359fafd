"""A restored database against its source: every table's rows, the schema, the sequences.

Each table's fingerprint is computed by PostgreSQL itself: its row count and
the md5 of its rows as text (``row::text``), ordered by the primary key, so two
databases agree only if every value of every row agrees. The schema's objects
(columns, indexes, constraints, triggers, functions, extensions) are compared
by their definitions as the server prints them: a restore that lost the
history triggers would keep every past row and record nothing new. A sequence
behind its column's largest value would make the first insert after a restore
fail, so the restored side's sequences are checked too.

The source may be read inside a REPEATABLE READ transaction that exported the
snapshot pg_dump used (``drill.py``): then it is compared as of the dump, while
bookings go on committing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from psycopg import sql

SCHEMA = "public"


@dataclass(frozen=True)
class TableFingerprint:
    rows: int
    md5: str


@dataclass
class Comparison:
    tables: dict[str, tuple[TableFingerprint | None, TableFingerprint | None]]
    schema_differences: list[str] = field(default_factory=list)
    sequences_behind: list[str] = field(default_factory=list)

    @property
    def differing_tables(self) -> list[str]:
        return [name for name, (source, restored) in self.tables.items() if source != restored]

    @property
    def equal(self) -> bool:
        return not (self.differing_tables or self.schema_differences or self.sequences_behind)

    def lines(self) -> list[str]:
        width = max((len(name) for name in self.tables), default=5)
        out = [f"{'table':<{width}}  {'source rows':>11}  {'restored rows':>13}  checksum"]
        for name, (source, restored) in sorted(self.tables.items()):
            verdict = "equal" if source == restored else "DIFFERENT"
            out.append(f"{name:<{width}}  {_rows(source):>11}  {_rows(restored):>13}  {verdict}")
        out += [f"schema: {difference}" for difference in self.schema_differences]
        out += [f"sequence behind: {line}" for line in self.sequences_behind]
        return out


def _rows(fingerprint: TableFingerprint | None) -> str:
    return "missing" if fingerprint is None else str(fingerprint.rows)


def tables(connection) -> list[str]:
    rows = connection.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname", [SCHEMA]).fetchall()
    return [name for (name,) in rows]


def primary_key(connection, table: str) -> list[str]:
    rows = connection.execute(
        "SELECT a.attname FROM pg_index i "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)",
        [f'{SCHEMA}."{table}"']).fetchall()
    return [name for (name,) in rows]


def fingerprint(connection, table: str) -> TableFingerprint:
    relation = sql.Identifier(SCHEMA, table)
    # Without a primary key the row's own text orders it: still a total order over equal rows.
    order = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(column))
                               for column in primary_key(connection, table)) or sql.SQL("t::text")
    query = sql.SQL("SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY {order}), '')) "
                    "FROM {relation} AS t").format(order=order, relation=relation)
    rows, digest = connection.execute(query).fetchone()
    return TableFingerprint(rows, digest)


def fingerprints(connection) -> dict[str, TableFingerprint]:
    return {table: fingerprint(connection, table) for table in tables(connection)}


SCHEMA_QUERIES = {
    "column": "SELECT table_name || '.' || column_name || ' ' || data_type || ' null=' || is_nullable "
              "|| ' default=' || coalesce(column_default, '') FROM information_schema.columns WHERE table_schema = %s",
    "index": "SELECT indexdef FROM pg_indexes WHERE schemaname = %s",
    "constraint": "SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) "
                  "FROM pg_constraint WHERE connamespace = %s::regnamespace",
    "trigger": "SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
               "WHERE NOT t.tgisinternal AND c.relnamespace = %s::regnamespace",
    "function": "SELECT p.oid::regprocedure::text || ' ' || md5(pg_get_functiondef(p.oid)) FROM pg_proc p "
                "WHERE p.pronamespace = %s::regnamespace AND p.prokind IN ('f', 'p')",
    "extension": "SELECT extname || ' ' || extversion FROM pg_extension WHERE %s::text IS NOT NULL",
}


# A condition such as ``status IN ('cancelled', 'no_show')`` is stored as a parse tree; printed, dumped and
# parsed again it comes back as the same test with its casts written another way:
#   ANY ((ARRAY['a'::character varying])::text[])  ->  ANY (ARRAY[('a'::character varying)::text])
# Both are written in one way before comparing, so only a real difference shows.
CAST_SPELLINGS = [
    (re.compile(r"\('((?:[^']|'')*)'::character varying\)::text"), r"'\1'::character varying"),
    (re.compile(r"\(ARRAY\[([^\]]*)\]\)::text\[\]"), r"ARRAY[\1]"),
]


def normalised(definition: str) -> str:
    for pattern, replacement in CAST_SPELLINGS:
        definition = pattern.sub(replacement, definition)
    return definition


def schema_objects(connection) -> set[str]:
    found = set()
    for kind, query in SCHEMA_QUERIES.items():
        found.update(f"{kind} {normalised(definition)}"
                     for (definition,) in connection.execute(query, [SCHEMA]).fetchall())
    return found


def sequences_behind(connection) -> list[str]:
    """Each table whose single-column key's sequence would hand out a value already used."""
    behind = []
    for table in tables(connection):
        key = primary_key(connection, table)
        if len(key) != 1:
            continue
        (sequence,) = connection.execute("SELECT pg_get_serial_sequence(%s, %s)",
                                         [f'{SCHEMA}."{table}"', key[0]]).fetchone()
        if sequence is None:
            continue
        last_value, is_called = connection.execute(
            sql.SQL("SELECT last_value, is_called FROM {}").format(sql.SQL(sequence))).fetchone()
        (largest,) = connection.execute(sql.SQL("SELECT max({}) FROM {}").format(
            sql.Identifier(key[0]), sql.Identifier(SCHEMA, table))).fetchone()
        next_value = last_value + 1 if is_called else last_value
        if largest is not None and next_value <= largest:
            behind.append(f"{table}.{key[0]}: next {next_value}, largest {largest}")
    return behind


def compare(source, restored) -> Comparison:
    """``source`` and ``restored`` are psycopg connections; the source's view may be a dump's snapshot."""
    before, after = fingerprints(source), fingerprints(restored)
    result = Comparison({name: (before.get(name), after.get(name)) for name in sorted(before.keys() | after.keys())})
    source_schema, restored_schema = schema_objects(source), schema_objects(restored)
    result.schema_differences = ([f"only in the source: {line}" for line in sorted(source_schema - restored_schema)]
                                 + [f"only in the restore: {line}" for line in sorted(restored_schema - source_schema)])
    result.sequences_behind = sequences_behind(restored)
    return result
