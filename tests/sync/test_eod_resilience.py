"""End of Day under failure: a worker killed in the middle, then run again; a 429 storm with 5% 503s."""
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from plugin.intellitrack.gateway import EmbeddedGateway
from plugin.sync import locks, runs, tasks
from plugin.sync.models import StoreItemLink, SyncRun, SyncRunItem
from tests.sync.conftest import run_job, store_level
from tests.sync.test_eod_export import change_intellitrack_stock, expected_levels, set_up
from tests.sync.truth import shipped_before_go_live

Job = SyncRun.Job
ROOT = Path(__file__).resolve().parents[2]


def mismatches(store, server):
    expected = expected_levels(store, server)
    return {
        link.sku: (store_level(server.state, link), expected[link.id])
        for link in StoreItemLink.objects.filter(store=store)
        if store_level(server.state, link) != expected[link.id]
    }


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_killed_in_the_middle_of_end_of_day_then_run_again_ends_correct(shop_factory):
    # 4,500 SKUs: three write batches; each sandbox answer takes 150 ms so the kill lands mid-way.
    store, server = set_up_large(shop_factory)
    change_intellitrack_stock(store)
    assert mismatches(store, server)  # the store is behind IntelliTrack before the End of Day
    server.faults.configure(type(server.faults.config)(delay_ms=150, delay_rate=1.0))
    transactions_before = len(server.state.transactions)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="itbc_portal.settings.test", DATABASE_URL=_database_url(),
               REDIS_URL=settings.REDIS_URL)
    worker = subprocess.Popen([sys.executable, "manage.py", "itbc", "eod", "--store", store.name], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(server.state.transactions) == transactions_before and time.monotonic() < deadline:
        assert worker.poll() is None, worker.communicate()
        time.sleep(0.02)
    worker.send_signal(signal.SIGKILL)  # no cleanup: the run stays "running" and its lock stays in Redis
    worker.wait(timeout=10)
    sent = len(server.state.transactions) - transactions_before
    assert 1 <= sent < 3  # killed between batches: not every batch went out
    dead = SyncRun.objects.get(store=store, job=Job.EOD_EXPORT)
    assert dead.status == SyncRun.Status.RUNNING
    assert locks.lock_holder(store_id=store.pk, job=Job.EOD_EXPORT) == dead.pk
    assert mismatches(store, server)  # half-done

    server.faults.configure(type(server.faults.config)())
    # The lock's expiry passes (deleted here instead of waiting LOCK_TTL_SECONDS) and so does the heartbeat's.
    locks._redis().delete(locks.lock_key(store_id=store.pk, job=Job.EOD_EXPORT))
    time.sleep(1.2)
    with override_settings(ITBC_RUN_STALE_SECONDS=1):
        tasks.run_job(dead.pk)  # the broker redelivers the unacknowledged task (acks_late)
    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.STALE
    rerun = SyncRun.objects.get(retry_of=dead)
    assert rerun.status == SyncRun.Status.SUCCEEDED, rerun.error
    assert mismatches(store, server) == {}


def set_up_large(shop_factory):
    store, server = shop_factory(products=4500, orders=40, order_statuses_to_import=[11, 9, 3])
    server.shipped_before_go_live = shipped_before_go_live(server.state)
    boot = run_job(store, Job.BOOTSTRAP)
    assert boot.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL), boot.error
    assert StoreItemLink.objects.filter(store=store).count() > 4000
    run_job(store, Job.IMPORT_ORDERS)
    return store, server


@pytest.mark.slow
@pytest.mark.django_db
def test_429_storm_with_10_percent_503s_still_ends_correct(shop_factory):
    store, server = shop_factory(products=120, orders=40, order_statuses_to_import=[11, 9, 3],
                                 faults={"storm_rate": 0.2, "storm_reset_ms": 50, "error_rate": 0.1,
                                         "error_statuses": [503], "seed": 11})
    server.shipped_before_go_live = shipped_before_go_live(server.state)
    boot = run_job(store, Job.BOOTSTRAP)
    assert boot.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL), boot.error
    run_job(store, Job.IMPORT_ORDERS)
    change_intellitrack_stock(store)
    run = run_job(store, Job.EOD_EXPORT)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert server.faults.counts["storm"] >= 10 and server.faults.counts["error"] >= 3
    assert mismatches(store, server) == {}


