from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("configuration", "0003_store_timezone_chosen"),
    ]

    operations = [
        migrations.AddField(
            model_name="basicconfiguration",
            name="sync_time_from",
            field=models.TimeField(blank=True, null=True, verbose_name="Sync Time Range from"),
        ),
        migrations.AddField(
            model_name="basicconfiguration",
            name="sync_time_to",
            field=models.TimeField(blank=True, null=True, verbose_name="Sync Time Range to"),
        ),
        migrations.AddField(
            model_name="historicalbasicconfiguration",
            name="sync_time_from",
            field=models.TimeField(blank=True, null=True, verbose_name="Sync Time Range from"),
        ),
        migrations.AddField(
            model_name="historicalbasicconfiguration",
            name="sync_time_to",
            field=models.TimeField(blank=True, null=True, verbose_name="Sync Time Range to"),
        ),
    ]
