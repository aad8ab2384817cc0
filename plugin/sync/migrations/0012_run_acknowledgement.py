import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0011_link_absolute_ledger_id"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="syncrun",
            name="acknowledged_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="acknowledged_by",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="syncrun",
            index=models.Index(
                condition=models.Q(("acknowledged_at__isnull", True),
                                   ("status__in", ["failed", "partial", "stale", "missed"])),
                fields=["store", "-created_at"],
                name="syncrun_unacknowledged",
            ),
        ),
    ]
