import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("configuration", "0001_initial"),
        ("portal", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="NoticeState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("cause", models.CharField(max_length=60)),
                ("last_sent_at", models.DateTimeField(blank=True, null=True)),
                ("held_back", models.PositiveIntegerField(default=0)),
                ("held_back_since", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.CharField(blank=True, max_length=500)),
                (
                    "store",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="configuration.storeconnection",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("store", "cause"), name="notice_state_store_cause")
                ],
            },
        ),
    ]
