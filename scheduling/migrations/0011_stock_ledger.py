from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0010_text_queues_and_marked_refreshes"),
    ]

    operations = []
