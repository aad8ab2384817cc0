"""One auto sync cycle at the Standard plan (150 requests per 30 s): N new store orders, N picks and N stock
adjustments, once per fulfillment mode (per pick, on close), PostgreSQL, the real job (`manage.py itbc
sync-cycle` and beat run the same `Job.AUTO_SYNC`).

For each mode and N: a throw-away database; a sandbox store in its own process, loaded from a file built
here (the generated catalogue with every tracked unit stocked at 1,000, and N/2 older orders of two lines,
awaiting fulfillment, created and last modified three days ago). A set-up process (not measured) goes live
(bootstrap: products, inventory, carriers), imports the older orders, picks each of their N lines in full
(so the N/2 orders close; every other pick with a tracking number and the carrier "UPS"), adjusts N linked
items by one unit each at the default location, sets the watermark ("Last Auto Sync Completed On") to now,
and places N new orders of one line through the sandbox (`POST /_sandbox/orders`, not metered). Then one
cycle runs in a fresh worker process: order import (only the orders modified since the watermark minus the
overlap: the N new ones), fulfillment export, adjustment export (and whatever other steps the cycle has,
such as the catalog changes since the watermark).

Printed per mode and N: every request by kind (the order listing: about ceil(N/250) + 1 per status listed;
the fulfillment export reads each store order once, `GET /v2/orders/{id}`, and sends one shipment per pick,
or per order closed on close: the store has no batch endpoint for shipments; adjustments: ceil(items/2000)),
SQL statements in all and per order (flat as N grows), by step, wall time with and without the client's
rate-limit waits, and the worker's peak RSS. Checked: the request counts above, statements per order at the
largest N within 25% of the smallest, the cycle and each of its steps succeeded.

    python -m bench sync_cycle [--sizes 100 1000] [--modes per_pick on_close] [--skus 2000] [--plan standard]
                               [--keep]

Database server as in `bench sync_products`; the throw-away database is $BENCH_DATABASE, else
`itbc_bench_h7`."""

import argparse
import contextvars
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter

from bench.sync_products import (
    ROOT,
    RSS_LIMIT_MB,
    Sandbox,
    bench_store,
    database_url,
    drop_database,
    migrate,
    parse_args,
    peak_rss_kb,
    recreate_database,
    worker_env,
)

DATABASE = "itbc_bench_h7"
MODES = ("per_pick", "on_close")
STOCK = 1000
ORDER_PAGE = 250
LEFT_OPEN = (2, 10, 4, 5, 6)  # plugin.sync.holds.LEFT_OPEN
ADJUSTMENT_BATCH = 2000
FLAT_TOLERANCE = 1.25
_step = contextvars.ContextVar("step", default="cycle records")


# ------------------------------------------------------------------------------------- the store


def build_store(path: str, *, skus: int, older_orders: int, seed: int = 1) -> None:
    """The generated catalogue, every tracked unit at STOCK, and `older_orders` orders of two lines awaiting
    fulfillment, created and modified three days ago; saved to `path` for the sandbox process."""
    from plugin.bigcommerce.sandbox.generator import generate

    state = generate(products=skus, orders=0, seed=seed)
    for product in state.products.values():
        for key in state.stock_keys(product):
            state.stock[1][key] = STOCK
    variants = [variant_id for product in state.products.values() if product.inventory_tracking == "variant"
                for variant_id in product.variant_ids]
    rng = random.Random(seed)
    long_ago = time.time() - 3 * 86400
    for number in range(older_orders):
        first, second = rng.sample(variants, 2)
        order = state.place_order(items=[{"variant_id": first, "quantity": 1}, {"variant_id": second, "quantity": 1}],
                                  status_id=11)
        order.date_created = order.date_modified = long_ago + number
    state.save(path)


# ------------------------------------------------------------------------------------- worker process


