"""Run records: create, start, report progress, record item outcomes, finish, mark stale, retry.

Progress is written in one UPDATE per batch (counts are F() increments), and item outcomes in one
bulk INSERT per batch, so a run of 100,000 items costs a few hundred statements, not 100,000.
A job whose statements must not grow with its size (End of Day) uses RunProgress, which writes progress
on a timer, and RunItemSpool, which keeps outcomes in a temporary file and loads them in one COPY."""
import contextvars
import csv
import json
import logging
import tempfile
import time
from collections import Counter
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from plugin.portal import notifications

from . import locks
from .models import SyncRun, SyncRunItem
from .presenters import error_sentence

logger = logging.getLogger(__name__)

RUN_ITEM_BATCH = 2000
KEY_MAX = SyncRunItem._meta.get_field("key").max_length


class RunInProgress(Exception):
    """A run of the same job for the same store is queued or running."""

    def __init__(self, run: SyncRun | None):
        self.run = run
        where = f"run #{run.pk} ({run.get_status_display().lower()})" if run else "another run"
        super().__init__(f"This job is already in progress for this store: {where}.")


class SlotAlreadyRun(Exception):
    """A scheduled End of Day slot already has its run (the schedule fired twice)."""

    def __init__(self, run: SyncRun | None):
        self.run = run
        super().__init__(f"This End of Day slot already has run #{run.pk if run else '?'}.")


# The runs whose step is executing in this process now (an End of Day's order import, a bootstrap's
# imports): every sign of life of the step is one of theirs too, so a live parent is never marked stale
# and never loses its lock while its step runs.
_parents: contextvars.ContextVar[tuple] = contextvars.ContextVar("itbc_parent_runs", default=())


class _Parent:
    def __init__(self, run: SyncRun, lock):
        self.run, self.lock = run, lock
        self.touched_at = time.monotonic()


@contextmanager
def parent_kept_alive(*, run: SyncRun, lock=None):
    """While the block runs (a child step of `run`), the child's heartbeats renew `run` too."""
    token = _parents.set((*_parents.get(), _Parent(run, lock)))
    try:
        yield
    finally:
        _parents.reset(token)


def _parents_touch() -> None:
    """Renew the locks of the runs waiting on this step (Redis, no SQL), and their heartbeat at most once
    every ITBC_RUN_PROGRESS_SECONDS (one UPDATE for all of them)."""
    parents = _parents.get()
    if not parents:
        return
    for parent in parents:
        if parent.lock is not None:
            parent.lock.renew()
    now = time.monotonic()
    due = [parent for parent in parents if now - parent.touched_at >= progress_seconds()]
    if due:
        SyncRun.objects.filter(pk__in=[parent.run.pk for parent in due]).update(heartbeat_at=timezone.now())
        for parent in due:
            parent.touched_at = now


class RunKeeper:
    """While a run executes in this process, a thread renews its heartbeat and lock every quarter of the
    stale time, whatever its job is doing (a slow request, a child step): a live run is never marked
    stale and never loses its lock. The thread dies with the worker, so a dead run still goes stale."""

    def __init__(self, *, run: SyncRun, lock=None):
        import threading

        self.run, self.lock = run, lock
        self.every = max(0.2, min(stale_after().total_seconds(), locks.lock_ttl_seconds()) / 4)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._keep, name=f"itbc-run-{run.pk}-keeper", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)

    def _keep(self) -> None:
        from django.db import connection as thread_connection

        try:
            while not self._stop.wait(self.every):
                try:
                    SyncRun.objects.filter(pk=self.run.pk, status=SyncRun.Status.RUNNING).update(
                        heartbeat_at=timezone.now())
                    if self.lock is not None:
                        self.lock.renew()
                except Exception:  # the job's own heartbeats still run; never let the keeper break it
                    logger.debug("Run %s: keeper heartbeat failed", self.run.pk, exc_info=True)
        finally:
            thread_connection.close()


def stale_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "ITBC_RUN_STALE_SECONDS", locks.LOCK_TTL_SECONDS))


def queued_stale_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "ITBC_RUN_QUEUED_STALE_SECONDS", 3600))


