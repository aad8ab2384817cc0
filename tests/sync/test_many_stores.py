"""Many stores on Celery (issue 12): four stores, two on one division and two on divisions of their own,
each a sandbox store over real HTTP with its own store hash (so its own request budget), on PostgreSQL and
Redis, with real Celery workers started as subprocesses, one per queue (eod with 4 processes, cycle,
imports and the default queue).

Round 1: the four End of Days fall due in the same minute and are queued together by their beat task
name, as beat does (the settings' router sends them to the eod queue). Round 2: after shoppers ordered and
staff adjusted stock, the four are queued together again from the button (a run's task, routed by its job
kind): their durations are each store's normal time. Round 3: the same, while one store answers a 429
storm (scripted: several requests answered 429 with a 2 s reset): the three others finish before it and
within their normal time plus a margin. After each round every store's levels equal the stock truth,
computed by tests/sync/truth.py from the sandbox's records and the raw stock rows. The two stores of one
division order for the same customer ids and keep separate customers. Every worker's log shows only the
tasks of its own queue.

About a minute on a 2-core machine."""
import os
import random
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from plugin.bigcommerce.sandbox.faults import FaultConfig
from plugin.bigcommerce.sandbox.state import sku_key
from plugin.configuration.models import BasicConfiguration
from plugin.configuration.schedules import EOD_EXPORT_TASK
from plugin.intellitrack import services as it
from plugin.intellitrack.models import Customer, PickingOrder
from plugin.sync.models import StoreItemLink, SyncRun
from plugin.sync.services import job_trigger
from tests.bigcommerce.sandbox_fixtures import SANDBOX_TOKEN
from tests.intellitrack.factories import DivisionFactory, LocationFactory, SiteFactory, UOMFactory
from tests.sync.conftest import run_job, store_level
from tests.sync.factories import StoreFactory
from tests.sync.truth import shipped_before_go_live, truth_levels

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

Job, Status = SyncRun.Job, SyncRun.Status
ROOT = Path(__file__).resolve().parents[2]
QUEUES = ("eod", "cycle", "imports", "celery")
PRODUCTS = 60
ORDERS = 40
STORM_RESET_MS = 2000
# Scripted 429s for the stormed store: each request path answered 429 this many times in a row (fewer than
# the client's five waits per request, so the run still ends well), each with a STORM_RESET_MS reset.
STORM_RULES = (
    {"method": "GET", "path": "/v3/settings/inventory", "status": 429, "times": 3},
    {"method": "GET", "path": "/v2/orders", "status": 429, "times": 3},
)
STORM_SECONDS = sum(rule["times"] for rule in STORM_RULES) * STORM_RESET_MS / 1000
WAIT_SECONDS = 120


# --- stores ----------------------------------------------------------------------------------------------


def store_on_division(server, *, name: str, division: str):
    """A store whose Basic Configuration points at `division` (created once), its site S1, location L1 and
    unit EA, with auto sync on: End of Day needs it."""
    division_row = DivisionFactory(code=division)
    site = SiteFactory(division=division_row, code="S1")
    location = LocationFactory(site=site, code=f"{division}-L1")
    uom = UOMFactory(division=division_row, code="EA")
    store = StoreFactory(name=name, api_base_url=server.base_url, store_hash=server.store_hash,
                         access_token=SANDBOX_TOKEN)
    BasicConfiguration.objects.update_or_create(store=store, defaults=dict(
        default_division=division_row, default_site=site, default_location=location, default_uom=uom,
        allow_writes_to_bigcommerce=True, sync_enabled=True, auto_sync_enabled=True,
    ))
    store.refresh_from_db()
    return store


def prefix_skus(state, prefix: str) -> None:
    """A second catalogue for the same division: its SKUs (so item numbers) differ from the first one's."""
    with state.lock:
        for product in state.products.values():
            product.sku = prefix + product.sku if product.sku else product.sku
        for variant in state.variants.values():
            variant.sku = prefix + variant.sku if variant.sku else variant.sku
        state.sku_index = {}
        for product in state.products.values():
            if product.sku:
                state.sku_index.setdefault(sku_key(product.sku), -product.id)
        for variant in state.variants.values():
            if variant.sku:
                state.sku_index[sku_key(variant.sku)] = variant.id


def stocked_units(state, count: int, rng: random.Random) -> list[dict]:
    """Order items for units the store has at least 5 of at location 1."""
    units = []
    for product in state.products.values():
        if product.inventory_tracking == "none":
            continue
        keys = state.stock_keys(product)
        for key in keys:
            if state.on_hand(key, 1) >= 5:
                units.append({"variant_id": (product.base_variant_id or product.variant_ids[0]) if key < 0 else key})
    return rng.sample(units, min(count, len(units)))


