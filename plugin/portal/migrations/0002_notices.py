import django.db.models.deletion
from django.db import migrations, models

FLUSH_TASK = ("itbc-notice-flush", "itbc.portal.notice_flush")


def flush_schedule_add(apps, schema_editor):
    """Every 5 minutes beat mails the held-back notices whose hour is over (plugin.portal.notifications)."""
    from django.utils import timezone

    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every_five, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    name, task = FLUSH_TASK
    PeriodicTask.objects.update_or_create(
        name=name, defaults={"task": task, "interval": every_five, "kwargs": "{}", "enabled": True}
    )
    # Historical models send no signals: bump the change marker so a running beat reloads.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def flush_schedule_remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=FLUSH_TASK[0]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("configuration", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
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
                ("last_notice", models.JSONField(blank=True, default=dict)),
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
        migrations.RunPython(flush_schedule_add, flush_schedule_remove),
    ]
