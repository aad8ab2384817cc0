"""A simulated day over real HTTP against the sandbox store, on PostgreSQL and Redis, with a real Celery
worker and its embedded beat in another process (issue 9, "Tests").

Shoppers place 500 orders through the sandbox (awaiting fulfillment 11, awaiting payment 7, pending 1;
some paid or cancelled later) while staff pick (some picks with a tracking number and a carrier, "UPS"
known to the store, "Acme Freight" not), adjust, receive and move stock in IntelliTrack, and pick a
walk-in order. Beat runs the store's auto sync cycle (`Job.AUTO_SYNC`): Save Configuration's schedule
(`store_schedules_sync`) with its interval shortened to 5 seconds (the form only offers minutes). The
worker (`celery -A itbc_portal worker -B --pool solo`, its own process group, the test database and Redis
db of this test run) is killed once with SIGKILL while the store holds a shipment whose answer has not come
back yet, and started again; the run records and Redis locks it leaves behind go stale after 5 s
(ITBC_RUN_STALE_SECONDS / ITBC_RUN_LOCK_TTL_SECONDS of the worker). Then the store is down: first its
server is stopped (connection refused: the listening socket is closed and idle keep-alive connections are
cut; a new server on the same port with the same store records comes back), then every API request
answers 503 for a stretch. After the outage one shipment POST answers 503 and one is dropped after the
store took it. Then End of Day, queued to the worker by the task name, as beat would.

Everything is checked from the sandbox's own records and the test's own account: the store level of every
linked item equals the stock-truth model (tests/sync/truth.py, with the test's own account of physical
stock) at three quiet points, each after a fully successful cycle that started after the last change (less
only the adjustments whose request got no usable answer, which the End of Day heals) and after the End of
Day exactly; each store order line's shipped quantity equals what IntelliTrack picked; no store order has
two picking orders and no pick is shipped twice (every store shipment is one sent outbox row, every pick of
a store order is in exactly one); the outbox holds nothing unsent; every adjustment the test made inside
the scope reached the store once, or sits in an uncertain batch the End of Day superseded; every order
picked in full is Shipped in the store, one picked in part Partially Shipped.

Counts: 500 orders, 60 stocked units; about 2 minutes on a 2-core machine."""
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from plugin.bigcommerce.sandbox import SandboxServer, generate
from plugin.bigcommerce.sandbox.server import _Handler
from plugin.configuration.schedules import auto_sync_periodic_task_name
from plugin.configuration.services import store_schedules_sync
from plugin.intellitrack import services as it
from plugin.intellitrack.models import Carrier, Location, Pick, PickingOrder, PickingOrderLine
from plugin.sync.models import AdjustmentBatch, ShipmentOutbox, StoreItemLink, SyncRun
from plugin.sync.presenters import ERROR_MEANINGS
from plugin.sync.services import job_trigger
from tests.bigcommerce.sandbox_fixtures import SANDBOX_STORE_HASH, SANDBOX_TOKEN
from tests.intellitrack.factories import PickingOrderFactory, PickingOrderLineFactory
from tests.sync.conftest import run_job, store_level
from tests.sync.factories import configured_store
from tests.sync.test_stock_truth import Warehouse
from tests.sync.truth import physical_in_scope, truth_levels

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

Job, Status = SyncRun.Job, SyncRun.Status
ROOT = Path(__file__).resolve().parents[2]
ORDERS = 500
UNITS = 60
STOCK = 400  # store level of each stocked unit at go-live: no order or adjustment can take it near 0
CYCLE_SECONDS = 5
STALE_SECONDS = 5
SHIPMENT_POST = r"^/v2/orders/\d+/shipments$"
RELATIVE = "/v3/inventory/adjustments/relative"
CARRIERS = ("UPS", "Acme Freight")  # known to the store, unknown


# --- the store: a sandbox that can go down (connection refused) and come back on the same port ---------


class _TrackedHandler(_Handler):
    """The sandbox's handler, known to its server, so that stopping the server also ends the keep-alive
    connections (idle ones at once, busy ones after their answer): new requests are refused."""

    def setup(self):
        super().setup()
        self.idle = True
        with self.server.live_lock:
            self.server.live.add(self)

    def parse_request(self):
        self.idle = False
        return super().parse_request()

    def handle_one_request(self):
        super().handle_one_request()
        self.idle = True
        if self.server.going_down:
            self.close_connection = True

    def finish(self):
        with self.server.live_lock:
            self.server.live.discard(self)
        super().finish()


