from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("intellitrack", "0003_ledger_immutable"),
    ]

    operations = [
        migrations.AlterField(
            model_name="item",
            name="item_number",
            field=models.CharField(max_length=255),
        ),
        migrations.AlterField(
            model_name="item",
            name="alternate_number",
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name="pickingorder",
            name="unmanaged_lines",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
