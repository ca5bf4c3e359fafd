"""Indexes that carry the hot paths at a network's size (issue 9, docs/PERFORMANCE.md).

Created concurrently, so adding them to a live clinic's tables blocks no booking.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

STANDING = models.Q(("status__in", ("cancelled", "no_show")), _negated=True)
OPEN = models.Q(("closed_at__isnull", True))


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("scheduling", "0004_reminders_messages_worklist")]

    operations = [
        AddIndexConcurrently(
            model_name="session",
            index=models.Index(fields=["location", "start"], name="session_location_start"),
        ),
        AddIndexConcurrently(
            model_name="session",
            index=models.Index(condition=STANDING, fields=["chair", "occupied_until"], name="session_chair_occupied"),
        ),
        AddIndexConcurrently(
            model_name="session",
            index=models.Index(condition=STANDING, fields=["patient", "occupied_until"],
                               name="session_patient_occupied"),
        ),
        AddIndexConcurrently(
            model_name="session",
            index=models.Index(condition=STANDING, fields=["clinician", "occupied_until"],
                               name="session_clinician_occupied"),
        ),
        AddIndexConcurrently(
            model_name="workitem",
            index=models.Index(condition=OPEN, fields=["urgency", "due_on", "opened_at", "id"],
                               name="workitem_open_in_order"),
        ),
        AddIndexConcurrently(
            model_name="remsform",
            index=models.Index(condition=models.Q(("status", "submitted"), _negated=True), fields=["session"],
                               name="remsform_unsubmitted"),
        ),
    ]
