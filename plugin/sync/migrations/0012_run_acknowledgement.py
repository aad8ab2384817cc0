from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0011_link_absolute_ledger_id"),
    ]

    operations = []
