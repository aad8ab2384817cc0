from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0006_send_back_jobs"),
    ]

    operations = []
