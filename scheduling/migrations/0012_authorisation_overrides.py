import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0011_stock_ledger"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='session',
            name='insert_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='session',
            name='update_update',
        ),
        migrations.AddField(
            model_name='session',
            name='authorisation_override_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='session',
            name='authorisation_override_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='session',
            name='authorisation_override_reason',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='sessionevent',
            name='authorisation_override_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='sessionevent',
            name='authorisation_override_by',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='sessionevent',
            name='authorisation_override_reason',
            field=models.TextField(blank=True),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='session',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "scheduling_sessionevent" ("authorisation_override_at", "authorisation_override_by_id", "authorisation_override_reason", "booked_at", "booked_by_id", "cancel_reason", "cancelled_at", "cancelled_by_id", "chair_id", "checked_in_at", "checked_in_by_id", "checked_in_entered_at", "checked_in_late_reason", "clinician_id", "confirmed_at", "could_have_left_after_minutes", "course_id", "discharge_entered_at", "discharge_late_reason", "discharged_at", "discharged_by_id", "driver", "eligibility_override_by_id", "eligibility_override_findings", "eligibility_override_reason", "end", "fasted_drink_30m", "fasted_food_2h", "high_bp_acknowledged_at", "high_bp_acknowledged_by_id", "high_bp_acknowledgement", "id", "late_cancel", "left_at", "left_entered_at", "left_kind", "left_late_reason", "left_reason", "left_recorded_by_id", "left_with", "local_date", "location_id", "nasal_medicines_ok", "no_show_at", "notes", "occupied_until", "override_by_id", "override_reason", "patient_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recorded_dose_mg", "recorded_history", "rescheduled_from", "resolution_attested", "revision", "ride_home_arranged", "start", "status") VALUES (NEW."authorisation_override_at", NEW."authorisation_override_by_id", NEW."authorisation_override_reason", NEW."booked_at", NEW."booked_by_id", NEW."cancel_reason", NEW."cancelled_at", NEW."cancelled_by_id", NEW."chair_id", NEW."checked_in_at", NEW."checked_in_by_id", NEW."checked_in_entered_at", NEW."checked_in_late_reason", NEW."clinician_id", NEW."confirmed_at", NEW."could_have_left_after_minutes", NEW."course_id", NEW."discharge_entered_at", NEW."discharge_late_reason", NEW."discharged_at", NEW."discharged_by_id", NEW."driver", NEW."eligibility_override_by_id", NEW."eligibility_override_findings", NEW."eligibility_override_reason", NEW."end", NEW."fasted_drink_30m", NEW."fasted_food_2h", NEW."high_bp_acknowledged_at", NEW."high_bp_acknowledged_by_id", NEW."high_bp_acknowledgement", NEW."id", NEW."late_cancel", NEW."left_at", NEW."left_entered_at", NEW."left_kind", NEW."left_late_reason", NEW."left_reason", NEW."left_recorded_by_id", NEW."left_with", NEW."local_date", NEW."location_id", NEW."nasal_medicines_ok", NEW."no_show_at", NEW."notes", NEW."occupied_until", NEW."override_by_id", NEW."override_reason", NEW."patient_id", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."recorded_dose_mg", NEW."recorded_history", NEW."rescheduled_from", NEW."resolution_attested", NEW."revision", NEW."ride_home_arranged", NEW."start", NEW."status"); RETURN NULL;', hash='87f837056cd04cdec43225520c7ff9ef8a472034', operation='INSERT', pgid='pgtrigger_insert_insert_d2ba6', table='scheduling_session', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='session',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "scheduling_sessionevent" ("authorisation_override_at", "authorisation_override_by_id", "authorisation_override_reason", "booked_at", "booked_by_id", "cancel_reason", "cancelled_at", "cancelled_by_id", "chair_id", "checked_in_at", "checked_in_by_id", "checked_in_entered_at", "checked_in_late_reason", "clinician_id", "confirmed_at", "could_have_left_after_minutes", "course_id", "discharge_entered_at", "discharge_late_reason", "discharged_at", "discharged_by_id", "driver", "eligibility_override_by_id", "eligibility_override_findings", "eligibility_override_reason", "end", "fasted_drink_30m", "fasted_food_2h", "high_bp_acknowledged_at", "high_bp_acknowledged_by_id", "high_bp_acknowledgement", "id", "late_cancel", "left_at", "left_entered_at", "left_kind", "left_late_reason", "left_reason", "left_recorded_by_id", "left_with", "local_date", "location_id", "nasal_medicines_ok", "no_show_at", "notes", "occupied_until", "override_by_id", "override_reason", "patient_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recorded_dose_mg", "recorded_history", "rescheduled_from", "resolution_attested", "revision", "ride_home_arranged", "start", "status") VALUES (NEW."authorisation_override_at", NEW."authorisation_override_by_id", NEW."authorisation_override_reason", NEW."booked_at", NEW."booked_by_id", NEW."cancel_reason", NEW."cancelled_at", NEW."cancelled_by_id", NEW."chair_id", NEW."checked_in_at", NEW."checked_in_by_id", NEW."checked_in_entered_at", NEW."checked_in_late_reason", NEW."clinician_id", NEW."confirmed_at", NEW."could_have_left_after_minutes", NEW."course_id", NEW."discharge_entered_at", NEW."discharge_late_reason", NEW."discharged_at", NEW."discharged_by_id", NEW."driver", NEW."eligibility_override_by_id", NEW."eligibility_override_findings", NEW."eligibility_override_reason", NEW."end", NEW."fasted_drink_30m", NEW."fasted_food_2h", NEW."high_bp_acknowledged_at", NEW."high_bp_acknowledged_by_id", NEW."high_bp_acknowledgement", NEW."id", NEW."late_cancel", NEW."left_at", NEW."left_entered_at", NEW."left_kind", NEW."left_late_reason", NEW."left_reason", NEW."left_recorded_by_id", NEW."left_with", NEW."local_date", NEW."location_id", NEW."nasal_medicines_ok", NEW."no_show_at", NEW."notes", NEW."occupied_until", NEW."override_by_id", NEW."override_reason", NEW."patient_id", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."recorded_dose_mg", NEW."recorded_history", NEW."rescheduled_from", NEW."resolution_attested", NEW."revision", NEW."ride_home_arranged", NEW."start", NEW."status"); RETURN NULL;', hash='ca7be769718725f69b1e71785110629c9fbfe86f', operation='UPDATE', pgid='pgtrigger_update_update_2f1db', table='scheduling_session', when='AFTER')),
        ),
        migrations.AddConstraint(
            model_name='session',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('authorisation_override_at__isnull', True), ('authorisation_override_by__isnull', True), ('authorisation_override_reason', '')), models.Q(models.Q(('authorisation_override_reason', ''), _negated=True), ('authorisation_override_at__isnull', False), ('authorisation_override_by__isnull', False)), _connector='OR'), name='session_authorisation_override_recorded_whole'),
        ),
    ]
