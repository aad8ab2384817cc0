"""Starting and executing job runs: the entry points that pages, commands and tasks call.

`job_trigger` checks the prerequisites, queues a run and (after the transaction commits) its task.
`run_execute` runs a queued run in this process: takes the lock, starts the run, hands it to its job's
runner, and closes it as succeeded, partial or failed."""
import logging
import time

from django.conf import settings
from django.db import transaction

from plugin.bigcommerce.errors import BigCommerceError

from . import locks, queues, runs
from .jobs.adjustments import adjustments_export_run
from .jobs.carriers import carriers_import_run
from .jobs.context import JobContext, PrerequisiteMissing
from .jobs.eod import eod_export_run
from .jobs.fulfillments import fulfillments_export_run
from .jobs.inventory import inventory_import_run, products_imported
from .jobs.orders import orders_import_run
from .jobs.products import products_import_run
from .models import SyncRun

logger = logging.getLogger(__name__)

Job = SyncRun.Job
RUNNERS = {
    Job.IMPORT_PRODUCTS: products_import_run,
    Job.IMPORT_INVENTORY: inventory_import_run,
    Job.IMPORT_CARRIERS: carriers_import_run,
    Job.IMPORT_ORDERS: orders_import_run,
    Job.EXPORT_FULFILLMENTS: fulfillments_export_run,
    Job.EXPORT_ADJUSTMENTS: adjustments_export_run,
    Job.EOD_EXPORT: eod_export_run,
}
BOOTSTRAP_STEPS = [Job.IMPORT_PRODUCTS, Job.IMPORT_INVENTORY, Job.IMPORT_CARRIERS]
NEEDS_PRODUCTS = {Job.IMPORT_INVENTORY, Job.IMPORT_ORDERS, Job.EOD_EXPORT, Job.EXPORT_FULFILLMENTS,
                  Job.EXPORT_ADJUSTMENTS, Job.AUTO_SYNC}
RUNNABLE_JOBS = [*RUNNERS, Job.BOOTSTRAP, Job.AUTO_SYNC]
# The auto sync cycle's steps, in order (DESIGN decision 7). Orders come first: a line of a product not
# imported yet imports it on the way, with what its orders hold; the catalog step then gives the other new
# products their items, with the open orders already counted.
CYCLE_STEPS = [Job.IMPORT_ORDERS, Job.IMPORT_PRODUCTS, Job.EXPORT_FULFILLMENTS, Job.EXPORT_ADJUSTMENTS]


def job_prerequisite_missing(*, store, job: str) -> str:
    """Why `job` cannot run for `store` now ("" when it can)."""
    config = getattr(store, "basic_configuration", None)
    if job not in RUNNABLE_JOBS:
        return f"Unknown job {job!r}."
    if config is None or not config.defaults_complete:
        return "Save the Basic Configuration first: the default Division, Site, Location and UOM are not saved."
    if not config.sync_enabled:
        return "Synchronization is switched off for this store (\"Sync enabled\" in the configuration)."
    if not store.connection_ok:
        return "Test the store connection first: it has not been tested successfully."
    if job in NEEDS_PRODUCTS and not products_imported(store=store):
        return "Import products first: no store product is linked to an IntelliTrack item yet."
    return ""


DRY_RUN_IMPORT_REFUSAL = (
    "This job cannot be a dry run: imports write to IntelliTrack only; a dry run is for the End of Day export."
)


def job_dry_run_refused(*, job: str, dry_run: bool) -> str:
    """Why a dry run of `job` is refused ("" when it is not a dry run, or is the End of Day export, the
    only job that writes to the store)."""
    return DRY_RUN_IMPORT_REFUSAL if dry_run and job != Job.EOD_EXPORT else ""


