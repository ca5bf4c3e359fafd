"""The clinic's numbers at scale: a text's site stored with the text, and the indexes the figures read.

``TextMessage.location`` is what the texts figure counted per text by probing sessions (its session's site,
else that of the patient's latest session started at or before it, else their next one); from here on the model
sets it when a text is recorded or linked to a session, and the backfill below gives every earlier text the
same site in one statement.
"""

import django.db.models.deletion
from django.db import migrations, models

# Every text to a patient, at the site the report used to find for it.
BACKFILL_TEXT_SITES = """
UPDATE scheduling_textmessage t
   SET location_id = CASE
       WHEN t.session_id IS NOT NULL THEN (SELECT s.location_id FROM scheduling_session s WHERE s.id = t.session_id)
       ELSE coalesce(
           (SELECT s.location_id FROM scheduling_session s
             WHERE s.patient_id = t.patient_id AND s.start <= t.at AND s.location_id IS NOT NULL
             ORDER BY s.start DESC LIMIT 1),
           (SELECT s.location_id FROM scheduling_session s
             WHERE s.patient_id = t.patient_id AND s.start > t.at AND s.location_id IS NOT NULL
             ORDER BY s.start LIMIT 1))
       END
 WHERE t.patient_id IS NOT NULL
"""


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0015_offer_taken_work_kind")]

    operations = [
        migrations.AddField(
            model_name="textmessage",
            name="location",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                to="scheduling.location",
                help_text="The site the text belongs to (its session's, else the patient's nearest session's when "
                          "it was recorded)."),
        ),
        # Reversing drops the column with its values; nothing to undo first.
        migrations.RunSQL(BACKFILL_TEXT_SITES, reverse_sql=migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="textmessage",
            index=models.Index(fields=["at"], name="message_at"),
        ),
        migrations.AddIndex(
            model_name="session",
            index=models.Index(fields=["local_date"], include=("location", "chair", "course", "status", "start", "end",
                                                               "late_cancel", "recorded_history", "id"),
                               name="session_report_day"),
        ),
        migrations.AddIndex(
            model_name="session",
            index=models.Index(condition=models.Q(("status", "discharged")), fields=["course", "start", "id"],
                               include=("local_date", "recorded_history", "location"),
                               name="session_course_discharged"),
        ),
    ]
