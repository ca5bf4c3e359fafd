from django.db import migrations, models

# Choices live in Python; the database column is unchanged (max_length 24 already fits every kind).
WORK_KINDS = [
    ("lapsed", "Lapsed course"),
    ("overdue", "Overdue visit"),
    ("no_show_rebook", "No-show to rebook"),
    ("rems_form_due", "REMS form due"),
    ("reschedule_request", "Asked for a new time"),
    ("reply_needs_attention", "Reply to read"),
    ("unconfirmed_tomorrow", "Unconfirmed for tomorrow"),
    ("rems_enrolment_missing", "REMS enrolment missing"),
    ("due_unbooked", "Due, not booked"),
    ("authorisation_ending", "Authorisation ending"),
    ("authorisation_units_low", "Authorisation units low"),
    ("authorisation_pending", "Authorisation pending"),
    ("authorisation_denied", "Authorisation denied"),
    ("stock_discrepancy", "Stock count to explain"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0012_authorisation_overrides"),
    ]

    operations = [
        migrations.AlterField(
            model_name="workitem",
            name="kind",
            field=models.CharField(choices=WORK_KINDS, max_length=24),
        ),
        migrations.AlterField(
            model_name="workitemevent",
            name="kind",
            field=models.CharField(choices=WORK_KINDS, max_length=24),
        ),
    ]
