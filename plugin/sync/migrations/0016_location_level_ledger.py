from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("sync", "0015_link_fillfactor"),
    ]

    operations = [
        migrations.AddField(
            model_name="storeitemlocationlevel",
            name="absolute_ledger_id",
            field=models.BigIntegerField(blank=True, null=True),
        ),
    ]