def runs_mark_stale(*, store=None, job: str | None = None) -> int:
    """Mark as stale the runs whose worker died: running with an old heartbeat, or queued for so long
    that no worker will take them. A stale run frees its store and job for a new run."""
    now = timezone.now()
    filters = {}
    if store is not None:
        filters["store"] = store
    if job is not None:
        filters["job"] = job
    # Each condition is checked again in the UPDATE: a run that heartbeats, or a queued run a worker
    # starts, between the read and the update is alive and must not be marked.
    running = {"status": SyncRun.Status.RUNNING, "heartbeat_at__lt": now - stale_after()}
    queued = {"status": SyncRun.Status.QUEUED, "created_at__lt": now - queued_stale_after()}
    marked = 0
    for condition, why in (
        (running, "The worker stopped reporting progress; the run was marked stale."),
        (queued, "No worker started this run; it was marked stale."),
    ):
        for run in SyncRun.objects.filter(**condition, **filters).only("pk", "store_id", "job", "options"):
            # A worker still holding the Redis lock is alive, whatever its heartbeat says.
            if locks.lock_holder(store_id=run.store_id, job=run.job) == run.pk:
                continue
            updated = SyncRun.objects.filter(pk=run.pk, **condition).update(
                status=SyncRun.Status.STALE, finished_at=now, error=why
            )
            if updated:
                notifications.notice_run_stale(run=run, why=why)
            marked += updated
    return marked


def run_active(*, store, job: str) -> SyncRun | None:
    return SyncRun.objects.filter(store=store, job=job, status__in=SyncRun.ACTIVE_STATUSES).first()


def run_create(
    *,
    store,
    job: str,
    trigger: str = SyncRun.Trigger.MANUAL,
    user=None,
    dry_run: bool = False,
    options: dict | None = None,
    scheduled_for=None,
    retry_of: SyncRun | None = None,
) -> SyncRun:
    """Queue a run. Raises RunInProgress naming the active run when the store already runs this job."""
    runs_mark_stale(store=store, job=job)
    holder = locks.lock_holder(store_id=store.pk, job=job)
    if holder is not None and SyncRun.objects.filter(pk=holder, status__in=SyncRun.ACTIVE_STATUSES).exists():
        raise RunInProgress(SyncRun.objects.get(pk=holder))
    try:
        with transaction.atomic():
            return SyncRun.objects.create(
                store=store,
                job=job,
                trigger=trigger,
                user=user if user is not None and user.is_authenticated else None,
                dry_run=dry_run,
                options=options or {},
                scheduled_for=scheduled_for,
                retry_of=retry_of,
            )
    except IntegrityError as exc:
        # Which constraint refused is read from the rows, not from the message: SQLite's message names
        # columns, not constraints.
        slot_run = (
            SyncRun.objects.filter(store=store, job=job, scheduled_for=scheduled_for).first()
            if scheduled_for is not None
            else None
        )
        if slot_run is not None:
            raise SlotAlreadyRun(slot_run) from exc
        raise RunInProgress(run_active(store=store, job=job)) from exc


def run_start(*, run: SyncRun, total: int | None = None) -> bool:
    """Move a queued run to running. False when another worker already took it (a redelivered task)."""
    now = timezone.now()
    started = SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.QUEUED).update(
        status=SyncRun.Status.RUNNING, started_at=now, heartbeat_at=now, total=total
    )
    if started:
        run.status, run.started_at, run.heartbeat_at, run.total = SyncRun.Status.RUNNING, now, now, total
    return bool(started)


def run_set_total(*, run: SyncRun, total: int | None) -> None:
    SyncRun.objects.filter(pk=run.pk).update(total=total, heartbeat_at=timezone.now())
    run.total = total


@dataclass
class ItemOutcome:
    """One item's outcome, held in memory only until its batch is written."""

    key: str
    outcome: str
    action: str = ""
    reason: str = ""
    quantity_before: int | None = None
    quantity_after: int | None = None
    store_transaction_id: str = ""
    detail: dict = field(default_factory=dict)


