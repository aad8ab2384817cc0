"""End of Day export at catalogue scale: a sandbox store with N SKUs at the Standard plan (150 requests
per 30 s), PostgreSQL, the real job (`manage.py itbc eod` does the same).

For each N: a sandbox store process, a throw-away database, a set-up process (import products and
inventory, not measured), then the End of Day in a fresh worker process. Printed per N: requests in the
write phase (must be ceil(N/2000) absolute adjustments), all requests, database statements (must be the
same at every N), wall time with and without the client's rate-limit waits, and the worker's peak RSS
(< 300 MB).

Statements are counted by phase: the order import that End of Day runs first, the run's own records,
the two stock aggregates, the streamed read of the links (one DECLARE of a server-side cursor; its
FETCHes of 2000 rows are printed apart, as round trips that are not statements), the final load (COPY
of the item rows, UPDATE of the links, counters) and the progress writes, which a timer drives
(ITBC_RUN_PROGRESS_SECONDS) and so depend on the run's wall time, not on N.

    python -m bench sync_eod [--sizes 10000 100000] [--plan standard] [--keep]

Database server and throw-away database as in `bench sync_products`."""

import contextvars
import functools
import json
import math
import sys
from collections import Counter

from bench.sync_products import RSS_LIMIT_MB, bench_store, measure, parse_args, run_sizes, worker_main

WRITE = "PUT /v3/inventory/adjustments/absolute"
PHASES = ("order import", "run records", "aggregates", "links read", "final load", "progress (timer)")
_phase = contextvars.ContextVar("phase", default=None)  # None: not part of the measured run


def _in_phase(name: str, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        token = _phase.set(name)
        try:
            return function(*args, **kwargs)
        finally:
            _phase.reset(token)

    return wrapper


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
    fetches = Counter()
    fetchmany = psycopg.ServerCursor.fetchmany

    def counted_fetchmany(self, *a, **kw):
        fetches["server-side cursor fetches"] += 1
        return fetchmany(self, *a, **kw)

    psycopg.ServerCursor.fetchmany = counted_fetchmany
    by_phase = Counter()

    def label(execute, sql, params, many, context):
        if _phase.get() is not None:
            by_phase[_phase.get()] += 1
        return execute(sql, params, many, context)

    store = bench_store(args.base_url, args.token)
    with connection.execute_wrapper(label):
        figures = measure("eod_export", store, args.base_url, args.token)
    figures.update(phases=dict(by_phase), fetches=fetches["server-side cursor fetches"])
    print(json.dumps(figures))
    return 0


def main() -> int:
    args = parse_args(sys.argv[1:], prog="python -m bench sync_eod")
    if args.worker == "eod_export":
        return eod_worker(args)
    if args.worker:
        return worker_main(args)
    rows = run_sizes(args, job="eod_export", prog_module="sync_eod")
    header = (f"{'N SKUs':>8} {'linked':>7} {'status':>9} {'writes':>6} {'ceil(linked/2000)':>17} {'requests':>8} "
              f"{'queries':>7} {'fixed':>5} {'timer':>5} {'fetches':>7} {'wall s':>7} {'waits s':>7} "
              f"{'wall-waits s':>12} {'peak RSS MB':>11}")
    print("\n" + header)
    print("-" * len(header))
    ok = True
    for row in rows:
        linked = row["total"] or 0
        writes = row["requests"].get(WRITE, 0)
        expected = math.ceil(linked / 2000)
        queries = sum(row["queries"].values())
        timer = row["phases"].get("progress (timer)", 0)
        peak = row["peak_rss_kb"] / 1024
        print(f"{row['n']:>8} {linked:>7} {row['status']:>9} {writes:>6} {expected:>17} "
              f"{sum(row['requests'].values()):>8} {queries:>7} {queries - timer:>5} {timer:>5} {row['fetches']:>7} "
              f"{row['wall_s']:>7.1f} {row['wait_s']:>7.1f} {row['wall_s'] - row['wait_s']:>12.1f} {peak:>11.1f}")
        ok = ok and writes == expected and peak < RSS_LIMIT_MB and row["status"] == "succeeded" \
            and row["ok"] == linked and sum(row["phases"].values()) == queries
    fixed = {sum(row["queries"].values()) - row["phases"].get("progress (timer)", 0) for row in rows}
    ok = ok and len(fixed) == 1
    print("\nlinked: items linked to the store (every tracked product or variant; untracked ones are skipped);"
          "\nwrites: absolute adjustment requests; requests: all HTTP requests of the run (the order import first"
          "\nincluded); queries: every SQL statement of the run, run records, the order import and the COPY"
          "\nincluded; fixed: the statements that do not depend on time (must be equal at every N); timer: progress"
          "\nwrites, at most one per ITBC_RUN_PROGRESS_SECONDS of wall time; fetches: round trips of the links'"
          "\nserver-side cursor (2000 rows each; not statements); waits: the client's rate-limit and retry sleeps;"
          "\npeak RSS: the worker process's peak (ru_maxrss).")
    for row in rows:
        phases = {phase: row["phases"].get(phase, 0) for phase in PHASES}
        print(f"N={row['n']}: statements by phase {phases}; by kind {row['queries']}; requests {row['requests']}; "
              f"summary {row['summary']}")
    print(f"\n{'OK' if ok else 'NOT OK'}: writes = ceil(linked/2000), every item ok, the phases add up, the same "
          f"fixed statements at every N, peak RSS < {RSS_LIMIT_MB} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
