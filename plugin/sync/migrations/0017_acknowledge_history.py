"""Runs that ended badly before acknowledging existed (0012) count as acknowledged: after an upgrade the
Runs badge counts failures from then on, not the whole history."""
from django.db import migrations
from django.utils import timezone

# SyncRun.FAILURE_STATUSES as they were when this migration was written.
FAILURE_STATUSES = ["failed", "partial", "stale", "missed"]


def acknowledge_history(apps, schema_editor):
    SyncRun = apps.get_model("sync", "SyncRun")
    SyncRun.objects.filter(status__in=FAILURE_STATUSES, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0016_location_level_ledger"),
    ]

    operations = [
        migrations.RunPython(acknowledge_history, migrations.RunPython.noop),
    ]