def run_items_record(*, run: SyncRun, outcomes: list[ItemOutcome], lock=None, processed: int | None = None) -> None:
    """Write a batch of item outcomes and move the run's counters and heartbeat: two statements.
    `processed` is how far the run moved in its own unit of progress (products, entries, orders), by
    default one per outcome."""
    advance = len(outcomes) if processed is None else processed
    if not outcomes:
        if advance:
            SyncRun.objects.filter(pk=run.pk).update(processed=F("processed") + advance, heartbeat_at=timezone.now())
            run.processed += advance
            if lock is not None:
                lock.renew()
            _parents_touch()
        else:
            run_heartbeat(run=run, lock=lock)
        return
    rows = [
        SyncRunItem(
            run_id=run.pk,
            key=(outcome.key or "")[:KEY_MAX],
            action=outcome.action[:40],
            outcome=outcome.outcome,
            reason=outcome.reason,
            quantity_before=outcome.quantity_before,
            quantity_after=outcome.quantity_after,
            store_transaction_id=(outcome.store_transaction_id or "")[:100],
            detail=outcome.detail,
        )
        for outcome in outcomes
    ]
    SyncRunItem.objects.bulk_create(rows, batch_size=RUN_ITEM_BATCH)
    ok = sum(1 for o in outcomes if o.outcome == SyncRunItem.Outcome.OK)
    skipped = sum(1 for o in outcomes if o.outcome == SyncRunItem.Outcome.SKIPPED)
    failed = len(outcomes) - ok - skipped
    SyncRun.objects.filter(pk=run.pk).update(
        processed=F("processed") + advance,
        succeeded_count=F("succeeded_count") + ok,
        failed_count=F("failed_count") + failed,
        skipped_count=F("skipped_count") + skipped,
        heartbeat_at=timezone.now(),
    )
    run.processed += advance
    run.succeeded_count += ok
    run.failed_count += failed
    run.skipped_count += skipped
    if lock is not None:
        lock.renew()
    _parents_touch()


def progress_seconds() -> float:
    return float(getattr(settings, "ITBC_RUN_PROGRESS_SECONDS", 2))


class RunProgress:
    """Live progress of a long run without a database write per batch. Every tick renews the lock (Redis,
    no SQL); `processed` and the heartbeat are written at most once every ITBC_RUN_PROGRESS_SECONDS, so
    the number of these writes is bounded by the run's wall time, not by its number of items."""

    def __init__(self, *, run: SyncRun, lock=None, every: float | None = None, clock=time.monotonic):
        self.run, self.lock, self.clock = run, lock, clock
        self.every = progress_seconds() if every is None else every
        self.processed = run.processed or 0
        self.writes = 0  # timer-driven progress writes so far
        self._written_at = clock()

    def tick(self, advance: int = 0) -> None:
        self.processed += advance
        if self.lock is not None:
            self.lock.renew()
        _parents_touch()
        now = self.clock()
        if now - self._written_at < self.every:
            return
        SyncRun.objects.filter(pk=self.run.pk).update(processed=self.processed, heartbeat_at=timezone.now())
        self.run.processed = self.processed
        self._written_at = now
        self.writes += 1