@pytest.mark.django_db
def test_retry_recovered_after_its_worker_died_resends_the_first_runs_failed_items(shop_factory):
    # R1 partial -> R2 retries its failed item -> R2's worker dies -> the redelivered task starts R3,
    # which must still send R1's failed item (not R2's, which recorded none).
    store, server = set_up(shop_factory)
    change_intellitrack_stock(store)
    expected = expected_levels(store, server)
    link = next(link for link in StoreItemLink.objects.filter(store=store).order_by("id")
                if store_level(server.state, link) != expected[link.id])
    r1 = runs.run_create(store=store, job=Job.EOD_EXPORT)
    runs.run_start(run=r1)
    runs.run_items_record(run=r1, outcomes=[runs.ItemOutcome(key=link.sku, outcome=SyncRunItem.Outcome.FAILED,
                                                             detail={"ref": link.id})])
    r1 = runs.run_finish(run=r1)
    assert r1.status == SyncRun.Status.PARTIAL
    r2 = runs.run_retry_failed(run=r1)
    runs.run_start(run=r2)
    SyncRun.objects.filter(pk=r2.pk).update(heartbeat_at=r2.heartbeat_at - timedelta(hours=2))
    with override_settings(ITBC_RUN_STALE_SECONDS=60):
        tasks.run_job(r2.pk)
    r3 = SyncRun.objects.get(retry_of=r2)
    assert r3.status == SyncRun.Status.SUCCEEDED, r3.error
    assert r3.total == 1
    assert list(r3.items.values_list("detail__ref", "outcome")) == [(link.id, SyncRunItem.Outcome.OK)]
    assert store_level(server.state, link) == expected[link.id]


def _pick_one_in_another_connection(store, picked: dict) -> threading.Thread:
    """Pick one unit of an open order line in its own thread (its own connection, committed at once);
    `picked["item"]` names the item once it is done."""
    from plugin.intellitrack import services as it
    from plugin.intellitrack.models import InventoryRecord, PickingOrderLine

    def pick():
        try:
            location = store.basic_configuration.default_location
            stocked = InventoryRecord.objects.filter(location=location, on_hand__gte=1).values_list("item_id")
            line = (PickingOrderLine.objects.filter(order__source_store=store, order__status="open",
                                                    item_id__in=stocked)
                    .select_related("item", "order").order_by("id").first())
            it.order_pick(line=line, quantity=1, location=location)
            picked["item"] = line.item_id
        finally:
            connection.close()

    thread = threading.Thread(target=pick)
    thread.start()
    return thread


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_pick_committed_between_the_on_hand_and_unpicked_reads_is_not_counted_twice(shop_factory, monkeypatch):
    store, server = set_up(shop_factory)
    read_picked = EmbeddedGateway.picked_by_store_line
    picked, threads = {}, []

    def picks_read_then_a_pick_tries_to_commit(self, *args, **kwargs):
        result = read_picked(self, *args, **kwargs)
        if not threads:
            threads.append(_pick_one_in_another_connection(store, picked))
            # The snapshot holds ledger writers back until it ends: the pick waits, it is not half-counted.
            threads[0].join(timeout=1.5)
            assert threads[0].is_alive() and "item" not in picked
        return result

    monkeypatch.setattr(EmbeddedGateway, "picked_by_store_line", picks_read_then_a_pick_tries_to_commit)
    with CaptureQueriesContext(connection) as captured:
        run = run_job(store, Job.EOD_EXPORT)
    threads[0].join(timeout=30)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert "item" in picked  # it committed once the snapshot ended
    isolation = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SET TRANSACTION")]
    assert isolation == ["SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"]  # once, whatever the size
    # A pick lowers on-hand and what orders hold alike: the level is the same before and after it.
    assert mismatches(store, server) == {}
    assert StoreItemLink.objects.filter(store=store, item_id=picked["item"]).exists()
