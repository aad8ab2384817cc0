"""Run records: lifecycle, counters, the one-active-run rule, stale runs and retries."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from plugin.sync import runs
from plugin.sync.models import SyncRun, SyncRunItem
from tests.sync.factories import StoreFactory

pytestmark = pytest.mark.django_db

OK, FAILED, SKIPPED = SyncRunItem.Outcome.OK, SyncRunItem.Outcome.FAILED, SyncRunItem.Outcome.SKIPPED


def outcomes(n, outcome=OK, start=0):
    return [runs.ItemOutcome(key=f"K{i}", outcome=outcome, detail={"ref": [i, None]}) for i in range(start, start + n)]


def test_lifecycle_counts_and_status():
    store = StoreFactory()
    run = runs.run_create(store=store, job=SyncRun.Job.IMPORT_PRODUCTS)
    assert run.status == SyncRun.Status.QUEUED
    assert runs.run_start(run=run, total=5)
    assert not runs.run_start(run=run)  # a second delivery of the same task does nothing
    runs.run_items_record(run=run, outcomes=outcomes(3) + outcomes(1, SKIPPED, 3))
    runs.run_finish(run=run)
    run.refresh_from_db()
    assert (run.status, run.processed, run.succeeded_count, run.skipped_count) == ("succeeded", 4, 3, 1)
    assert run.items.count() == 4


def test_one_failed_item_makes_partial_and_infrastructure_error_fails():
    store = StoreFactory()
    run = runs.run_create(store=store, job=SyncRun.Job.IMPORT_PRODUCTS)
    runs.run_start(run=run)
    runs.run_items_record(run=run, outcomes=outcomes(2) + outcomes(1, FAILED, 2))
    assert runs.run_finish(run=run).status == SyncRun.Status.PARTIAL
    other = runs.run_create(store=store, job=SyncRun.Job.IMPORT_PRODUCTS)
    runs.run_start(run=other)
    assert runs.run_finish(run=other, error="401 from the store").status == SyncRun.Status.FAILED


@pytest.mark.postgres  # SQLite caps the parameters of one statement, so its bulk inserts split
def test_recording_cost_does_not_grow_with_batch_size():
    store = StoreFactory()
    run = runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT)
    runs.run_start(run=run)
    counts = []
    for size in (10, 2000):
        with CaptureQueriesContext(connection) as ctx:
            runs.run_items_record(run=run, outcomes=outcomes(size))
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] == 2


def test_second_trigger_names_the_active_run_and_other_jobs_are_free():
    store = StoreFactory()
    first = runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT)
    with pytest.raises(runs.RunInProgress) as caught:
        runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT)
    assert caught.value.run.pk == first.pk
    assert f"#{first.pk}" in str(caught.value)
    runs.run_create(store=store, job=SyncRun.Job.IMPORT_ORDERS)  # another job is not blocked
    runs.run_create(store=StoreFactory(), job=SyncRun.Job.EOD_EXPORT)  # nor another store


def test_stale_running_run_is_marked_and_frees_the_job():
    store = StoreFactory()
    run = runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT)
    runs.run_start(run=run)
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    fresh = runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.STALE and "stopped reporting" in run.error
    assert fresh.status == SyncRun.Status.QUEUED


def test_running_run_with_recent_heartbeat_is_not_stale():
    store = StoreFactory()
    run = runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT)
    runs.run_start(run=run)
    assert runs.runs_mark_stale() == 0
    with pytest.raises(runs.RunInProgress):
        runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT)


def test_retry_failed_items_of_a_partial_run():
    store = StoreFactory()
    run = runs.run_create(store=store, job=SyncRun.Job.IMPORT_PRODUCTS, options={"x": 1})
    runs.run_start(run=run)
    runs.run_items_record(run=run, outcomes=outcomes(2) + outcomes(2, FAILED, 5))
    runs.run_finish(run=run)
    retry = runs.run_retry_failed(run=run)
    assert retry.retry_of_id == run.pk and retry.trigger == SyncRun.Trigger.RETRY
    assert retry.options == {"x": 1, "only_failed_of": run.pk}
    assert runs.run_failed_refs(run_id=run.pk) == {(5, None), (6, None)}


def test_retry_refuses_a_succeeded_run():
    store = StoreFactory()
    run = runs.run_create(store=store, job=SyncRun.Job.IMPORT_PRODUCTS)
    runs.run_start(run=run)
    runs.run_finish(run=run)
    with pytest.raises(ValueError):
        runs.run_retry_failed(run=run)


def test_scheduled_slot_runs_once_and_missed_slot_is_recorded_once():
    store = StoreFactory()
    slot = timezone.now().replace(microsecond=0)
    run = runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT, trigger="schedule", scheduled_for=slot)
    runs.run_start(run=run)
    runs.run_finish(run=run)
    with pytest.raises(runs.SlotAlreadyRun):
        runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT, trigger="schedule", scheduled_for=slot)
    earlier = slot - timedelta(days=1)
    assert runs.run_mark_missed(store=store, job="eod_export", scheduled_for=earlier, reason="down").status == "missed"
    assert runs.run_mark_missed(store=store, job="eod_export", scheduled_for=earlier, reason="down") is None
