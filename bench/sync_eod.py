"""End of Day export at catalogue scale, in steady state: a sandbox store with N SKUs and 20,000 open
orders in mixed statuses, PostgreSQL, the real job (`manage.py itbc eod` does the same).

For each N: a throw-away database; a store built here (the sandbox's generated catalogue, plus open
orders added in bulk: awaiting payment 7, pending 1, awaiting fulfillment 11, partially shipped 3,
awaiting shipment 9, and some shipped, completed and cancelled history; under `order_placed` every open
line's units are taken at placement, a partially shipped order has shipped units); the sandbox store
loads it from a file, in its own process. Go-live (bootstrap: products, inventory, carriers) and a first
order import run first, each in its own process, timed apart. Then the End of Day runs in a fresh worker
process: it imports orders first (every open order listed with its lines, 250 a page, all already
imported), computes what open orders hold, and sends the levels. Printed per N: write requests
(`run.summary["write_requests"]`, what the store received: must be ceil(linked/2000)), every request by
kind, SQL statements (the same at every N: the open orders are fixed, not scaled with N), wall time with
and without the client's rate-limit waits (goal < 10 s), the worker's peak RSS (< 300 MB), and a check of
the result: after the run the sandbox store is stopped (it saves its records) and, for a random sample of
linked items, its level must equal the shelf (the store's level at go-live plus what open orders had set
aside) minus what open orders hold, computed from the sandbox's records by tests/sync/truth.py.

Statements are counted by phase: the order import that End of Day runs first, the run's own records,
the two stock aggregates, the streamed read of the links (one DECLARE of a server-side cursor; its
FETCHes of 2000 rows are printed apart, as round trips that are not statements), the final load (COPY
of the item rows, UPDATE of the links, counters) and the progress writes, which a timer drives
(ITBC_RUN_PROGRESS_SECONDS) and so depend on the run's wall time, not on N.

    python -m bench sync_eod [--sizes 10000 100000] [--open-orders 20000] [--plan unlimited] [--sample 200]
                             [--profile] [--keep] [--golive-cache DIR]

--plan standard shows the rate-limit waits (150 requests per 30 s; go-live then takes minutes at 100,000
SKUs); --profile prints the End of Day worker's cProfile (top functions by own and cumulative time).
Database server as in `bench sync_products`; the throw-away database is $BENCH_DATABASE, else
`itbc_bench_eod`."""

import argparse
import contextvars
import functools
import gc
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from urllib.parse import urlparse, urlunparse

from bench.sync_products import (
    ROOT,
    RSS_LIMIT_MB,
    Sandbox,
    _admin,
    _name,
    bench_store,
    database_url,
    drop_database,
    measure,
    migrate,
    parse_args,
    recreate_database,
    run_worker,
    worker_env,
)

WRITE = "PUT /v3/inventory/adjustments/absolute"
PHASES = ("order import", "run records", "aggregates", "links read", "final load", "progress (timer)")
_phase = contextvars.ContextVar("phase", default=None)  # None: not part of the measured run
DATABASE = "itbc_bench_eod"
WALL_GOAL_S = 10.0  # up to 100,000 SKUs; a larger catalogue has WALL_GOAL_LARGE_S
WALL_GOAL_LARGE_S = 60.0


def wall_goal(skus: int) -> float:
    return WALL_GOAL_S if skus <= 100_000 else WALL_GOAL_LARGE_S
# Open orders by status (id, share): awaiting fulfillment, awaiting shipment, partially shipped, awaiting
# payment, pending. Counts are exact shares of --open-orders, so every N lists the same pages.
OPEN_MIX = ((11, 0.40), (9, 0.15), (3, 0.15), (7, 0.20), (1, 0.10))
# History on top (a tenth of the open orders): shipped, completed, cancelled (restocked), modified long ago.
HISTORY_MIX = ((2, 0.6), (10, 0.2), (5, 0.2))


# ------------------------------------------------------------------------------------- the store


