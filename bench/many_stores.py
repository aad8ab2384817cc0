"""Many stores' End of Days due in the same minute, on Celery: N stores x M SKUs on sandbox stores at the
Standard plan (150 requests per 30 s per store), PostgreSQL and Redis, Celery beat firing the stores'
End of Day crontabs, and one `celery worker -Q eod` with W processes.

Built fast: one generated catalogue (saved once) is loaded by a few sandbox host processes, each serving
its share of the stores (own store hash, own rate limiter, own records). Go-live (products, then
inventory) runs through HTTP for the first store only; the other stores' items, links and stock rows are
copied from it in SQL, each store on its own division. One more store, not scheduled, measures one End
of Day alone on the same worker: the ideal is N / W times that. Then every store's End of Day is set to
the same minute (Save Configuration's schedule, `store_schedules_sync`), beat fires them together and
the worker runs them.

Printed: the wall time from the due minute to the last End of Day finished, next to the ideal; the
longest wait of any store between its due time and its start; 429s answered by the stores (planned:
injected by --storm; unplanned: the Standard plan's quota refused); every run's status and items; the
peak RSS of each worker process. Goals: wall <= 1.2 x ideal, no store starts more than 60 s after due,
0 unplanned 429s.

    python -m bench many_stores [--stores 50] [--skus 10000] [--workers 4] [--hosts 4] [--plan standard]
                                [--storm 0] [--keep]

Database server as in `bench sync_products` (throw-away database $BENCH_DATABASE, else
`itbc_bench_many`); Redis: $BENCH_REDIS_URL, else $REDIS_URL, else redis://127.0.0.1:6379/14 (only the
Celery queue keys are cleared)."""

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.sync_products import ROOT, database_url, drop_database, migrate, recreate_database, worker_env

DATABASE = "itbc_bench_many"
QUEUE_KEYS = ("eod", "cycle", "imports", "celery", "unacked", "unacked_index", "unacked_mutex")
WALL_GOAL = 1.2
START_GOAL_S = 60
STORM_RULE = {"method": "GET", "path": "/v3/settings/inventory", "status": 429, "times": 3}
STORM_RESET_MS = 2000


def _arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m bench many_stores", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=50, help="stores whose End of Days fall due together")
    parser.add_argument("--skus", type=int, default=10_000, help="SKUs per store (the same catalogue each)")
    parser.add_argument("--workers", type=int, default=4, help="worker processes on the eod queue")
    parser.add_argument("--hosts", type=int, default=4, help="sandbox host processes serving the stores")
    parser.add_argument("--plan", default="standard")
    parser.add_argument("--storm", type=int, default=0,
                        help="stores that answer a few injected 429s (planned) during their End of Day")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    # internal: a sandbox host process
    parser.add_argument("--worker", choices=["sandboxes"], help=argparse.SUPPRESS)
    parser.add_argument("--state-file", help=argparse.SUPPRESS)
    parser.add_argument("--hashes", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ------------------------------------------------------------------------------------- sandbox hosts


def sandboxes_worker(args) -> int:
    """Serve one store per hash, each loaded from the catalogue file; print each base URL, then wait."""
    from plugin.bigcommerce.sandbox import SandboxServer
    from plugin.bigcommerce.sandbox.state import StoreState

    token = os.environ["ITBC_SANDBOX_TOKEN"]
    servers = []
    for store_hash in args.hashes.split(","):
        state = StoreState.load(args.state_file)
        servers.append(SandboxServer("127.0.0.1", 0, state, token=token, store_hash=store_hash,
                                     plan=args.plan).start())
        print(f"store {store_hash} {servers[-1].base_url}", flush=True)
    print("ready", flush=True)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    while not stopping:
        time.sleep(0.5)
    for server in servers:
        server.stop()
    return 0


class Hosts:
    def __init__(self, *, hashes: list[str], hosts: int, state_file: str, plan: str):
        self.token = secrets.token_urlsafe(16)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "itbc_portal.settings.local",
               "ITBC_SANDBOX_TOKEN": self.token, "PYTHONPATH": str(ROOT)}
        self.processes = []
        self.base_urls: dict[str, str] = {}
        for index in range(hosts):
            share = hashes[index::hosts]
            if not share:
                continue
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "bench", "many_stores", "--worker", "sandboxes", "--state-file", state_file,
                 "--hashes", ",".join(share), "--plan", plan],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True))
        for process in self.processes:
            for line in process.stdout:
                if line.startswith("store "):
                    _, store_hash, base_url = line.split()
                    self.base_urls[store_hash] = base_url
                if line.startswith("ready"):
                    break
        missing = set(hashes) - set(self.base_urls)
        if missing:
            self.stop()
            raise RuntimeError(f"sandbox stores did not start: {sorted(missing)[:5]}")

    def summary(self, store_hash: str) -> dict:
        import requests

        return requests.get(f"{self.base_urls[store_hash]}/_sandbox/state-summary", timeout=30).json()

    def add_storm(self, store_hash: str) -> None:
        import requests

        answer = requests.post(f"{self.base_urls[store_hash]}/_sandbox/faults", timeout=30,
                               json={"storm_reset_ms": STORM_RESET_MS, "rules": [STORM_RULE]})
        answer.raise_for_status()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


