from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0014_freed_chair_offers")]

    operations = []
