"""Retention of run items: the item rows of runs older than ITBC_RUN_ITEM_RETENTION_DAYS (default 90) are
deleted daily, in batches of at most BATCH_ROWS rows by id range, each DELETE committed on its own, so a
million rows never hold a lock on the table for long. The runs stay, with their counts and summary, marked
with when and how many item rows went (the run page says so); configuration history is not touched."""
import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from .models import SyncRun, SyncRunItem

logger = logging.getLogger(__name__)

PRUNE_RUN_ITEMS_TASK = "itbc.sync.prune_run_items"
PERIODIC_TASK_NAME = "itbc-prune-run-items"
# Daily, at a quiet hour in UTC (explicit: the crontab never follows a server's local time).
PRUNE_AT = {"hour": "3", "minute": "17"}
BATCH_ROWS = 10_000
RUNS_PER_CHUNK = 500
# Summary keys on a pruned run: the date its items went and how many rows (0: it had none).
PRUNED_ON = "items_pruned_on"
PRUNED_ROWS = "items_pruned_rows"


def retention_days() -> int:
    return int(getattr(settings, "ITBC_RUN_ITEM_RETENTION_DAYS", 90))


def run_items_prune(*, now=None, days: int | None = None, batch_rows: int = BATCH_ROWS,
                    runs_per_chunk: int = RUNS_PER_CHUNK) -> dict:
    """Delete the item rows of finished runs created before now - days; returns
    {"runs": runs marked, "rows": rows deleted, "batches": DELETE statements, "cutoff": iso}."""
    now = now or timezone.now()
    days = retention_days() if days is None else days
    cutoff = now - timedelta(days=days)
    old_runs = (SyncRun.objects.filter(status__in=SyncRun.FINISHED_STATUSES, created_at__lt=cutoff)
                .exclude(summary__has_key=PRUNED_ON))
    result = {"runs": 0, "rows": 0, "batches": 0, "cutoff": cutoff.isoformat()}
    after_run = 0
    while True:
        chunk = list(old_runs.filter(pk__gt=after_run).order_by("pk").only("pk", "summary")[:runs_per_chunk])
        if not chunk:
            break
        after_run = chunk[-1].pk
        run_ids = [run.pk for run in chunk]
        rows = dict(SyncRunItem.objects.filter(run_id__in=run_ids).order_by()
                    .values("run_id").annotate(n=Count("id")).values_list("run_id", "n"))
        if rows:
            deleted, batches = _items_delete_in_batches(run_ids=run_ids, batch_rows=batch_rows)
            result["rows"] += deleted
            result["batches"] += batches
        # Marked after their rows are gone: an interrupted prune takes the same runs up again.
        for run in chunk:
            run.summary = {**(run.summary or {}), PRUNED_ON: now.date().isoformat(), PRUNED_ROWS: rows.get(run.pk, 0)}
        SyncRun.objects.bulk_update(chunk, ["summary"], batch_size=runs_per_chunk)
        result["runs"] += len(chunk)
    if result["rows"]:
        logger.info("Pruned %s run item rows of %s runs created before %s (%s batches)",
                    result["rows"], result["runs"], cutoff, result["batches"])
    return result


def _items_delete_in_batches(*, run_ids: list[int], batch_rows: int) -> tuple[int, int]:
    """Delete the runs' item rows by ascending id ranges of at most batch_rows rows. Outside a transaction
    each DELETE commits on its own, so locks are held for one batch at a time."""
    items = SyncRunItem.objects.filter(run_id__in=run_ids)
    deleted = batches = 0
    after_item = 0
    while True:
        edge = list(items.filter(id__gt=after_item).order_by("id")
                    .values_list("id", flat=True)[batch_rows - 1:batch_rows])
        batch = items.filter(id__gt=after_item)
        if edge:
            batch = batch.filter(id__lte=edge[0])
        count, _ = batch.delete()
        deleted += count
        batches += 1 if count else 0
        if not edge:
            return deleted, batches
        after_item = edge[0]


def retention_schedule_ensure() -> bool:
    """Register the daily prune in django-celery-beat (once; beat's scheduler calls this on start).
    Saved through the model (never QuerySet.update) so a running beat reloads. True if it changed."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=PRUNE_AT["minute"], hour=PRUNE_AT["hour"], day_of_week="*", day_of_month="*",
        month_of_year="*", timezone=ZoneInfo("UTC"),
    )
    periodic = PeriodicTask.objects.filter(name=PERIODIC_TASK_NAME).first()
    if periodic is not None and periodic.task == PRUNE_RUN_ITEMS_TASK and periodic.crontab_id == crontab.pk:
        return False  # kept as it is, enabled or disabled by an admin
    periodic = periodic or PeriodicTask(name=PERIODIC_TASK_NAME, enabled=True)
    periodic.task = PRUNE_RUN_ITEMS_TASK
    periodic.crontab = crontab
    periodic.interval = periodic.solar = periodic.clocked = None
    periodic.kwargs = "{}"
    periodic.one_off = False
    periodic.description = "Delete run items older than ITBC_RUN_ITEM_RETENTION_DAYS (runs and history stay)."
    periodic.save()
    return True
