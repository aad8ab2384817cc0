"""The run pages' reads on a million item rows (PostgreSQL): a run's first item page, a deep page by
keyset, the failed-items filter, the End of Day drift table's "changed only" filter (a few dozen changed
rows among a million), the CSV stream, and the run list (first and deep page, by store, by status, by job,
with each cycle's steps nested under it). Each read is timed (median of --repeat) and its plan checked for
index use; then the pages themselves are requested --requests times with Django's test client (median and
p95 ms, SQL statements per page).

    python -m bench sync_run_pages [--items 1000000] [--runs 20000] [--changed 50] [--repeat 5]
                                   [--requests 200] [--keep]

Database server as in `bench sync_products`; the throw-away database is `itbc_bench_sync`."""

import argparse
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.sync_products import ROOT, database_url, drop_database, recreate_database, worker_env

LIMIT_MS = 100.0
PAGE_LIMIT_MS = 300.0


def parse_args():
    parser = argparse.ArgumentParser(prog="python -m bench sync_run_pages", description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="item rows of the big run")
    parser.add_argument("--runs", type=int, default=20_000, help="run rows in the list")
    parser.add_argument("--changed", type=int, default=50, help="items of the big run whose level changed")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(sys.argv[1:])


STEPS_PER_CYCLE = 4


