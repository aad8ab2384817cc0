"""The operator's pages under load (PostgreSQL): the dashboard, the store list, a store's Logs tab, the
run list, a big run's page and Inventory Data, each requested --requests times by a signed-in Admin with
Django's test client, over 50 stores with 30 days of runs, 1,000,000 run item rows and 100,000
inventory records. Prints the median and p95 time and the SQL statements per page, and the dashboard's
statements with 5 stores beside those with 50 (they must be equal: no statement per store).

    python -m bench pages [--stores 50] [--few-stores 5] [--items 1000000] [--inventory 100000]
                          [--requests 200] [--keep]

The throw-away database is $BENCH_DATABASE, else itbc_bench_pages, on the server of $BENCH_DATABASE_URL
or $DATABASE_URL. The rows are written by INSERT ... SELECT over generate_series, not one by one."""

import argparse
import os
import statistics
import subprocess
import sys
import time

from bench.sync_products import ROOT, database_url, drop_database, recreate_database, worker_env

DATABASE = "itbc_bench_pages"
GOAL_MEDIAN_MS = 300.0
RUNS_PER_DAY = 24  # an auto sync cycle an hour, and the End of Day among them
DAYS = 30
BIG_RUN_ITEMS = 100_000


def parse_args():
    parser = argparse.ArgumentParser(prog="python -m bench pages", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=50)
    parser.add_argument("--few-stores", type=int, default=5, help="the dashboard measured first with this many")
    parser.add_argument("--items", type=int, default=1_000_000, help="run item rows in all")
    parser.add_argument("--inventory", type=int, default=100_000, help="items, each with one inventory record")
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(sys.argv[1:])


def _not_null_defaults(model, given: set[str]) -> dict:
    """The NOT NULL columns of `model` a bulk INSERT does not name, with their model defaults, so the bench
    keeps working when a column is added."""
    from django.db import connection

    found = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.null or field.column in given:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            found[field.column] = ("now()", [])
            continue
        value = field.get_default()  # the default, or "" for a text field without one
        if value is not None:
            found[field.column] = ("%s", [field.get_db_prep_save(value, connection)])
    return found


def insert_select(model, columns: dict, source: str, params=(), *, source_params=()) -> int:
    """INSERT INTO model's table (columns) SELECT expressions FROM source; NOT NULL columns left out get
    their model default. `columns`: {column: SQL expression over source}; `params` fill the %s of the
    expressions (in column order), `source_params` those of the source."""
    from django.db import connection

    extra = _not_null_defaults(model, set(columns))
    names = [*columns, *extra]
    expressions = [*columns.values(), *(sql for sql, _ in extra.values())]
    extra_params = [param for _, values in extra.values() for param in values]
    sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) "
           f"SELECT {', '.join(expressions)} FROM {source}")
    with connection.cursor() as cursor:
        # In the order they appear: the columns' expressions, the defaults after them, then the source.
        cursor.execute(sql, [*params, *extra_params, *source_params])
        return cursor.rowcount


def load_master_data():
    from plugin.intellitrack.models import UOM, Customer, Division, Location, Site

    division = Division.objects.create(code="BENCH", name="Bench division")
    site = Site.objects.create(division=division, code="S1", name="Site 1")
    locations = [Location.objects.create(site=site, code=f"L{n}") for n in range(1, 11)]
    uom = UOM.objects.create(division=division, code="EA", each_count=1)
    customer = Customer.objects.create(division=division, name="Bench customer")
    return division, site, locations, uom, customer


