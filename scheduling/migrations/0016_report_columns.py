from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0015_offer_taken_work_kind")]

    operations = []
