"""The "prescriber" group: the clinicians an esketamine dose may name as the prescriber on site.

A manager marks or unmarks clinicians on the Staff page (/manage/staff/). It is not a
role: it grants nothing by itself (clinic.roles.is_prescriber).
"""

from django.db import migrations

PRESCRIBER = "prescriber"


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=PRESCRIBER)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=PRESCRIBER).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("scheduling", "0006_session_charting_entry_times_devices_prescriber_leaving"),
    ]
    operations = [migrations.RunPython(create_group, remove_group)]
