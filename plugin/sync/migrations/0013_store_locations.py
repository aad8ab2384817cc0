"""What End of Day last sent each linked unit at the store's other mapped inventory locations."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0012_run_acknowledgement"),
    ]

    operations = [
        migrations.CreateModel(
            name="StoreItemLocationLevel",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("store_location_id", models.PositiveIntegerField()),
                ("last_exported_qty", models.BigIntegerField(blank=True, null=True)),
                ("last_synced_at", models.DateTimeField(blank=True, null=True)),
                ("link", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="location_levels",
                                           to="sync.storeitemlink")),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("link", "store_location_id"),
                                                        name="link_location_level_unique")],
            },
        ),
    ]
