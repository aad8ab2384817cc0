"""On-hand by item per quantity scope, and unpicked quantity by item, at catalogue scale on PostgreSQL.

Builds a throw-away database (default `itbc_bench` on the server of $BENCH_DATABASE_URL, else
$DATABASE_URL, else postgres://postgres@127.0.0.1:5432/), migrates it, loads 100,000 items x 3 locations
and 20,000 open picking-order lines (plus closed and other-store lines that must not count) with COPY,
then times the two selectors the End of Day export uses. Each must be one query and under 1 s.
The database is dropped afterwards unless --keep.

    python -m bench intellitrack_scope [--items 100000] [--open-lines 20000] [--repeat 5] [--keep]
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime
from urllib.parse import urlparse, urlunparse

DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"
LIMIT_SECONDS = 1.0


def parse_args():
    parser = argparse.ArgumentParser(
        prog="python -m bench intellitrack_scope", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--open-lines", type=int, default=20_000)
    parser.add_argument(
        "--repeat", type=int, default=5, help="timed runs per measurement (after one warm-up)"
    )
    parser.add_argument("--database", default="itbc_bench", help="name of the throw-away database")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


def server_url(database: str) -> str:
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_SERVER_URL
    parsed = urlparse(base)
    if not parsed.scheme.startswith("postgres"):
        sys.exit(f"This benchmark needs PostgreSQL; got {parsed.scheme or base!r}.")
    return urlunparse(parsed._replace(path="/" + database))


def recreate_database(url: str, database: str) -> None:
    import psycopg

    admin = urlunparse(urlparse(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')


def drop_database(url: str, database: str) -> None:
    import psycopg

    admin = urlunparse(urlparse(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def copy_rows(cursor, table: str, columns: list[str], rows) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load(n_items: int, n_open_lines: int) -> dict:
    """Master data through the ORM, the bulk through COPY. Returns the ids the measurements need."""
    from django.db import connection

    from plugin.configuration.models import StoreConnection
    from plugin.intellitrack.models import (
        UOM,
        Customer,
        Division,
        InventoryRecord,
        Item,
        Location,
        PickingOrder,
        PickingOrderLine,
        Site,
    )

    rng = random.Random(7)
    now = datetime.now(UTC)
    division = Division.objects.create(code="MAIN", name="Main")
    other_division = Division.objects.create(code="OTHER", name="Other")
    wh1 = Site.objects.create(division=division, code="WH1", name="Main Warehouse")
    wh2 = Site.objects.create(division=division, code="WH2", name="Overflow")
    loc_a = Location.objects.create(site=wh1, code="A")
    loc_b = Location.objects.create(site=wh1, code="B")
    loc_c = Location.objects.create(site=wh2, code="C")
    ea = UOM.objects.create(division=division, code="EA", name="Each", each_count=1)
    store = StoreConnection.objects.create(name="bench", store_hash="bench1")
    other_store = StoreConnection.objects.create(name="bench-other", store_hash="bench2")
    customer = Customer.objects.create(division=division, name="Bench Buyer")

    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        copy_rows(
            cursor,
            Item._meta.db_table,
            [
                "division_id",
                "item_number",
                "alternate_number",
                "description",
                "active",
                "default_uom_id",
                "created_at",
            ],
            ((division.id, f"SKU-{n:06d}", "", f"Item {n}", True, ea.id, now) for n in range(n_items)),
        )
        # A second division's items and stock must never count.
        copy_rows(
            cursor,
            Item._meta.db_table,
            ["division_id", "item_number", "alternate_number", "description", "active", "created_at"],
            ((other_division.id, f"SKU-{n:06d}", "", "", True, now) for n in range(1000)),
        )
        item_ids = list(Item.objects.filter(division=division).order_by("id").values_list("id", flat=True))
        foreign_ids = list(Item.objects.filter(division=other_division).values_list("id", flat=True))
        foreign_location = Location.objects.create(
            site=Site.objects.create(division=other_division, code="FAR", name="Far away"), code="Z"
        )
        foreign_uom = UOM.objects.create(division=other_division, code="EA", name="Each", each_count=1)
        copy_rows(
            cursor,
            InventoryRecord._meta.db_table,
            ["item_id", "site_id", "location_id", "uom_id", "on_hand", "updated_at"],
            (
                (i, foreign_location.site_id, foreign_location.id, foreign_uom.id, 999, now)
                for i in foreign_ids
            ),
        )
        copy_rows(
            cursor,
            InventoryRecord._meta.db_table,
            ["item_id", "site_id", "location_id", "uom_id", "on_hand", "updated_at"],
            (
                (item_id, location.site_id, location.id, ea.id, rng.randint(0, 500), now)
                for item_id in item_ids
                for location in (loc_a, loc_b, loc_c)
            ),
        )

        # Orders of 10 lines: open ones from the store (the lines that count), closed ones from the
        # store and open ones from another store (lines that must not count).
        def orders(prefix, source, status, n_lines):
            return [
                (division.id, f"{prefix}{n}", date(2026, 11, 1), customer.id, status, source.id, n, now)
                for n in range(1, n_lines // 10 + 1)
            ]

        order_rows = (
            orders("", store, "open", n_open_lines)
            + orders("C", store, "closed", n_open_lines // 4)
            + orders("X", other_store, "open", n_open_lines // 4)
        )
        copy_rows(
            cursor,
            PickingOrder._meta.db_table,
            [
                "division_id",
                "number",
                "order_date",
                "customer_id",
                "status",
                "source_store_id",
                "store_order_id",
                "created_at",
            ],
            (
                (*row[:6], row[6] if row[1].isdigit() else 10_000_000 + i, row[7])
                for i, row in enumerate(order_rows)
            ),
        )
        order_ids = list(PickingOrder.objects.order_by("id").values_list("id", flat=True))

        def lines():
            for order_id in order_ids:
                for line_number in range(1, 11):
                    ordered = rng.randint(1, 5)
                    yield (
                        order_id,
                        line_number,
                        rng.choice(item_ids),
                        ordered,
                        rng.randint(0, ordered - 1),
                        "",
                    )

        copy_rows(
            cursor,
            PickingOrderLine._meta.db_table,
            ["order_id", "line_number", "item_id", "ordered_qty", "picked_qty", "comment"],
            lines(),
        )
        # What autovacuum does to a settled table: statistics and a visibility map.
        cursor.execute("VACUUM ANALYZE")
    return {"division": division, "wh1": wh1, "loc_a": loc_a, "store": store}


def measure(label: str, func, repeat: int):
    """One warm-up, then `repeat` timed runs. Returns (label, result, queries of the last run, wall times,
    the server's own execution time of that query from EXPLAIN ANALYZE)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    func()
    times, queries, result = [], 0, None
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = func()
            times.append(time.perf_counter() - started)
        queries = len(captured)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + captured[-1]["sql"])
        plan = cursor.fetchone()[0]
    db_seconds = (plan[0] if isinstance(plan, list) else plan)["Execution Time"] / 1000
    return label, result, queries, times, db_seconds


