"""The run pages' reads on a million item rows (PostgreSQL): a run's first item page, a deep page by
keyset, the failed-items filter, the CSV stream, and the run list (first and deep page, by store and by
status). Each read is timed (median of --repeat) and its plan checked for index use.

    python -m bench sync_run_pages [--items 1000000] [--runs 20000] [--repeat 5] [--keep]

Database server as in `bench sync_products`; the throw-away database is `itbc_bench_sync`."""

import argparse
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.sync_products import ROOT, database_url, drop_database, recreate_database, worker_env

LIMIT_MS = 100.0


def parse_args():
    parser = argparse.ArgumentParser(prog="python -m bench sync_run_pages", description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="item rows of the big run")
    parser.add_argument("--runs", type=int, default=20_000, help="run rows in the list")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(sys.argv[1:])


def load(n_items: int, n_runs: int):
    from django.db import connection

    from plugin.configuration.models import StoreConnection
    from plugin.sync.models import SyncRun

    stores = [StoreConnection.objects.create(name=f"bench{i}", store_hash=f"bench{i}") for i in range(3)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    jobs = [choice for choice, _ in SyncRun.Job.choices]
    statuses = ["succeeded", "partial", "failed", "succeeded", "succeeded"]
    with connection.cursor() as cursor:
        with cursor.copy("COPY sync_syncrun (store_id, job, trigger, status, dry_run, options, processed, "
                         "succeeded_count, failed_count, skipped_count, created_at, error, summary) FROM STDIN") as copy:
            for n in range(n_runs):
                copy.write_row((stores[n % 3].pk, jobs[n % len(jobs)], "schedule", statuses[n % 5], False, "{}",
                                10, 9, 1, 0, start + timedelta(minutes=n), "", "{}"))
    big = SyncRun.objects.create(store=stores[0], job="eod_export", status="partial", processed=n_items)
    with connection.cursor() as cursor:
        with cursor.copy("COPY sync_syncrunitem (run_id, key, action, outcome, reason, quantity_before, "
                         "quantity_after, store_transaction_id, detail) FROM STDIN") as copy:
            for n in range(n_items):
                failed = n % 97 == 0
                copy.write_row((big.pk, f"SKU-{n:07d}", "set_level", "failed" if failed else "ok",
                                "refused" if failed else "", None, n % 500, "" if failed else "tx-1",
                                f'{{"ref": {n}}}'))
        cursor.execute("ANALYZE sync_syncrun")
        cursor.execute("ANALYZE sync_syncrunitem")
    return big, stores


def timed(fn, repeat):
    fn()  # warm-up
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def plan_uses_index(queryset) -> bool:
    plan = queryset.explain()
    return "Index" in plan and "Seq Scan" not in plan


def worker(args) -> int:
    import django

    django.setup()
    from plugin.sync import selectors
    from plugin.sync.models import SyncRunItem

    started = time.perf_counter()
    big, stores = load(args.items, args.runs)
    print(f"loaded {args.items:,} item rows and {args.runs:,} runs in {time.perf_counter() - started:.1f} s")
    deep_item = SyncRunItem.objects.filter(run=big).order_by("id").values_list("id", flat=True)[args.items - 100]
    first_runs = selectors.sync_run_list(size=50)
    deep_runs_cursor = selectors.sync_run_list(size=args.runs - 100).next_cursor

    def csv_rows():
        return sum(1 for _ in selectors.sync_run_items_iter(run=big, outcome="failed"))

    checks = [
        ("items: first page", lambda: selectors.sync_run_item_list(run=big),
         SyncRunItem.objects.filter(run=big).order_by("id")[:51]),
        ("items: page at row 999,900 (keyset)", lambda: selectors.sync_run_item_list(run=big, after=deep_item),
         SyncRunItem.objects.filter(run=big, id__gt=deep_item).order_by("id")[:51]),
        ("items: failed only, first page", lambda: selectors.sync_run_item_list(run=big, outcome="failed"),
         SyncRunItem.objects.filter(run=big, outcome="failed").order_by("id")[:51]),
        ("runs: first page", lambda: selectors.sync_run_list(), None),
        ("runs: deep page (keyset)", lambda: selectors.sync_run_list(cursor=deep_runs_cursor), None),
        ("runs: one store, first page", lambda: selectors.sync_run_list(store=stores[1]), None),
        ("runs: status failed, first page", lambda: selectors.sync_run_list(status="failed"), None),
    ]
    ok = True
    print(f"\n{'read':<40} {'median ms':>10} {'rows':>5} {'index':>6}")
    for name, fn, queryset in checks:
        ms = timed(fn, args.repeat)
        rows = len(fn().rows)
        index = plan_uses_index(queryset) if queryset is not None else None
        print(f"{name:<40} {ms:>10.2f} {rows:>5} {'' if index is None else ('yes' if index else 'NO'):>6}")
        ok = ok and ms < LIMIT_MS and index is not False
    csv_ms = timed(csv_rows, 1)
    print(f"{'CSV of failed items (streamed)':<40} {csv_ms:>10.2f} {csv_rows():>5}")
    assert first_runs.rows
    print(f"\n{'OK' if ok else 'NOT OK'}: every page read under {LIMIT_MS:.0f} ms, item reads on an index")
    return 0 if ok else 1


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
                "--runs", str(args.runs), "--repeat", str(args.repeat)]
        return subprocess.run(argv, cwd=ROOT, env=env).returncode
    finally:
        if not args.keep:
            drop_database(url)


if __name__ == "__main__":
    sys.exit(main())
