"""The dashboard: the status light's rules, the chart data, the fixed number of statements whatever the
number of stores, the error log, the Runs badge and acknowledging."""
import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from plugin.intellitrack.models import PickingOrder
from plugin.portal import charts
from plugin.portal.dashboard import (
    ERRORS,
    HEALTHY,
    WARNINGS,
    chart_days,
    dashboard_rows,
    failures_unacknowledged_count,
    run_error_sentence,
    store_health,
)
from plugin.sync.models import AdjustmentBatch, SyncRun
from tests.sync.factories import RunFactory, StoreFactory

Status, Job = SyncRun.Status, SyncRun.Job
NOW = timezone.now()


def fake_run(pk, job, status, *, acknowledged=False, failed_count=0, minutes_ago=0):
    return SimpleNamespace(pk=pk, job=job, status=status, failed_count=failed_count,
                           acknowledged_at=NOW if acknowledged else None,
                           created_at=NOW - dt.timedelta(minutes=minutes_ago))


def health(**overrides):
    facts = dict(connection_ok=True, connection_tested_at=NOW, connection_message="", last_runs=[],
                 stock_mismatch=False, uncertain_batches=0, sync_enabled=True)
    facts.update(overrides)
    return store_health(**facts)


# --- the light's rules ------------------------------------------------------------------------------------

def test_healthy_when_every_last_run_succeeded_and_the_connection_passed():
    result = health(last_runs=[fake_run(1, Job.EOD_EXPORT, Status.SUCCEEDED),
                               fake_run(2, Job.AUTO_SYNC, Status.SUCCEEDED)])
    assert result.light == HEALTHY
    assert result.label == "Success"
    assert result.reasons == []


@pytest.mark.parametrize("status, words", [
    (Status.FAILED, "failed"), (Status.STALE, "stopped when its worker died"), (Status.MISSED, "was missed"),
])
def test_a_failed_stale_or_missed_last_run_is_an_error(status, words):
    result = health(last_runs=[fake_run(7, Job.EOD_EXPORT, status)])
    assert result.light == ERRORS
    assert result.label == "Errors"
    assert result.errors == [f"The last End of Day run (#7) {words}."]


def test_an_acknowledged_failure_is_no_error():
    assert health(last_runs=[fake_run(7, Job.EOD_EXPORT, Status.FAILED, acknowledged=True)]).light == HEALTHY


def test_a_failing_connection_test_is_an_error_with_its_message():
    result = health(connection_ok=False, connection_message="BigCommerce refused the access token.")
    assert result.light == ERRORS
    assert result.errors == ["The last connection test failed: BigCommerce refused the access token."]


def test_partial_runs_mismatch_uncertain_batches_untested_connection_and_sync_off_are_warnings():
    result = health(last_runs=[fake_run(3, Job.IMPORT_ORDERS, Status.PARTIAL, failed_count=2)],
                    stock_mismatch=True, uncertain_batches=1, connection_tested_at=None, connection_ok=False,
                    sync_enabled=False)
    assert result.light == WARNINGS
    assert result.errors == []
    assert result.warnings == [
        "The last Import Orders run (#3) was partial: 2 items failed.",
        "The connection has never been tested.",
        "The store's stock setting disagrees with \"Stock decreased when order placed\".",
        "1 adjustment batch with an unknown outcome wait for the next End of Day.",
        "Sync is switched off for this store.",
    ]


def test_errors_win_over_warnings_and_both_are_explained():
    result = health(last_runs=[fake_run(3, Job.IMPORT_ORDERS, Status.PARTIAL, failed_count=1, minutes_ago=5),
                               fake_run(4, Job.AUTO_SYNC, Status.FAILED)], uncertain_batches=2)
    assert result.light == ERRORS
    assert "The last Auto sync cycle run (#4) failed." in result.explanation
    assert "2 adjustment batches" in result.explanation


def test_run_error_sentence_leaves_out_exception_names():
    run = SyncRun(status=Status.FAILED, error="BigCommerceError: the store refused the token")
    assert run_error_sentence(run) == "BigCommerce reported an error: the store refused the token."
    run = SyncRun(status=Status.FAILED, error="_StepFailed: Importing orders first failed (run #4): boom")
    assert run_error_sentence(run) == "Importing orders first failed (run #4): boom."
    run = SyncRun(status=Status.PARTIAL, error="", failed_count=2, processed=10)
    assert run_error_sentence(run) == "2 of 10 items failed; the run page lists them."
    run = SyncRun(status=Status.STALE, error="")
    assert run_error_sentence(run) == "The worker running it stopped before the run ended."