def run_worker(step: str, sandbox: Sandbox, env: dict, extra: list[str]) -> dict:
    """One step in a fresh process (`python -m bench sync_cycle --worker STEP ...`); its last line is JSON."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "sync_cycle", "--worker", step, "--base-url", sandbox.base_url, *extra],
        cwd=ROOT, env={**env, "ITBC_SANDBOX_TOKEN": sandbox.token}, capture_output=True, text=True, timeout=7200)
    if completed.returncode != 0:
        raise RuntimeError(f"The {step} worker failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _store_configured(args):
    from plugin.configuration.models import BasicConfiguration

    store = bench_store(args.base_url, args.token)
    BasicConfiguration.objects.filter(store=store).update(fulfillment_mode=args.mode, order_statuses_to_import=[11])
    store.refresh_from_db()
    return store


def setup_main(args) -> dict:
    """Go-live, the older orders imported and picked, N adjustments, the watermark, N new orders."""
    import requests
    from django.utils import timezone

    from plugin.configuration.models import BasicConfiguration
    from plugin.intellitrack import services as it
    from plugin.intellitrack.models import Carrier, PickingOrderLine
    from plugin.sync.models import StoreItemLink, SyncRun
    from plugin.sync.services import job_trigger, run_execute

    store = _store_configured(args)
    statuses = {}
    for job in (SyncRun.Job.BOOTSTRAP, SyncRun.Job.IMPORT_ORDERS):
        run = job_trigger(store=store, job=job, trigger=SyncRun.Trigger.COMMAND, enqueue=False)
        statuses[job] = run_execute(run_id=run.pk).status
    config = BasicConfiguration.objects.select_related("default_location", "default_uom",
                                                       "default_division").get(store=store)
    ups, _ = Carrier.objects.get_or_create(division=config.default_division, name="UPS")
    lines = list(PickingOrderLine.objects.filter(order__source_store=store).order_by("id")[:args.n])
    for number, line in enumerate(lines):
        it.order_pick(line=line, quantity=line.ordered_qty - line.picked_qty, location=config.default_location,
                      tracking_number=f"1ZBENCH{number:08d}" if number % 2 == 0 else "",
                      carrier=ups if number % 2 == 0 else None)
    links = list(StoreItemLink.objects.filter(store=store).select_related("item").order_by("id")[:args.n])
    for link in links:
        it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                            quantity_delta=1, reason="bench count")
    BasicConfiguration.objects.filter(store=store).update(last_auto_sync_completed_on=timezone.now())
    variants = list(StoreItemLink.objects.filter(store=store, tracking="variant").values_list("variant_id", flat=True))
    rng = random.Random(args.n)
    session = requests.Session()
    for _ in range(args.n):
        answer = session.post(f"{args.base_url}/_sandbox/orders", timeout=30, json={
            "items": [{"variant_id": rng.choice(variants), "quantity": 1}], "status_id": 11,
            "allow_oversell": True})
        answer.raise_for_status()
    return {"statuses": statuses, "picks": len(lines), "adjusted": len(links), "new_orders": args.n}


def cycle_main(args) -> dict:
    """One auto sync cycle in this process, counting requests, statements (by step), waits, wall time, RSS."""
    from django.db import connection

    from bench.sync_products import STORE_HASH, CountingSleep, counting_session
    from plugin.bigcommerce.client import BigCommerceClient
    from plugin.sync import services
    from plugin.sync.models import ShipmentOutbox, SyncRun
    from plugin.sync.services import job_trigger, run_execute

    store = _store_configured(args)
    sleep = CountingSleep()
    session = counting_session()
    client = BigCommerceClient(base_url=args.base_url, store_hash=STORE_HASH, access_token=args.token,
                               session=session, sleep=sleep)
    queries = Counter()

    def count(execute, sql, params, many, context):
        queries[(_step.get(), sql.split(None, 1)[0].upper())] += 1
        return execute(sql, params, many, context)

    def tagged(job, runner):
        def run(ctx):
            token = _step.set(job)
            try:
                return runner(ctx)
            finally:
                _step.reset(token)
        return run

    for job in services.CYCLE_STEPS:
        services.RUNNERS[job] = tagged(job, services.RUNNERS[job])
    run = job_trigger(store=store, job=SyncRun.Job.AUTO_SYNC, trigger=SyncRun.Trigger.COMMAND, enqueue=False)
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        finished = run_execute(run_id=run.pk, client=client)
    wall = time.perf_counter() - started
    finished = finished or SyncRun.objects.get(pk=run.pk)
    steps = {child.job: {"status": child.status, "error": child.error[:300], "summary": child.summary}
             for child in SyncRun.objects.filter(store=store, options__parent_run=finished.pk)}
    by_step, by_kind = Counter(), Counter()
    for (step, kind), number in queries.items():
        by_step[step] += number
        by_kind[kind] += number
    return {
        "status": finished.status, "error": finished.error[:500], "steps": steps,
        "requests": dict(session.counts), "queries": sum(queries.values()), "queries_by_step": dict(by_step),
        "queries_by_kind": dict(by_kind), "cycle_steps": list(services.CYCLE_STEPS),
        "wall_s": wall, "wait_s": sleep.seconds, "waits": sleep.calls,
        "peak_rss_kb": peak_rss_kb(),
        "shipments_sent": ShipmentOutbox.objects.filter(store=store, state="sent").count(),
    }


def worker_main(args) -> int:
    import django

    django.setup()
    figures = setup_main(args) if args.worker == "setup" else cycle_main(args)
    print(json.dumps(figures, default=str))
    return 0


# ------------------------------------------------------------------------------------------------ main


def _extra(parser):
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--skus", type=int, default=2000, help="catalogue size (at least the largest N)")
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)


def expected_requests(row) -> dict:
    """What the issue's arithmetic says the cycle sends, by kind."""
    n = row["n"]
    orders_closed = n // 2
    shipments = n if row["mode"] == "per_pick" else orders_closed
    # one count request, ceil(N/250) + 1 pages of the one status the new orders are in, then one page of each
    # status an order may have left the open ones for (shipped, completed, refunded, cancelled, declined)
    return {
        "orders listing (GET /v2/orders + /count), at most": 1 + math.ceil(n / ORDER_PAGE) + 1 + len(LEFT_OPEN),
        "GET /v2/orders/{id} (each store order shipped to, once)": orders_closed,
        "POST /v2/orders/{id}/shipments": shipments,
        "POST /v3/inventory/adjustments/relative": math.ceil(n / ADJUSTMENT_BATCH),
    }


