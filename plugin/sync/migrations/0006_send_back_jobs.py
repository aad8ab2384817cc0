from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0005_store_order_lines_sync_state"),
    ]

    operations = [
        migrations.AlterField(
            model_name="syncrun",
            name="job",
            field=models.CharField(
                choices=[
                    ("import_products", "Import Products (BigCommerce -> IntelliTrack)"),
                    ("import_inventory", "Import Inventory (BigCommerce -> IntelliTrack)"),
                    ("import_carriers", "Import Carriers (BigCommerce -> IntelliTrack)"),
                    ("import_orders", "Import Orders (BigCommerce -> IntelliTrack)"),
                    ("export_fulfillments", "Export Fulfillments (IntelliTrack -> BigCommerce)"),
                    ("export_adjustments", "Export Adjustments (IntelliTrack -> BigCommerce)"),
                    ("eod_export", "End of Day stock snapshot (IntelliTrack -> BigCommerce)"),
                    ("bootstrap", "Import Products, Inventory, and Carriers (BigCommerce -> IntelliTrack)"),
                    ("auto_sync", "Auto sync cycle"),
                ],
                max_length=30,
            ),
        ),
    ]