def job_trigger(
    *, store, job: str, trigger: str = SyncRun.Trigger.MANUAL, user=None, dry_run: bool = False,
    options: dict | None = None, scheduled_for=None, enqueue: bool = True,
) -> SyncRun:
    """Queue a run of `job` and its task. Raises PrerequisiteMissing or runs.RunInProgress."""
    missing = job_prerequisite_missing(store=store, job=job) or job_dry_run_refused(job=job, dry_run=dry_run)
    if missing:
        raise PrerequisiteMissing(missing)
    run = runs.run_create(store=store, job=job, trigger=trigger, user=user, dry_run=dry_run, options=options,
                          scheduled_for=scheduled_for)
    if enqueue:
        run_enqueue(run=run)
    return run


def sync_time_range_allows(config, *, now=None) -> bool:
    """Whether `now` falls inside the store's optional Sync Time Range (local times in the End of Day
    timezone; a range that ends before it starts runs over midnight)."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone as dj_timezone

    start, end = config.sync_time_from, config.sync_time_to
    if start is None or end is None:
        return True
    local = (now or dj_timezone.now()).astimezone(ZoneInfo(config.effective_eod_timezone)).time()
    if start <= end:
        return start <= local <= end
    return local >= start or local <= end


def auto_sync_cycle_fire(*, store_id: int, now=None) -> SyncRun | None:
    """Beat's auto sync firing: one cycle now, inside the Sync Time Range. A prerequisite that fails is a
    failed run with its reason (shown with the runs), not only a log line; a cycle still running is left
    alone."""
    from plugin.configuration.models import StoreConnection

    store = StoreConnection.objects.select_related("basic_configuration").filter(pk=store_id).first()
    config = getattr(store, "basic_configuration", None) if store is not None else None
    if config is None or not (config.sync_enabled and config.auto_sync_enabled):
        logger.info("Auto sync for store %s fired but is not switched on", store_id)
        return None
    if not sync_time_range_allows(config, now=now):
        logger.info("Auto sync for store %s: outside the Sync Time Range", store_id)
        return None
    try:
        run = job_trigger(store=store, job=Job.AUTO_SYNC, trigger=SyncRun.Trigger.SCHEDULE, enqueue=False)
    except PrerequisiteMissing as exc:
        return runs.run_record_refused(store=store, job=Job.AUTO_SYNC, trigger=SyncRun.Trigger.SCHEDULE,
                                       error=str(exc))
    except runs.RunInProgress as exc:
        logger.info("Auto sync for store %s not started: %s", store_id, exc)
        return None
    return run_execute(run_id=run.pk)


def auto_sync_watermark_advance(*, run: SyncRun) -> bool:
    """After an auto sync cycle whose every step ran to its end, move the store's "Last Auto Sync
    Completed On" to the cycle's start, so the next cycle lists the orders modified since (minus the overlap). A system write:
    it stays out of the configuration's edit history."""
    from plugin.configuration.models import BasicConfiguration

    # A step that only had some items fail (a duplicate SKU, an order IntelliTrack refused, a refused
    # shipment) moves it too: those are retried by id or need a person, and re-listing everything since
    # an old watermark every cycle would only grow. A step that failed as a whole does not.
    if run.status not in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL) or run.started_at is None:
        return False
    if (run.summary or {}).get("failed_steps"):
        return False
    config = BasicConfiguration.objects.filter(store_id=run.store_id).first()
    if config is None:
        return False
    config.last_auto_sync_completed_on = run.started_at
    config.save_without_historical_record(update_fields=["last_auto_sync_completed_on"])
    return True


RUN_JOB_TASK = queues.RUN_JOB_TASK


def run_enqueue(*, run: SyncRun) -> None:
    """Queue the run's task by name (the tasks module imports this one, never the other way round)."""
    from celery import current_app

    # A signature by name: the registered task where this process has it (eager mode included), else a
    # plain message to the queue.
    # The job kind rides along so the router (plugin.sync.queues) picks the run's queue without a query.
    transaction.on_commit(
        lambda: current_app.signature(RUN_JOB_TASK, args=(run.pk,), kwargs={"job": run.job}).delay()
    )


