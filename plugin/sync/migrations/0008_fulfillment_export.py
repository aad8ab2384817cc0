import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("configuration", "0004_sync_time_range"),
        ("intellitrack", "0004_item_number_255_unmanaged_lines"),
        ("sync", "0007_adjustment_export"),
    ]

    operations = [
        migrations.AddField(
            model_name="storesyncstate",
            name="fulfillments_cursor",
            field=models.BigIntegerField(default=0),
        ),
        migrations.CreateModel(
            name="ShipmentOutbox",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("store_order_id", models.PositiveBigIntegerField()),
                ("mode", models.CharField(default="per_pick", max_length=10)),
                ("order_address_id", models.PositiveBigIntegerField(default=0)),
                ("items", models.JSONField(default=list)),
                ("tracking_number", models.CharField(blank=True, max_length=50)),
                ("carrier_name", models.CharField(blank=True, max_length=100)),
                ("shipping_provider", models.CharField(blank=True, max_length=40)),
                ("tracking_carrier", models.CharField(blank=True, max_length=100)),
                ("state", models.CharField(
                    choices=[("pending_close", "Waiting for the order to close"), ("pending", "Pending"),
                             ("checking", "Checking (outcome unknown)"), ("sent", "Sent"), ("refused", "Refused")],
                    default="pending", max_length=15)),
                ("store_shipment_id", models.PositiveBigIntegerField(blank=True, null=True)),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("error", models.TextField(blank=True)),
                ("note", models.TextField(blank=True)),
                ("pick_ids", models.JSONField(default=list)),
                ("cursor_first", models.BigIntegerField(default=0)),
                ("cursor_last", models.BigIntegerField(default=0)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("picking_order", models.ForeignKey(
                    blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                    to="intellitrack.pickingorder")),
                ("run", models.ForeignKey(
                    blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                    to="sync.syncrun")),
                ("store", models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE, related_name="shipment_outbox",
                    to="configuration.storeconnection")),
            ],
            options={
                "ordering": ["store_id", "id"],
                "indexes": [
                    models.Index(fields=["store", "state", "id"], name="shipment_outbox_store_state"),
                    models.Index(fields=["store", "store_order_id"], name="shipment_outbox_store_order"),
                    models.Index(fields=["picking_order", "id"], name="shipment_outbox_picking_order"),
                ],
            },
        ),
    ]