def load_stores(first: int, count: int, master, *, now) -> list:
    """`count` stores with auto sync and End of Day on, DAYS days of runs each (one statement for all of
    them), 20 open picking orders each and an uncertain adjustment batch on every fifth."""
    import datetime as dt

    from plugin.configuration.models import BasicConfiguration, StoreConnection
    from plugin.configuration.services import store_schedules_sync
    from plugin.intellitrack.models import PickingOrder
    from plugin.sync.models import AdjustmentBatch, SyncRun

    division, site, locations, uom, customer = master
    stores = []
    for n in range(first, first + count):
        store = StoreConnection.objects.create(name=f"bench-{n:03d}", store_hash=f"bench{n}", access_token="t",
                                               connection_ok=True, connection_tested_at=now,
                                               connection_message="Connected.")
        config = BasicConfiguration.objects.create(
            store=store, default_division=division, default_site=site, default_location=locations[0],
            default_uom=uom, auto_sync_enabled=True, sync_interval_minutes=15, eod_enabled=True,
            eod_time=dt.time(23, 0), allow_writes_to_bigcommerce=True)
        store_schedules_sync(configuration=config)
        stores.append(store)
    ids = [store.pk for store in stores]
    # Per store and hour of the last DAYS days: the 23:00 run is the End of Day (a dry run every third
    # day, with its drift), the others auto sync cycles; one run in 40 failed, one in 25 partial.
    jobs = "CASE WHEN mod(h.n, 24) = 23 THEN 'eod_export' ELSE 'auto_sync' END"
    status = "CASE WHEN mod(h.n, 40) = 7 THEN 'failed' WHEN mod(h.n, 25) = 3 THEN 'partial' ELSE 'succeeded' END"
    start = "(now() - make_interval(hours => h.n))"
    insert_select(SyncRun, {
        "store_id": "s.id", "job": jobs, "trigger": "'schedule'", "status": status, "dry_run": "false",
        "options": "'{}'::jsonb", "total": "120", "processed": "120",
        "succeeded_count": f"CASE WHEN {status} = 'succeeded' THEN 120 ELSE 117 END",
        "failed_count": f"CASE WHEN {status} = 'succeeded' THEN 0 ELSE 3 END", "skipped_count": "0",
        "created_at": start, "started_at": start, "finished_at": f"{start} + make_interval(secs => 20 + mod(h.n, 50))",
        "heartbeat_at": start,
        "error": f"CASE WHEN {status} = 'failed' THEN 'BigCommerceError: the store answered 503 three times' "
                 "ELSE '' END",
        "summary": "CASE WHEN mod(h.n, 24) = 23 AND mod(h.n, 72) = 23 "
                   "THEN jsonb_build_object('dry_run', true, 'drifted_items', mod(h.n, 13)) ELSE '{}'::jsonb END",
    }, f"unnest(%s::bigint[]) AS s(id) CROSS JOIN generate_series(1, {DAYS * RUNS_PER_DAY}) AS h(n)",
        source_params=[ids])
    insert_select(PickingOrder, {
        "division_id": "%s", "number": "'PO-' || s.id || '-' || g", "order_date": "current_date",
        "customer_id": "%s", "status": "'open'", "source_store_id": "s.id", "store_order_id": "g",
        "unmanaged_lines": "'[]'::jsonb", "created_at": "now()",
    }, "unnest(%s::bigint[]) AS s(id) CROSS JOIN generate_series(1, 20) AS g",
        [division.pk, customer.pk], source_params=[ids])
    for store in stores[::5]:
        AdjustmentBatch.objects.create(store=store, state=AdjustmentBatch.State.UNCERTAIN, first_ledger_id=1,
                                       last_ledger_id=2, items_count=3)
    return stores


def load_items_and_inventory(count: int, master) -> None:
    from plugin.intellitrack.models import InventoryRecord, Item

    division, site, locations, uom, _customer = master
    insert_select(Item, {"division_id": "%s", "item_number": "'ITEM-' || lpad(g::text, 7, '0')",
                         "description": "'Bench item ' || g", "active": "true", "default_uom_id": "%s",
                         "created_at": "now()"},
                  "generate_series(1, %s) AS g", [division.pk, uom.pk], source_params=[count])
    location_ids = [location.pk for location in locations]
    insert_select(InventoryRecord, {"item_id": "i.id", "site_id": "%s",
                                    "location_id": "(%s::bigint[])[1 + mod(i.id, 10)]", "uom_id": "%s",
                                    "on_hand": "mod(i.id, 500)", "updated_at": "now()"},
                  "intellitrack_item AS i WHERE i.division_id = %s", [site.pk, location_ids, uom.pk],
                  source_params=[division.pk])


