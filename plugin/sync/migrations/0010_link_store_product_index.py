from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0009_catalog_changes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="storeitemlink",
            index=models.Index(fields=["store", "product_id"], name="link_store_product"),
        ),
    ]