def load(n_items: int, n_runs: int, n_changed: int):
    """Runs in groups of five: an auto sync cycle and its four steps (options.parent_run), and one End of
    Day dry run with `n_items` items, of which `n_changed` drifted and every 97th failed."""
    from django.db import connection

    from plugin.configuration.models import StoreConnection
    from plugin.sync.models import SyncRun

    stores = [StoreConnection.objects.create(name=f"bench{i}", store_hash=f"bench{i}") for i in range(3)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    steps = ["import_orders", "import_products", "export_fulfillments", "export_adjustments"]
    statuses = ["succeeded", "partial", "failed", "succeeded", "succeeded"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM sync_syncrun")
        first_id = cursor.fetchone()[0] + 1
        with cursor.copy("COPY sync_syncrun (id, store_id, job, trigger, status, dry_run, options, processed, "
                         "succeeded_count, failed_count, skipped_count, created_at, started_at, finished_at, "
                         "error, summary) FROM STDIN") as copy:
            for n in range(n_runs):
                group, place = divmod(n, STEPS_PER_CYCLE + 1)
                parent_id = first_id + group * (STEPS_PER_CYCLE + 1)
                job = "auto_sync" if place == 0 else steps[place - 1]
                options = "{}" if place == 0 else f'{{"parent_run": {parent_id}}}'
                created = start + timedelta(minutes=15 * group, seconds=place)
                copy.write_row((first_id + n, stores[group % 3].pk, job, "schedule", statuses[(group + place) % 5], False,
                                options, 10, 9, 1, 0, created, created, created + timedelta(seconds=4), "",
                                '{"steps": {}}' if place == 0 else "{}"))
        cursor.execute("SELECT setval(pg_get_serial_sequence('sync_syncrun', 'id'), %s)", [first_id + n_runs])
    big = SyncRun.objects.create(store=stores[0], job="eod_export", status="partial", processed=n_items,
                                 total=n_items, dry_run=True, succeeded_count=n_items - (n_items + 96) // 97,
                                 failed_count=(n_items + 96) // 97,
                                 summary={"dry_run": True, "drifted_items": n_changed, "write_requests": 0})
    every = max(1, n_items // max(1, n_changed))
    changed = 0
    with connection.cursor() as cursor:
        with cursor.copy("COPY sync_syncrunitem (run_id, key, action, outcome, reason, quantity_before, "
                         "quantity_after, store_transaction_id, detail) FROM STDIN") as copy:
            for n in range(n_items):
                failed = n % 97 == 0
                level = n % 500
                drift = changed < n_changed and n % every == every // 2 and not failed
                changed += drift
                copy.write_row((big.pk, f"SKU-{n:07d}", "dry_run", "failed" if failed else "ok",
                                "refused" if failed else "", level - 3 if drift else level, level, "",
                                f'{{"ref": {n}, "on_hand": {level + 2}, "held": 2, "before_source": "read"}}'))
        cursor.execute("ANALYZE sync_syncrun")
        cursor.execute("ANALYZE sync_syncrunitem")
    SyncRun.objects.filter(pk=big.pk).update(summary={**big.summary, "drifted_items": changed})
    big.refresh_from_db()
    return big, stores


def timed(fn, repeat):
    fn()  # warm-up
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def plan_uses_index(queryset, name: str = "") -> bool:
    plan = queryset.explain()
    return "Index" in plan and "Seq Scan" not in plan and (not name or name in plan)


def worker(args) -> int:
    import django

    django.setup()
    from plugin.sync import selectors
    from plugin.sync.models import SyncRunItem

    started = time.perf_counter()
    big, stores = load(args.items, args.runs, args.changed)
    print(f"loaded {args.items:,} item rows ({big.summary['drifted_items']} changed) and {args.runs:,} runs "
          f"in {time.perf_counter() - started:.1f} s")
    deep_item = SyncRunItem.objects.filter(run=big).order_by("id").values_list("id", flat=True)[args.items - 100]
    changed_ids = list(selectors.sync_run_item_list(run=big, changed_only=True, size=args.changed).rows)
    changed_middle = changed_ids[len(changed_ids) // 2].id
    first_runs = selectors.sync_run_list(size=50)
    deep_runs_cursor = selectors.sync_run_list(size=min(args.runs // 5, 10_000)).next_cursor

    def csv_rows():
        return sum(1 for _ in selectors.sync_run_items_iter(run=big, outcome="failed"))

    changed_qs = selectors.items_changed(SyncRunItem.objects.filter(run=big))
    checks = [
        ("items: first page", lambda: selectors.sync_run_item_list(run=big),
         SyncRunItem.objects.filter(run=big).order_by("id")[:51], ""),
        ("items: page at row 999,900 (keyset)", lambda: selectors.sync_run_item_list(run=big, after=deep_item),
         SyncRunItem.objects.filter(run=big, id__gt=deep_item).order_by("id")[:51], ""),
        ("items: failed only, first page", lambda: selectors.sync_run_item_list(run=big, outcome="failed"),
         SyncRunItem.objects.filter(run=big, outcome="failed").order_by("id")[:51], ""),
        ("items: changed only, first page", lambda: selectors.sync_run_item_list(run=big, changed_only=True),
         changed_qs.order_by("id")[:51], "syncrunitem_run_changed"),
        ("items: changed only, after the middle one",
         lambda: selectors.sync_run_item_list(run=big, changed_only=True, after=changed_middle),
         changed_qs.filter(id__gt=changed_middle).order_by("id")[:51], "syncrunitem_run_changed"),
        ("runs: first page (steps left out)", lambda: selectors.sync_run_list(), None, ""),
        ("runs: their steps (one page of parents)",
         lambda: selectors.Page(rows=sum(selectors.sync_run_children(
             parent_ids=[run.pk for run in first_runs.rows]).values(), [])), None, ""),
        ("runs: deep page (keyset)", lambda: selectors.sync_run_list(cursor=deep_runs_cursor), None, ""),
        ("runs: one store, first page", lambda: selectors.sync_run_list(store=stores[1]), None, ""),
        ("runs: status failed, first page", lambda: selectors.sync_run_list(status="failed"), None, ""),
        ("runs: job auto sync cycle, first page", lambda: selectors.sync_run_list(job="auto_sync"), None, ""),
        ("runs: job import orders, first page", lambda: selectors.sync_run_list(job="import_orders"), None, ""),
    ]
    ok = True
    print(f"\n{'read':<42} {'median ms':>10} {'rows':>5} {'index':>6}")
    for name, fn, queryset, index_name in checks:
        ms = timed(fn, args.repeat)
        rows = len(fn().rows)
        index = plan_uses_index(queryset, index_name) if queryset is not None else None
        print(f"{name:<42} {ms:>10.2f} {rows:>5} {'' if index is None else ('yes' if index else 'NO'):>6}")
        ok = ok and ms < LIMIT_MS and index is not False and rows > 0
    csv_ms = timed(csv_rows, 1)
    print(f"{'CSV of failed items (streamed)':<42} {csv_ms:>10.2f} {csv_rows():>5}")
    assert first_runs.rows
    print(f"\n{'OK' if ok else 'NOT OK'}: every read under {LIMIT_MS:.0f} ms, item reads on an index")
    return (0 if ok else 1) | pages(args, big, changed_middle, deep_item)


def pages(args, big, changed_middle: int, deep_item: int) -> int:
    """The pages as an operator gets them: median and p95 over --requests, statements per page."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from bench.pages import measure
    from plugin.configuration.roles import ADMIN, roles_ensure

    user = get_user_model().objects.create_user("bench-runs", password="not-used")
    user.groups.add(roles_ensure()[ADMIN])
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    paths = [
        (f"run page, first items ({args.items:,})", f"/runs/{big.pk}/"),
        ("run page, items at row 999,900", f"/runs/{big.pk}/?after={deep_item}"),
        ("run page, failed only", f"/runs/{big.pk}/?outcome=failed"),
        ("run page, changed only", f"/runs/{big.pk}/?changed=1"),
        ("run page, changed only, second part", f"/runs/{big.pk}/?changed=1&after={changed_middle}"),
        ("run list (steps nested)", "/runs/"),
        ("run list, job auto sync cycle", "/runs/?job=auto_sync"),
        ("run list, job import orders", "/runs/?job=import_orders"),
    ]
    print(f"\n{args.requests} requests per page, signed in as an Admin (Django test client, in process)")
    print(f"{'page':<42} {'median ms':>10} {'p95 ms':>8} {'statements':>11}")
    fast = True
    for name, path in paths:
        figures = measure(client, path, args.requests)
        print(f"{name:<42} {figures['median']:>10.1f} {figures['p95']:>8.1f} {figures['statements']:>11}")
        fast = fast and figures["p95"] < PAGE_LIMIT_MS
    print(f"{'OK' if fast else 'NOT OK'}: every page's p95 under {PAGE_LIMIT_MS:.0f} ms")
    return 0 if fast else 1


def main() -> int:
    args = parse_args()
    if args.worker:
        return worker(args)
    url = database_url()
    env = worker_env(url)
    recreate_database(url)
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env,
                       check=True)
        argv = [sys.executable, "-m", "bench", "sync_run_pages", "--worker", "--items", str(args.items),
                "--runs", str(args.runs), "--changed", str(args.changed), "--repeat", str(args.repeat),
                "--requests", str(args.requests)]
        return subprocess.run(argv, cwd=ROOT, env=env).returncode
    finally:
        if not args.keep:
            drop_database(url)


if __name__ == "__main__":
    sys.exit(main())