def load_run_items(total: int, store, *, now):
    """One End of Day run of BIG_RUN_ITEMS items (the big run's page), and the rest spread over the other
    runs, 40 to a run."""
    from django.db import connection

    from plugin.sync.models import SyncRun, SyncRunItem

    big = SyncRun.objects.create(store=store, job=SyncRun.Job.EOD_EXPORT, status=SyncRun.Status.PARTIAL,
                                 trigger=SyncRun.Trigger.SCHEDULE, total=BIG_RUN_ITEMS, processed=BIG_RUN_ITEMS,
                                 succeeded_count=BIG_RUN_ITEMS - BIG_RUN_ITEMS // 97,
                                 failed_count=BIG_RUN_ITEMS // 97, started_at=now, finished_at=now,
                                 summary={"write_requests": 50})
    big_items = min(BIG_RUN_ITEMS, total)
    item_columns = {
        "key": "'SKU-' || lpad(g::text, 7, '0')", "action": "'set_level'",
        "outcome": "CASE WHEN mod(g, 97) = 0 THEN 'failed' ELSE 'ok' END",
        "reason": "CASE WHEN mod(g, 97) = 0 THEN 'refused' ELSE '' END",
        "quantity_before": "mod(g, 480)", "quantity_after": "mod(g, 500)",
        "store_transaction_id": "CASE WHEN mod(g, 97) = 0 THEN '' ELSE 'tx-1' END",
        "detail": "jsonb_build_object('ref', g, 'on_hand', mod(g, 520), 'held', 20)",
    }
    insert_select(SyncRunItem, {"run_id": "%s", **item_columns}, "generate_series(1, %s) AS g", [big.pk],
                  source_params=[big_items])
    rest = total - big_items
    per_run = 40
    if rest > 0:
        insert_select(SyncRunItem, {"run_id": "r.id", **item_columns},
                      "(SELECT id FROM sync_syncrun WHERE id <> %s ORDER BY id LIMIT %s) AS r "
                      "CROSS JOIN generate_series(1, %s) AS g",
                      source_params=[big.pk, -(-rest // per_run), per_run])
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sync_syncrunitem")
        loaded = cursor.fetchone()[0]
        for table in ("sync_syncrun", "sync_syncrunitem", "intellitrack_item", "intellitrack_inventoryrecord",
                      "intellitrack_pickingorder"):
            cursor.execute(f"ANALYZE {table}")
    return big, loaded


def measure(client, path: str, count: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    statements = len(queries)  # now: the log is read lazily and each later request clears it
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")
    samples, cpu = [], []
    for _ in range(count):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, path
    samples.sort()
    return {"median": statistics.median(samples), "p95": samples[max(0, int(len(samples) * 0.95) - 1)],
            "cpu": statistics.median(cpu), "statements": statements, "bytes": len(response.content)}


def worker(args) -> int:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from plugin.configuration.roles import ADMIN, roles_ensure

    now = timezone.now()
    user = get_user_model().objects.create_user("bench-admin", password="not-used")
    user.groups.add(roles_ensure()[ADMIN])
    client = Client()
    client.force_login(user)

    started = time.perf_counter()
    master = load_master_data()
    stores = load_stores(0, args.few_stores, master, now=now)
    print(f"{len(stores)} stores with {DAYS} days of runs loaded in {time.perf_counter() - started:.1f} s")
    few = measure(client, "/", args.requests)

    started = time.perf_counter()
    stores += load_stores(len(stores), args.stores - len(stores), master, now=now)
    load_items_and_inventory(args.inventory, master)
    big, loaded = load_run_items(args.items, stores[0], now=now)
    from plugin.sync.models import SyncRun

    print(f"{len(stores)} stores, {SyncRun.objects.count():,} runs, {loaded:,} run item rows and "
          f"{args.inventory:,} inventory records loaded in {time.perf_counter() - started:.1f} s")

    pages = [
        ("dashboard", "/"),
        ("store list", "/stores/"),
        ("a store's Logs tab", f"/stores/{stores[0].pk}/logs/"),
        ("run list", "/runs/"),
        (f"big run's page ({BIG_RUN_ITEMS:,} items)", f"/runs/{big.pk}/"),
        ("Inventory Data", "/intellitrack/inventory/"),
    ]
    print(f"\n{args.requests} requests per page, signed in as an Admin (Django test client, in process); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    # The portal's own CPU time beside the wall time: on a busy machine the wall time also counts the
    # waits for a core (the database's work is in its own process, so only the wall time holds it).
    print(f"{'page':<34} {'median ms':>10} {'p95 ms':>8} {'CPU ms':>7} {'statements':>11} {'KB':>6}")
    results = {}
    for name, path in pages:
        results[name] = figures = measure(client, path, args.requests)
        print(f"{name:<34} {figures['median']:>10.1f} {figures['p95']:>8.1f} {figures['cpu']:>7.1f} "
              f"{figures['statements']:>11} "
              f"{figures['bytes'] / 1024:>6.0f}")
    dashboard = results["dashboard"]
    print(f"\ndashboard with {args.few_stores} stores: {few['statements']} statements, median {few['median']:.1f} ms; "
          f"with {len(stores)} stores: {dashboard['statements']} statements, median {dashboard['median']:.1f} ms")
    flat = few["statements"] == dashboard["statements"]
    fast = all(figures["median"] < GOAL_MEDIAN_MS for figures in results.values())
    print(f"{'OK' if flat else 'NOT OK'}: statements per page flat in the number of stores")
    print(f"{'OK' if fast else 'NOT OK'}: every page's median under {GOAL_MEDIAN_MS:.0f} ms")
    return 0 if flat and fast else 1


def main() -> int:
    args = parse_args()
    if args.worker:
        return worker(args)
    url = database_url(os.environ.get("BENCH_DATABASE") or DATABASE)
    env = {**worker_env(url), "DJANGO_ALLOWED_HOSTS": "testserver"}
    recreate_database(url)
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env,
                       check=True)
        argv = [sys.executable, "-m", "bench", "pages", "--worker", "--stores", str(args.stores),
                "--few-stores", str(args.few_stores), "--items", str(args.items), "--inventory",
                str(args.inventory), "--requests", str(args.requests)]
        return subprocess.run(argv, cwd=ROOT, env=env).returncode
    finally:
        if not args.keep:
            drop_database(url)


if __name__ == "__main__":
    sys.exit(main())