def _context(run: SyncRun, *, client=None, gateway=None, lock=None) -> JobContext:
    from plugin.bigcommerce.client import client_for_store
    from plugin.intellitrack.gateway import get_gateway

    store = run.store
    config = store.basic_configuration
    return JobContext(
        run=run, store=store, config=config,
        client=client if client is not None else client_for_store(store),
        gateway=gateway if gateway is not None else get_gateway(),
        lock=lock,
    )


def run_execute(*, run_id: int, client=None, gateway=None) -> SyncRun | None:
    """Execute a queued run here and now. Returns the finished run, or None when another worker has it
    (or it is no longer queued): a task delivered twice does the work once."""
    run = SyncRun.objects.select_related("store", "store__basic_configuration", "retry_of").get(pk=run_id)
    if run.status != SyncRun.Status.QUEUED:
        return None
    lock = locks.JobLock(store_id=run.store_id, job=run.job, run_id=run.pk)
    if not lock.acquire():
        holder = locks.lock_holder(store_id=run.store_id, job=run.job)
        if holder == run.pk:
            return None  # a second delivery of this run's task: the first one is executing it
        # Left queued, the run would block its job until marked stale (an End of Day's step would never run).
        logger.info("Run %s not started: run %s holds the lock", run.pk, holder)
        return runs.run_refuse(run=run, summary={"lock_held_by": holder},
                               error=f"Not started: lock held by run #{holder or '?'} "
                                     "(another run of this job for this store).")
    try:
        if not runs.run_start(run=run):
            return None
        with runs.RunKeeper(run=run, lock=lock):
            return _run_job(run, client=client, gateway=gateway, lock=lock)
    finally:
        lock.release()