# --- rows from the database ---------------------------------------------------------------------------------

def finished_run(store, job, status, *, at=None, seconds=10, **fields):
    at = at or timezone.now()
    run = RunFactory(store=store, job=job, status=status, started_at=at - dt.timedelta(seconds=seconds),
                     finished_at=at, **fields)
    SyncRun.objects.filter(pk=run.pk).update(created_at=at - dt.timedelta(seconds=seconds))
    run.refresh_from_db()
    return run


@pytest.mark.django_db
def test_rows_follow_the_latest_run_of_each_job(configured):
    store = configured("shop-a")
    finished_run(store, Job.EOD_EXPORT, Status.FAILED, at=timezone.now() - dt.timedelta(hours=2), error="x")
    [row] = dashboard_rows(store_ids=[store.pk])
    assert row.health.light == ERRORS
    assert row.last_error is not None and row.last_error.error == "x"
    # The next End of Day succeeds: the job's latest run is fine again; the old failure is still the last error.
    finished_run(store, Job.EOD_EXPORT, Status.SUCCEEDED, summary={"dry_run": True, "drifted_items": 4})
    [row] = dashboard_rows(store_ids=[store.pk])
    assert row.health.light == HEALTHY, row.health.reasons
    assert row.drift_found == 4
    assert row.unacknowledged == 1
    # A real End of Day counts the levels it sent that differed from the last level sent.
    finished_run(store, Job.EOD_EXPORT, Status.SUCCEEDED, summary={"dry_run": False, "changed_items": 2})
    [row] = dashboard_rows(store_ids=[store.pk])
    assert row.drift_found == 2


@pytest.mark.django_db
def test_rows_count_open_orders_uncertain_batches_and_active_runs(configured, picking_order_for):
    store = configured("shop-b")
    picking_order_for(store, status=PickingOrder.Status.OPEN)
    picking_order_for(store, status=PickingOrder.Status.OPEN)
    picking_order_for(store, status=PickingOrder.Status.CLOSED)
    AdjustmentBatch.objects.create(store=store, state=AdjustmentBatch.State.UNCERTAIN, first_ledger_id=1,
                                   last_ledger_id=2)
    AdjustmentBatch.objects.create(store=store, state=AdjustmentBatch.State.SENT, first_ledger_id=3,
                                   last_ledger_id=4)
    RunFactory(store=store, job=Job.IMPORT_ORDERS, status=Status.RUNNING)
    [row] = dashboard_rows(store_ids=[store.pk])
    assert (row.open_orders, row.uncertain_batches, row.runs_active) == (2, 1, True)
    assert row.health.light == WARNINGS
    assert "1 adjustment batch with an unknown outcome" in row.health.explanation


@pytest.mark.django_db
def test_next_auto_sync_cycle_comes_from_the_beat_schedule(configured):
    from django_celery_beat.models import PeriodicTask

    from plugin.configuration.schedules import auto_sync_periodic_task_name
    from plugin.configuration.services import store_schedules_sync

    store = configured("shop-c", auto_sync_enabled=True, sync_interval_minutes=15)
    store_schedules_sync(configuration=store.basic_configuration)
    last = timezone.now() - dt.timedelta(minutes=5)
    PeriodicTask.objects.filter(name=auto_sync_periodic_task_name(store.pk)).update(last_run_at=last)
    [row] = dashboard_rows(store_ids=[store.pk])
    assert row.next_cycle == last + dt.timedelta(minutes=15)


