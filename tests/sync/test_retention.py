"""Run-item retention: item rows of runs older than ITBC_RUN_ITEM_RETENTION_DAYS are deleted in batches by
a daily beat task; the runs, their counts and summary, and the configuration history stay."""
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from plugin.configuration.models import BasicConfiguration
from plugin.sync import retention, runs, tasks
from plugin.sync.models import SyncRun, SyncRunItem
from tests.sync.factories import configured_store

pytestmark = pytest.mark.django_db


def run_with_items(store, *, items: int, age_days: float, failed: int = 0, job="import_products") -> SyncRun:
    run = runs.run_create(store=store, job=job)
    runs.run_start(run=run)
    outcomes = [runs.ItemOutcome(key=f"SKU-{i}", outcome="ok", quantity_after=i) for i in range(items)]
    outcomes += [runs.ItemOutcome(key=f"BAD-{i}", outcome="failed", reason="Duplicate") for i in range(failed)]
    runs.run_items_record(run=run, outcomes=outcomes)
    run = runs.run_finish(run=run, summary={"created": items})
    SyncRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(days=age_days))
    return run


def test_items_older_than_the_limit_go_in_batches_newer_stay():
    store = configured_store()
    old = run_with_items(store, items=23, failed=2, age_days=91)
    older = run_with_items(store, items=7, age_days=200, job="import_carriers")
    new = run_with_items(store, items=5, age_days=89)
    empty_old = run_with_items(store, items=0, age_days=120)
    history = BasicConfiguration.history.count()

    with CaptureQueriesContext(connection) as queries:
        result = retention.run_items_prune(batch_rows=10)

    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    # 25 + 7 rows of two runs in one chunk, by id range at most 10 a statement: 10, 10, 10, 2
    assert len(deletes) == 4 and result["batches"] == 4
    assert result["rows"] == 32 and result["runs"] == 3
    assert not SyncRunItem.objects.filter(run__in=[old, older]).exists()
    assert SyncRunItem.objects.filter(run=new).count() == 5
    old.refresh_from_db()
    # the run and its counts stay, marked with what went
    assert (old.status, old.succeeded_count, old.failed_count) == ("partial", 23, 2)
    assert old.summary["created"] == 23 and old.summary[retention.PRUNED_ROWS] == 25
    assert old.summary[retention.PRUNED_ON] == timezone.now().date().isoformat()
    empty_old.refresh_from_db()
    assert empty_old.summary[retention.PRUNED_ROWS] == 0
    assert retention.PRUNED_ON not in SyncRun.objects.get(pk=new.pk).summary
    assert BasicConfiguration.history.count() == history  # configuration history is kept

    again = retention.run_items_prune(batch_rows=10)
    assert (again["runs"], again["rows"], again["batches"]) == (0, 0, 0)


def test_many_runs_are_taken_in_chunks_and_active_runs_are_left_alone():
    store = configured_store()
    finished = [run_with_items(store, items=3, age_days=100) for _ in range(5)]
    active = runs.run_create(store=store, job="bootstrap")
    runs.run_items_record(run=active, outcomes=[runs.ItemOutcome(key="step", outcome="ok")])
    SyncRun.objects.filter(pk=active.pk).update(created_at=timezone.now() - timedelta(days=100))

    result = retention.run_items_prune(batch_rows=4, runs_per_chunk=2)

    assert (result["runs"], result["rows"]) == (5, 15)
    assert not SyncRunItem.objects.filter(run__in=finished).exists()
    assert SyncRunItem.objects.filter(run=active).count() == 1


def test_the_limit_comes_from_the_setting():
    store = configured_store()
    month_old = run_with_items(store, items=4, age_days=31)
    with override_settings(ITBC_RUN_ITEM_RETENTION_DAYS=90):
        assert retention.run_items_prune()["rows"] == 0
    with override_settings(ITBC_RUN_ITEM_RETENTION_DAYS=30):
        assert tasks.prune_run_items()["rows"] == 4
    assert not SyncRunItem.objects.filter(run=month_old).exists()


def test_the_page_of_a_pruned_run_says_so(client, viewer_user):
    store = configured_store()
    run = run_with_items(store, items=12, failed=3, age_days=95)
    retention.run_items_prune()
    client.force_login(viewer_user)

    page = client.get(reverse("sync:run-detail", args=[run.pk]))

    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="items-pruned"' in text and "The 15 item rows of this run were pruned on" in text
    counts = text.split('id="run-counts">', 1)[1].split("</dd>", 1)[0]
    assert "12" in counts and "3 failed" in counts and "No items." in text
    csv_export = client.get(reverse("sync:run-items-csv", args=[run.pk]))
    assert csv_export.status_code == 200
    # a run whose items are kept says nothing of the kind
    kept = run_with_items(store, items=2, age_days=1)
    assert 'id="items-pruned"' not in client.get(reverse("sync:run-detail", args=[kept.pk])).content.decode()


def test_a_pruned_partial_run_is_run_again_whole_not_retried_over_no_rows(client, operator_user):
    store = configured_store()
    run = run_with_items(store, items=4, failed=2, age_days=95)
    assert run.status == SyncRun.Status.PARTIAL
    first = runs.run_retry_failed(run=run)
    assert (first.options or {}).get("only_failed_of") == run.pk  # items kept: the failed ones only
    SyncRun.objects.filter(pk=first.pk).delete()
    retention.run_items_prune()
    run.refresh_from_db()
    client.force_login(operator_user)

    text = client.get(reverse("sync:run-detail", args=[run.pk])).content.decode()

    assert 'id="retry-failed"' not in text and 'id="run-again"' in text
    retry = runs.run_retry_failed(run=run)
    assert "only_failed_of" not in (retry.options or {})  # the whole job, not an empty list of items


def test_the_daily_prune_is_registered_in_beat_once_with_an_explicit_timezone():
    assert retention.retention_schedule_ensure() is True
    periodic = PeriodicTask.objects.get(name=retention.PERIODIC_TASK_NAME)
    assert (periodic.task, periodic.enabled, periodic.interval) == (tasks.PRUNE_RUN_ITEMS_TASK, True, None)
    crontab = periodic.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week) == ("17", "3", "*")
    assert crontab.timezone == ZoneInfo("UTC")
    # an admin's switch-off survives the next beat start
    periodic.enabled = False
    periodic.save()
    assert retention.retention_schedule_ensure() is False
    assert PeriodicTask.objects.get(name=retention.PERIODIC_TASK_NAME).enabled is False


@pytest.mark.django_db(transaction=True)
def test_beat_registers_the_prune_when_it_starts():
    # Beat's scheduler closes stale database connections: outside the test transaction.
    from itbc_portal.celery import app
    from plugin.portal.beat import HeartbeatDatabaseScheduler

    PeriodicTask.objects.filter(name=retention.PERIODIC_TASK_NAME).delete()
    HeartbeatDatabaseScheduler(app=app)
    # (its schedule lists a crontab only in the hours around its time, so the row is what to check)
    assert PeriodicTask.objects.filter(name=retention.PERIODIC_TASK_NAME, task=tasks.PRUNE_RUN_ITEMS_TASK).exists()
