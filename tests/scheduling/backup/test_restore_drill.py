"""The restore drill's comparison (scheduling/backup/compare.py) on a small database, and its choice of tools.

The test database, with a few committed rows and their history, is dumped with
``pg_dump --format=custom`` and restored into a fresh database, as the drill
does; the comparison must find them equal, and must find a changed row, a
missing row and a dropped history trigger.
"""

from __future__ import annotations

import os
import stat
import subprocess

import psycopg
import pytest
from django.db import connection
from psycopg.conninfo import make_conninfo

from patients import services as patient_services
from patients.models import PatientAccess
from scheduling.backup import compare, drill, tools
from tests.factories import PatientFactory, TreatmentCourseFactory, UserFactory

# pg_dump reads from another connection, so the rows must be committed; serialized_rollback puts back the
# data migrations' rows (protocols, role groups) after each test's flush.
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _conninfo(name: str) -> str:
    settings = connection.settings_dict
    return make_conninfo(dbname=name, user=settings["USER"] or None, password=settings["PASSWORD"] or None,
                         host=settings["HOST"] or None, port=str(settings["PORT"]) if settings["PORT"] else None)


@pytest.fixture
def dumped_and_restored(tmp_path):
    """(source, restored) psycopg connections: the test database with committed rows, and its restore."""
    user = UserFactory(username="desk_drill")
    for _ in range(3):
        course = TreatmentCourseFactory(patient=PatientFactory(), created_by=user)
        patient_services.record_access(patient=course.patient, user=user, channel=PatientAccess.Channel.API,
                                       path=f"/api/patients/{course.patient.pk}/")
    source_name = connection.settings_dict["NAME"]
    restored_name = f"{drill.PREFIX}test_{os.getpid()}"
    quoted = connection.ops.quote_name(restored_name)
    chosen = tools.choose(drill.server_major(_conninfo(source_name)))
    with connection._nodb_cursor() as cursor:
        # Dropping a database waits for its files to go; on a loaded machine that outlasts the connection's
        # statement timeout, which is there for the clinic's own queries.
        cursor.execute("SET statement_timeout = 0")
        cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {quoted}")
    try:
        path = tmp_path / "clinic.dump"
        drill.dump(chosen, _conninfo(source_name), None, path)
        drill.restore(chosen, _conninfo(restored_name), path)
        with psycopg.connect(_conninfo(source_name)) as source, psycopg.connect(_conninfo(restored_name)) as restored:
            yield source, restored
    finally:
        with connection._nodb_cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")


@committed
def test_a_restore_compares_equal_table_by_table_with_its_history(dumped_and_restored):
    source, restored = dumped_and_restored
    result = compare.compare(source, restored)
    assert result.equal, "\n".join(result.lines())
    assert result.tables["patients_patientaccess"][1].rows == 3
    assert result.tables["patients_patientevent"][1].rows >= 3
    assert result.tables["protocols_treatmentcourseevent"][1].rows >= 3
    assert len(result.tables) > 40  # every table of every app, not a chosen few


@committed
def test_a_changed_row_is_found(dumped_and_restored):
    source, restored = dumped_and_restored
    restored.execute("UPDATE patients_patient SET first_name = 'Changed' "
                     "WHERE id = (SELECT min(id) FROM patients_patient)")
    result = compare.compare(source, restored)
    assert not result.equal
    # The history trigger recorded the change too: the restore's triggers work.
    assert result.differing_tables == ["patients_patient", "patients_patientevent"]
    assert result.tables["patients_patient"][0].rows == result.tables["patients_patient"][1].rows
    assert any(line.startswith("patients_patient ") and line.endswith("DIFFERENT") for line in result.lines())


@committed
def test_a_missing_row_a_dropped_trigger_and_a_sequence_behind_are_found(dumped_and_restored):
    source, restored = dumped_and_restored
    restored.execute("DELETE FROM patients_patientaccess WHERE id = (SELECT max(id) FROM patients_patientaccess)")
    (trigger,) = restored.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'patients_patient'::regclass "
                                  "AND NOT tgisinternal LIMIT 1").fetchone()
    restored.execute(f'DROP TRIGGER "{trigger}" ON patients_patient')
    restored.execute("SELECT setval(pg_get_serial_sequence('patients_patientaccess', 'id'), 1, false)")
    result = compare.compare(source, restored)
    assert result.differing_tables == ["patients_patientaccess"]
    assert result.tables["patients_patientaccess"][1].rows == result.tables["patients_patientaccess"][0].rows - 1
    assert [line for line in result.schema_differences if trigger in line]
    assert [line for line in result.sequences_behind if line.startswith("patients_patientaccess.id")]


def _fake_tools(directory, version: str) -> None:
    directory.mkdir()
    for name in ("pg_dump", "pg_restore"):
        path = directory / name
        path.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) {version}'\n")
        path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_the_tools_match_the_server_or_are_the_oldest_newer_ones(tmp_path):
    _fake_tools(tmp_path / "v14", "14.11")
    _fake_tools(tmp_path / "v15", "15.20 (Debian 15.20-0+deb12u1)")
    _fake_tools(tmp_path / "v18", "18.6")
    _fake_tools(tmp_path / "v17", "17.2")
    bindirs = [tmp_path / name for name in ("v14", "v18", "v17", "v15")]
    assert tools.choose(15, bindirs).pg_dump == tmp_path / "v15" / "pg_dump"
    assert tools.choose(16, bindirs).major == 17
    with pytest.raises(tools.ToolsMissing):
        tools.choose(19, bindirs)


def test_the_wheel_s_tools_are_found_without_any_on_the_path(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("PG_BINDIR", raising=False)
    bindirs = tools.candidate_bindirs()
    assert bindirs and bindirs[-1].name == "bin" and (bindirs[-1] / "pg_restore").is_file()
    version = subprocess.run([str(bindirs[-1] / "pg_dump"), "--version"], capture_output=True, text=True, check=True)
    assert "PostgreSQL" in version.stdout