class Store:
    def __init__(self, state):
        self.state = state
        self.server = self._serve(0)
        self.port = self.server.port
        self.base_url = self.server.base_url

    def _serve(self, port: int) -> SandboxServer:
        server = SandboxServer("127.0.0.1", port, self.state, token=SANDBOX_TOKEN, store_hash=SANDBOX_STORE_HASH,
                               plan="unlimited")
        httpd = server._httpd
        httpd.RequestHandlerClass = _TrackedHandler
        httpd.live, httpd.live_lock, httpd.going_down = set(), threading.Lock(), False
        # an answer the killed worker or a cut connection never reads is expected here, not an error to print
        httpd.handle_error = lambda request, client_address: None
        return server.start()

    def go_down(self) -> None:
        httpd = self.server._httpd
        httpd.going_down = True
        self.server.stop()  # the listening socket is closed: new connections are refused
        with httpd.live_lock:
            idle = [handler for handler in httpd.live if handler.idle]
        for handler in idle:
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.server = None

    def come_back(self) -> None:
        self.server = self._serve(self.port)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def rules_used(self) -> list[int]:
        return self.server.faults.rules_used()


# --- the worker with embedded beat, in its own process group -------------------------------------------


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    def __init__(self, folder: Path):
        self.folder = folder
        self.process = None
        self.started = 0

    def start(self) -> None:
        self.started += 1
        env = dict(
            os.environ, DJANGO_SETTINGS_MODULE="itbc_portal.settings.local", DJANGO_DEBUG="false",
            DATABASE_URL=_database_url(), REDIS_URL=settings.REDIS_URL,
            ITBC_ENCRYPTION_KEYS=",".join(settings.ITBC_ENCRYPTION_KEYS),
            ITBC_RUN_STALE_SECONDS=str(STALE_SECONDS), ITBC_RUN_LOCK_TTL_SECONDS=str(STALE_SECONDS),
            ITBC_API_URL_ALLOWLIST="http://127.0.0.1", LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1",
        )
        self.log = self.folder / f"worker-{self.started}.log"
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "itbc_portal", "worker", "-B", "--pool", "solo",
                 "--loglevel", "WARNING", "--hostname", f"simulated-day-{os.getpid()}-{self.started}@%h",
                 "--schedule", str(self.folder / f"beat-{self.started}")],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the worker and its beat: no cleanup at all."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if not self.alive():
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def tail(self) -> str:
        return "\n".join(self.log.read_text().splitlines()[-40:]) if self.started else ""


def _broker_purge() -> None:
    """Messages a crashed earlier run of this test left in this run's broker database."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete("celery", "unacked", "unacked_index", "unacked_mutex")


def _send_task(name: str, *args) -> None:
    """Queue a task by name on the worker's broker, as beat does."""
    from celery import Celery

    sender = Celery("simulated-day", broker=settings.REDIS_URL, set_as_current=False)
    try:
        sender.send_task(name, args=list(args))
    finally:
        sender.close()


# --- the day ---------------------------------------------------------------------------------------------


