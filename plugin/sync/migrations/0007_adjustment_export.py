import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("configuration", "0002_inventory_location_id_32_bit"),
        ("sync", "0006_send_back_jobs"),
    ]

    operations = [
        migrations.AddField(
            model_name="storesyncstate",
            name="adjustments_cursor",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="AdjustmentBatch",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("state", models.CharField(choices=[("sending", "Sending (if it stays so, the worker stopped: the next End of Day heals it)"), ("sent", "Sent"), ("uncertain", "Outcome unknown (the next End of Day heals it)"), ("refused", "Refused by the store")], max_length=10)),
                ("first_ledger_id", models.BigIntegerField()),
                ("last_ledger_id", models.BigIntegerField()),
                ("items_count", models.PositiveIntegerField(default=0)),
                ("store_transaction_id", models.CharField(blank=True, max_length=100)),
                ("error", models.TextField(blank=True)),
                ("deltas", models.JSONField(blank=True, default=dict)),
                ("refused", models.JSONField(blank=True, default=dict)),
                ("run", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="sync.syncrun")),
                ("store", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="adjustment_batches", to="configuration.storeconnection")),
                ("superseded_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="sync.syncrun")),
            ],
            options={
                "ordering": ["store_id", "-id"],
                "indexes": [models.Index(fields=["store", "state", "superseded_by"], name="adjbatch_store_state")],
            },
        ),
    ]
