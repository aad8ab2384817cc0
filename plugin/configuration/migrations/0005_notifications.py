from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("configuration", "0004_sync_time_range"),
    ]

    operations = []
