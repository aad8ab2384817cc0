from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("configuration", "0005_notifications"),
    ]

    operations = []
