"""Inventory Data at 100,000 inventory records (PostgreSQL): the page under every sort, a deep page, the
store filter and the streamed CSV of the whole list. 2,000 open picking orders with 5 lines each hold
stock (Available), and one store links every item (the last-sent store level). Prints the median and
95th percentile time and the SQL statements per page (they must not grow with the rows), then the CSV's rows,
time, statements and how much the process grew while streaming it.

    python -m bench inventory_pages [--inventory 100000] [--requests 15] [--keep]

The throw-away database is $BENCH_DATABASE, else itbc_bench_inventory, on the server of
$BENCH_DATABASE_URL or $DATABASE_URL."""

import argparse
import os
import resource
import subprocess
import sys
import time

from bench.sync_products import ROOT, database_url, drop_database, recreate_database, worker_env

DATABASE = "itbc_bench_inventory"
SORTS = ["item", "-item", "description", "division", "site", "location", "uom", "on_hand", "-on_hand",
         "available", "-available", "store_level", "-store_level", "updated"]


def parse_args():
    parser = argparse.ArgumentParser(prog="python -m bench inventory_pages", description=__doc__.split("\n\n")[0])
    parser.add_argument("--inventory", type=int, default=100_000, help="items, each with one inventory record")
    parser.add_argument("--requests", type=int, default=15, help="requests per page")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(sys.argv[1:])


def load(count: int):
    from django.db import connection

    from bench.pages import insert_select, load_items_and_inventory, load_master_data
    from plugin.configuration.models import StoreConnection
    from plugin.intellitrack.models import PickingOrder, PickingOrderLine
    from plugin.sync.models import StoreItemLink

    master = load_master_data()
    division, site, locations, _uom, customer = master
    load_items_and_inventory(count, master)
    store = StoreConnection.objects.create(name="bench", store_hash="bench", access_token="t")
    insert_select(PickingOrder, {
        "division_id": "%s", "number": "'PO-' || g", "order_date": "current_date", "customer_id": "%s",
        "status": "'open'", "source_store_id": "%s", "store_order_id": "g", "unmanaged_lines": "'[]'::jsonb",
        "created_at": "now()",
    }, "generate_series(1, 2000) AS g", [division.pk, customer.pk, store.pk])
    insert_select(PickingOrderLine, {
        "order_id": "o.id", "line_number": "g",
        "item_id": f"(SELECT min(id) FROM intellitrack_item) + mod(o.id * 37 + g * 101, {count})",
        "ordered_qty": "1 + mod(g, 4)", "picked_qty": "0",
    }, "intellitrack_pickingorder o CROSS JOIN generate_series(1, 5) AS g")
    insert_select(StoreItemLink, {
        "store_id": "%s", "product_id": "i.id", "tracking": "'product'", "item_id": "i.id",
        "sku": "i.item_number", "last_exported_qty": "mod(i.id, 450)", "created_at": "now()",
        "updated_at": "now()",
    }, "intellitrack_item i", [store.pk])
    with connection.cursor() as cursor:
        for table in ("intellitrack_item", "intellitrack_inventoryrecord", "intellitrack_pickingorderline",
                      "intellitrack_pickingorder", "sync_storeitemlink"):
            cursor.execute(f"ANALYZE {table}")
    return store, site, locations


def worker(args) -> int:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.pages import measure
    from plugin.configuration.roles import VIEWER, roles_ensure

    user = get_user_model().objects.create_user("bench-viewer", password="not-used")
    user.groups.add(roles_ensure()[VIEWER])
    client = Client()
    client.force_login(user)
    started = time.perf_counter()
    store, site, locations = load(args.inventory)
    print(f"{args.inventory:,} inventory records, 10,000 open order lines and {args.inventory:,} store links "
          f"loaded in {time.perf_counter() - started:.1f} s")

    base = "/intellitrack/inventory/"
    pages = [("default (item)", base), *[(f"sort={sort}", f"{base}?sort={sort}") for sort in SORTS],
             ("sort=item, page 1000", f"{base}?sort=item&page=1000"),
             ("sort=-available, page 1000", f"{base}?sort=-available&page=1000"),
             ("store filter, sort=-store_level", f"{base}?store={store.pk}&sort=-store_level"),
             ("site + location, sort=available", f"{base}?site={site.pk}&location={locations[3].pk}&sort=available"),
             ("item search", f"{base}?item=ITEM-00001")]
    print(f"\n{args.requests} requests per page, signed in as a Viewer (Django test client, in process)")
    print(f"{'page':<36} {'median ms':>10} {'p95 ms':>11} {'statements':>11}")
    statements = set()
    for name, path in pages:
        figures = measure(client, path, args.requests)
        statements.add(figures["statements"])
        print(f"{name:<36} {figures['median']:>10.1f} {figures['p95']:>11.1f} {figures['statements']:>11}")

    grown_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(f"{base}export.csv?sort=-available")
        size = lines = 0
        for chunk in response.streaming_content:
            size += len(chunk)
            lines += 1
        took = time.perf_counter() - started
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - grown_before) / 1024
    print(f"\nCSV, sort=-available: {lines - 1:,} rows, {size / 1e6:.1f} MB in {took:.1f} s, "
          f"{len(queries)} statements, peak RSS grew {grown:.0f} MB while streaming")
    print(f"statements per page: {sorted(statements)} (flat: they depend on the filters, not on the rows)")
    return 0


def main() -> int:
    args = parse_args()
    if args.worker:
        return worker(args)
    url = database_url(DATABASE if not os.environ.get("BENCH_DATABASE") else None)
    env = {**worker_env(url), "DJANGO_ALLOWED_HOSTS": "testserver"}
    recreate_database(url)
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env,
                       check=True)
        argv = [sys.executable, "-m", "bench", "inventory_pages", "--worker", "--inventory", str(args.inventory),
                "--requests", str(args.requests)]
        return subprocess.run(argv, cwd=ROOT, env=env).returncode
    finally:
        if not args.keep:
            drop_database(url)


if __name__ == "__main__":
    sys.exit(main())
