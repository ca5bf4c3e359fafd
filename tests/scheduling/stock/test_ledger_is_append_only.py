"""The ledger is append-only in the database itself: no UPDATE or DELETE gets through, even in raw SQL."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import DatabaseError, IntegrityError, connection, transaction

from scheduling.models import EntryKind, LedgerEntry

pytestmark = pytest.mark.django_db


def _refused(sql: str, params: list) -> None:
    with pytest.raises(DatabaseError) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    assert "Cannot update or delete" in str(refused.value)


def test_raw_sql_cannot_update_a_ledger_entry(device_lot):
    entry = device_lot.entries.get()
    _refused("UPDATE scheduling_ledgerentry SET quantity = 99 WHERE id = %s", [entry.pk])
    assert LedgerEntry.objects.get(pk=entry.pk).quantity == 12


def test_raw_sql_cannot_delete_a_ledger_entry(device_lot):
    entry = device_lot.entries.get()
    _refused("DELETE FROM scheduling_ledgerentry WHERE id = %s", [entry.pk])
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_the_orm_cannot_edit_an_entry_either(device_lot):
    entry = device_lot.entries.get()
    entry.quantity = 1
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(lot=device_lot).delete()
    assert device_lot.entries.get().quantity == 12


def test_a_dispense_without_a_session_breaks_the_ledgers_own_constraint(device_lot, manager):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(lot=device_lot, kind=EntryKind.DISPENSE, quantity=-1, by=manager)


def test_an_entry_cannot_be_witnessed_by_its_recorder(device_lot, manager):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(lot=device_lot, kind=EntryKind.WASTE, quantity=-1, by=manager, witness=manager,
                                   reason="Dropped")


def test_the_database_refuses_an_entry_that_takes_a_lot_below_zero_whoever_writes_it(device_lot, manager, witness):
    # given a lot of 12 devices, written to without the services (their own check skipped)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        LedgerEntry.objects.create(lot=device_lot, kind=EntryKind.WASTE, quantity=-13, by=manager, witness=witness,
                                   reason="Dropped")
    assert "below zero" in str(refused.value)
    # then taking all of it is still allowed
    LedgerEntry.objects.create(lot=device_lot, kind=EntryKind.WASTE, quantity=-12, by=manager, witness=witness,
                               reason="Recalled lot destroyed")
    assert device_lot.entries.count() == 2


def test_the_admin_shows_the_ledger_but_never_adds_changes_or_deletes_an_entry(rf, manager):
    # given a superuser in the admin
    request = rf.get("/admin/")
    request.user = manager
    manager.is_superuser = True
    model_admin = admin.site._registry[LedgerEntry]
    # then
    assert (model_admin.has_view_permission(request), model_admin.has_add_permission(request),
            model_admin.has_change_permission(request), model_admin.has_delete_permission(request)) == (
        True, False, False, False)
