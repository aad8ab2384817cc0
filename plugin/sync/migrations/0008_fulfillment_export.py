from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0007_adjustment_export"),
    ]

    operations = []
