from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0012_authorisation_overrides"),
    ]

    operations = []