class Day:
    """Shoppers and staff, and the test's own account of what they did."""

    def __init__(self, store, shop: Store, units: list[tuple[int, int]], rng: random.Random):
        self.store, self.shop, self.state, self.rng = store, shop, shop.state, rng
        config = store.basic_configuration
        self.config = config
        self.l1, self.ea = config.default_location, config.default_uom
        self.l2, self.l9 = Location.objects.get(code="L2"), Location.objects.get(code="L9")
        self.warehouse = Warehouse(self.state)
        self.units = units  # (variant id to order, stock key)
        links = {self.warehouse.key_of(link): link for link in StoreItemLink.objects.filter(store=store)}
        self.item_of = {key: links[key].item for _variant, key in units}
        self.key_of_item = {item.pk: key for key, item in self.item_of.items()}
        self.carriers = {name: Carrier.objects.get_or_create(division=config.default_division, name=name)[0]
                         for name in CARRIERS}
        self.made = Counter()  # units the test changed inside the scope that the store must learn of
        self.at_l9 = Counter()  # what the test put outside the scope, per key
        self.placed: list[int] = []
        self.awaiting_payment: list[int] = []
        self.pending: list[int] = []
        self.picks = 0

    # shoppers
    def place_orders(self, count: int, *, over_http: bool = True) -> None:
        for _ in range(count):
            if len(self.placed) >= ORDERS:
                return
            roll = self.rng.random()
            status_id = 11 if roll < 0.76 else (7 if roll < 0.91 else 1)
            chosen = self.rng.sample(self.units, self.rng.choice((1, 1, 2, 2, 3)))
            items = [{"variant_id": variant_id, "quantity": self.rng.randint(1, 3)} for variant_id, _key in chosen]
            if over_http and len(self.placed) % 5 == 0:
                answer = requests.post(f"{self.shop.base_url}/_sandbox/orders",
                                       json={"items": items, "status_id": status_id}, timeout=10)
                assert answer.status_code == 201, answer.text
                order_id = answer.json()["id"]
            else:
                order_id = self.state.place_order(items=items, status_id=status_id).id
            self.placed.append(order_id)
            {7: self.awaiting_payment, 1: self.pending}.get(status_id, []).append(order_id)

    def payments_and_cancellations(self) -> None:
        """Some awaiting-payment orders are paid (then imported); some pending ones are cancelled (restocked)."""
        if self.awaiting_payment and self.rng.random() < 0.7:
            self.state.set_order_status(self.awaiting_payment.pop(0), 11)
        if self.pending and self.rng.random() < 0.4:
            self.state.set_order_status(self.pending.pop(0), 5)

    # staff
    def pick_some(self, count: int) -> int:
        lines = list(PickingOrderLine.objects.filter(
            order__source_store=self.store, order__status=PickingOrder.Status.OPEN,
            picked_qty__lt=F("ordered_qty")).select_related("order").order_by("id")[:200])
        picked = 0
        for line in self.rng.sample(lines, min(count, len(lines))):
            remaining = line.ordered_qty - line.picked_qty
            quantity = remaining if remaining == 1 or self.rng.random() < 0.8 else self.rng.randint(1, remaining - 1)
            roll = self.rng.random()
            carrier = self.carriers["UPS"] if roll < 0.3 else (self.carriers["Acme Freight"] if roll < 0.45 else None)
            tracking = f"TRK{line.pk:06d}{self.picks:05d}" if carrier is not None or roll < 0.55 else ""
            it.order_pick(line=line, quantity=quantity, location=self.l1, tracking_number=tracking, carrier=carrier)
            self.warehouse.shelf[self.key_of_item[line.item_id]] -= quantity
            self.picks += 1
            picked += 1
        return picked

    def stock_work(self) -> None:
        """One round of adjusting, receiving and moving, inside and across the scope's edge (S1 = L1 + L2)."""
        rng = self.rng
        _variant, key = rng.choice(self.units)
        item = self.item_of[key]
        kind = rng.choice(("adjust", "adjust", "receive", "move_inside", "move_out", "move_in", "receive_outside"))
        if kind == "adjust":
            delta = rng.choice((-3, -2, -1, 1, 2, 4))
            it.inventory_adjust(item=item, location=self.l1, uom=self.ea, quantity_delta=delta, reason="cycle count")
            self._in_scope(key, delta)
        elif kind == "receive":
            quantity = rng.randint(2, 12)
            it.inventory_receive(item=item, location=self.l2, uom=self.ea, quantity=quantity, reference="PO-DAY")
            self._in_scope(key, quantity)
        elif kind == "move_inside":  # L1 -> L2: the scope keeps it, the store sees nothing
            it.inventory_move(item=item, uom=self.ea, from_location=self.l1, to_location=self.l2, quantity=2)
        elif kind == "move_out":  # L1 -> L9, another site: it leaves the scope
            it.inventory_move(item=item, uom=self.ea, from_location=self.l1, to_location=self.l9, quantity=3)
            self.at_l9[key] += 3
            self._in_scope(key, -3)
        elif kind == "move_in" and self.at_l9[key]:
            quantity = self.at_l9[key]
            it.inventory_move(item=item, uom=self.ea, from_location=self.l9, to_location=self.l1, quantity=quantity)
            self.at_l9[key] = 0
            self._in_scope(key, quantity)
        else:  # received at L9: outside the scope
            it.inventory_receive(item=item, location=self.l9, uom=self.ea, quantity=5)
            self.at_l9[key] += 5

    def walk_in_pick(self) -> None:
        """A pick of an order that is not the store's: the store must learn of it as an adjustment."""
        _variant, key = self.rng.choice(self.units)
        order = PickingOrderFactory(division=self.config.default_division)
        line = PickingOrderLineFactory(order=order, item=self.item_of[key], ordered_qty=2)
        it.order_pick(line=line, quantity=2, location=self.l1)
        self._in_scope(key, -2)

    def _in_scope(self, key: int, delta: int) -> None:
        self.warehouse.shelf[key] += delta
        self.made[key] += delta

    def busy(self, seconds: float, *, orders_per_round: int = 4, over_http: bool = True) -> None:
        """Shoppers and staff at work for about `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.place_orders(orders_per_round, over_http=over_http)
            self.payments_and_cancellations()
            self.pick_some(4)
            self.stock_work()
            time.sleep(0.3)


# --- what the store must show ----------------------------------------------------------------------------


class StoreLog:
    """The relative adjustments the store applied (its own record, by transaction id)."""

    def __init__(self, state):
        self.applied: dict[str, Counter] = {}
        original = state.adjust_inventory

        def recording(items, *, relative):
            transaction_id = original(items, relative=relative)
            if relative:
                self.applied[transaction_id] = Counter({state.resolve_item(item)[1]: item["quantity"]
                                                        for item in items if item.get("location_id") == 1})
            return transaction_id

        state.adjust_inventory = recording


def _batch_keys(batch: AdjustmentBatch, key_of_link: dict) -> Counter:
    return Counter({key_of_link[int(link_id)]: qty for link_id, qty in batch.deltas.items() if qty})


def adjustments_accounted(day: Day, log: StoreLog) -> Counter:
    """Every adjustment the test made inside the scope reached the store once, or is in an uncertain batch:
    returns what the uncertain batches hold that the store never applied (the End of Day heals it)."""
    key_of_link = {link.id: day.warehouse.key_of(link) for link in StoreItemLink.objects.filter(store=day.store)}
    batches = list(AdjustmentBatch.objects.filter(store=day.store).order_by("first_ledger_id"))
    for before, after in zip(batches, batches[1:], strict=False):
        assert after.first_ledger_id > before.last_ledger_id, "two batches cover the same ledger rows"
    assert not [b for b in batches if b.state == AdjustmentBatch.State.REFUSED or b.refused]
    unclaimed = dict(log.applied)
    sent, unapplied = Counter(), Counter()
    for batch in batches:
        deltas = _batch_keys(batch, key_of_link)
        if batch.state == AdjustmentBatch.State.SENT:
            assert unclaimed.pop(batch.store_transaction_id, None) == deltas, f"batch {batch.pk} is not what the store applied"
            sent.update(deltas)
    for batch in batches:  # uncertain, or left "sending" by a worker killed while its request was out
        if batch.state not in AdjustmentBatch.UNKNOWN_STATES:
            continue
        deltas = _batch_keys(batch, key_of_link)
        applied = next((tid for tid, applied in unclaimed.items() if applied == deltas), None)
        if applied is not None:
            unclaimed.pop(applied)
        else:
            unapplied.update(deltas)
        sent.update(deltas)
    assert unclaimed == {}, "the store applied adjustments no batch records"
    unapplied = nonzero(unapplied)
    assert nonzero(sent) == nonzero(day.made), "what went to the store (or is uncertain) is not what the test changed"
    return unapplied


def nonzero(counts) -> Counter:
    return Counter({key: value for key, value in counts.items() if value})


def level_mismatches(day: Day, *, unapplied: Counter | None = None) -> dict:
    unapplied = unapplied or Counter()
    store, state, warehouse = day.store, day.state, day.warehouse
    physical = warehouse.physical(store)
    # the test's own account agrees with IntelliTrack's stock rows for the stocked units
    recorded = physical_in_scope(store)
    assert {key: physical[item.pk] for key, item in day.item_of.items()} == \
        {key: recorded[item.pk] for key, item in day.item_of.items()}
    expected = truth_levels(store, state, base=warehouse.base, physical=physical)
    found = {}
    for link in StoreItemLink.objects.filter(store=store):
        want = expected[link.id] - unapplied.get(warehouse.key_of(link), 0)
        if store_level(state, link) != want:
            found[link.sku] = (store_level(state, link), want)
    return found


# --- waiting for the worker --------------------------------------------------------------------------------


def wait_for(condition, *, timeout: float, what: str, worker: Worker):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        assert worker.alive(), f"the worker died:\n{worker.tail()}"
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}\n{worker.tail()}")


def cycle_succeeded_after(store, moment, worker: Worker, *, timeout: float = 45) -> SyncRun:
    """A fully successful auto sync cycle that started after `moment` (it saw everything done before)."""
    return wait_for(lambda: SyncRun.objects.filter(store=store, job=Job.AUTO_SYNC, status=Status.SUCCEEDED,
                                                   started_at__gt=moment).order_by("started_at").first(),
                    timeout=timeout, what=f"a successful auto sync cycle started after {moment}", worker=worker)


# --- the test ----------------------------------------------------------------------------------------------


def _stocked_units(state, count: int) -> list[tuple[int, int]]:
    """(variant id to order, stock key) of `count` tracked units, two thirds tracked by variant."""
    by_variant, by_product = [], []
    for product in state.products.values():
        if product.inventory_tracking == "variant":
            by_variant += [(variant_id, variant_id) for variant_id in product.variant_ids]
        elif product.inventory_tracking == "product" and product.variant_ids:
            by_product.append((product.variant_ids[0], -product.id))
    wanted_product = count // 3
    units = by_variant[:count - wanted_product] + by_product[:wanted_product]
    assert len(units) == count, "not enough tracked units in the generated store"
    return units


def go_live(tmp_path):
    state = generate(products=120, orders=0, seed=7, locations=2)
    units = _stocked_units(state, UNITS)
    for _variant, key in units:  # staff stocked the day's lines before go-live
        state.set_stock(quantity=STOCK, **({"product_id": -key} if key < 0 else {"variant_id": key}))
    shop = Store(state)
    store = configured_store(name="simulated-day", base_url=shop.base_url, store_hash=SANDBOX_STORE_HASH,
                             token=SANDBOX_TOKEN, order_statuses_to_import=[11], fulfillment_mode="per_pick",
                             auto_sync_enabled=True)
    shelf = dict(Warehouse(state).shelf)  # the account of physical stock starts at go-live
    boot = run_job(store, Job.BOOTSTRAP)
    assert boot.status == Status.SUCCEEDED, boot.error
    day = Day(store, shop, units, random.Random(20260409))
    assert dict(day.warehouse.shelf) == shelf  # go-live read the store, it changed nothing
    # Save Configuration's schedule, every 5 s instead of the form's minutes
    schedule = store_schedules_sync(configuration=store.basic_configuration)["auto_sync"]
    assert schedule is not None and schedule.name == auto_sync_periodic_task_name(store.pk)
    schedule.interval = IntervalSchedule.objects.get_or_create(every=CYCLE_SECONDS, period=IntervalSchedule.SECONDS)[0]
    schedule.save()
    assert PeriodicTask.objects.get(name=schedule.name).interval.every == CYCLE_SECONDS
    return day


def test_a_simulated_day_ends_with_every_level_true_every_pick_shipped_once(tmp_path):
    started = time.monotonic()
    _broker_purge()
    day = go_live(tmp_path)
    store, shop, state = day.store, day.shop, day.state
    log = StoreLog(state)
    worker = Worker(tmp_path)
    try:
        worker.start()
        _run_the_day(day, shop, worker, log)
    finally:
        worker.stop()
        shop.stop()
    _check_the_end(day, store, state)
    assert time.monotonic() - started < 240


def _run_the_day(day: Day, shop: Store, worker: Worker, log: StoreLog) -> None:
    store = day.store

    # morning: orders come in, staff pick and count; the first quiet point
    day.busy(14)
    cycle_succeeded_after(store, timezone.now(), worker)
    day.pick_some(30)  # what the last cycle imported
    quiet = timezone.now()
    cycle_succeeded_after(store, quiet, worker)
    assert adjustments_accounted(day, log) == Counter()
    assert level_mismatches(day) == {}

    # the worker is killed while the store holds a shipment it has not answered yet
    day.busy(6)
    shop.server.add_fault_rule(method="POST", path=SHIPMENT_POST, delay_ms=1500, times=1)
    day.pick_some(25)
    wait_for(lambda: shop.rules_used()[0] >= 1, timeout=60, what="a shipment POST held by the store", worker=worker)
    time.sleep(0.3)
    worker.kill()
    killed_at = timezone.now()
    shop.server.faults.clear_rules()
    dead = SyncRun.objects.filter(store=store, job=Job.AUTO_SYNC, status=Status.RUNNING).first()
    assert dead is not None  # the killed cycle stays "running" until it goes stale
    assert ShipmentOutbox.objects.filter(store=store, state=ShipmentOutbox.State.CHECKING).exists()
    day.busy(3)
    worker.start()
    day.busy(6)
    quiet = timezone.now()
    cycle_succeeded_after(store, quiet, worker, timeout=60)
    dead.refresh_from_db()
    assert dead.status == Status.STALE, (dead.status, dead.error)
    assert adjustments_accounted(day, log) == Counter()
    assert level_mismatches(day) == {}
    assert killed_at < quiet

    # the store goes down: connection refused, then 503 to every request; shoppers keep buying meanwhile
    day.busy(2)
    down_at = timezone.now()
    shop.go_down()
    refused = lambda: SyncRun.objects.filter(  # noqa: E731
        store=store, started_at__gt=down_at, status=Status.FAILED, error__contains=ERROR_MEANINGS["ConnectionFailedError"]).exists()
    deadline = time.monotonic() + 40
    while not refused() and time.monotonic() < deadline:
        day.busy(1, over_http=False)
    assert refused(), f"no run failed with the connection refused\n{worker.tail()}"
    shop.come_back()
    shop.server.add_fault_rule(method="POST", path=RELATIVE, status=503, times=None)
    shop.server.add_fault_rule(path="/v", status=503, times=None)
    deadline = time.monotonic() + 40
    while shop.rules_used()[0] < 1 and time.monotonic() < deadline:
        day.busy(1)
    assert shop.rules_used()[0] >= 1, f"no adjustment request met the 503s\n{worker.tail()}"
    shop.server.faults.clear_rules()
    # back up; one shipment answered 503 (nothing taken), then one taken with its answer lost
    shop.server.add_fault_rule(method="POST", path=SHIPMENT_POST, status=503, times=1)
    while shop.rules_used()[0] < 1 or len(day.placed) < ORDERS:
        day.busy(1, orders_per_round=8)
        if shop.rules_used() == [1]:
            shop.server.add_fault_rule(method="POST", path=SHIPMENT_POST, drop=True, times=1)
    if len(shop.rules_used()) == 1:
        shop.server.add_fault_rule(method="POST", path=SHIPMENT_POST, drop=True, times=1)
    wait_for(lambda: shop.rules_used() == [1, 1] or day.pick_some(2) < 0, timeout=60,
             what="a shipment whose answer is lost", worker=worker)
    cycle_succeeded_after(store, timezone.now(), worker, timeout=60)
    day.pick_some(40)
    day.walk_in_pick()
    day.stock_work()
    quiet = timezone.now()
    cycle_succeeded_after(store, quiet, worker, timeout=60)
    assert shop.rules_used() == [1, 1]
    unapplied = adjustments_accounted(day, log)
    assert unapplied, "the 503s left no adjustment for the End of Day to heal"
    assert level_mismatches(day, unapplied=unapplied) == {}

    # End of Day, queued to the worker by the task's name as beat does
    eod = job_trigger(store=store, job=Job.EOD_EXPORT, trigger=SyncRun.Trigger.SCHEDULE, enqueue=False)
    _send_task("itbc.sync.run_job", eod.pk)
    eod = wait_for(lambda: SyncRun.objects.filter(pk=eod.pk, status__in=[Status.SUCCEEDED, Status.PARTIAL,
                                                                          Status.FAILED]).first(),
                   timeout=60, what="the End of Day", worker=worker)
    assert eod.status == Status.SUCCEEDED, eod.error
    assert level_mismatches(day) == {}
    uncertain = AdjustmentBatch.objects.filter(store=store, state__in=AdjustmentBatch.UNKNOWN_STATES)
    assert uncertain.exists() and not uncertain.filter(superseded_by=None).exists()
    cycle_succeeded_after(store, eod.finished_at, worker)
    assert level_mismatches(day) == {}


def _check_the_end(day: Day, store, state) -> None:
    assert len(day.placed) == ORDERS
    runs = SyncRun.objects.filter(store=store, job=Job.AUTO_SYNC)
    assert runs.filter(status=Status.STALE).count() == 1
    assert runs.filter(status=Status.SUCCEEDED).count() >= 6

    # one picking order per store order, and every order awaiting fulfillment has one
    imported = Counter(PickingOrder.objects.filter(source_store=store).values_list("store_order_id", flat=True))
    assert imported and max(imported.values()) == 1
    assert {order.id for order in state.orders.values() if order.status_id in (11, 2, 3)} <= set(imported)

    # shipped equals picked, line by line; every shipment is one sent outbox row; every pick shipped once
    picked = {line.store_order_product_id: line.picked_qty
              for line in PickingOrderLine.objects.filter(order__source_store=store)}
    shipments = {}
    in_shipments = defaultdict(int)
    for order in state.orders.values():
        for shipment in order.shipments:
            shipments[shipment.id] = shipment
            for line_id, _product_id, quantity in shipment.items:
                in_shipments[line_id] += quantity
        for line in order.products:
            assert line.quantity_shipped == picked.get(line.id, 0), (order.id, line.id)
    assert dict(in_shipments) == {line_id: qty for line_id, qty in picked.items() if qty}
    outbox = list(ShipmentOutbox.objects.filter(store=store))
    assert {row.state for row in outbox} == {ShipmentOutbox.State.SENT}
    assert sorted(row.store_shipment_id for row in outbox) == sorted(shipments)
    pick_ids = Counter(pick for row in outbox for pick in row.pick_ids)
    store_picks = set(Pick.objects.filter(line__order__source_store=store).values_list("id", flat=True))
    assert set(pick_ids) == store_picks and max(pick_ids.values()) == 1
    assert len(outbox) == len(store_picks) == day.picks  # per pick: one shipment each, all single-address

    # tracking numbers and carriers as picked
    for pick in Pick.objects.filter(line__order__source_store=store).select_related("carrier"):
        row = next(row for row in outbox if pick.pk in row.pick_ids)
        shipment = shipments[row.store_shipment_id]
        assert shipment.tracking_number == pick.tracking_number
        carrier = pick.carrier.name if pick.carrier else ""
        assert (shipment.shipping_provider, shipment.tracking_carrier) == (
            {"UPS": ("ups", "ups")}.get(carrier, ("", "")))
    confirmed = sum((run.summary or {}).get("confirmed", 0) for run in SyncRun.objects.filter(
        store=store, job=Job.EXPORT_FULFILLMENTS))
    assert confirmed >= 2  # the killed worker's shipment and the dropped answer: found, not sent twice

    # every order picked in full is Shipped in the store, one picked in part Partially Shipped
    fully, partly = 0, 0
    for picking in PickingOrder.objects.filter(source_store=store).prefetch_related("lines"):
        lines = list(picking.lines.all())
        status_id = state.orders[picking.store_order_id].status_id
        if all(line.picked_qty == line.ordered_qty for line in lines):
            fully += 1
            assert status_id == 2, picking.store_order_id
        elif any(line.picked_qty for line in lines):
            partly += 1
            assert status_id == 3, picking.store_order_id
    assert fully >= 100 and partly >= 1
    cycles = Counter(runs.values_list("status", flat=True))
    batches = Counter(AdjustmentBatch.objects.filter(store=store).values_list("state", flat=True))
    print(f"\nsimulated day: {len(day.placed)} orders, {len(imported)} picking orders, {day.picks} picks, "
          f"{len(shipments)} shipments ({confirmed} confirmed after an unknown outcome), {fully} orders shipped in "
          f"full, {partly} in part; cycles {dict(cycles)}; adjustment batches {dict(batches)}")
