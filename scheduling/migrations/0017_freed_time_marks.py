from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0016_report_columns")]

    operations = []
