"""Celery tasks: thin wrappers that call the sync services. Safe to run twice: a run executes only from
"queued", and a scheduled End of Day slot has at most one run."""
import logging

from celery import shared_task
from celery.signals import worker_ready
from django.utils import timezone

from plugin.configuration.schedules import AUTO_SYNC_TASK, EOD_EXPORT_TASK

from . import retention, runs, schedule, services
from .models import SyncRun

logger = logging.getLogger(__name__)

RUN_JOB_TASK = services.RUN_JOB_TASK
EOD_CATCH_UP_TASK = "itbc.sync.eod_catch_up"
MARK_STALE_TASK = "itbc.sync.mark_stale"
PRUNE_RUN_ITEMS_TASK = retention.PRUNE_RUN_ITEMS_TASK


@shared_task(name=RUN_JOB_TASK, acks_late=True, ignore_result=True)
def run_job(run_id: int, job: str = "") -> None:
    # `job` only routes the message to its queue (plugin/sync/queues.py); the run record says the rest.
    finished = services.run_execute(run_id=run_id)
    if finished is None:
        _recover_if_dead(run_id)


def _recover_if_dead(run_id: int) -> None:
    """A redelivered task whose run is still "running" after its worker died: mark it stale and run the
    job again, so the store ends correct (End of Day levels are absolute, so a resend is harmless)."""
    run = SyncRun.objects.select_related("store").filter(pk=run_id).first()
    if run is None or run.status != SyncRun.Status.RUNNING:
        return
    runs.runs_mark_stale(store=run.store, job=run.job)
    run.refresh_from_db(fields=["status"])
    if run.status != SyncRun.Status.STALE:
        return  # its worker is alive
    try:
        again = runs.run_create(store=run.store, job=run.job, trigger=SyncRun.Trigger.RETRY, user=run.user,
                                dry_run=run.dry_run, options=run.options, retry_of=run)
    except runs.RunInProgress:
        return
    services.run_execute(run_id=again.pk)


@shared_task(name=EOD_EXPORT_TASK, acks_late=True, ignore_result=True)
def eod_export(store_id: int) -> None:
    """Fired by the store's End of Day crontab: run the slot that just came due, once."""
    from plugin.configuration.models import BasicConfiguration

    config = BasicConfiguration.objects.select_related("store").filter(store_id=store_id).first()
    if not schedule.eod_scheduled(config):
        logger.info("End of Day for store %s fired but is not scheduled any more", store_id)
        return
    now = timezone.now()
    slot = schedule.eod_slot_latest(config, now=now)
    if now - slot > schedule.grace():
        # Beat fires an overdue crontab late after downtime: past the grace period the slot is missed.
        schedule.eod_slot_mark_missed(store=config.store, slot=slot)
        logger.info("End of Day for store %s fired %s after its slot: recorded as missed", store_id, now - slot)
        return
    try:
        run = runs.run_create(store=config.store, job=SyncRun.Job.EOD_EXPORT, trigger=SyncRun.Trigger.SCHEDULE,
                              scheduled_for=slot)
    except (runs.RunInProgress, runs.SlotAlreadyRun) as exc:
        logger.info("End of Day for store %s not started: %s", store_id, exc)
        return
    services.run_execute(run_id=run.pk)


@shared_task(name=AUTO_SYNC_TASK, acks_late=True, ignore_result=True)
def auto_sync(store_id: int) -> None:
    """Fired every N minutes: one auto sync cycle (orders in, fulfillments and adjustments out), inside the
    store's Sync Time Range. The watermark moves to the cycle's start when it fully succeeds."""
    services.auto_sync_cycle_fire(store_id=store_id)


@shared_task(name=EOD_CATCH_UP_TASK, ignore_result=True)
def eod_catch_up() -> dict:
    # Each caught-up End of Day is queued on its own to the eod queue, so after downtime many stores'
    # runs spread over the End of Day workers instead of running one after another here.
    return schedule.eod_catch_up()


@shared_task(name=MARK_STALE_TASK, ignore_result=True)
def mark_stale() -> int:
    return runs.runs_mark_stale()


@shared_task(name=PRUNE_RUN_ITEMS_TASK, ignore_result=True)
def prune_run_items() -> dict:
    return retention.run_items_prune()


@worker_ready.connect
def _catch_up_on_worker_start(sender=None, **kwargs):
    # A worker coming back after downtime checks for a missed End of Day at once, beat or no beat.
    logger.info("Worker ready at %s: checking for missed End of Day runs", timezone.now())
    eod_catch_up.delay()
