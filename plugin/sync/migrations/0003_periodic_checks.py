"""The beat-independent checks: End of Day catch-up and stale-run detection, every 5 minutes."""
from django.db import migrations

TASKS = [
    ("itbc-eod-catch-up", "itbc.sync.eod_catch_up"),
    ("itbc-mark-stale-runs", "itbc.sync.mark_stale"),
]


def add(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every_five, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    for name, task in TASKS:
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": task, "interval": every_five, "kwargs": "{}", "enabled": True}
        )
    # Historical models send no signals: bump the change marker so a running beat reloads.
    from django.utils import timezone

    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[n for n, _ in TASKS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0002_links_orders_run_slots"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(add, remove)]