def _status_list(total: int, mix) -> list[int]:
    statuses = []
    for status, share in mix:
        statuses += [status] * round(total * share)
    statuses += [mix[0][0]] * (total - len(statuses))
    return statuses[:total]


def build_store(*, skus: int, open_orders: int, seed: int = 1):
    """The sandbox's generated catalogue of `skus` SKUs (no orders), then `open_orders` open orders and a
    tenth as many closed ones, added straight into the StoreState as the generator adds its own. The
    store takes stock at placement (`order_placed`): every open line has its units taken
    (quantity_deducted = quantity); shipped units have left (quantity_shipped <= deducted); a cancelled
    order got its units back. The stock levels are the store's levels after those deductions."""
    from plugin.bigcommerce.sandbox.generator import BASE_TIME, CITIES, generate
    from plugin.bigcommerce.sandbox.state import Order, OrderProduct, Shipment, ShippingAddress

    state = generate(products=skus, orders=0, seed=seed)
    assert state.inventory_settings["update_stock_behavior"] == "order_placed"
    rng = random.Random(seed * 7919 + 1)
    shuffled = random.Random(seed)
    statuses = _status_list(open_orders, OPEN_MIX)
    shuffled.shuffle(statuses)
    history = _status_list(open_orders // 10, HISTORY_MIX)
    shuffled.shuffle(history)
    sellable = state.variant_order
    order_product_id = state.next_ids["order_product"]
    address_id = state.next_ids["address"]
    shipment_id = state.next_ids["shipment"]
    order_id = state.next_ids["order"]
    collecting = gc.isenabled()
    gc.disable()
    try:
        # history first (older), then the open orders; all created and last modified before go-live
        for number, status_id in enumerate(history + statuses):
            created = BASE_TIME - (len(history) + len(statuses) - number) * 300
            city, region, zip_code = CITIES[number % len(CITIES)]
            address = ShippingAddress(id=address_id, order_id=order_id, first_name=f"Pat{number}", last_name="Buyer",
                                      street_1=f"{number % 999 + 1} Elm St", city=city, state=region, zip=zip_code,
                                      country="United States", country_iso2="US",
                                      email=f"buyer{number}@example.com", phone="555-0101")
            lines = []
            for _ in range(rng.randint(1, 4)):
                variant = state.variants[sellable[rng.randrange(len(sellable))]]
                product = state.products[variant.product_id]
                quantity = rng.randint(1, 3)
                if status_id in (2, 10):
                    shipped = deducted = quantity
                elif status_id == 5:
                    shipped, deducted = 0, 0  # cancelled, its units given back
                else:
                    shipped = rng.randint(0, quantity - 1) if status_id == 3 else 0
                    deducted = quantity
                lines.append(OrderProduct(id=order_product_id, order_id=order_id, product_id=product.id,
                                          variant_id=variant.id, order_address_id=address_id, name=product.name,
                                          sku=variant.sku, quantity=quantity, price=variant.price,
                                          quantity_shipped=shipped, quantity_deducted=deducted,
                                          product_options=variant.option_values))
                order_product_id += 1
            if status_id == 3 and not any(line.quantity_shipped for line in lines):
                # partially shipped: at least one unit has shipped, and not all of them
                line = lines[0]
                if line.quantity == 1:
                    line.quantity = line.quantity_deducted = 2
                line.quantity_shipped = 1
            order = Order(id=order_id, customer_id=number % 500, status_id=status_id, date_created=created,
                          date_modified=created + 3600, products=lines, addresses=[address])
            shipped_lines = [line for line in lines if line.quantity_shipped]
            if shipped_lines:
                order.shipments.append(Shipment(
                    id=shipment_id, order_id=order_id, order_address_id=address_id, date_created=created + 3600,
                    items=tuple((line.id, line.product_id, line.quantity_shipped) for line in shipped_lines),
                    tracking_number=f"1Z{order_id:010d}", shipping_provider="ups", shipping_method="Ground"))
                shipment_id += 1
                if status_id == 2:
                    order.date_shipped = created + 3600
            state.add_order(order)
            order_id += 1
            address_id += 1
    finally:
        if collecting:
            gc.enable()
    state.next_ids.update(order=order_id, order_product=order_product_id, address=address_id, shipment=shipment_id)
    return state


def _key_of(link) -> int:
    """The sandbox's stock key of a linked unit."""
    return -link.product_id if link.tracking == "product" else link.variant_id


def check_worker(args) -> int:
    """After the End of Day: for a random sample of linked items, the store's level must be the shelf
    minus what open orders hold, from the sandbox's records alone (tests/sync/truth.py)."""
    import django

    django.setup()
    from plugin.bigcommerce.sandbox.state import StoreState
    from plugin.configuration.models import StoreConnection
    from plugin.sync.models import StoreItemLink
    from tests.sync.truth import HOLDS_NOTHING, shipped_before_go_live, truth_levels

    before = StoreState.load(os.path.join(args.state_dir, "initial.json"))
    after = StoreState.load(os.path.join(args.state_dir, "store.json"))
    base = shipped_before_go_live(before)
    # On the shelf at go-live: the store's level plus what it had set aside for open orders and not shipped.
    shelf = defaultdict(int)
    for key, level in before.stock[1].items():
        shelf[key] += level
    for order in before.orders.values():
        if order.status_id in HOLDS_NOTHING:
            continue
        for line in order.products:
            product = before.products[line.product_id]
            if product.inventory_tracking == "none":
                continue
            shelf[before.stock_key(product, before.variants[line.variant_id])] += (
                line.quantity_deducted - line.quantity_shipped)
    store = StoreConnection.objects.get(name="bench")
    links = list(StoreItemLink.objects.filter(store=store).order_by("id"))
    physical = {link.item_id: shelf[_key_of(link)] for link in links}
    expected = truth_levels(store, after, base=base, physical=physical)
    sample = random.Random(args.seed).sample(links, min(args.sample, len(links)))
    wrong = [(link.sku, after.on_hand(_key_of(link)), expected[link.id]) for link in sample
             if after.on_hand(_key_of(link)) != expected[link.id]]
    everywhere = sum(1 for link in links if after.on_hand(_key_of(link)) == expected[link.id])
    holding = sum(1 for link in links if expected[link.id] != shelf[_key_of(link)])
    print(json.dumps({"sampled": len(sample), "exact": len(sample) - len(wrong), "wrong": wrong[:10],
                      "linked": len(links), "all_exact": everywhere, "items_with_holds": holding}))
    return 0


def golive_worker(args) -> int:
    """Go-live and the first order import, before the measured End of Day (timed apart)."""
    import django

    django.setup()
    store = bench_store(args.base_url, args.token)
    figures = {}
    for step in ("bootstrap", "import_orders"):
        m = measure(step, store, args.base_url, args.token)
        figures[step] = {"status": m["status"], "error": m["error"], "wall_s": round(m["wall_s"], 2),
                         "wait_s": round(m["wait_s"], 2), "requests": sum(m["requests"].values()),
                         "statements": sum(m["queries"].values()), "peak_rss_mb": round(m["peak_rss_kb"] / 1024, 1)}
        if step == "import_orders":
            figures[step]["summary"] = {key: m["summary"].get(key) for key in (
                "imported", "held_orders", "unmanaged_lines", "waiting", "stock_behavior")}
    print(json.dumps(figures))
    return 0


_phase_seconds = Counter()  # wall time inside each phase's calls (the outermost one only)


def _in_phase(name: str, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        outer = _phase.get()
        token = _phase.set(name)
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            if outer is None or outer == "run records":
                _phase_seconds[name] += time.perf_counter() - started
            _phase.reset(token)

    return wrapper


def _shape(sql: str) -> str:
    """A statement's shape: its text with literal lists and numbers folded, cut short."""
    import re

    sql = re.sub(r"\((?:\s*%s\s*,)+\s*%s\s*\)", "(%s, ...)", sql)
    sql = re.sub(r"\b\d+\b", "N", sql)
    return " ".join(sql.split())[:160]


def eod_worker(args) -> int:
    """The measured End of Day, with every statement labelled by the phase that sent it."""
    import django

    django.setup()
    import psycopg
    from django.db import connection

    from plugin.intellitrack import selectors
    from plugin.sync import binder, runs, services
    from plugin.sync.jobs import eod

    run_execute = services.run_execute

    def measured_run_execute(**kwargs):
        # The run itself (measure() imports run_execute when called, so it gets this one); the child run of
        # the order import keeps its own label.
        if _phase.get() is not None:
            return run_execute(**kwargs)
        return _in_phase("run records", run_execute)(**kwargs)

    services.run_execute = measured_run_execute
    services._child_run = _in_phase("order import", services._child_run)
    selectors.on_hand_by_item = _in_phase("aggregates", selectors.on_hand_by_item)
    selectors.unpicked_by_item = _in_phase("aggregates", selectors.unpicked_by_item)
    eod._record = _in_phase("final load", eod._record)
    runs.RunProgress.tick = _in_phase("progress (timer)", runs.RunProgress.tick)
    # the parent run's heartbeat while its order import runs: at most once per ITBC_RUN_PROGRESS_SECONDS
    runs._parents_touch = _in_phase("progress (timer)", runs._parents_touch)
    links_iter = binder.links_iter

    def labelled_links(**kwargs):
        # The server-side cursor's DECLARE runs at the first next(); label that call only.
        rows = links_iter(**kwargs)
        token = _phase.set("links read")
        try:
            first = next(rows, None)
        finally:
            _phase.reset(token)
        if first is not None:
            yield first
            yield from rows

    binder.links_iter = labelled_links
    spent = _time_steps()
    fetches = Counter()
    fetchmany = psycopg.ServerCursor.fetchmany

    def counted_fetchmany(self, *a, **kw):
        fetches["server-side cursor fetches"] += 1
        return fetchmany(self, *a, **kw)

    psycopg.ServerCursor.fetchmany = counted_fetchmany
    by_phase = Counter()
    sql_seconds = Counter()  # (phase, statement shape) -> seconds
    sql_counts = Counter()

    def label(execute, sql, params, many, context):
        phase = _phase.get()
        if phase is not None:
            by_phase[phase] += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = (phase or "outside", _shape(sql))
            sql_seconds[key] += time.perf_counter() - started
            sql_counts[key] += 1

    store = bench_store(args.base_url, args.token)
    profiler = None
    if args.worker == "eod_profile":
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    with connection.execute_wrapper(label):
        figures = measure("eod_export", store, args.base_url, args.token)
    if profiler is not None:
        profiler.disable()
        figures["profile"] = _profile_text(profiler)
    figures.update(phases=dict(by_phase), fetches=fetches["server-side cursor fetches"],
                   phase_s={("whole run" if name == "run records" else name): round(seconds, 3)
                            for name, seconds in _phase_seconds.items()},
                   steps_s={name: round(seconds, 3) for name, seconds in spent.most_common()},
                   sql_s=round(sum(sql_seconds.values()), 3),
                   sql_top=[[phase, shape, sql_counts[(phase, shape)], round(seconds, 3)]
                            for (phase, shape), seconds in sql_seconds.most_common(8)])
    print(json.dumps(figures))
    return 0


def _time_steps() -> Counter:
    """Wall time spent in the steps of the order import and the hold computation (steps may nest)."""
    import requests

    from plugin.sync import holds, runs
    from plugin.sync.jobs import orders

    spent = Counter()

    def timed(owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - started

        setattr(owner, name, wrapper)

    timed(requests.Response, "json", "requests.Response.json (decoding pages)")
    timed(orders, "order_with_consignments_to_store_order", "mappers.order_with_consignments_to_store_order")
    timed(orders, "_line_reasons", "jobs/orders._line_reasons")
    timed(orders, "_orders_left_open_scan", "jobs/orders._orders_left_open_scan")
    timed(orders, "_orders_page_import", "jobs/orders._orders_page_import (whole page)")
    timed(holds, "order_lines_links", "holds.order_lines_links")
    timed(holds, "order_lines_sync", "holds.order_lines_sync")
    timed(holds, "order_lines_relink", "holds.order_lines_relink")
    timed(holds, "stock_behaviors_add_channels", "holds.stock_behaviors_add_channels")
    timed(holds, "holds_compute", "holds.holds_compute")
    timed(runs, "run_items_record", "runs.run_items_record")
    return spent


def _profile_text(profiler, top: int = 30) -> str:
    import io
    import pstats

    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return "\n".join(line for line in out.getvalue().splitlines() if line.strip()
                     and not line.lstrip().startswith(("Ordered by", "List reduced")))


def _arguments(parser) -> None:
    parser.add_argument("--open-orders", type=int, default=20_000,
                        help="open orders in the store (the same at every N), plus a tenth as many closed ones")
    parser.add_argument("--sample", type=int, default=200, help="linked items whose store level is checked")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true",
                        help="run one more End of Day under cProfile and print its hot spots")
    parser.add_argument("--golive-cache", metavar="DIR",
                        help="keep each N's store and database as they are after go-live in DIR (a template "
                             "database beside $BENCH_DATABASE) and start from there when DIR already has them: "
                             "the measured End of Day is still the first after go-live, without redoing it")
    parser.add_argument("--state-dir", help=argparse.SUPPRESS)


def _golive_template(url: str, size: int) -> str:
    return urlunparse(urlparse(url)._replace(path=f"{urlparse(url).path}_golive_{size}"))


def _clone_database(source_url: str, target_url: str) -> None:
    """target := a copy of source (PostgreSQL copies the files; no connection may use source meanwhile)."""
    drop_database(target_url)
    with _admin(target_url) as conn:
        conn.execute(f'CREATE DATABASE "{_name(target_url)}" TEMPLATE "{_name(source_url)}"')


def _golive_restore(args, url: str, env: dict, size: int, state_dir: str) -> dict | None:
    """The go-live figures, with the database and the store as go-live left them, from --golive-cache."""
    cache = os.path.join(args.golive_cache, f"n{size}") if args.golive_cache else None
    if cache is None or not os.path.exists(os.path.join(cache, "golive.json")):
        return None
    with open(os.path.join(cache, "golive.json")) as file:
        saved = json.load(file)
    _clone_database(_golive_template(url, size), url)
    migrate(env)  # the code may have moved on since the go-live was saved
    for name in ("initial.json", "store.json"):
        shutil.copy(os.path.join(cache, "initial.json"), os.path.join(state_dir, name))
    return saved


def _golive_save(args, url: str, size: int, state_dir: str, saved: dict) -> None:
    if not args.golive_cache:
        return
    cache = os.path.join(args.golive_cache, f"n{size}")
    os.makedirs(cache, exist_ok=True)
    _clone_database(url, _golive_template(url, size))
    # Go-live only reads the store, so the store after it is the store before it.
    shutil.copy(os.path.join(state_dir, "initial.json"), os.path.join(cache, "initial.json"))
    with open(os.path.join(cache, "golive.json"), "w") as file:
        json.dump(saved, file)


def run_sizes(args) -> list[dict]:
    url = database_url(os.environ.get("BENCH_DATABASE") or DATABASE)
    env = worker_env(url)
    rows = []
    try:
        for size in args.sizes:
            state_dir = tempfile.mkdtemp(prefix="itbc_bench_eod_")
            try:
                restored = _golive_restore(args, url, env, size, state_dir)
                if restored is not None:
                    env["ITBC_ENCRYPTION_KEYS"] = restored["encryption_keys"]
                    summary, golive = restored["store"], restored["golive"]
                    print(f"N={size}: the store and database as go-live left them, from {args.golive_cache}",
                          flush=True)
                else:
                    recreate_database(url)
                    migrate(env)
                    started = time.perf_counter()
                    state = build_store(skus=size, open_orders=args.open_orders, seed=args.seed)
                    summary = state.summary()
                    state.save(os.path.join(state_dir, "initial.json"))
                    del state
                    gc.collect()
                    shutil.copy(os.path.join(state_dir, "initial.json"), os.path.join(state_dir, "store.json"))
                    print(f"N={size}: store built in {time.perf_counter() - started:.1f} s: {summary['products']} "
                          f"products, {summary['variants']} variants, orders by status "
                          f"{summary['orders_by_status']}", flush=True)
                sandbox = Sandbox(skus=size, plan=args.plan, state_file=os.path.join(state_dir, "store.json"))
                try:
                    print(f"  sandbox ready in {sandbox.startup_s:.1f} s, plan {args.plan}", flush=True)
                    if restored is None:
                        golive = run_worker("golive", sandbox, env, "sync_eod")
                        _golive_save(args, url, size, state_dir, {
                            "store": summary, "golive": golive, "encryption_keys": env["ITBC_ENCRYPTION_KEYS"]})
                    for step, figures in golive.items():
                        print(f"  {step} (before the measured run): {figures}", flush=True)
                    figures = run_worker("eod_export", sandbox, env, "sync_eod")
                    figures.update(n=size, golive=golive, store=summary)
                    print(f"  eod_export: run #{figures['run']} {figures['status']} in {figures['wall_s']:.1f} s "
                          f"({figures['wait_s']:.1f} s of waits)", flush=True)
                    if args.profile:
                        profiled = run_worker("eod_profile", sandbox, env, "sync_eod")
                        figures["profile"] = profiled["profile"]
                        figures["profile_wall_s"] = profiled["wall_s"]
                finally:
                    sandbox.stop()  # saves the store's records to store.json
                completed = subprocess.run(
                    [sys.executable, "-m", "bench", "sync_eod", "--worker", "check", "--state-dir", state_dir,
                     "--sample", str(args.sample), "--seed", str(args.seed)],
                    cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=3600)
                if completed.returncode != 0:
                    raise RuntimeError(f"The check worker failed:\n{completed.stderr[-4000:]}")
                figures["check"] = json.loads(completed.stdout.strip().splitlines()[-1])
                rows.append(figures)
            finally:
                shutil.rmtree(state_dir, ignore_errors=True)
    finally:
        if not args.keep:
            drop_database(url)
    return rows


def main() -> int:
    args = parse_args(sys.argv[1:], prog="python -m bench sync_eod", description=__doc__.split("\n\n")[0],
                      plan="unlimited", extra=_arguments,
                      workers=("golive", "eod_export", "eod_profile", "check"))
    if args.worker in ("eod_export", "eod_profile"):
        return eod_worker(args)
    if args.worker == "golive":
        return golive_worker(args)
    if args.worker == "check":
        return check_worker(args)
    rows = run_sizes(args)
    header = (f"{'N SKUs':>8} {'linked':>7} {'status':>9} {'writes':>6} {'ceil(linked/2000)':>17} {'PUTs':>5} "
              f"{'requests':>8} {'queries':>7} {'fixed':>5} {'timer':>5} {'fetches':>7} {'wall s':>7} {'waits s':>7} "
              f"{'wall-waits s':>12} {'peak RSS MB':>11}")
    print(f"\nEnd of Day in steady state, {args.open_orders:,} open orders at every N (fixed, not scaled), plan "
          f"{args.plan}:\n" + header)
    print("-" * len(header))
    ok = True
    for row in rows:
        linked = row["total"] or 0
        writes = (row["summary"] or {}).get("write_requests")
        puts = row["requests"].get(WRITE, 0)
        expected = math.ceil(linked / 2000)
        queries = sum(row["queries"].values())
        timer = row["phases"].get("progress (timer)", 0)
        peak = row["peak_rss_kb"] / 1024
        net = row["wall_s"] - row["wait_s"]
        print(f"{row['n']:>8} {linked:>7} {row['status']:>9} {writes!s:>6} {expected:>17} {puts:>5} "
              f"{sum(row['requests'].values()):>8} {queries:>7} {queries - timer:>5} {timer:>5} {row['fetches']:>7} "
              f"{row['wall_s']:>7.1f} {row['wait_s']:>7.1f} {net:>12.1f} {peak:>11.1f}")
        check = row["check"]
        ok = ok and writes == expected and puts == expected and peak < RSS_LIMIT_MB and net < wall_goal(row["n"]) \
            and row["status"] == "succeeded" and row["ok"] == linked and sum(row["phases"].values()) == queries \
            and check["exact"] == check["sampled"] > 0
    fixed = {sum(row["queries"].values()) - row["phases"].get("progress (timer)", 0) for row in rows}
    ok = ok and len(fixed) == 1
    print("\nlinked: items linked to the store (every tracked product or variant; untracked ones are skipped);"
          "\nwrites: run.summary[\"write_requests\"], the absolute-level requests the store received; PUTs: the"
          "\nsame counted on the wire; requests: all HTTP requests of the run (its order import included);"
          "\nqueries: every SQL statement of the run, run records, the order import and the COPY included; fixed:"
          "\nthe statements that do not depend on time (must be equal at every N); timer: progress writes, at most"
          "\none per ITBC_RUN_PROGRESS_SECONDS of wall time; fetches: round trips of the links' server-side cursor"
          "\n(2000 rows each; not statements); waits: the client's rate-limit and retry sleeps; peak RSS: the"
          "\nworker process's peak (VmHWM).")
    for row in rows:
        phases = {phase: row["phases"].get(phase, 0) for phase in PHASES}
        golive = row["golive"]
        boot, first = golive["bootstrap"], golive["import_orders"]
        check = row["check"]
        print(f"\nN={row['n']}: orders in the store by status {row['store']['orders_by_status']}")
        print(f"  go-live (bootstrap) {boot['status']} in {boot['wall_s']:.1f} s ({boot['wait_s']:.1f} s waits, "
              f"{boot['requests']} requests, {boot['statements']} statements); first order import "
              f"{first['status']} in {first['wall_s']:.1f} s ({first['wait_s']:.1f} s waits, {first['requests']} "
              f"requests, {first['statements']} statements) {first.get('summary')}")
        print(f"  End of Day requests by kind {row['requests']}")
        print(f"  statements by phase {phases}; by kind {row['queries']}")
        print(f"  summary {row['summary']}")
        print(f"  where the time goes: by phase {row['phase_s']} s; waiting for the store by kind {row['request_s']} s;"
              f"\n  in steps (they may nest) {row['steps_s']} s;\n  in SQL {row['sql_s']} s, slowest statements "
              f"(phase, shape, count, s):")
        for phase, shape, count, seconds in row["sql_top"]:
            print(f"    {seconds:7.3f} s {count:5} x [{phase}] {shape}")
        print(f"  levels checked: {check['exact']} of {check['sampled']} exact (all linked items: "
              f"{check['all_exact']} of {check['linked']}; {check['items_with_holds']} items have units held by "
              f"open orders)" + (f"; wrong (sku, store, expected): {check['wrong']}" if check["wrong"] else ""))
        if row.get("profile"):
            print(f"  profile of a second End of Day (under cProfile, {row['profile_wall_s']:.1f} s):")
            print("    " + row["profile"].replace("\n", "\n    "))
    print(f"\n{'OK' if ok else 'NOT OK'}: writes = ceil(linked/2000), every item ok, the phases add up, the same "
          f"fixed statements at every N, wall time without waits < {WALL_GOAL_S:.0f} s up to 100,000 SKUs and < "
          f"{WALL_GOAL_LARGE_S:.0f} s above, peak RSS < {RSS_LIMIT_MB} MB, "
          f"every sampled level exact")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
