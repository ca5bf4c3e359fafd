from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0011_stock_ledger"),
    ]

    operations = []
