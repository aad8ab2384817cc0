"""Import Products at catalogue scale: a sandbox store with N SKUs at the Standard plan (150 requests per
30 s), PostgreSQL, the real job (`manage.py itbc import-products` does the same).

For each N the sandbox store runs as its own process, a throw-away database is migrated, and the import
runs in a fresh worker process, so the peak RSS printed is the worker's alone. Printed per N: requests
(pages of 250 products), database queries, wall time with and without the client's rate-limit waits,
and the worker's peak RSS (must stay under 300 MB).

    python -m bench sync_products [--sizes 10000 100000] [--plan standard] [--keep]

The database server comes from $BENCH_DATABASE_URL, else $DATABASE_URL, else postgres://postgres@127.0.0.1:5432/;
the throw-away database is $BENCH_DATABASE, else `itbc_bench_sync` (dropped afterwards unless --keep)."""

import argparse
import json
import os
import resource
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE = "itbc_bench_sync"
STORE_HASH = "benchsync"
RSS_LIMIT_MB = 300
PRODUCT_PAGE = 250


def parse_args(argv, prog="python -m bench sync_products", *, description=None, plan="standard", extra=None,
               workers=("setup", "import_products", "eod_export")):
    parser = argparse.ArgumentParser(prog=prog, description=description or __doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--plan", default=plan)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    if extra is not None:
        extra(parser)
    # internal: one measured step in a fresh process
    parser.add_argument("--worker", choices=list(workers), help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.token = os.environ.get("ITBC_SANDBOX_TOKEN", "")  # the workers get the token by environment
    return args


# ------------------------------------------------------------------------------------- orchestration

def database_url(database: str | None = None) -> str:
    """The throw-away database: `database`, else $BENCH_DATABASE, else DATABASE, on the server above."""
    database = database or os.environ.get("BENCH_DATABASE") or DATABASE
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_SERVER_URL
    parsed = urlparse(base)
    if not parsed.scheme.startswith("postgres"):
        sys.exit(f"This benchmark needs PostgreSQL; got {parsed.scheme or base!r}.")
    return urlunparse(parsed._replace(path="/" + database))


def _admin(url: str):
    import psycopg

    return psycopg.connect(urlunparse(urlparse(url)._replace(path="/postgres")), autocommit=True)


def _name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def recreate_database(url: str) -> None:
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{_name(url)}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{_name(url)}"')


def drop_database(url: str) -> None:
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{_name(url)}" WITH (FORCE)')


def worker_env(url: str) -> dict:
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "itbc_portal.settings.local",
        "DJANGO_DEBUG": "false",  # DEBUG would keep every query in memory
        "DATABASE_URL": url,
        "REDIS_URL": "",  # self-contained: database locks, a private rate budget
        "ITBC_ENCRYPTION_KEYS": os.environ.get("ITBC_ENCRYPTION_KEYS") or Fernet.generate_key().decode(),
        "LOG_LEVEL": "ERROR",
        "PYTHONUNBUFFERED": "1",
    }


def migrate(env: dict) -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env,
                   check=True)