# ------------------------------------------------------------------------------------- the database


def stores_create(base_urls: dict[str, str], token: str) -> list:
    """One store per hash, each on its own division (site MAIN, location A1, unit EA)."""
    from django.utils import timezone

    from plugin.configuration.models import BasicConfiguration, StoreConnection
    from plugin.intellitrack.models import UOM, Division, Location, Site

    stores = []
    for index, (store_hash, base_url) in enumerate(base_urls.items()):
        division = Division.objects.create(code=f"B{index:03d}", name=f"Bench division {index}")
        site = Site.objects.create(division=division, code="MAIN", name="Main")
        location = Location.objects.create(site=site, code="A1")
        uom = UOM.objects.create(division=division, code="EA", name="Each", each_count=1)
        store = StoreConnection.objects.create(
            name=f"bench-{index:03d}", store_hash=store_hash, api_base_url=base_url, access_token=token,
            timezone="UTC", connection_ok=True, connection_tested_at=timezone.now())
        BasicConfiguration.objects.create(
            store=store, default_division=division, default_site=site, default_location=location,
            default_uom=uom, allow_writes_to_bigcommerce=True, sync_enabled=True, auto_sync_enabled=True)
        stores.append(store)
    return stores


def _columns(model, *, skip=("id",)) -> list[str]:
    return [field.column for field in model._meta.concrete_fields if field.column not in skip]


def golive_copy(source, targets) -> None:
    """Copy the source store's items, links and stock rows to each target store's division, in SQL."""
    from django.db import connection, transaction

    from plugin.intellitrack.models import InventoryRecord, Item
    from plugin.sync.models import StoreItemLink

    item, link, record = Item._meta.db_table, StoreItemLink._meta.db_table, InventoryRecord._meta.db_table
    src = source.basic_configuration
    for target in targets:
        config = target.basic_configuration
        with transaction.atomic(), connection.cursor() as cursor:
            columns = _columns(Item)
            values = {"division_id": "%(division)s", "default_uom_id": "%(uom)s"}
            cursor.execute(
                f"INSERT INTO {item} ({', '.join(columns)}) SELECT "
                + ", ".join(values.get(column, f"s.{column}") for column in columns)
                + f" FROM {item} s WHERE s.division_id = %(source_division)s",
                {"division": config.default_division_id, "uom": config.default_uom_id,
                 "source_division": src.default_division_id})
            columns = _columns(StoreItemLink)
            values = {"store_id": "%(store)s", "item_id": "n.id"}
            cursor.execute(
                f"INSERT INTO {link} ({', '.join(columns)}) SELECT "
                + ", ".join(values.get(column, f"s.{column}") for column in columns)
                + f" FROM {link} s JOIN {item} si ON si.id = s.item_id"
                f" JOIN {item} n ON n.division_id = %(division)s AND n.item_number = si.item_number"
                " WHERE s.store_id = %(source_store)s",
                {"store": target.pk, "division": config.default_division_id, "source_store": source.pk})
            columns = _columns(InventoryRecord)
            values = {"item_id": "n.id", "site_id": "%(site)s", "location_id": "%(location)s", "uom_id": "%(uom)s"}
            cursor.execute(
                f"INSERT INTO {record} ({', '.join(columns)}) SELECT "
                + ", ".join(values.get(column, f"s.{column}") for column in columns)
                + f" FROM {record} s JOIN {item} si ON si.id = s.item_id"
                f" JOIN {item} n ON n.division_id = %(division)s AND n.item_number = si.item_number"
                " WHERE s.location_id = %(source_location)s",
                {"site": config.default_site_id, "location": config.default_location_id,
                 "uom": config.default_uom_id, "division": config.default_division_id,
                 "source_location": src.default_location_id})