def place_orders(state, count: int, rng: random.Random, customer_ids: list[int]) -> None:
    for index in range(count):
        items = [dict(unit, quantity=rng.randint(1, 2)) for unit in stocked_units(state, rng.choice((1, 2)), rng)]
        state.place_order(items=items, status_id=11, customer_id=customer_ids[index % len(customer_ids)])


def staff_adjust(store, rng: random.Random, count: int = 5) -> None:
    config = store.basic_configuration
    for link in rng.sample(list(StoreItemLink.objects.filter(store=store).select_related("item")), count):
        it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                            quantity_delta=rng.choice((1, 2, 3, 7)), reason="cycle count")


def assert_levels_exact(store, server, base) -> None:
    truth = truth_levels(store, server.state, base=base)
    links = list(StoreItemLink.objects.filter(store=store))
    assert links and len(truth) == len(links)
    wrong = {link.sku: (store_level(server.state, link), truth[link.id]) for link in links
             if store_level(server.state, link) != truth[link.id]}
    assert not wrong, f"{store.name}: (store, truth) differ for {wrong}"


# --- workers ---------------------------------------------------------------------------------------------


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Workers:
    """One `celery worker -Q <queue>` per queue, each in its own process group."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        env = dict(
            os.environ, DJANGO_SETTINGS_MODULE="itbc_portal.settings.local", DJANGO_DEBUG="false",
            DATABASE_URL=_database_url(), REDIS_URL=settings.REDIS_URL,
            ITBC_ENCRYPTION_KEYS=",".join(settings.ITBC_ENCRYPTION_KEYS),
            ITBC_API_URL_ALLOWLIST="http://127.0.0.1", LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1",
        )
        for queue in QUEUES:
            pool = ["--pool", "prefork", "--concurrency", "4"] if queue == "eod" else ["--pool", "solo"]
            with open(self.log(queue), "w") as out:
                self.processes[queue] = subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "itbc_portal", "worker", "-Q", queue, *pool,
                     "--loglevel", "INFO", "--without-gossip", "--without-mingle",
                     "--hostname", f"many-{queue}-{os.getpid()}@%h"],
                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if all(" ready." in self.log(queue).read_text() for queue in QUEUES):
                return
            dead = [queue for queue, process in self.processes.items() if process.poll() is not None]
            assert not dead, f"worker {dead} exited:\n{self.tail()}"
            time.sleep(0.3)
        raise AssertionError(f"workers not ready:\n{self.tail()}")

    def log(self, queue: str) -> Path:
        return self.folder / f"worker-{queue}.log"

    def received(self, queue: str) -> list[str]:
        return re.findall(r"Task ([\w.]+)\[[^\]]+\] received", self.log(queue).read_text())

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def tail(self) -> str:
        return "\n".join(f"--- {queue}\n" + "\n".join(self.log(queue).read_text().splitlines()[-25:])
                         for queue in QUEUES if self.log(queue).exists())


def _broker_purge() -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(*QUEUES, "unacked", "unacked_index", "unacked_mutex")


@contextmanager
def workers_broker():
    """A Celery app on the broker the workers read (this test process's own app uses an in-memory one),
    with the project's router, made the current app so that run_enqueue publishes through it."""
    from celery import Celery, current_app

    previous = current_app._get_current_object()
    sender = Celery("many-stores", broker=settings.REDIS_URL, set_as_current=False)
    sender.conf.task_routes = settings.CELERY_TASK_ROUTES
    sender.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE
    sender.set_current()
    try:
        yield sender
    finally:
        previous.set_current()
        sender.close()


def wait_finished(runs_query, count: int, workers: Workers) -> list[SyncRun]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        runs = list(runs_query.order_by("store_id"))
        if len(runs) == count and all(run.status in SyncRun.FINISHED_STATUSES for run in runs):
            return runs
        time.sleep(0.25)
    raise AssertionError(f"runs not finished: {[(r.store_id, r.status) for r in runs_query]}\n{workers.tail()}")


def seconds(run: SyncRun) -> float:
    return (run.finished_at - run.started_at).total_seconds()


# --- the test --------------------------------------------------------------------------------------------


def test_many_stores_end_of_day_together_and_a_429_storm_delays_only_its_store(make_sandbox, tmp_path):
    rng = random.Random(12)
    hashes = {"north": "north001", "south": "south002", "east": "east0003", "west": "west0004"}
    servers = {name: make_sandbox(products=PRODUCTS, orders=0 if name == "south" else ORDERS, seed=index + 3,
                                  plan="unlimited", store_hash=hashes[name])
               for index, name in enumerate(hashes)}
    # north and south feed division D1; east and west have D2 and D3. south's catalogue is its own, its
    # orders have their own ids, and its shoppers share north's customer ids.
    prefix_skus(servers["south"].state, "S-")
    servers["south"].state.next_ids["order"] = 50_000
    north_customers = sorted({order.customer_id for order in servers["north"].state.orders.values()
                              if order.status_id == 11 and order.customer_id})
    place_orders(servers["south"].state, 12, rng, north_customers)
    divisions = {"north": "D1", "south": "D1", "east": "D2", "west": "D3"}
    stores = {name: store_on_division(servers[name], name=name, division=divisions[name]) for name in hashes}
    base = {}
    for name, store in stores.items():
        assert run_job(store, Job.IMPORT_PRODUCTS).status in (Status.SUCCEEDED, Status.PARTIAL)
        base[name] = shipped_before_go_live(servers[name].state)
        assert run_job(store, Job.IMPORT_INVENTORY).status in (Status.SUCCEEDED, Status.PARTIAL)

    _broker_purge()
    workers = Workers(tmp_path)
    workers.start()
    try:
        # Round 1: four End of Days due in the same minute, queued together by beat's task name.
        slot = timezone.now().astimezone(UTC).replace(second=0, microsecond=0)
        BasicConfiguration.objects.filter(store__in=stores.values()).update(
            eod_enabled=True, eod_time=slot.time(), eod_timezone="UTC",
            updated_at=slot - timedelta(days=1))
        with workers_broker() as broker:
            for store in stores.values():
                broker.send_task(EOD_EXPORT_TASK, args=[store.pk])  # by name, as beat does
        first = wait_finished(SyncRun.objects.filter(job=Job.EOD_EXPORT, scheduled_for=slot), 4, workers)
        assert [run.status for run in first] == [Status.SUCCEEDED] * 4, [(r.store.name, r.error) for r in first]
        assert max((run.started_at - slot).total_seconds() for run in first) < 60
        for name, store in stores.items():
            assert_levels_exact(store, servers[name], base[name])

        # Two stores, one division, the same customer ids: each store's orders have its own customers.
        shared = (set(Customer.objects.filter(source_store=stores["north"]).values_list("account_number", flat=True))
                  & set(Customer.objects.filter(source_store=stores["south"]).values_list("account_number", flat=True)))
        assert shared - {""}, "the two stores' shoppers share customer ids"
        assert not PickingOrder.objects.exclude(customer__source_store_id=F("source_store_id")).exists()

        # Round 2: shoppers and staff, then the four queued together from the button: each one's normal time.
        def day_goes_on():
            for name, store in stores.items():
                place_orders(servers[name].state, 4, rng, north_customers or [0])
                staff_adjust(store, rng)

        def queue_all() -> list[int]:
            with workers_broker(), transaction.atomic():  # queued when the transaction commits
                runs = [job_trigger(store=store, job=Job.EOD_EXPORT, trigger=SyncRun.Trigger.MANUAL)
                        for store in stores.values()]
            return [run.pk for run in runs]

        day_goes_on()
        calm = {run.store_id: run for run in wait_finished(SyncRun.objects.filter(pk__in=queue_all()), 4, workers)}
        assert {run.status for run in calm.values()} == {Status.SUCCEEDED}
        for name, store in stores.items():
            assert_levels_exact(store, servers[name], base[name])

        # Round 3: a 429 storm on east only.
        day_goes_on()
        stormed = servers["east"]
        stormed.faults.configure(FaultConfig(storm_reset_ms=STORM_RESET_MS, rules=STORM_RULES))
        storm = {run.store_id: run for run in wait_finished(SyncRun.objects.filter(pk__in=queue_all()), 4, workers)}
        assert {run.status for run in storm.values()} == {Status.SUCCEEDED}, [r.error for r in storm.values()]
        assert stormed.faults.rules_used() == [rule["times"] for rule in STORM_RULES]
        east = storm[stores["east"].pk]
        assert seconds(east) >= STORM_SECONDS
        for name in ("north", "south", "west"):
            run, normal = storm[stores[name].pk], calm[stores[name].pk]
            assert run.finished_at < east.finished_at, f"{name} finished after the stormed store"
            assert seconds(run) <= 1.5 * seconds(normal) + 4, (name, seconds(run), seconds(normal))
            assert (run.started_at - run.created_at).total_seconds() < 5  # none waited for a free process
        for name, store in stores.items():
            assert_levels_exact(store, servers[name], base[name])
    finally:
        workers.stop()

    # Every worker took only its own queue's tasks (the default one: the catch-up check at start).
    assert set(workers.received("eod")) == {EOD_EXPORT_TASK, "itbc.sync.run_job"}
    assert set(workers.received("celery")) <= {"itbc.sync.eod_catch_up"}
    assert workers.received("cycle") == [] and workers.received("imports") == []
