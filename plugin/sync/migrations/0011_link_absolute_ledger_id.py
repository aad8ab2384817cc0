from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0010_link_store_product_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="storeitemlink",
            name="absolute_ledger_id",
            field=models.BigIntegerField(blank=True, null=True),
        ),
    ]