class Sandbox:
    """`manage.py bigcommerce_sandbox` with N SKUs on a free port, stopped with SIGTERM."""

    def __init__(self, *, skus: int, plan: str, state_file: str | None = None):
        self.token = secrets.token_urlsafe(16)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "itbc_portal.settings.local",
               "ITBC_SANDBOX_TOKEN": self.token}
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "bigcommerce_sandbox", "--port", "0", "--products", str(skus),
             "--orders", "0", "--plan", plan, "--store-hash", STORE_HASH,
             # a store loaded from (and saved on SIGTERM to) a file; no periodic save while it is measured
             *(["--state", state_file, "--save-every", "86400"] if state_file else [])],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.base_url = None
        for line in self.process.stdout:
            if line.startswith("base_url "):
                self.base_url = line.split()[1]
            if line.startswith("Sandbox store ready"):
                break
        if self.base_url is None:
            self.stop()
            raise RuntimeError("The sandbox store did not start: " + self.process.stderr.read()[-2000:])
        self.startup_s = time.perf_counter() - started

    def summary(self) -> dict:
        import requests

        return requests.get(f"{self.base_url}/_sandbox/state-summary", timeout=30).json()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_worker(step: str, sandbox: Sandbox, env: dict, prog_module: str) -> dict:
    completed = subprocess.run(
        [sys.executable, "-m", "bench", prog_module, "--worker", step, "--base-url", sandbox.base_url],
        cwd=ROOT, env={**env, "ITBC_SANDBOX_TOKEN": sandbox.token}, capture_output=True, text=True, timeout=7200,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"The {step} worker failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------- worker process

class CountingSleep:
    """The client's sleep: every rate-limit (and retry) wait goes through it, so its total is known."""

    def __init__(self):
        self.seconds = 0.0
        self.calls = 0

    def __call__(self, seconds: float) -> None:
        self.calls += 1
        self.seconds += max(0.0, seconds)
        time.sleep(seconds)


def counting_session():
    """A requests session that counts requests by method and path shape."""
    import re

    import requests

    class CountingSession(requests.Session):
        def __init__(self):
            super().__init__()
            self.counts = Counter()
            self.seconds = Counter()  # time from sending to the body read, by kind

        def request(self, method, url, *args, **kwargs):
            path = re.sub(r"/\d+", "/{id}", urlparse(url).path.split("/v", 1)[-1])
            kind = f"{method.upper()} /v{path}"
            self.counts[kind] += 1
            started = time.perf_counter()
            try:
                return super().request(method, url, *args, **kwargs)
            finally:
                self.seconds[kind] += time.perf_counter() - started

    return CountingSession()


def bench_store(base_url: str, token: str):
    """The store record and its Basic Configuration (created once per database)."""
    from django.utils import timezone

    from plugin.configuration.models import BasicConfiguration, StoreConnection
    from plugin.intellitrack.models import UOM, Division, Location, Site

    division, _ = Division.objects.get_or_create(code="BENCH", defaults={"name": "Bench division"})
    site, _ = Site.objects.get_or_create(division=division, code="MAIN", defaults={"name": "Main"})
    location, _ = Location.objects.get_or_create(site=site, code="A1")
    uom, _ = UOM.objects.get_or_create(division=division, code="EA", defaults={"name": "Each", "each_count": 1})
    store, _ = StoreConnection.objects.update_or_create(
        name="bench", defaults={"store_hash": STORE_HASH, "api_base_url": base_url, "access_token": token,
                                "connection_ok": True, "connection_tested_at": timezone.now()})
    BasicConfiguration.objects.update_or_create(store=store, defaults={
        "default_division": division, "default_site": site, "default_location": location, "default_uom": uom,
        "allow_writes_to_bigcommerce": True})
    return store


def peak_rss_kb() -> int:
    """This process's peak resident memory in kB: VmHWM of its own address space. (ru_maxrss would do on
    its own, but a process forked from a bigger one, as each worker is from the runner that built the
    store, inherits the parent's figure.)"""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(job: str, store, base_url: str, token: str) -> dict:
    """Run one job in this process, counting requests, queries, waits, wall time and peak RSS."""
    from django.db import connection

    from plugin.bigcommerce.client import BigCommerceClient
    from plugin.sync.models import SyncRun
    from plugin.sync.services import job_trigger, run_execute

    sleep = CountingSleep()
    session = counting_session()
    client = BigCommerceClient(base_url=base_url, store_hash=STORE_HASH, access_token=token, session=session,
                               sleep=sleep)
    queries = Counter()

    def count(execute, sql, params, many, context):
        queries[sql.split(None, 1)[0].upper()] += 1
        return execute(sql, params, many, context)

    rss_before = peak_rss_kb()
    run = job_trigger(store=store, job=job, trigger=SyncRun.Trigger.COMMAND, enqueue=False)
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        finished = run_execute(run_id=run.pk, client=client)
    wall = time.perf_counter() - started
    finished = finished or SyncRun.objects.get(pk=run.pk)
    return {
        "run": finished.pk, "status": finished.status, "error": finished.error[:500],
        "processed": finished.processed, "total": finished.total, "ok": finished.succeeded_count,
        "failed": finished.failed_count, "skipped": finished.skipped_count,
        "items": finished.succeeded_count + finished.failed_count + finished.skipped_count,
        "summary": finished.summary, "requests": dict(session.counts), "queries": dict(queries),
        "request_s": {kind: round(seconds, 3) for kind, seconds in session.seconds.items()},
        "wall_s": wall, "wait_s": sleep.seconds, "waits": sleep.calls,
        "rss_before_kb": rss_before, "peak_rss_kb": peak_rss_kb(),
    }


def worker_main(args) -> int:
    import django

    django.setup()
    store = bench_store(args.base_url, args.token)
    if args.worker == "setup":
        # What End of Day needs first: products linked, stock imported (not measured).
        figures = {step: measure(step, store, args.base_url, args.token)["status"]
                   for step in ("import_products", "import_inventory")}
    else:
        figures = measure(args.worker, store, args.base_url, args.token)
    print(json.dumps(figures))
    return 0


# ------------------------------------------------------------------------------------------------ main

def run_sizes(args, *, job: str, prog_module: str) -> list[dict]:
    url = database_url()
    env = worker_env(url)
    rows = []
    try:
        for size in args.sizes:
            recreate_database(url)
            migrate(env)
            sandbox = Sandbox(skus=size, plan=args.plan)
            try:
                summary = sandbox.summary()
                print(f"N={size}: sandbox ready in {sandbox.startup_s:.1f} s: {summary.get('products')} products, "
                      f"{summary.get('variants')} variants, plan {args.plan}", flush=True)
                if job != "import_products":
                    setup = run_worker("setup", sandbox, env, prog_module)
                    print(f"  set-up (not measured): {setup}", flush=True)
                figures = run_worker(job, sandbox, env, prog_module)
                figures.update(n=size, store_products=summary.get("products"), store_variants=summary.get("variants"))
                rows.append(figures)
                print(f"  {job}: run #{figures['run']} {figures['status']} in {figures['wall_s']:.1f} s", flush=True)
            finally:
                sandbox.stop()
    finally:
        if not args.keep:
            drop_database(url)
    return rows


def main() -> int:
    args = parse_args(sys.argv[1:])
    if args.worker:
        return worker_main(args)
    rows = run_sizes(args, job="import_products", prog_module="sync_products")
    header = (f"{'N SKUs':>8} {'products':>8} {'items':>7} {'status':>9} {'requests':>8} {'pages':>6} "
              f"{'queries':>7} {'q/page':>6} {'wall s':>7} {'waits s':>7} {'wall-waits s':>12} {'peak RSS MB':>11}")
    print("\n" + header)
    print("-" * len(header))
    ok = True
    for row in rows:
        requests_total = sum(row["requests"].values())
        pages = row["requests"].get("GET /v3/catalog/products", 0) - 1  # one more asks the total for progress
        queries = sum(row["queries"].values())
        peak = row["peak_rss_kb"] / 1024
        print(f"{row['n']:>8} {row['store_products']:>8} {row['items']:>7} {row['status']:>9} {requests_total:>8} "
              f"{pages:>6} {queries:>7} {queries / max(1, pages):>6.1f} {row['wall_s']:>7.1f} {row['wait_s']:>7.1f} "
              f"{row['wall_s'] - row['wait_s']:>12.1f} {peak:>11.1f}")
        expected_pages = -(-row["store_products"] // PRODUCT_PAGE)
        ok = ok and pages == expected_pages and peak < RSS_LIMIT_MB and row["status"] in ("succeeded", "partial")
    print("\nrequests: every HTTP request the import sent; pages: product pages of 250 (with variants);"
          "\nqueries: every SQL statement of the run (run records included); waits: the client's rate-limit"
          "\nand retry sleeps; peak RSS: the worker process's peak (VmHWM).")
    for row in rows:
        print(f"N={row['n']}: requests {row['requests']}; queries {row['queries']}")
    print(f"\n{'OK' if ok else 'NOT OK'}: pages = ceil(products / 250) and peak RSS < {RSS_LIMIT_MB} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
