"""Controlled-substance stock: products (seeded), lots per location, the append-only ledger, discrepancies.

A stock count to explain is a work item about no patient, so a work item's patient may now be empty.
"""

from decimal import Decimal

import django.db.models.deletion
import django.db.models.expressions
import django.utils.timezone
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


# The products the protocols dose from: esketamine in 28 mg devices (REMS kits of 2 and 3 devices, received as
# devices), IV ketamine from vials whose contents the ledger counts in mg.
PRODUCTS = [
    {"name": "Esketamine 28 mg nasal device", "kind": "esketamine_device", "strength_mg": 28, "volume_ml": None,
     "unit": "device", "devices_per_pack": None},
    {"name": "Ketamine 500 mg/10 mL vial", "kind": "ketamine_vial", "strength_mg": 500, "volume_ml": Decimal("10"),
     "unit": "mg", "devices_per_pack": None},
    {"name": "Ketamine 200 mg/20 mL vial", "kind": "ketamine_vial", "strength_mg": 200, "volume_ml": Decimal("20"),
     "unit": "mg", "devices_per_pack": None},
    {"name": "Ketamine 100 mg/10 mL vial", "kind": "ketamine_vial", "strength_mg": 100, "volume_ml": Decimal("10"),
     "unit": "mg", "devices_per_pack": None},
]


def seed_products(apps, schema_editor):
    product = apps.get_model("scheduling", "Product")
    for row in PRODUCTS:
        product.objects.update_or_create(name=row["name"], defaults=row)