class RunItemSpool:
    """Item outcomes appended to a temporary file as a run goes, then loaded with the run's counters in
    a fixed number of statements (one COPY on PostgreSQL). Memory stays flat: only the file grows. Rows
    not loaded when a worker dies are lost with it; the rerun of a stale run records them again."""

    COLUMNS = ("run_id", "key", "action", "outcome", "reason", "quantity_before", "quantity_after",
               "store_transaction_id", "detail")

    def __init__(self, *, run: SyncRun):
        self.run = run
        self.counts: Counter = Counter()
        self._file = tempfile.TemporaryFile(mode="w+", encoding="utf-8", newline="")
        # Every field quoted, so an empty string stays a string; COPY's FORCE_NULL turns the empty
        # quantities back into NULL.
        self._writer = csv.writer(self._file, quoting=csv.QUOTE_ALL)

    def __len__(self) -> int:
        return sum(self.counts.values())

    def add(self, outcomes: list[ItemOutcome]) -> None:
        for outcome in outcomes:
            self._writer.writerow((
                self.run.pk,
                (outcome.key or "")[:KEY_MAX],
                outcome.action[:40],
                outcome.outcome,
                outcome.reason,
                outcome.quantity_before,
                outcome.quantity_after,
                (outcome.store_transaction_id or "")[:100],
                json.dumps(outcome.detail, cls=DjangoJSONEncoder),
            ))
            self.counts[outcome.outcome] += 1

    def load(self, *, processed: int) -> None:
        """Insert every spooled row, then set the run's counters and heartbeat in one UPDATE. Call inside
        a transaction with whatever else depends on the rows, so they land together or not at all."""
        self._file.flush()
        self._file.seek(0)
        if len(self) and connection.vendor == "postgresql":
            columns = ", ".join(self.COLUMNS)
            copy_from_stdin(
                f"COPY {SyncRunItem._meta.db_table} ({columns}) FROM STDIN "
                f"WITH (FORMAT csv, FORCE_NULL (quantity_before, quantity_after))",
                self._file,
            )
        elif len(self):
            self._bulk_create()
        ok = self.counts[SyncRunItem.Outcome.OK]
        skipped = self.counts[SyncRunItem.Outcome.SKIPPED]
        failed = len(self) - ok - skipped
        SyncRun.objects.filter(pk=self.run.pk).update(
            processed=processed,
            succeeded_count=F("succeeded_count") + ok,
            failed_count=F("failed_count") + failed,
            skipped_count=F("skipped_count") + skipped,
            heartbeat_at=timezone.now(),
        )
        self.run.processed = processed
        self.run.succeeded_count += ok
        self.run.failed_count += failed
        self.run.skipped_count += skipped
        self.counts.clear()

    def _bulk_create(self) -> None:
        # Databases without COPY: batches of RUN_ITEM_BATCH read back from the file.
        def number(text):
            return int(text) if text != "" else None

        rows = []
        for record in csv.reader(self._file):
            values = dict(zip(self.COLUMNS, record, strict=True))
            values.update(run_id=int(values["run_id"]), quantity_before=number(values["quantity_before"]),
                          quantity_after=number(values["quantity_after"]), detail=json.loads(values["detail"]))
            rows.append(SyncRunItem(**values))
            if len(rows) == RUN_ITEM_BATCH:
                SyncRunItem.objects.bulk_create(rows)
                rows = []
        if rows:
            SyncRunItem.objects.bulk_create(rows)

    def close(self) -> None:
        self._file.close()


def copy_from_stdin(sql: str, source, chunk: int = 1 << 16) -> None:
    """Run `COPY ... FROM STDIN` (psycopg 3), streaming `source` (a file), as one statement that Django's
    execute wrappers and query log see like any other (benchmarks and query-count tests include it)."""
    with connection.cursor() as cursor:
        def run_copy(sql, params, many, context):
            with cursor.db.wrap_database_errors, cursor.cursor.copy(sql) as copy:
                while data := source.read(chunk):
                    copy.write(data)

        logged = cursor.debug_sql(sql) if hasattr(cursor, "debug_sql") else nullcontext()
        with logged:
            cursor._execute_with_wrappers(sql, None, False, executor=run_copy)


def run_heartbeat(*, run: SyncRun, lock=None) -> None:
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())
    if lock is not None:
        lock.renew()
    _parents_touch()


def run_finish(*, run: SyncRun, error: str = "", summary: dict | None = None) -> SyncRun:
    """Close a running run: failed on an infrastructure error, partial when any item failed, else
    succeeded. A run marked stale meanwhile stays stale: a new run may already have taken its place."""
    run.refresh_from_db(fields=["processed", "succeeded_count", "failed_count", "skipped_count", "summary"])
    error = _error_for_operator(run, error)
    if error:
        status = SyncRun.Status.FAILED
    elif run.failed_count:
        status = SyncRun.Status.PARTIAL
    else:
        status = SyncRun.Status.SUCCEEDED
    merged = {**(run.summary or {}), **(summary or {})}
    now = timezone.now()
    finished = SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.RUNNING).update(
        status=status, finished_at=now, heartbeat_at=now, error=error[:5000], summary=merged
    )
    if not finished:
        run.refresh_from_db(fields=["status", "finished_at", "error"])
        logger.warning("Run %s ended as %s but was already %s; left as it is", run.pk, status, run.status)
        return run
    run.status, run.finished_at, run.error, run.summary = status, now, error[:5000], merged
    notifications.notice_run_finished(run=run)  # failed or partial: mailed after commit, never raises
    return run