def run_here(store, job: str):
    from plugin.sync.models import SyncRun
    from plugin.sync.services import job_trigger, run_execute

    run = job_trigger(store=store, job=job, trigger=SyncRun.Trigger.COMMAND, enqueue=False)
    return run_execute(run_id=run.pk) or SyncRun.objects.get(pk=run.pk)


# ------------------------------------------------------------------------------------- Celery processes


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-m", "celery", "-A", "itbc_portal", *args], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_for(predicate, seconds: float, what: str, poll: float = 0.5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise RuntimeError(f"timed out after {seconds:.0f} s waiting for {what}")


# ------------------------------------------------------------------------------------- main


def main() -> int:
    args = _arguments(sys.argv[1:])
    if args.worker == "sandboxes":
        import django

        django.setup()
        return sandboxes_worker(args)

    url = database_url(os.environ.get("BENCH_DATABASE") or DATABASE)
    redis_url = os.environ.get("BENCH_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"
    env = worker_env(url)
    env.update(REDIS_URL=redis_url, ITBC_API_URL_ALLOWLIST="http://127.0.0.1", LOG_LEVEL="WARNING",
               PYTHONPATH=str(ROOT))
    folder = Path(tempfile.mkdtemp(prefix="itbc_bench_many_"))
    recreate_database(url)
    migrate(env)
    os.environ.update({key: value for key, value in env.items() if isinstance(value, str)})
    import django

    django.setup()
    import redis
    from django.db import transaction

    from plugin.bigcommerce.sandbox.generator import generate
    from plugin.configuration.services import store_schedules_sync
    from plugin.sync.models import StoreItemLink, SyncRun

    redis.Redis.from_url(redis_url).delete(*QUEUE_KEYS)
    print(f"{args.stores} stores x {args.skus:,} SKUs, plan {args.plan}, {args.workers} eod worker processes, "
          f"{os.cpu_count()} CPU cores", flush=True)
    started = time.perf_counter()
    state = generate(products=args.skus, orders=0, seed=1)
    state_file = str(folder / "catalogue.json")
    state.save(state_file)
    del state
    run_tag = secrets.token_hex(3)
    hashes = [f"m{index:03d}{run_tag}" for index in range(args.stores + 1)]  # the last one: measured alone
    hosts = Hosts(hashes=hashes, hosts=args.hosts, state_file=state_file, plan=args.plan)
    processes = []
    try:
        print(f"  catalogue and {len(hashes)} sandbox stores in {args.hosts} processes: "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        stores = stores_create({h: hosts.base_urls[h] for h in hashes}, hosts.token)
        solo, scheduled = stores[-1], stores[:-1]

        started = time.perf_counter()
        for job in (SyncRun.Job.IMPORT_PRODUCTS, SyncRun.Job.IMPORT_INVENTORY):
            run = run_here(solo, job)
            if run.status not in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL):
                raise RuntimeError(f"go-live {job} failed: {run.error}")
        golive_s = time.perf_counter() - started
        started = time.perf_counter()
        golive_copy(solo, scheduled)
        linked = StoreItemLink.objects.filter(store=solo).count()
        print(f"  go-live of one store over HTTP: {golive_s:.1f} s ({linked:,} linked); copied to "
              f"{len(scheduled)} stores in SQL: {time.perf_counter() - started:.1f} s", flush=True)
        for store in stores[:args.storm]:
            hosts.add_storm(store.store_hash)

        worker = start(["worker", "-Q", "eod", "--pool", "prefork", "--concurrency", str(args.workers),
                        "--loglevel", "INFO", "-O", "fair", "--without-gossip", "--without-mingle",
                        "-n", f"bench-eod-{run_tag}@%h"], env, folder / "worker.log")
        processes.append(worker)
        wait_for(lambda: " ready." in (folder / "worker.log").read_text(), 120, "the worker")

        # One End of Day alone, from the button (its run's task routed to the eod queue).
        from plugin.sync.services import job_trigger

        with transaction.atomic():
            alone = job_trigger(store=solo, job=SyncRun.Job.EOD_EXPORT, trigger=SyncRun.Trigger.MANUAL)
        alone = wait_for(lambda: SyncRun.objects.filter(pk=alone.pk, status__in=SyncRun.FINISHED_STATUSES).first(),
                         1800, "the End of Day measured alone")
        one_s = (alone.finished_at - alone.started_at).total_seconds()
        print(f"  one End of Day alone: {one_s:.1f} s ({alone.status}, {alone.processed:,} items)", flush=True)

        # Every scheduled store's End of Day in the same minute, at least 20 s from now.
        now = datetime.now(UTC)
        due = (now + timedelta(seconds=80)).replace(second=0, microsecond=0)
        for store in scheduled:
            config = store.basic_configuration
            config.eod_enabled, config.eod_time, config.eod_timezone = True, due.time(), "UTC"
            config.save()
            store_schedules_sync(configuration=config)
        beat = start(["beat", "--loglevel", "INFO", "--scheduler", "plugin.portal.beat:HeartbeatDatabaseScheduler",
                      "--schedule", str(folder / "beat-schedule")], env, folder / "beat.log")
        processes.append(beat)
        print(f"  {len(scheduled)} End of Days due at {due:%H:%M:%S} UTC; beat started", flush=True)
        budget = 120 + (due - now).total_seconds() + 3 * one_s * len(scheduled) / args.workers

        def all_finished():
            runs = list(SyncRun.objects.filter(job=SyncRun.Job.EOD_EXPORT, scheduled_for=due))
            done = [run for run in runs if run.status in SyncRun.FINISHED_STATUSES]
            return runs if len(done) == len(scheduled) else None

        peaks = {}

        def finished_and_peaks():
            for pid in _children(worker.pid):
                peaks[pid] = max(peaks.get(pid) or 0, _peak_rss_mb(pid) or 0)
            return all_finished()

        runs = wait_for(finished_and_peaks, budget, "every End of Day", poll=1.0)
        for pid in _children(worker.pid):
            peaks[pid] = max(peaks.get(pid) or 0, _peak_rss_mb(pid) or 0)
    finally:
        for process in reversed(processes):
            stop(process)
    try:
        summaries = {store.store_hash: hosts.summary(store.store_hash) for store in scheduled}
    finally:
        hosts.stop()

    wall_s = (max(run.finished_at for run in runs) - due).total_seconds()
    ideal_s = len(scheduled) / args.workers * one_s
    longest_wait_s = max((run.started_at - due).total_seconds() for run in runs)
    planned = sum(summary["faults_injected"].get("storm", 0) + summary["faults_injected"].get("rule", 0)
                  for summary in summaries.values())
    unplanned = sum(summary["rate_limited"] for summary in summaries.values())
    statuses = {}
    for run in runs:
        statuses[run.status] = statuses.get(run.status, 0) + 1
    items_ok = all(run.processed == linked for run in runs)
    durations = sorted((run.finished_at - run.started_at).total_seconds() for run in runs)
    print(f"\nEnd of Day of {len(scheduled)} stores x {args.skus:,} SKUs due in the same minute, "
          f"{args.workers} worker processes, plan {args.plan}, on {os.cpu_count()} CPU cores:")
    print(f"  wall time, due -> last finished    {wall_s:8.1f} s")
    print(f"  ideal ({len(scheduled)} / {args.workers} x {one_s:.1f} s alone)   {ideal_s:8.1f} s   "
          f"ratio {wall_s / ideal_s:.2f} (goal <= {WALL_GOAL})")
    print(f"  longest wait, due -> start         {longest_wait_s:8.1f} s   (goal <= {START_GOAL_S} s)")
    print(f"  each End of Day: median {durations[len(durations) // 2]:.1f} s, max {durations[-1]:.1f} s")
    print(f"  429s answered: planned (injected) {planned}, unplanned (quota) {unplanned}   (goal: 0 unplanned)")
    print(f"  runs: {statuses}; every run processed all {linked:,} items: {items_ok}")
    print("  peak RSS per worker process (MB): "
          + ", ".join(f"{peak:.0f}" for peak in sorted(peaks.values(), reverse=True)))
    if os.cpu_count() and os.cpu_count() < args.workers:
        print(f"  note: {args.workers} worker processes share {os.cpu_count()} cores with PostgreSQL and the sandbox "
              "stores; the ideal assumes a core per process.")
    shutil.rmtree(folder, ignore_errors=True)
    if not args.keep:
        django.db.connections.close_all()
        drop_database(url)
    ok = (wall_s <= WALL_GOAL * ideal_s and longest_wait_s <= START_GOAL_S and unplanned == 0
          and statuses == {SyncRun.Status.SUCCEEDED: len(scheduled)} and items_ok)
    print("  goals met" if ok else "  goals NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
