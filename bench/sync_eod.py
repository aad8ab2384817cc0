"""End of Day export at catalogue scale: a sandbox store with N SKUs at the Standard plan (150 requests
per 30 s), PostgreSQL, the real job (`manage.py itbc eod` does the same).

For each N: a sandbox store process, a throw-away database, a set-up process (import products and
inventory, not measured), then the End of Day in a fresh worker process. Printed per N: requests in the
write phase (must be ceil(N/2000) absolute adjustments), all requests, database queries (and per write
batch), wall time with and without the client's rate-limit waits, and the worker's peak RSS (< 300 MB).

    python -m bench sync_eod [--sizes 10000 100000] [--plan standard] [--keep]

Database server and throw-away database as in `bench sync_products`."""

import math
import sys

from bench.sync_products import RSS_LIMIT_MB, parse_args, run_sizes, worker_main

WRITE = "PUT /v3/inventory/adjustments/absolute"


def main() -> int:
    args = parse_args(sys.argv[1:], prog="python -m bench sync_eod")
    if args.worker:
        return worker_main(args)
    rows = run_sizes(args, job="eod_export", prog_module="sync_eod")
    header = (f"{'N SKUs':>8} {'linked':>7} {'status':>9} {'writes':>6} {'ceil(linked/2000)':>17} {'requests':>8} "
              f"{'queries':>7} {'q/batch':>7} {'wall s':>7} {'waits s':>7} {'wall-waits s':>12} {'peak RSS MB':>11}")
    print("\n" + header)
    print("-" * len(header))
    ok = True
    for row in rows:
        linked = row["total"] or 0
        writes = row["requests"].get(WRITE, 0)
        expected = math.ceil(linked / 2000)
        queries = sum(row["queries"].values())
        peak = row["peak_rss_kb"] / 1024
        print(f"{row['n']:>8} {linked:>7} {row['status']:>9} {writes:>6} {expected:>17} "
              f"{sum(row['requests'].values()):>8} {queries:>7} {queries / max(1, writes):>7.1f} "
              f"{row['wall_s']:>7.1f} {row['wait_s']:>7.1f} {row['wall_s'] - row['wait_s']:>12.1f} {peak:>11.1f}")
        ok = ok and writes == expected and peak < RSS_LIMIT_MB and row["status"] == "succeeded" \
            and row["ok"] == linked
    print("\nlinked: items linked to the store (every tracked product or variant; untracked ones are skipped);"
          "\nwrites: absolute adjustment requests; requests: all HTTP requests of the run (the order import first"
          "\nincluded); queries: every SQL statement of the run, run records and the order import included;"
          "\nq/batch: queries per write batch of 2000; waits: the client's rate-limit and retry sleeps;"
          "\npeak RSS: the worker process's peak (ru_maxrss).")
    for row in rows:
        print(f"N={row['n']}: requests {row['requests']}; queries {row['queries']}; summary {row['summary']}")
    print(f"\n{'OK' if ok else 'NOT OK'}: writes = ceil(linked/2000), every item ok, peak RSS < {RSS_LIMIT_MB} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