def _error_for_operator(run: SyncRun, error: str) -> str:
    """The error as the run page shows it: sentences without exception class names. The technical text
    goes to the log."""
    sentence = error_sentence(error)
    if sentence != (error or "").strip():
        logger.info("Run %s error (technical): %s", run.pk, error)
    return sentence


def run_refuse(*, run: SyncRun, error: str, summary: dict | None = None) -> SyncRun:
    """Close a queued run that cannot start (failed, with the reason), so it does not block its job."""
    now = timezone.now()
    merged = {**(run.summary or {}), **(summary or {})}
    error = _error_for_operator(run, error)
    if SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.QUEUED).update(
        status=SyncRun.Status.FAILED, finished_at=now, error=error[:5000], summary=merged
    ):
        run.status, run.finished_at, run.error, run.summary = SyncRun.Status.FAILED, now, error[:5000], merged
    else:
        run.refresh_from_db(fields=["status", "finished_at", "error", "summary"])
    return run


def run_record_refused(*, store, job: str, trigger: str, error: str) -> SyncRun:
    """A run that could not start (a prerequisite missing), recorded as failed with its reason."""
    now = timezone.now()
    run = SyncRun.objects.create(store=store, job=job, trigger=trigger, status=SyncRun.Status.FAILED,
                                 started_at=now, finished_at=now, error=error[:5000],
                                 summary={"prerequisite_missing": True})
    notifications.notice_run_finished(run=run)
    return run


def run_mark_missed(*, store, job: str, scheduled_for, reason: str) -> SyncRun | None:
    """Record a scheduled slot that was not run in time. None when the slot already has a run."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return SyncRun.objects.create(
                store=store,
                job=job,
                trigger=SyncRun.Trigger.SCHEDULE,
                status=SyncRun.Status.MISSED,
                scheduled_for=scheduled_for,
                finished_at=now,
                error=reason,
            )
    except IntegrityError:
        return None


def run_failed_refs(*, run_id: int) -> set:
    """The identities (detail["ref"]) of a run's failed or uncertain items, for a retry run."""
    refs = (
        SyncRunItem.objects.filter(
            run_id=run_id, outcome__in=[SyncRunItem.Outcome.FAILED, SyncRunItem.Outcome.UNCERTAIN]
        )
        .values_list("detail__ref", flat=True)
        .iterator(chunk_size=RUN_ITEM_BATCH)
    )
    return {_hashable(ref) for ref in refs if ref is not None}


def run_retry_refs(run: SyncRun) -> set | None:
    """The item identities a retry run is limited to, or None when it covers the whole job. They are the
    failed items of the run named in options["only_failed_of"], not of `retry_of`: a retry recovered
    after its worker died is a retry of the dead retry, but must still resend the first run's failures."""
    source_id = (run.options or {}).get("only_failed_of")
    if not source_id:
        return None
    return run_failed_refs(run_id=int(source_id))


def _hashable(ref):
    return tuple(ref) if isinstance(ref, list) else ref


def run_items_pruned(run: SyncRun) -> bool:
    """Whether retention removed the run's item rows (plugin/sync/retention.py notes it in the summary)."""
    from .retention import PRUNED_ON

    return bool((run.summary or {}).get(PRUNED_ON))


def run_retry_failed(*, run: SyncRun, user=None, extra_options: dict | None = None) -> SyncRun:
    """A new run of the same job limited to the failed items of `run`."""
    if run.status not in (SyncRun.Status.PARTIAL, SyncRun.Status.FAILED, SyncRun.Status.STALE):
        raise ValueError("Only a partial, failed or stale run has failed items to retry.")
    options = {**(run.options or {}), **(extra_options or {})}
    options.pop("only_failed_of", None)
    if run.status == SyncRun.Status.PARTIAL and not run_items_pruned(run):
        options["only_failed_of"] = run.pk
    # A failed or stale run stopped before reaching every item, and a pruned run has no item rows left to
    # say which failed: the retry covers the whole job again.
    return run_create(
        store=run.store,
        job=run.job,
        trigger=SyncRun.Trigger.RETRY,
        user=user,
        dry_run=run.dry_run,
        options=options,
        retry_of=run,
    )