def _run_job(run: SyncRun, *, client, gateway, lock) -> SyncRun:
    """Hand the started run to its job's runner and close it as succeeded, partial or failed."""
    try:
        ctx = _context(run, client=client, gateway=gateway, lock=lock)
        missing = (job_prerequisite_missing(store=run.store, job=run.job)
                   or job_dry_run_refused(job=run.job, dry_run=run.dry_run))
        if missing:
            # Marked so the notice says the job could not start, not that it failed on the way.
            return runs.run_finish(run=run, error=missing, summary={"prerequisite_missing": True})
        if run.job == Job.BOOTSTRAP:
            summary = _bootstrap(ctx, client=client, gateway=gateway)
        elif run.job == Job.EOD_EXPORT:
            summary = _eod_with_orders_first(ctx, client=client, gateway=gateway)
        elif run.job == Job.AUTO_SYNC:
            summary = _auto_sync_cycle(ctx, client=client, gateway=gateway)
        else:
            summary = RUNNERS[run.job](ctx)
    except (BigCommerceError, PrerequisiteMissing, _StepFailed) as exc:
        logger.warning("Run %s failed: %r", run.pk, exc)
        return runs.run_finish(run=run, error=f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # an unexpected error still closes the run with its reason
        logger.exception("Run %s failed unexpectedly", run.pk)
        return runs.run_finish(run=run, error=f"Unexpected error: {type(exc).__name__}: {exc}")
    finished = runs.run_finish(run=run, summary=summary)
    if finished.job == Job.AUTO_SYNC:
        auto_sync_watermark_advance(run=finished)
    return finished


class _StepFailed(Exception):
    pass


def _child_run(ctx: JobContext, job: str, *, client, gateway, options=None) -> SyncRun:
    """Run another job as its own run record, here, as a step of this one. The steps are imports, which
    write to IntelliTrack only: never dry runs, even under an End of Day dry run."""
    child = runs.run_create(store=ctx.store, job=job, trigger=ctx.run.trigger, user=ctx.run.user,
                            options={"parent_run": ctx.run.pk, **(options or {})})
    with runs.parent_kept_alive(run=ctx.run, lock=ctx.lock):
        finished = run_execute(run_id=child.pk, client=client or ctx.client, gateway=gateway or ctx.gateway)
    return finished or SyncRun.objects.get(pk=child.pk)


def _bootstrap(ctx: JobContext, *, client, gateway) -> dict:
    runs.run_set_total(run=ctx.run, total=len(BOOTSTRAP_STEPS))
    steps = {}
    for job in BOOTSTRAP_STEPS:
        child = _child_run(ctx, job, client=client, gateway=gateway,
                           options={"overwrite": bool(ctx.run.options.get("overwrite"))} if job == Job.IMPORT_INVENTORY else None)
        steps[job] = child.pk
        outcome = {SyncRun.Status.SUCCEEDED: "ok", SyncRun.Status.PARTIAL: "failed"}.get(child.status, "failed")
        runs.run_items_record(run=ctx.run, lock=ctx.lock, outcomes=[runs.ItemOutcome(
            key=job, outcome=outcome, action="step",
            reason=f"Run #{child.pk}: {child.get_status_display()}" + (f" ({child.error})" if child.error else ""),
            detail={"run": child.pk})])
        if child.status == SyncRun.Status.FAILED:
            raise _StepFailed(f"{child.get_job_display()} failed (run #{child.pk}): {child.error}")
    return {"steps": steps}


def order_import_wait_seconds() -> float:
    """How long an End of Day waits for another order import of its store to end (by default as long as a
    dead run takes to be marked stale, plus a minute)."""
    default = runs.stale_after().total_seconds() + 60
    return float(getattr(settings, "ITBC_EOD_ORDER_IMPORT_WAIT_SECONDS", default))


def _orders_import_step(ctx: JobContext, *, client, gateway) -> SyncRun:
    """The End of Day's own order import, never skipped: while another import of the store runs, wait for
    it to end (a dead one is marked stale meanwhile), then import. Fails after the bounded wait."""
    deadline = time.monotonic() + order_import_wait_seconds()
    waited_for = []
    while True:
        runs.runs_mark_stale(store=ctx.store, job=Job.IMPORT_ORDERS)
        active = runs.run_active(store=ctx.store, job=Job.IMPORT_ORDERS)
        holder = locks.lock_holder(store_id=ctx.store.pk, job=Job.IMPORT_ORDERS)
        if active is not None and active.status == SyncRun.Status.QUEUED and holder is None:
            # An import waiting for a worker (perhaps the one running this End of Day): run it here, now.
            # A later delivery of its task finds it no longer queued and does nothing.
            with runs.parent_kept_alive(run=ctx.run, lock=ctx.lock):
                adopted = run_execute(run_id=active.pk, client=client or ctx.client, gateway=gateway or ctx.gateway)
            options = active.options or {}
            full = not any(options.get(name) for name in ("min_date_created", "max_date_created", "only_failed_of",
                                                          "auto_sync"))
            if adopted is not None and full and "lock_held_by" not in (adopted.summary or {}):
                adopted.waited_for = waited_for
                return adopted
            continue  # a back-fill, a retry or a cycle lists only part of the orders: list them all next
        busy_with = holder or (active.pk if active else None)
        if busy_with is None:
            try:
                orders_run = _child_run(ctx, Job.IMPORT_ORDERS, client=client, gateway=gateway,
                                        options={"incremental": True})
            except runs.RunInProgress as exc:
                busy_with = exc.run.pk if exc.run else None
            else:
                if "lock_held_by" not in (orders_run.summary or {}):
                    orders_run.waited_for = waited_for
                    return orders_run
                # Refused: the other import still held the lock (it was finishing). Wait as above.
                busy_with = orders_run.summary["lock_held_by"]
        if busy_with not in waited_for:
            waited_for.append(busy_with)
        if time.monotonic() >= deadline:
            raise _StepFailed(f"Another order import (run #{busy_with or '?'}) was still running after "
                              f"{int(order_import_wait_seconds())} s; End of Day did not export without its "
                              "own order import.")
        runs.run_heartbeat(run=ctx.run, lock=ctx.lock)
        time.sleep(ORDER_IMPORT_POLL_SECONDS)


ORDER_IMPORT_POLL_SECONDS = 1.0


def _auto_sync_cycle(ctx: JobContext, *, client, gateway) -> dict:
    """One auto sync cycle: import the orders and the products modified since the watermark (minus the
    overlap), export the pending fulfillments, export the pending adjustments, each as a child run. Every step runs even when
    an earlier one failed (a broken order import must not hold shipments back); the cycle is partial then,
    and the watermark moves (after the run) only when no step failed as a whole."""
    runs.run_set_total(run=ctx.run, total=len(CYCLE_STEPS))
    steps, failed = {}, []
    from .webhooks import webhooks_ensure

    try:
        hooks = webhooks_ensure(ctx)
    except BigCommerceError as exc:  # hooks only start cycles early: never a reason to skip one
        hooks = {"webhooks": f"not registered: {exc}"}
    for job in CYCLE_STEPS:
        try:
            child = _child_run(ctx, job, client=client, gateway=gateway,
                               options={"auto_sync": True} if job in (Job.IMPORT_PRODUCTS, Job.IMPORT_ORDERS) else None)
        except runs.RunInProgress as exc:
            failed.append(job)
            runs.run_items_record(run=ctx.run, lock=ctx.lock, outcomes=[runs.ItemOutcome(
                key=job, outcome="failed", action="step", reason=str(exc),
                detail={"run": exc.run.pk if exc.run else None})])
            continue
        steps[job] = child.pk
        ok = child.status == SyncRun.Status.SUCCEEDED
        if child.status not in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL):
            failed.append(job)
        runs.run_items_record(run=ctx.run, lock=ctx.lock, outcomes=[runs.ItemOutcome(
            key=job, outcome="ok" if ok else "failed", action="step",
            reason=f"Run #{child.pk}: {child.get_status_display()}" + (f" ({child.error})" if child.error else ""),
            detail={"run": child.pk})])
    summary = {"steps": steps, **hooks}
    if failed:
        summary["failed_steps"] = failed
    return summary


