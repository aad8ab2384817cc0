from django.db import migrations, models

RECIPIENTS_HELP = (
    "Email addresses told when a run fails or ends partly, an End of Day is missed, a job cannot start, or the "
    "store's stock setting differs. One per line or separated by commas."
)


class Migration(migrations.Migration):
    dependencies = [
        ("configuration", "0004_sync_time_range"),
    ]

    operations = [
        migrations.AddField(
            model_name="basicconfiguration",
            name="notification_recipients",
            field=models.TextField(blank=True, help_text=RECIPIENTS_HELP, verbose_name="Notification recipients"),
        ),
        migrations.AddField(
            model_name="historicalbasicconfiguration",
            name="notification_recipients",
            field=models.TextField(blank=True, help_text=RECIPIENTS_HELP, verbose_name="Notification recipients"),
        ),
    ]
