"""Reads for the dashboard home, the store status boxes, the error log and the Runs badge.

Every store's status comes from a fixed number of statements whatever the number of stores: one read of
the stores with their facts as correlated subqueries (each an index lookup per store), one of the runs
those name, one of the auto-sync schedules, and one aggregate of the last 30 days grouped by store and
day for the charts."""
import datetime as dt
from dataclasses import dataclass, field

from django.db.models import (
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from plugin.configuration.models import StoreConnection
from plugin.configuration.schedules import auto_sync_periodic_task_name
from plugin.configuration.selectors import next_eod_run, stock_behavior_mismatch
from plugin.intellitrack.models import PickingOrder
from plugin.sync.models import AdjustmentBatch, SyncRun
from plugin.sync.presenters import eod_changed_count, error_sentence, job_name

Job, Status = SyncRun.Job, SyncRun.Status

HEALTHY, WARNINGS, ERRORS = "healthy", "warnings", "errors"
# The vendor tray's words for the three lights.
LIGHT_LABELS = {HEALTHY: "Success", WARNINGS: "Warnings", ERRORS: "Errors"}
# A job whose latest finished run ended so is an error until someone acknowledges it (or it runs well).
ERROR_STATUSES = (Status.FAILED, Status.STALE, Status.MISSED)
EXPORT_JOBS = (Job.EXPORT_FULFILLMENTS, Job.EXPORT_ADJUSTMENTS, Job.EOD_EXPORT)
CHART_DAYS = 30
ERROR_LOG_SIZE = 50


# --- the light -------------------------------------------------------------------------------------------

@dataclass
class StoreHealth:
    light: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return LIGHT_LABELS[self.light]

    @property
    def reasons(self) -> list[str]:
        return [*self.errors, *self.warnings]

    @property
    def explanation(self) -> str:
        return " ".join(self.reasons) or "Every job's last run succeeded and the connection test passed."


def store_health(*, connection_ok: bool, connection_tested_at, connection_message: str, last_runs: list,
                 stock_mismatch: bool, uncertain_batches: int, sync_enabled: bool) -> StoreHealth:
    """The status light of a store.

    Errors: the last connection test failed, or the latest finished run of some job failed, went stale
    (its worker died) or is a missed End of Day, and nobody acknowledged it.
    Warnings: the latest finished run of some job was partial (some items failed) and is not acknowledged,
    the store's stock setting disagrees with "Stock decreased when order placed", adjustment batches
    wait with an unknown outcome, the connection was never tested successfully (and never failed one),
    or sync is switched off.
    Healthy (Success) otherwise. `last_runs`: the latest finished run of each job."""
    errors, warnings = [], []
    if not connection_ok and connection_tested_at is not None:
        message = connection_message.rstrip(".")
        errors.append(f"The last connection test failed: {message}." if message else "The last connection test failed.")
    for run in sorted(last_runs, key=lambda r: r.created_at, reverse=True):
        if run.acknowledged_at is not None:
            continue
        if run.status in ERROR_STATUSES:
            errors.append(f"The last {job_name(run.job)} run (#{run.pk}) {STATUS_VERBS[run.status]}.")
        elif run.status == Status.PARTIAL:
            warnings.append(f"The last {job_name(run.job)} run (#{run.pk}) was partial: "
                            f"{run.failed_count} item{'s' if run.failed_count != 1 else ''} failed.")
    if not connection_ok and connection_tested_at is None:
        warnings.append("The connection has never been tested.")
    if stock_mismatch:
        warnings.append("The store's stock setting disagrees with \"Stock decreased when order placed\".")
    if uncertain_batches:
        warnings.append(f"{uncertain_batches} adjustment batch{'es' if uncertain_batches != 1 else ''} "
                        "with an unknown outcome wait for the next End of Day.")
    if not sync_enabled:
        warnings.append("Sync is switched off for this store.")
    light = ERRORS if errors else WARNINGS if warnings else HEALTHY
    return StoreHealth(light=light, errors=errors, warnings=warnings)


STATUS_VERBS = {
    Status.FAILED: "failed",
    Status.STALE: "stopped when its worker died",
    Status.MISSED: "was missed",
    Status.PARTIAL: "was partial",
}

def run_error_sentence(run: SyncRun) -> str:
    """What went wrong in a run, as a sentence for an operator: its error as the run pages say it
    (exception names translated or dropped), else what its status means."""
    if run.error:
        return error_sentence(run.error)
    if run.status == Status.PARTIAL:
        of = f" of {run.processed}" if run.processed >= run.failed_count else ""
        plural = "s" if (run.processed or run.failed_count) != 1 else ""
        return f"{run.failed_count}{of} item{plural} failed; the run page lists them."
    if run.status == Status.STALE:
        return "The worker running it stopped before the run ended."
    return f"The run {STATUS_VERBS.get(run.status, run.get_status_display().lower())}."


# --- the store rows --------------------------------------------------------------------------------------

@dataclass
class ChartDay:
    day: dt.date
    succeeded: int = 0
    partial: int = 0
    failed: int = 0
    items_sent: int = 0
    drift: int | None = None
    seconds_avg: float | None = None
    seconds_max: float | None = None

    @property
    def runs(self) -> int:
        return self.succeeded + self.partial + self.failed


@dataclass
class StoreRow:
    store: StoreConnection
    health: StoreHealth
    last_cycle: SyncRun | None
    next_cycle: dt.datetime | None
    next_eod: dt.datetime | None
    eod_timezone: str
    last_eod: SyncRun | None
    last_error: SyncRun | None
    open_orders: int
    uncertain_batches: int
    unacknowledged: int
    runs_active: bool
    last_run_id: int | None = None
    chart: list[ChartDay] = field(default_factory=list)

    @property
    def activity(self) -> str:
        """What the refresh script compares with `runs_activity` to know the box changed."""
        return activity_signature(last_run_id=self.last_run_id, active=self.runs_active)

    @property
    def configuration(self):
        return self.store.basic_configuration

    @property
    def drift_found(self) -> int | None:
        """Items out of sync at the last End of Day: levels that differed from the store's (a dry run reads
        them) or from the last level sent (a real run)."""
        if self.last_eod is None:
            return None
        return eod_changed_count(self.last_eod.summary or {})

    @property
    def last_error_sentence(self) -> str:
        return run_error_sentence(self.last_error) if self.last_error else ""


def _latest(runs, **filters):
    return Subquery(runs.filter(store=OuterRef("pk"), **filters).order_by("-created_at", "-id").values("id")[:1])


def _count(queryset, store_field: str):
    counted = (queryset.filter(**{store_field: OuterRef("pk")}).order_by().values(store_field)
               .annotate(n=Count("id")).values("n"))
    return Subquery(counted, output_field=IntegerField())


def _stores_with_facts(store_ids=None):
    """One statement: every store with its configuration and, per store, the ids of the runs the row
    names and its counts."""
    runs = SyncRun.objects.all()
    facts = {f"last_{job}_id": _latest(runs, job=job, status__in=SyncRun.FINISHED_STATUSES) for job in Job.values}
    facts.update(
        last_run_id=_latest(runs),
        last_cycle_id=_latest(runs, job=Job.AUTO_SYNC),
        last_eod_id=_latest(runs, job=Job.EOD_EXPORT, status__in=SyncRun.FINISHED_STATUSES),
        last_error_id=_latest(runs, status__in=SyncRun.FAILURE_STATUSES),
        runs_active=Exists(runs.filter(store=OuterRef("pk"), status__in=SyncRun.ACTIVE_STATUSES)),
        unacknowledged=_count(runs.filter(status__in=SyncRun.FAILURE_STATUSES, acknowledged_at__isnull=True)
                              .exclude(options__has_key="parent_run"), "store"),
        open_orders=_count(PickingOrder.objects.filter(status=PickingOrder.Status.OPEN), "source_store"),
        uncertain_batches=_count(AdjustmentBatch.objects.filter(state__in=AdjustmentBatch.UNKNOWN_STATES,
                                                                superseded_by__isnull=True), "store"),
    )
    stores = StoreConnection.objects.select_related("basic_configuration").defer("access_token").annotate(**facts)
    if store_ids is not None:
        stores = stores.filter(pk__in=store_ids)
    return list(stores.order_by("name"))


def _next_cycles(stores, *, now) -> dict[int, dt.datetime]:
    """When beat fires each store's next auto sync cycle: its interval after the last firing (one
    statement over the schedules django-celery-beat holds)."""
    names = {auto_sync_periodic_task_name(store.pk): store.pk for store in stores}
    found = {}
    for task in PeriodicTask.objects.filter(name__in=names, enabled=True).select_related("interval"):
        if task.interval is None:
            continue
        every = dt.timedelta(**{task.interval.period: task.interval.every})
        last = task.last_run_at or task.start_time or task.date_changed or now
        upcoming = last + every
        if upcoming < now:  # beat fires an overdue interval at its next tick
            upcoming = now
        found[names[task.name]] = upcoming
    return found


def chart_days(*, store_ids, now=None, days: int = CHART_DAYS) -> dict[int, list[ChartDay]]:
    """The last `days` days per store, from one aggregate grouped by store and day: runs by outcome
    (top-level runs: a cycle's steps count with their cycle), items sent to the store (export runs that
    were no dry run), items out of sync found by End of Day (dry or real), and run durations in seconds."""
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    today = timezone.localtime(now, zone).date()
    first = today - dt.timedelta(days=days - 1)
    since = timezone.make_aware(dt.datetime.combine(first, dt.time.min), zone)
    top_level = ~Q(options__has_key="parent_run")
    # Written so that a summary without the key counts as no dry run (a NULL would drop the row).
    sent = Q(dry_run=False) & (~Q(summary__has_key="dry_run") | Q(summary__dry_run=False))
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    rows = (
        SyncRun.objects.filter(store_id__in=store_ids, created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("store_id", "day").order_by()
        .annotate(
            succeeded=Count("id", filter=top_level & Q(status=Status.SUCCEEDED)),
            partial=Count("id", filter=top_level & Q(status=Status.PARTIAL)),
            failed=Count("id", filter=top_level & Q(status__in=ERROR_STATUSES)),
            items_sent=Sum("succeeded_count", filter=Q(job__in=EXPORT_JOBS) & sent),
            # The keys of presenters.eod_changed_count: a dry run's drift, a real run's changed levels.
            drift=Sum(Coalesce(Cast(KT("summary__drifted_items"), IntegerField()),
                               Cast(KT("summary__changed_items"), IntegerField())),
                      filter=Q(job=Job.EOD_EXPORT) & (Q(summary__has_key="drifted_items")
                                                      | Q(summary__has_key="changed_items"))),
            duration_avg=Avg(duration, filter=top_level & Q(started_at__isnull=False, finished_at__isnull=False)),
            duration_max=Max(duration, filter=top_level & Q(started_at__isnull=False, finished_at__isnull=False)),
        )
    )
    found = {(row["store_id"], row["day"]): row for row in rows}
    charts = {}
    for store_id in store_ids:
        series = []
        for offset in range(days):
            day = first + dt.timedelta(days=offset)
            row = found.get((store_id, day))
            if row is None:
                series.append(ChartDay(day=day))
                continue
            series.append(ChartDay(
                day=day, succeeded=row["succeeded"], partial=row["partial"], failed=row["failed"],
                items_sent=row["items_sent"] or 0, drift=row["drift"],
                seconds_avg=row["duration_avg"].total_seconds() if row["duration_avg"] is not None else None,
                seconds_max=row["duration_max"].total_seconds() if row["duration_max"] is not None else None,
            ))
        charts[store_id] = series
    return charts


def dashboard_rows(*, store_ids=None, now=None, with_charts: bool = True) -> list[StoreRow]:
    """The dashboard's row per store (all stores, or those of `store_ids`), in four statements whatever
    the number of stores (three without the charts)."""
    now = now or timezone.now()
    stores = _stores_with_facts(store_ids)
    if not stores:
        return []
    run_fields = [f"last_{job}_id" for job in Job.values] + ["last_cycle_id", "last_eod_id", "last_error_id"]
    run_ids = {getattr(store, name) for store in stores for name in run_fields} - {None}
    runs = {run.pk: run for run in SyncRun.objects.filter(pk__in=run_ids).defer("options")}
    cycles = _next_cycles(stores, now=now)
    charts = chart_days(store_ids=[store.pk for store in stores], now=now) if with_charts else {}
    rows = []
    for store in stores:
        config = store.basic_configuration
        last_runs = [runs[run_id] for job in Job.values if (run_id := getattr(store, f"last_{job}_id")) in runs]
        uncertain = store.uncertain_batches or 0
        rows.append(StoreRow(
            store=store,
            health=store_health(
                connection_ok=store.connection_ok, connection_tested_at=store.connection_tested_at,
                connection_message=store.connection_message, last_runs=last_runs,
                stock_mismatch=stock_behavior_mismatch(store, config), uncertain_batches=uncertain,
                sync_enabled=config.sync_enabled,
            ),
            last_cycle=runs.get(store.last_cycle_id),
            next_cycle=cycles.get(store.pk) if config.sync_enabled and config.auto_sync_enabled else None,
            next_eod=next_eod_run(config, now=now),
            eod_timezone=config.effective_eod_timezone,
            last_eod=runs.get(store.last_eod_id),
            last_error=runs.get(store.last_error_id),
            open_orders=store.open_orders or 0,
            uncertain_batches=uncertain,
            unacknowledged=store.unacknowledged or 0,
            runs_active=store.runs_active,
            last_run_id=store.last_run_id,
            chart=charts.get(store.pk, []),
        ))
    return rows


def activity_signature(*, last_run_id, active: bool) -> str:
    return f"{last_run_id or 0}:{1 if active else 0}"


ACTIVITY_WINDOW = dt.timedelta(days=1)


def runs_activity(*, store_ids=None, now=None) -> dict[int, dict]:
    """Per store with a run created in the last day (or one still going): its newest run id and whether a
    run is queued or running. One aggregate on the (created_at) index; the status boxes' script polls it
    and reloads only the boxes whose store changed."""
    now = now or timezone.now()
    runs = SyncRun.objects.filter(Q(created_at__gte=now - ACTIVITY_WINDOW) | Q(status__in=SyncRun.ACTIVE_STATUSES))
    if store_ids is not None:
        runs = runs.filter(store_id__in=store_ids)
    rows = (runs.values("store_id").order_by()
            .annotate(last=Max("id"), active=Count("id", filter=Q(status__in=SyncRun.ACTIVE_STATUSES))))
    return {row["store_id"]: {"active": bool(row["active"]), "last": row["last"],
                              "signature": activity_signature(last_run_id=row["last"], active=bool(row["active"]))}
            for row in rows}


def dashboard_totals(rows: list[StoreRow]) -> dict:
    return {light: sum(1 for row in rows if row.health.light == light) for light in (HEALTHY, WARNINGS, ERRORS)}


# --- the error log and the badge ---------------------------------------------------------------------------

def failures_unacknowledged_count(*, store=None) -> int:
    """Failed, partial, stale or missed top-level runs nobody acknowledged (the Runs badge; of one store
    when named): one count on a partial index. A cycle's failed steps count with their cycle, as the run
    list shows them."""
    runs = SyncRun.objects.filter(status__in=SyncRun.FAILURE_STATUSES, acknowledged_at__isnull=True).exclude(
        options__has_key="parent_run")
    if store is not None:
        runs = runs.filter(store=store)
    return runs.count()


@dataclass
class ErrorLogEntry:
    run: SyncRun
    message: str

    @property
    def when(self):
        return self.run.finished_at or self.run.created_at


def store_error_log(*, store, size: int = ERROR_LOG_SIZE) -> list[ErrorLogEntry]:
    """The store's Plugin Error Log: its failed, partial, stale and missed runs, newest first, among them
    the auto-sync cycles refused for a missing prerequisite (recorded as failed runs)."""
    runs = (SyncRun.objects.filter(store=store, status__in=SyncRun.FAILURE_STATUSES)
            .select_related("acknowledged_by").defer("options", "summary").order_by("-created_at", "-id")[:size])
    return [ErrorLogEntry(run=run, message=run_error_sentence(run)) for run in runs]