def remove_products(apps, schema_editor):
    apps.get_model("scheduling", "Product").objects.filter(name__in=[row["name"] for row in PRODUCTS]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0008_access_log_names_and_time_index'),
        ('pghistory', '0007_auto_20250421_0444'),
        ('scheduling', '0010_text_queues_and_marked_refreshes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='workitem',
            name='patient',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='work_items', to='patients.patient'),
        ),
        migrations.AlterField(
            model_name='workitemevent',
            name='patient',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='patients.patient'),
        ),
        migrations.CreateModel(
            name='LedgerEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('receipt', 'Receipt'), ('dispense', 'Dispensed'), ('waste', 'Waste'), ('adjustment', 'Adjustment'), ('count', 'Count')], max_length=12)),
                ('quantity', models.IntegerField(help_text="Signed, in the product's unit: + in, - out, 0 for a count.")),
                ('counted_quantity', models.IntegerField(blank=True, help_text='Counts only: what was found.', null=True)),
                ('supplier', models.CharField(blank=True, max_length=120)),
                ('invoice_number', models.CharField(blank=True, max_length=60)),
                ('received_on', models.DateField(blank=True, null=True)),
                ('reason', models.TextField(blank=True)),
                ('at', models.DateTimeField(default=django.utils.timezone.now)),
                ('by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('corrects', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='corrections', to='scheduling.ledgerentry')),
                ('dose', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='stock_entries', to='scheduling.dose')),
                ('patient', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='stock_entries', to='patients.patient')),
                ('session', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='stock_entries', to='scheduling.session')),
                ('witness', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name_plural': 'ledger entries',
                'ordering': ['at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Discrepancy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('expected', models.IntegerField(help_text="The ledger's balance when counted.")),
                ('counted', models.IntegerField()),
                ('difference', models.IntegerField(help_text='counted - expected: below 0 is a loss.')),
                ('opened_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('explanation', models.TextField(blank=True)),
                ('explained_at', models.DateTimeField(blank=True, null=True)),
                ('loss_reported_dea106', models.BooleanField(default=False, help_text='A loss: whether a DEA Form 106 (theft or loss) was filed.', verbose_name='DEA Form 106 filed')),
                ('dea106_note', models.TextField(blank=True, verbose_name='DEA Form 106 note')),
                ('explained_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('count_entry', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='discrepancy', to='scheduling.ledgerentry')),
            ],
            options={
                'verbose_name_plural': 'discrepancies',
                'ordering': ['-opened_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Lot',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('lot_number', models.CharField(max_length=40)),
                ('expiry', models.DateField()),
                ('received_quantity', models.PositiveIntegerField(default=0, help_text="Everything received into this lot, in the product's unit (devices, or mg).")),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('location', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='stock_lots', to='scheduling.location')),
            ],
            options={
                'ordering': ['expiry', 'lot_number', 'id'],
            },
        ),
        migrations.AddField(
            model_name='ledgerentry',
            name='lot',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='scheduling.lot'),
        ),
        migrations.CreateModel(
            name='DiscrepancyEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('id', models.BigIntegerField()),
                ('expected', models.IntegerField(help_text="The ledger's balance when counted.")),
                ('counted', models.IntegerField()),
                ('difference', models.IntegerField(help_text='counted - expected: below 0 is a loss.')),
                ('opened_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('explanation', models.TextField(blank=True)),
                ('explained_at', models.DateTimeField(blank=True, null=True)),
                ('loss_reported_dea106', models.BooleanField(default=False, help_text='A loss: whether a DEA Form 106 (theft or loss) was filed.', verbose_name='DEA Form 106 filed')),
                ('dea106_note', models.TextField(blank=True, verbose_name='DEA Form 106 note')),
                ('explained_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL)),
                ('pgh_context', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context')),
                ('pgh_obj', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='scheduling.discrepancy')),
                ('count_entry', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='scheduling.ledgerentry')),
                ('lot', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='scheduling.lot')),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.AddField(
            model_name='discrepancy',
            name='lot',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='discrepancies', to='scheduling.lot'),
        ),
        migrations.CreateModel(
            name='Product',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=80, unique=True)),
                ('kind', models.CharField(choices=[('esketamine_device', 'Esketamine nasal device'), ('ketamine_vial', 'Ketamine vial')], max_length=20)),
                ('strength_mg', models.PositiveIntegerField(help_text="mg per device, or the vial's total mg.")),
                ('volume_ml', models.DecimalField(blank=True, decimal_places=1, help_text="Vials only: the vial's volume in mL.", max_digits=5, null=True)),
                ('unit', models.CharField(choices=[('device', 'device'), ('mg', 'mg')], help_text='The unit the ledger counts in: devices, or mg.', max_length=8)),
                ('devices_per_pack', models.PositiveSmallIntegerField(blank=True, help_text='Devices in one pack when every pack is alike; empty when kits vary.', null=True)),
                ('active', models.BooleanField(default=True)),
            ],
            options={
                'ordering': ['kind', 'strength_mg', 'id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('strength_mg__gt', 0)), name='product_strength_positive'), models.CheckConstraint(condition=models.Q(models.Q(('kind', 'esketamine_device'), ('unit', 'device'), ('volume_ml__isnull', True)), models.Q(('kind', 'ketamine_vial'), ('unit', 'mg'), ('volume_ml__gt', 0)), _connector='OR'), name='product_unit_matches_kind')],
            },
        ),
        migrations.AddField(
            model_name='lot',
            name='product',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='lots', to='scheduling.product'),
        ),
        migrations.AddIndex(
            model_name='ledgerentry',
            index=models.Index(fields=['lot', 'at', 'id'], name='ledger_by_lot_in_order'),
        ),
        migrations.AddIndex(
            model_name='ledgerentry',
            index=models.Index(fields=['kind', 'at'], name='ledger_by_kind_and_time'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'receipt'), _negated=True), models.Q(('quantity__gt', 0), ('received_on__isnull', False), models.Q(('supplier', ''), _negated=True), models.Q(('invoice_number', ''), _negated=True)), _connector='OR'), name='ledger_receipt_rules'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'dispense'), _negated=True), models.Q(('quantity__lt', 0), ('session__isnull', False)), _connector='OR'), name='ledger_dispense_rules'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'waste'), _negated=True), models.Q(('quantity__lt', 0), ('witness__isnull', False)), _connector='OR'), name='ledger_waste_rules'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'adjustment'), _negated=True), models.Q(models.Q(('quantity', 0), _negated=True), ('witness__isnull', False), models.Q(('reason', ''), _negated=True)), _connector='OR'), name='ledger_adjustment_rules'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('counted_quantity__gte', 0), ('kind', 'count'), ('quantity', 0)), models.Q(models.Q(('kind', 'count'), _negated=True), ('counted_quantity__isnull', True)), _connector='OR'), name='ledger_count_rules'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(('witness__isnull', True), models.Q(('witness', models.F('by')), _negated=True), _connector='OR'), name='ledger_witness_not_self'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='ledgerentry',
            trigger=pgtrigger.compiler.Trigger(name='ledger_append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='12c3f71950a4660a8764ab3f45619884a3e99db9', operation='UPDATE OR DELETE', pgid='pgtrigger_ledger_append_only_5be41', table='scheduling_ledgerentry', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='ledgerentry',
            trigger=pgtrigger.compiler.Trigger(name='ledger_never_below_zero', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (NEW."quantity" < 0)', func="\n    PERFORM 1 FROM scheduling_lot WHERE id = NEW.lot_id FOR UPDATE;\n    IF (SELECT COALESCE(SUM(quantity), 0) FROM scheduling_ledgerentry WHERE lot_id = NEW.lot_id) + NEW.quantity < 0\n    THEN\n        RAISE EXCEPTION 'lot % would go below zero', NEW.lot_id\n            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_never_below_zero';\n    END IF;\n    RETURN NEW;\n", hash='29fc0c0d45e5bd157c2beadc2984f8581f8e9450', operation='INSERT', pgid='pgtrigger_ledger_never_below_zero_fc88c', table='scheduling_ledgerentry', when='BEFORE')),
        ),
        migrations.AddIndex(
            model_name='discrepancy',
            index=models.Index(condition=models.Q(('explained_at__isnull', True)), fields=['lot'], name='discrepancy_open_by_lot'),
        ),
        migrations.AddConstraint(
            model_name='discrepancy',
            constraint=models.CheckConstraint(condition=models.Q(('difference', django.db.models.expressions.CombinedExpression(models.F('counted'), '-', models.F('expected'))), models.Q(('difference', 0), _negated=True)), name='discrepancy_is_a_difference'),
        ),
        migrations.AddConstraint(
            model_name='discrepancy',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('explained_at__isnull', True), ('explained_by__isnull', True), ('explanation', '')), models.Q(('explained_at__isnull', False), ('explained_by__isnull', False), models.Q(('explanation', ''), _negated=True)), _connector='OR'), name='discrepancy_explained_whole'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='discrepancy',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "scheduling_discrepancyevent" ("count_entry_id", "counted", "dea106_note", "difference", "expected", "explained_at", "explained_by_id", "explanation", "id", "loss_reported_dea106", "lot_id", "opened_at", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id") VALUES (NEW."count_entry_id", NEW."counted", NEW."dea106_note", NEW."difference", NEW."expected", NEW."explained_at", NEW."explained_by_id", NEW."explanation", NEW."id", NEW."loss_reported_dea106", NEW."lot_id", NEW."opened_at", _pgh_attach_context(), NOW(), \'insert\', NEW."id"); RETURN NULL;', hash='960f0235da36d5ec55bf9ea0eee76420313cd32f', operation='INSERT', pgid='pgtrigger_insert_insert_07261', table='scheduling_discrepancy', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='discrepancy',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "scheduling_discrepancyevent" ("count_entry_id", "counted", "dea106_note", "difference", "expected", "explained_at", "explained_by_id", "explanation", "id", "loss_reported_dea106", "lot_id", "opened_at", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id") VALUES (NEW."count_entry_id", NEW."counted", NEW."dea106_note", NEW."difference", NEW."expected", NEW."explained_at", NEW."explained_by_id", NEW."explanation", NEW."id", NEW."loss_reported_dea106", NEW."lot_id", NEW."opened_at", _pgh_attach_context(), NOW(), \'update\', NEW."id"); RETURN NULL;', hash='5152b5ca0fb1f856f8371beaf9e95f3fc4cb7a7d', operation='UPDATE', pgid='pgtrigger_update_update_8141a', table='scheduling_discrepancy', when='AFTER')),
        ),
        migrations.AddIndex(
            model_name='lot',
            index=models.Index(fields=['location', 'product', 'expiry'], name='lot_by_site_product_expiry'),
        ),
        migrations.AddConstraint(
            model_name='lot',
            constraint=models.UniqueConstraint(fields=('location', 'product', 'lot_number'), name='one_lot_per_number_at_a_site'),
        ),
        migrations.RunPython(seed_products, remove_products),
    ]
