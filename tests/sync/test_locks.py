"""The Redis lock: one holder, expiry, renewal; and the database guarantee without Redis."""
import time

import pytest
from django.test import override_settings

from plugin.sync import locks, runs
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
