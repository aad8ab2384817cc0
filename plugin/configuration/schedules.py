"""Names shared by the schedules that "Save Configuration" writes and the Celery tasks they start.

The sync app registers its tasks under these task names; the configuration service writes one
django-celery-beat PeriodicTask per store and job under the matching row name."""

EOD_EXPORT_TASK = "itbc.sync.eod_export"
AUTO_SYNC_TASK = "itbc.sync.auto_sync"


def eod_periodic_task_name(store_id: int) -> str:
    return f"itbc-eod-store-{store_id}"


def auto_sync_periodic_task_name(store_id: int) -> str:
    return f"itbc-auto-sync-store-{store_id}"
