"""The Redis lock: one holder, expiry, renewal; and the database guarantee without Redis."""
import time

import pytest
from django.test import override_settings

from plugin.sync import locks, runs, services
from plugin.sync.models import SyncRun
from tests.sync.factories import StoreFactory


@pytest.mark.redis
def test_redis_lock_has_one_holder_and_is_released():
    first = locks.JobLock(store_id=1, job="eod_export", run_id=10)
    second = locks.JobLock(store_id=1, job="eod_export", run_id=11)
    assert first.uses_redis
    try:
        assert first.acquire()
        assert not second.acquire()
        assert locks.lock_holder(store_id=1, job="eod_export") == 10
        assert locks.JobLock(store_id=2, job="eod_export", run_id=12).acquire()  # other store
    finally:
        first.release()
        locks.JobLock(store_id=2, job="eod_export", run_id=12)._lock.do_release(b"12")
    assert locks.lock_holder(store_id=1, job="eod_export") is None
    assert second.acquire()
    second.release()


@pytest.mark.redis
def test_redis_lock_expires_unless_renewed():
    with override_settings(ITBC_RUN_LOCK_TTL_SECONDS=1):
        renewed = locks.JobLock(store_id=3, job="import_products", run_id=20)
        abandoned = locks.JobLock(store_id=4, job="import_products", run_id=21)
        assert renewed.acquire() and abandoned.acquire()
        for _ in range(3):
            time.sleep(0.5)
            renewed.renew()
        assert locks.lock_holder(store_id=3, job="import_products") == 20
        assert locks.lock_holder(store_id=4, job="import_products") is None  # a dead worker's lock expired
        renewed.release()


@pytest.mark.redis
@pytest.mark.django_db
def test_a_run_holding_the_redis_lock_is_never_marked_stale():
    store = StoreFactory()
    run = runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT)
    runs.run_start(run=run)
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=run.heartbeat_at.replace(year=2000))
    lock = locks.JobLock(store_id=store.pk, job=run.job, run_id=run.pk)
    assert lock.acquire()
    try:
        assert runs.runs_mark_stale() == 0
        with pytest.raises(runs.RunInProgress) as caught:
            runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT)
        assert caught.value.run.pk == run.pk
    finally:
        lock.release()
    assert runs.runs_mark_stale() == 1


@pytest.mark.django_db
def test_without_redis_the_database_allows_one_active_run():
    with override_settings(REDIS_URL=""):
        store = StoreFactory()
        lock = locks.JobLock(store_id=store.pk, job="eod_export", run_id=1)
        assert not lock.uses_redis
        assert locks.lock_holder(store_id=store.pk, job="eod_export") is None
        first = runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT)
        with pytest.raises(runs.RunInProgress) as caught:
            runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT)
        assert caught.value.run.pk == first.pk


@pytest.mark.redis
@pytest.mark.django_db
def test_a_run_whose_lock_another_run_holds_is_closed_failed_not_left_queued():
    store = StoreFactory()
    run = runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT)
    holder = run.pk + 1000  # e.g. a run that has finished its record but not yet released the lock
    other = locks.JobLock(store_id=store.pk, job=run.job, run_id=holder)
    assert other.acquire()
    try:
        finished = services.run_execute(run_id=run.pk)
    finally:
        other.release()
    assert finished is not None
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED and f"lock held by run #{holder}" in run.error
    assert run.finished_at is not None
    runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT)  # the job is free at once


@pytest.mark.redis
@pytest.mark.django_db
def test_a_second_delivery_of_the_run_holding_the_lock_leaves_it_alone():
    store = StoreFactory()
    run = runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT)
    first = locks.JobLock(store_id=store.pk, job=run.job, run_id=run.pk)  # the first delivery, not started yet
    assert first.acquire()
    try:
        assert services.run_execute(run_id=run.pk) is None
    finally:
        first.release()
    run.refresh_from_db()
    assert run.status == SyncRun.Status.QUEUED


@pytest.mark.django_db
def test_finishing_a_run_marked_stale_leaves_it_stale():
    store = StoreFactory()
    run = runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT)
    runs.run_start(run=run)
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.STALE, error="marked stale")
    finished = runs.run_finish(run=run)
    run.refresh_from_db()
    assert run.status == finished.status == SyncRun.Status.STALE and run.error == "marked stale"


@pytest.mark.django_db
def test_a_run_that_heartbeats_while_being_checked_is_not_marked_stale(monkeypatch):
    store = StoreFactory()
    run = runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT)
    runs.run_start(run=run)
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=run.heartbeat_at.replace(year=2000))
    holder = locks.lock_holder

    def heartbeat_then_look(**kwargs):  # the worker heartbeats between the read and the update
        runs.run_heartbeat(run=run)
        return holder(**kwargs)

    monkeypatch.setattr(locks, "lock_holder", heartbeat_then_look)
    assert runs.runs_mark_stale(store=store) == 0
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING


@pytest.mark.django_db
def test_a_queued_run_started_while_being_checked_is_not_marked_stale(monkeypatch):
    store = StoreFactory()
    run = runs.run_create(store=store, job=SyncRun.Job.EOD_EXPORT)
    SyncRun.objects.filter(pk=run.pk).update(created_at=run.created_at.replace(year=2000))
    holder = locks.lock_holder

    def start_then_look(**kwargs):  # a worker takes the run between the read and the update
        runs.run_start(run=run)
        return holder(**kwargs)

    monkeypatch.setattr(locks, "lock_holder", start_then_look)
    assert runs.runs_mark_stale(store=store) == 0
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING


@pytest.mark.redis
def test_end_of_day_waits_for_another_order_import_then_imports_orders_itself(shop_factory):
    import threading

    from tests.sync.test_eod_export import set_up

    store, _server = set_up(shop_factory)
    holder = 10**6
    other = locks.JobLock(store_id=store.pk, job=SyncRun.Job.IMPORT_ORDERS, run_id=holder)
    assert other.acquire()
    releaser = threading.Timer(2.5, other.release)
    releaser.start()
    try:
        run = services.run_execute(run_id=services.job_trigger(store=store, job=SyncRun.Job.EOD_EXPORT,
                                                               enqueue=False).pk)
    finally:
        releaser.join()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.summary["orders_imported_first"] is True and f"#{holder}" in run.summary["note"]
    child = SyncRun.objects.get(pk=run.summary["orders_run"])
    assert child.status == SyncRun.Status.SUCCEEDED
    # it waited without leaving refused runs behind
    assert not SyncRun.objects.filter(store=store, job=SyncRun.Job.IMPORT_ORDERS, status="failed").exists()


@pytest.mark.redis
@pytest.mark.django_db
def test_end_of_day_fails_rather_than_export_without_its_order_import(shop_factory, settings):
    from tests.sync.test_eod_export import set_up

    settings.ITBC_EOD_ORDER_IMPORT_WAIT_SECONDS = 1.5
    store, server = set_up(shop_factory)
    before = {key: dict(levels) for key, levels in server.state.stock.items()}
    other = locks.JobLock(store_id=store.pk, job=SyncRun.Job.IMPORT_ORDERS, run_id=10**6)
    assert other.acquire()
    try:
        run = services.run_execute(run_id=services.job_trigger(store=store, job=SyncRun.Job.EOD_EXPORT,
                                                               enqueue=False).pk)
    finally:
        other.release()
    assert run.status == SyncRun.Status.FAILED and "still running" in run.error
    assert server.state.stock == before
