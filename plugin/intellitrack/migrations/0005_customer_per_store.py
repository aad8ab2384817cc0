from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("intellitrack", "0004_item_number_255_unmanaged_lines"),
    ]

    operations = []
