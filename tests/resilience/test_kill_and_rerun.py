"""20 SIGKILLs at random points of an End of Day and 20 of an order import, over a store of 4,500 SKUs,
each followed by a rerun from the command line that starts within 60 s (the dead run's lock expires and
its heartbeat goes stale after a few seconds here: a live run renews both every second) and, once let
finish, ends exact; 0 duplicate picking orders."""
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count

from plugin.intellitrack.models import PickingOrder
from plugin.sync.models import SyncRun
from tests.sync.conftest import run_job
from tests.sync.test_eod_export import change_intellitrack_stock
from tests.sync.test_eod_resilience import _database_url, mismatches, set_up_large

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("ITBC_KILLS", "20"))
SHORT_SECONDS = 5  # the dead run's lock TTL and stale time, kept short by a heartbeat every second
RERUN_LIMIT_SECONDS = 60
Job = SyncRun.Job


def _env():
    return dict(os.environ, DJANGO_SETTINGS_MODULE="itbc_portal.settings.test", DATABASE_URL=_database_url(),
                REDIS_URL=settings.REDIS_URL, ITBC_RUN_STALE_SECONDS=str(SHORT_SECONDS),
                ITBC_RUN_LOCK_TTL_SECONDS=str(SHORT_SECONDS), ITBC_RUN_PROGRESS_SECONDS="1")


def _latest_pk(store, job) -> int:
    return SyncRun.objects.filter(store=store, job=job).order_by("-pk").values_list("pk", flat=True).first() or 0


def start_when_free(command: str, store, job: str, *, since: float):
    """Start `itbc COMMAND` until a run of `job` is running (a refusal while the dead run still holds the
    store is retried). Returns the process and the seconds from `since` to the start."""
    while True:
        assert time.monotonic() - since < RERUN_LIMIT_SECONDS, f"no rerun of {job} started within 60 s"
        after = _latest_pk(store, job)
        process = subprocess.Popen([sys.executable, "manage.py", "itbc", command, "--store", store.name], cwd=ROOT,
                                   env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while process.poll() is None:
            run = SyncRun.objects.filter(store=store, job=job, pk__gt=after).order_by("pk").first()
            if run is not None and run.status == SyncRun.Status.RUNNING:
                return process, time.monotonic() - since
            time.sleep(0.05)
        process.communicate()
        run = SyncRun.objects.filter(store=store, job=job, pk__gt=after).order_by("pk").first()
        if run is not None and run.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL):
            return None, time.monotonic() - since  # it started and finished before we looked
        time.sleep(0.5)


def kill_and_rerun(command: str, store, job: str, server, *, seed: int, work_seconds: tuple[float, float]):
    rng = random.Random(seed)
    delays = []
    killed = 0
    since = time.monotonic()
    process, _ = start_when_free(command, store, job, since=since)
    while killed < KILLS:
        if process is None:
            process, delay = start_when_free(command, store, job, since=time.monotonic())
            continue
        time.sleep(rng.uniform(*work_seconds))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)  # no cleanup: the run stays "running", its lock in Redis
            process.wait(timeout=10)
            killed += 1
        else:
            process.communicate()
        since = time.monotonic()
        process, delay = start_when_free(command, store, job, since=since)
        delays.append(delay)
    # The last rerun is let finish.
    if process is not None:
        process.communicate(timeout=600)
    last = SyncRun.objects.filter(store=store, job=job).order_by("-pk").first()
    assert last.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL), (last.status, last.error)
    return killed, delays


def test_killed_end_of_day_runs_heal_exactly(shop_factory):
    store, server = set_up_large(shop_factory)
    change_intellitrack_stock(store)
    assert mismatches(store, server)
    server.faults.configure(type(server.faults.config)(delay_ms=60, delay_rate=1.0))
    killed, delays = kill_and_rerun("eod", store, Job.EOD_EXPORT, server, seed=11, work_seconds=(0.2, 4.0))
    print(f"\nEnd of Day: {killed} SIGKILLs, reruns started after {min(delays):.1f}-{max(delays):.1f} s, "
          f"{len(mismatches(store, server))} levels wrong")
    assert killed == KILLS and max(delays) < RERUN_LIMIT_SECONDS
    assert mismatches(store, server) == {}


def test_killed_order_imports_heal_without_duplicates(shop_factory):
    store, server = shop_factory(products=3000, orders=600, order_statuses_to_import=[11, 9, 3, 1, 7])
    boot = run_job(store, Job.BOOTSTRAP)
    assert boot.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL), boot.error
    server.faults.configure(type(server.faults.config)(delay_ms=60, delay_rate=1.0))
    killed, delays = kill_and_rerun("import-orders", store, Job.IMPORT_ORDERS, server, seed=12,
                                    work_seconds=(0.1, 3.0))
    duplicates = list(PickingOrder.objects.filter(source_store=store).values("store_order_id")
                      .annotate(n=Count("id")).filter(n__gt=1))
    wanted = {order.id for order in server.state.orders.values() if order.status_id in (11, 9, 3, 1, 7)}
    imported = set(PickingOrder.objects.filter(source_store=store).values_list("store_order_id", flat=True))
    # Complete: one more import, uninterrupted, finds nothing left to import.
    server.faults.configure(type(server.faults.config)())
    again = run_job(store, Job.IMPORT_ORDERS)
    after = set(PickingOrder.objects.filter(source_store=store).values_list("store_order_id", flat=True))
    print(f"\nOrder import: {killed} SIGKILLs, reruns started after {min(delays):.1f}-{max(delays):.1f} s, "
          f"{len(imported)} picking orders for {len(wanted)} store orders to import, {len(duplicates)} duplicates")
    assert killed == KILLS and max(delays) < RERUN_LIMIT_SECONDS
    assert duplicates == []
    assert imported <= wanted and len(imported) > 0
    assert again.status == SyncRun.Status.SUCCEEDED and after == imported
