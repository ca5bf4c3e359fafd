import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """A freed chair time kept in the cancel's or move's own transaction (docs/OFFERS.md, "Offers under faults")."""

    dependencies = [("scheduling", "0016_report_columns")]

    operations = [
        migrations.CreateModel(
            name="FreedTimeMark",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("start", models.DateTimeField()),
                ("end", models.DateTimeField()),
                ("freed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("caught_up_at", models.DateTimeField(blank=True, null=True)),
                ("chair", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                            to="scheduling.chair")),
                ("location", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                               to="scheduling.location")),
                ("session", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                              related_name="+", to="scheduling.session")),
            ],
            options={
                "ordering": ["freed_at", "id"],
                "indexes": [
                    models.Index(fields=["chair", "start"], name="freedtime_chair_start"),
                    models.Index(fields=["freed_at"], name="freedtime_freed_at"),
                    models.Index(condition=models.Q(("caught_up_at__isnull", True)), fields=["start"],
                                 name="freedtime_not_caught_up"),
                ],
            },
        ),
    ]
