"""The End of Day slot: which scheduled instant a firing (or a catch-up) belongs to, in the configured
timezone (DST-safe through zoneinfo), and the beat-independent catch-up of a missed slot."""
import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from plugin.portal import notifications

from . import runs
from .models import SyncRun

logger = logging.getLogger(__name__)

# Give beat's own firing this long before the catch-up steps in for the same slot.
CATCH_UP_DELAY = timedelta(minutes=5)


def eod_scheduled(config) -> bool:
    return bool(config and config.sync_enabled and config.auto_sync_enabled and config.eod_enabled
                and config.eod_time is not None)


def eod_slot_latest(config, *, now=None) -> datetime:
    """The latest End of Day instant at or before `now` (UTC), in the configured local time."""
    now = now or timezone.now()
    zone = ZoneInfo(config.effective_eod_timezone)
    local_now = now.astimezone(zone)
    # The crontab fires on the minute: a time with seconds (18:00:30) must not file 18:00:00 under yesterday.
    at = config.eod_time.replace(second=0, microsecond=0)
    for days_back in (0, 1, 2):
        day = local_now.date() - timedelta(days=days_back)
        # fold=0 picks the first of two ambiguous instants; a time in a spring-forward gap maps forward.
        local = datetime.combine(day, at, tzinfo=zone)
        slot = local.astimezone(UTC)
        if slot <= now:
            return slot.replace(second=0, microsecond=0)
    raise AssertionError("unreachable: a slot exists within two days")


def grace() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "ITBC_EOD_GRACE_MINUTES", 120)))


def eod_slot_mark_missed(*, store, slot: datetime) -> SyncRun | None:
    """Record an End of Day slot whose grace period passed before it ran (None if it already has a run)."""
    missed = runs.run_mark_missed(
        store=store, job=SyncRun.Job.EOD_EXPORT, scheduled_for=slot,
        reason=f"The End of Day of {slot:%Y-%m-%d %H:%M} UTC did not run and the grace period "
               f"({int(grace().total_seconds() // 60)} minutes) has passed.",
    )
    notifications.notice_eod_missed(run=missed)  # None: the slot already had a run, nothing to tell
    return missed


def eod_catch_up(*, now=None, execute=None) -> dict:
    """For every store with a saved End of Day: if its latest slot has no run, run it now when still
    within the grace period (once: the slot is unique per store), else record it as missed.
    `execute(run)` runs a queued run (the worker executes it in place)."""
    from plugin.configuration.models import BasicConfiguration

    from .services import job_trigger

    now = now or timezone.now()
    result = {"caught_up": [], "missed": [], "skipped": []}
    configs = BasicConfiguration.objects.select_related("store").filter(
        sync_enabled=True, auto_sync_enabled=True, eod_enabled=True, eod_time__isnull=False
    )
    for config in configs:
        store = config.store
        slot = eod_slot_latest(config, now=now)
        if now - slot < CATCH_UP_DELAY:
            continue
        # A slot that passed before the schedule was saved was never due.
        if config.updated_at and config.updated_at > slot:
            continue
        if SyncRun.objects.filter(store=store, job=SyncRun.Job.EOD_EXPORT, scheduled_for=slot).exists():
            continue
        if now - slot > grace():
            missed = eod_slot_mark_missed(store=store, slot=slot)
            if missed:
                result["missed"].append(missed.pk)
            continue
        try:
            run = job_trigger(store=store, job=SyncRun.Job.EOD_EXPORT, trigger=SyncRun.Trigger.CATCH_UP,
                              scheduled_for=slot, enqueue=execute is None)
        except (runs.RunInProgress, runs.SlotAlreadyRun) as exc:
            result["skipped"].append(str(exc))
            continue
        except Exception as exc:  # a prerequisite missing: the slot stays open for the next check
            result["skipped"].append(f"{store.name}: {exc}")
            continue
        result["caught_up"].append(run.pk)
        if execute is not None:
            execute(run)
    result["rerun"] = eod_stale_rerun(execute=execute)
    return result


STALE_RERUNS_MAX = 3


def eod_stale_rerun(*, execute=None) -> list[int]:
    """Run again each store's End of Day whose worker died after it started (stale): it may have sent
    some of its levels, so the store is half updated and the Adjustment export waits for an End of Day to
    end (jobs.adjustments._end_of_day_running). Absolute levels are safe to send again. A run that keeps
    dying is rerun at most STALE_RERUNS_MAX times in a row; then it waits for someone."""
    from django.db.models import Max

    from .services import run_enqueue

    latest = (SyncRun.objects.filter(job=SyncRun.Job.EOD_EXPORT, dry_run=False, started_at__isnull=False)
              .exclude(status=SyncRun.Status.MISSED).values("store_id").annotate(last=Max("pk")).values("last"))
    rerun = []
    for stale in SyncRun.objects.filter(pk__in=latest, status=SyncRun.Status.STALE).select_related("store"):
        count = int((stale.options or {}).get("stale_reruns", 0))
        if count >= STALE_RERUNS_MAX:
            continue
        try:
            run = runs.run_retry_failed(run=stale, extra_options={"stale_reruns": count + 1})
        except runs.RunInProgress:
            continue
        logger.warning("End of Day run %s of store %s stopped while it ran: run %s runs it again",
                       stale.pk, stale.store_id, run.pk)
        rerun.append(run.pk)
        if execute is not None:
            execute(run)
        else:
            run_enqueue(run=run)
    return rerun
