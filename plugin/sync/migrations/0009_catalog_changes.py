from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0008_fulfillment_export"),
    ]

    operations = [
        migrations.AddField(
            model_name="storeitemlink",
            name="retired_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="storesyncstate",
            name="catalog_check_cursor",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="storesyncstate",
            name="webhook_secret",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="storesyncstate",
            name="webhooks_destination",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AlterField(
            model_name="syncrun",
            name="trigger",
            field=models.CharField(
                choices=[
                    ("manual", "Button"),
                    ("schedule", "Schedule"),
                    ("command", "Command"),
                    ("api", "API"),
                    ("retry", "Retry of failed items"),
                    ("webhook", "Store webhook"),
                    ("catch_up", "Catch-up after downtime"),
                ],
                default="manual",
                max_length=20,
            ),
        ),
    ]