# --- the chart data -------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_chart_days_group_runs_by_day_and_outcome(configured):
    store = configured("shop-d")
    other = configured("shop-e")
    today = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    yesterday = today - dt.timedelta(days=1)
    finished_run(store, Job.EXPORT_ADJUSTMENTS, Status.SUCCEEDED, at=today, seconds=30, succeeded_count=7)
    finished_run(store, Job.EOD_EXPORT, Status.PARTIAL, at=today, seconds=90, succeeded_count=5, failed_count=1)
    finished_run(store, Job.EOD_EXPORT, Status.SUCCEEDED, at=yesterday, seconds=20, succeeded_count=50,
                 summary={"dry_run": True, "drifted_items": 3})  # a dry run sends nothing
    finished_run(store, Job.EOD_EXPORT, Status.SUCCEEDED, at=yesterday, seconds=20, succeeded_count=50,
                 summary={"dry_run": False, "changed_items": 2})  # a real run's changed levels
    finished_run(store, Job.IMPORT_ORDERS, Status.FAILED, at=yesterday, options={"parent_run": 1})  # a step
    finished_run(store, Job.AUTO_SYNC, Status.FAILED, at=yesterday, seconds=40)
    finished_run(store, Job.EOD_EXPORT, Status.SUCCEEDED, at=today - dt.timedelta(days=40))  # too old
    finished_run(other, Job.EOD_EXPORT, Status.FAILED, at=today)
    days = chart_days(store_ids=[store.pk, other.pk])[store.pk]
    assert len(days) == 30 and days[-1].day == today.date() and days[0].day == today.date() - dt.timedelta(days=29)
    last, before = days[-1], days[-2]
    assert (last.succeeded, last.partial, last.failed, last.items_sent) == (1, 1, 0, 12)
    assert (before.succeeded, before.partial, before.failed, before.items_sent) == (2, 0, 1, 50)
    assert before.drift == 3 + 2 and last.drift is None
    assert last.seconds_avg == pytest.approx(60) and last.seconds_max == pytest.approx(90)
    assert sum(day.runs for day in days[:-2]) == 0
    assert chart_days(store_ids=[other.pk])[other.pk][-1].failed == 1


def test_chart_svg_draws_a_titled_column_per_day_without_style_attributes():
    from plugin.portal.dashboard import ChartDay

    base = dt.date(2026, 12, 1)
    days = [ChartDay(day=base + dt.timedelta(days=n)) for n in range(30)]
    days[-1] = ChartDay(day=days[-1].day, succeeded=4, partial=1, failed=2, items_sent=10, drift=3,
                        seconds_avg=12.0, seconds_max=30.0)
    days[-2] = ChartDay(day=days[-2].day, succeeded=8, items_sent=5)
    svg = str(charts.store_chart(days))
    assert svg.count("<svg") == 1
    assert svg.count("<title>") == 30
    assert ("<title>Wed 2026-12-30: 4 succeeded, 1 partial, 2 failed; 10 items sent; 3 items out of sync at End of Day; "
            "duration average 12.0 s, longest 30.0 s</title>") in svg
    assert "Tue 2026-12-29: 8 succeeded, 0 partial, 0 failed; 5 items sent; no End of Day;" in svg
    assert 'class="chart-failed"' in svg and 'class="chart-drift"' in svg and 'class="chart-duration"' in svg
    assert "style=" not in svg
    assert ('aria-label="The last 30 days: 12 runs succeeded, 1 partial, 2 failed; 15 items sent; 1 End of Day '
            'runs found 3 items out of sync; the longest run took 30.0 s."') in svg
    # Each band is scaled to its own largest day: the 8 succeeded runs fill the runs band (38 of 40).
    assert '<rect x="280" y="13.0" width="8" height="38.0" class="chart-succeeded">' in svg


# --- a fixed number of statements -------------------------------------------------------------------------------

def _stores_with_history(configured, picking_order_for, count, offset):
    for n in range(count):
        store = configured(f"many-{offset + n}", auto_sync_enabled=True, eod_enabled=True,
                           eod_time=dt.time(23, 0))
        finished_run(store, Job.EOD_EXPORT, Status.FAILED, error="boom")
        finished_run(store, Job.AUTO_SYNC, Status.SUCCEEDED)
        picking_order_for(store, status=PickingOrder.Status.OPEN)


@pytest.mark.django_db
def test_the_dashboard_costs_the_same_statements_for_2_and_10_stores(configured, picking_order_for, client,
                                                                       viewer_user):
    client.force_login(viewer_user)
    _stores_with_history(configured, picking_order_for, 2, 0)
    client.get(reverse("dashboard"))  # warm: sessions, permissions, content types
    with CaptureQueriesContext(connection) as two:
        response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert response.content.decode().count('data-light="errors"') == 2
    _stores_with_history(configured, picking_order_for, 8, 2)
    with CaptureQueriesContext(connection) as ten:
        response = client.get(reverse("dashboard"))
    assert response.content.decode().count('data-light="errors"') == 10
    assert len(ten) == len(two), [q["sql"][:120] for q in ten.captured_queries]
    with CaptureQueriesContext(connection) as store_list:
        assert client.get(reverse("configuration:store-list")).status_code == 200
    assert len(store_list) < len(ten)


# --- the badge, the error log and acknowledging --------------------------------------------------------------------