def _exports_settle(ctx: JobContext) -> list[int]:
    """Wait (bounded) for the store's fulfillment and adjustment exports already running: a shipment or a
    relative adjustment landing between the End of Day's order import and its absolute levels would be
    lost or counted twice. New ones hold back while the End of Day runs. Returns the runs waited for."""
    deadline = time.monotonic() + order_import_wait_seconds()
    waited: list[int] = []
    while True:
        runs.runs_mark_stale(store=ctx.store)
        busy = list(SyncRun.objects.filter(
            store=ctx.store, job__in=[Job.EXPORT_FULFILLMENTS, Job.EXPORT_ADJUSTMENTS],
            status=SyncRun.Status.RUNNING).values_list("pk", flat=True))
        if not busy or time.monotonic() >= deadline:
            return waited
        waited.extend(pk for pk in busy if pk not in waited)
        runs.run_heartbeat(run=ctx.run, lock=ctx.lock)
        time.sleep(ORDER_IMPORT_POLL_SECONDS)


def _eod_with_orders_first(ctx: JobContext, *, client, gateway) -> dict:
    exports_waited = _exports_settle(ctx)
    orders_run = _orders_import_step(ctx, client=client, gateway=gateway)
    if orders_run.status == SyncRun.Status.FAILED:
        raise _StepFailed(f"Importing orders first failed (run #{orders_run.pk}): {orders_run.error}")
    summary = eod_export_run(ctx)
    summary["orders_run"] = orders_run.pk
    summary["orders_imported_first"] = True
    waited = [pk for pk in [*exports_waited, *orders_run.waited_for] if pk]
    if waited:
        summary["note"] = ("Waited for run(s) " + ", ".join(f"#{pk}" for pk in waited)
                           + " to end before importing orders.")
    return summary
