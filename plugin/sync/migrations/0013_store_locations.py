from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0012_run_acknowledgement"),
    ]

    operations = []