@pytest.mark.django_db
def test_badge_counts_unacknowledged_failures_and_acknowledging_clears_them(configured, client, operator_user):
    store = configured("shop-f")
    failed = finished_run(store, Job.AUTO_SYNC, Status.FAILED, error="PrerequisiteMissing: Test the store "
                                                                     "connection first")
    child = finished_run(store, Job.IMPORT_ORDERS, Status.FAILED, options={"parent_run": failed.pk})
    partial = finished_run(store, Job.IMPORT_ORDERS, Status.PARTIAL, failed_count=1)
    finished_run(store, Job.IMPORT_ORDERS, Status.SUCCEEDED)
    assert failures_unacknowledged_count() == 2  # the cycle's failed step counts with its cycle
    client.force_login(operator_user)
    page = client.get(reverse("configuration:logs", args=[store.pk])).content.decode()
    assert 'id="runs-badge"' in page and ">2<" in page
    assert "Test the store connection first." in page  # the refused cycle, as a sentence
    assert f'href="{reverse("sync:run-detail", args=[failed.pk])}"' in page
    response = client.post(reverse("sync:run-acknowledge", args=[failed.pk]))
    assert response.status_code == 302
    failed.refresh_from_db()
    child.refresh_from_db()
    assert failed.acknowledged_by == operator_user and child.acknowledged_at is not None
    assert failures_unacknowledged_count() == 1
    client.post(reverse("sync:runs-acknowledge-all", args=[store.pk]))
    partial.refresh_from_db()
    assert partial.acknowledged_at is not None
    assert failures_unacknowledged_count() == 0
    assert 'id="runs-badge"' not in client.get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
def test_a_partial_cycle_with_two_failed_steps_counts_once(configured):
    store = configured("shop-f2")
    cycle = finished_run(store, Job.AUTO_SYNC, Status.PARTIAL)
    for job in (Job.IMPORT_ORDERS, Job.EXPORT_ADJUSTMENTS):
        finished_run(store, job, Status.FAILED, options={"parent_run": cycle.pk})
    assert failures_unacknowledged_count() == 1
    assert failures_unacknowledged_count(store=store) == 1
    [row] = dashboard_rows(store_ids=[store.pk])
    assert row.unacknowledged == 1


@pytest.mark.django_db
def test_the_upgrade_acknowledges_failures_from_before_acknowledging_existed(configured):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("plugin.sync.migrations.0017_acknowledge_history")
    store = configured("shop-f3")
    old = {status: finished_run(store, Job.EOD_EXPORT, status) for status in SyncRun.FAILURE_STATUSES}
    fine = finished_run(store, Job.EOD_EXPORT, Status.SUCCEEDED)
    assert failures_unacknowledged_count() == len(old)
    migration.acknowledge_history(apps, None)
    assert failures_unacknowledged_count() == 0
    assert all(SyncRun.objects.get(pk=run.pk).acknowledged_at is not None for run in old.values())
    assert SyncRun.objects.get(pk=fine.pk).acknowledged_at is None
    # A failure after the upgrade counts.
    finished_run(store, Job.EOD_EXPORT, Status.FAILED)
    assert failures_unacknowledged_count() == 1


@pytest.mark.django_db
def test_a_run_page_offers_acknowledging_for_exactly_the_failure_statuses(configured, client, operator_user,
                                                                          monkeypatch):
    store = configured("shop-f4")
    client.force_login(operator_user)
    for status, job in zip(Status.values, Job.values, strict=False):  # one active run per job
        run = finished_run(store, job, status)
        page = client.get(reverse("sync:run-detail", args=[run.pk])).content.decode()
        assert ('id="acknowledge-run"' in page) == (status in SyncRun.FAILURE_STATUSES), status
    # The page follows the model's list, not a copy of its words.
    monkeypatch.setattr(SyncRun, "FAILURE_STATUSES", (Status.FAILED,))
    missed = finished_run(store, Job.EOD_EXPORT, Status.MISSED)
    assert 'id="acknowledge-run"' not in client.get(reverse("sync:run-detail", args=[missed.pk])).content.decode()


@pytest.mark.django_db
def test_a_viewer_may_not_acknowledge(configured, client, viewer_user):
    store = configured("shop-g")
    failed = finished_run(store, Job.EOD_EXPORT, Status.FAILED, error="boom")
    client.force_login(viewer_user)
    page = client.get(reverse("sync:run-detail", args=[failed.pk])).content.decode()
    assert 'id="acknowledge-run"' not in page
    assert client.post(reverse("sync:run-acknowledge", args=[failed.pk])).status_code == 403
    assert client.post(reverse("sync:runs-acknowledge-all", args=[store.pk])).status_code == 403
    assert failures_unacknowledged_count() == 1


