import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("configuration", "0002_inventory_location_id_32_bit"),
        ("sync", "0004_order_import_nothing_to_pick"),
    ]

    operations = [
        migrations.CreateModel(
            name="StoreOrderLine",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("store_order_id", models.PositiveBigIntegerField()),
                ("order_product_id", models.PositiveBigIntegerField()),
                ("product_id", models.PositiveBigIntegerField()),
                ("variant_id", models.PositiveBigIntegerField(blank=True, null=True)),
                ("sku", models.CharField(blank=True, max_length=255)),
                ("name", models.CharField(blank=True, max_length=255)),
                ("unmanaged_reason", models.TextField(blank=True)),
                ("quantity", models.PositiveIntegerField()),
                ("quantity_shipped", models.PositiveIntegerField(default=0)),
                ("base_shipped", models.PositiveIntegerField(default=0)),
                ("taken_at_placement", models.BooleanField(default=False)),
                ("status_id", models.PositiveSmallIntegerField()),
                ("channel_id", models.PositiveIntegerField(default=1)),
                ("settled", models.BooleanField(default=False)),
                ("order_created_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("link", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                           related_name="+", to="sync.storeitemlink")),
                ("store", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="order_lines",
                                            to="configuration.storeconnection")),
            ],
            options={
                "ordering": ["store_id", "store_order_id", "order_product_id"],
                "indexes": [
                    models.Index(fields=["store", "store_order_id"], name="order_line_store_order"),
                    models.Index(fields=["store", "settled", "status_id"], name="order_line_store_open"),
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("store", "order_product_id"), name="order_line_unique_per_store"),
                ],
            },
        ),
        migrations.CreateModel(
            name="StoreSyncState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("go_live_at", models.DateTimeField(blank=True, null=True)),
                ("stock_behaviors", models.JSONField(blank=True, default=dict)),
                ("stock_behavior_read_at", models.DateTimeField(blank=True, null=True)),
                ("closed_scan_at", models.DateTimeField(blank=True, null=True)),
                ("store", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="sync_state",
                                               to="configuration.storeconnection")),
            ],
        ),
    ]