def main() -> int:
    args = parse_args()
    url = server_url(args.database)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itbc_portal.settings.test")
    print(f"database: {args.database} (throw-away, on {urlparse(url).hostname}:{urlparse(url).port or 5432})")
    recreate_database(url, args.database)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from plugin.intellitrack import selectors
        from plugin.intellitrack.models import InventoryRecord, PickingOrderLine

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        ids = load(args.items, args.open_lines)
        n_records = InventoryRecord.objects.filter(site__division=ids["division"]).count()
        n_foreign = InventoryRecord.objects.exclude(site__division=ids["division"]).count()
        n_lines = PickingOrderLine.objects.count()
        n_open = PickingOrderLine.objects.filter(
            order__source_store=ids["store"], order__status="open"
        ).count()
        print(
            f"loaded in {time.perf_counter() - started:.1f} s: {args.items:,} items, {n_records:,} inventory records "
            f"(+{n_foreign:,} of another division), {n_lines:,} order lines of which {n_open:,} on open orders of the store"
        )
        load_average = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(
            f"machine: {os.cpu_count()} CPUs, load average {load_average} (other work on the machine slows every figure)"
        )
        print(
            f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}; {args.repeat} timed runs after a warm-up\n"
        )

        division, site, location, store = ids["division"], ids["wh1"], ids["loc_a"], ids["store"]
        cases = [
            (
                "on_hand_by_item  scope=default_location",
                lambda: selectors.on_hand_by_item(
                    division=division, scope="default_location", location=location
                ),
            ),
            (
                "on_hand_by_item  scope=default_site",
                lambda: selectors.on_hand_by_item(division=division, scope="default_site", site=site),
            ),
            (
                "on_hand_by_item  scope=division",
                lambda: selectors.on_hand_by_item(division=division, scope="division"),
            ),
            ("unpicked_by_item store (open orders)", lambda: selectors.unpicked_by_item(store=store)),
        ]
        # Independent totals to check each result against.
        expected_totals = {
            cases[0][0]: InventoryRecord.objects.filter(location=location).values_list("on_hand", flat=True),
            cases[1][0]: InventoryRecord.objects.filter(site=site).values_list("on_hand", flat=True),
            cases[2][0]: InventoryRecord.objects.filter(site__division=division).values_list(
                "on_hand", flat=True
            ),
        }
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COALESCE(SUM(l.ordered_qty - l.picked_qty), 0) FROM intellitrack_pickingorderline l"
                " JOIN intellitrack_pickingorder o ON o.id = l.order_id WHERE o.source_store_id = %s AND o.status = 'open'",
                [store.id],
            )
            unpicked_total = cursor.fetchone()[0]

        header = (
            f"{'measurement':40} {'queries':>7} {'items':>8} {'median s':>9} {'min s':>7} {'max s':>7}"
            f" {'in db s':>8}  verdict"
        )
        print(header)
        print("-" * len(header))
        failures = 0
        for label, func in cases:
            label, result, queries, times, db_seconds = measure(label, func, args.repeat)
            expected = sum(expected_totals[label]) if label in expected_totals else unpicked_total
            correct = sum(result.values()) == expected
            ok = queries == 1 and max(times) < LIMIT_SECONDS and correct
            failures += not ok
            verdict = "ok" if ok else "FAIL" + ("" if correct else " (wrong total)")
            print(
                f"{label:40} {queries:>7} {len(result):>8,} {statistics.median(times):>9.3f} "
                f"{min(times):>7.3f} {max(times):>7.3f} {db_seconds:>8.3f}  {verdict}"
            )
        print(
            f"\nlimit: 1 query and < {LIMIT_SECONDS:.0f} s per call; {'all within' if not failures else f'{failures} over'}"
        )
        connection.close()
        return 1 if failures else 0
    finally:
        if args.keep:
            print(f"kept database {args.database}")
        else:
            from django.db import connections

            connections.close_all()
            drop_database(url, args.database)