@pytest.mark.django_db
def test_status_fragments_say_whether_a_run_is_going(configured, client, viewer_user):
    store = configured("shop-h")
    client.force_login(viewer_user)
    box = client.get(reverse("dashboard-store-status", args=[store.pk]))
    panel = client.get(reverse("sync-status-panel", args=[store.pk]))
    assert (box.status_code, box["X-Runs-Active"], panel["X-Runs-Active"]) == (200, "0", "0")
    assert "none yet" in panel.content.decode()
    run = RunFactory(store=store, job=Job.IMPORT_PRODUCTS, status=Status.RUNNING)
    assert client.get(reverse("dashboard-store-status", args=[store.pk]))["X-Runs-Active"] == "1"
    SyncRun.objects.filter(pk=run.pk).update(status=Status.SUCCEEDED, finished_at=timezone.now())
    panel = client.get(reverse("sync-status-panel", args=[store.pk]))
    assert panel["X-Runs-Active"] == "0"
    assert "Import Products" in panel.content.decode() and "none yet" not in panel.content.decode()
    assert client.get(reverse("dashboard-store-status", args=[987654])).status_code == 404


@pytest.fixture
def configured(db):
    from plugin.configuration.models import BasicConfiguration

    def make(name, **config):
        store = StoreFactory(name=name, connection_tested_at=timezone.now())
        BasicConfiguration.objects.update_or_create(store=store, defaults=config)
        store.refresh_from_db()
        return store

    return make


@pytest.fixture
def picking_order_for(db):
    from tests.intellitrack.factories import CustomerFactory, DivisionFactory

    division = DivisionFactory(code="DASH")
    customer = CustomerFactory(division=division)
    counter = iter(range(1, 10_000))

    def make(store, *, status):
        return PickingOrder.objects.create(division=division, number=f"PO-{next(counter)}", customer=customer,
                                           order_date=dt.date.today(), status=status, source_store=store)

    return make


@pytest.mark.django_db
def test_the_activity_feed_names_each_store_newest_run_and_whether_one_is_going(configured, client, viewer_user):
    quiet, busy, old = configured("quiet"), configured("busy"), configured("old")
    done = finished_run(quiet, Job.IMPORT_PRODUCTS, Status.SUCCEEDED)
    going = RunFactory(store=busy, job=Job.EOD_EXPORT, status=Status.RUNNING)
    finished_run(old, Job.IMPORT_PRODUCTS, Status.SUCCEEDED, at=timezone.now() - dt.timedelta(days=3))
    client.force_login(viewer_user)
    stores = client.get(reverse("dashboard-activity")).json()["stores"]
    assert stores == {
        str(quiet.pk): {"active": False, "last": done.pk, "signature": f"{done.pk}:0"},
        str(busy.pk): {"active": True, "last": going.pk, "signature": f"{going.pk}:1"},
    }
    one = client.get(reverse("dashboard-activity"), {"store": busy.pk}).json()["stores"]
    assert list(one) == [str(busy.pk)]
    assert client.get(reverse("dashboard-activity"), {"store": "²"}).status_code == 400
    # The dashboard renders the same signature, so the script reloads a box only when it changes.
    [row] = dashboard_rows(store_ids=[busy.pk])
    assert row.activity == f"{going.pk}:1"


@pytest.mark.django_db
def test_an_auto_sync_refused_for_a_missing_prerequisite_is_in_the_error_log_and_turns_the_light_red(
        configured, client, viewer_user):
    from plugin.sync.services import auto_sync_cycle_fire

    store = configured("no-defaults", auto_sync_enabled=True)  # no default Division, Site, Location, UOM
    refused = auto_sync_cycle_fire(store_id=store.pk)
    assert refused is not None and refused.status == Status.FAILED
    [row] = dashboard_rows(store_ids=[store.pk])
    assert row.health.light == ERRORS
    assert f"The last Auto sync cycle run (#{refused.pk}) failed." in row.health.errors
    client.force_login(viewer_user)
    page = client.get(reverse("configuration:logs", args=[store.pk])).content.decode()
    assert f'data-run="{refused.pk}"' in page
    assert "Save the Basic Configuration first" in page
    assert 'id="acknowledge-all"' not in page  # a Viewer may not acknowledge