def main() -> int:
    os.environ.setdefault("BENCH_DATABASE", DATABASE)
    args = parse_args(sys.argv[1:], prog="python -m bench sync_cycle", plan="standard", extra=_extra,
                      workers=("setup", "cycle"))
    if args.sizes == [10_000, 100_000]:  # sync_products' default sizes
        args.sizes = [100, 1000]
    if args.worker:
        return worker_main(args)
    if args.skus < max(args.sizes):
        sys.exit("--skus must be at least the largest size (one adjusted item each).")
    url = database_url()
    env = worker_env(url)
    folder = tempfile.mkdtemp(prefix="bench-sync-cycle-")
    rows = []
    try:
        for mode in args.modes:
            for n in args.sizes:
                recreate_database(url)
                migrate(env)
                state_file = os.path.join(folder, f"store-{mode}-{n}.json")
                build_store(state_file, skus=args.skus, older_orders=n // 2)
                sandbox = Sandbox(skus=args.skus, plan=args.plan, state_file=state_file)
                try:
                    extra = ["--mode", mode, "--n", str(n), "--plan", args.plan]
                    started = time.perf_counter()
                    setup = run_worker("setup", sandbox, env, extra)
                    print(f"{mode} N={n}: set-up (not measured) in {time.perf_counter() - started:.0f} s: {setup}",
                          flush=True)
                    row = run_worker("cycle", sandbox, env, extra)
                    row.update(mode=mode, n=n, setup=setup)
                    rows.append(row)
                    print(f"  cycle {row['status']} in {row['wall_s']:.1f} s "
                          f"(waits {row['wait_s']:.1f} s): {row['requests']}", flush=True)
                finally:
                    sandbox.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if not args.keep:
            drop_database(url)
    return report(rows)


def report(rows: list[dict]) -> int:
    header = (f"{'mode':>9} {'N':>5} {'status':>9} {'requests':>8} {'listing':>7} {'order reads':>11} "
              f"{'shipments':>9} {'adjust':>6} {'SQL':>7} {'SQL/order':>9} {'wall s':>7} {'waits s':>7} "
              f"{'wall-waits s':>12} {'peak RSS MB':>11}")
    print("\n" + header)
    print("-" * len(header))
    ok = True
    per_order = {}
    for row in rows:
        requests = Counter(row["requests"])
        listing = requests["GET /v2/orders"] + requests["GET /v2/orders/count"]
        reads = requests["GET /v2/orders/{id}"]
        shipments = requests["POST /v2/orders/{id}/shipments"]
        adjust = requests["POST /v3/inventory/adjustments/relative"]
        peak = row["peak_rss_kb"] / 1024
        per_order[(row["mode"], row["n"])] = row["queries"] / row["n"]
        print(f"{row['mode']:>9} {row['n']:>5} {row['status']:>9} {sum(requests.values()):>8} {listing:>7} "
              f"{reads:>11} {shipments:>9} {adjust:>6} {row['queries']:>7} {row['queries'] / row['n']:>9.1f} "
              f"{row['wall_s']:>7.1f} {row['wait_s']:>7.1f} {row['wall_s'] - row['wait_s']:>12.1f} {peak:>11.1f}")
        expected = expected_requests(row)
        found = dict(zip(expected, (listing, reads, shipments, adjust), strict=True))
        steps_ok = (all(step["status"] == "succeeded" for step in row["steps"].values())
                    and set(row["steps"]) == set(row["cycle_steps"]))
        row_ok = (row["status"] == "succeeded" and steps_ok and peak < RSS_LIMIT_MB
                  and found[list(expected)[0]] <= expected[list(expected)[0]]
                  and all(found[kind] == want for kind, want in list(expected.items())[1:]))
        ok = ok and row_ok
        if not row_ok:
            print(f"  expected {expected}, found {found}; steps "
                  f"{ {job: (s['status'], s['error']) for job, s in row['steps'].items()} }")
    for mode in {row["mode"] for row in rows}:
        sizes = sorted(n for m, n in per_order if m == mode)
        if len(sizes) > 1:
            small, large = per_order[(mode, sizes[0])], per_order[(mode, sizes[-1])]
            flat = large <= small * FLAT_TOLERANCE
            ok = ok and flat
            print(f"\n{mode}: SQL statements per order {small:.1f} at N={sizes[0]}, {large:.1f} at N={sizes[-1]}"
                  f" ({'flat' if flat else 'NOT flat'})")
    print("\nrequests: every HTTP request of the cycle; listing: GET /v2/orders pages and counts of every status"
          "\nlisted (orders with their lines, 250 a page); order reads: GET /v2/orders/{id}, once per store order"
          "\nshipped to; shipments: one POST each (per pick: one per pick; on close: one per order closed);"
          "\nadjust: relative adjustment POSTs (2000 items each); SQL: every statement of the cycle's process"
          "\n(run records included); waits: the client's rate-limit and retry sleeps; peak RSS: the worker's VmHWM.")
    for row in rows:
        print(f"{row['mode']} N={row['n']}: requests {row['requests']}")
        print(f"  SQL by step {row['queries_by_step']}; by kind {row['queries_by_kind']}")
        for job in row["cycle_steps"]:
            summary = row["steps"].get(job, {}).get("summary") or {}
            keep = {k: v for k, v in summary.items() if isinstance(v, (int, str)) and k not in ("note", "warning")}
            print(f"  {job}: {keep}")
    print(f"\n{'OK' if ok else 'NOT OK'}: request counts as above, SQL per order flat, every step succeeded, "
          f"peak RSS < {RSS_LIMIT_MB} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
