"""Two worker processes on one store at the Standard plan (150 requests / 30 s), sharing its request
budget through Redis: how many requests, how many 429s, how much of each window's quota was used, and
how long it took next to the shortest time the quota allows.

The sandbox store runs in this process; each worker is a separate process with its own client and a
`RedisRateBudget` on the same key. The sandbox counts the requests it let through in each of its
windows. With --control the same work runs again with a private budget per worker (nothing shared), to
show the 429s that sharing avoids.

    python -m bench bigcommerce_shared_budget [--requests 200] [--redis-url URL] [--control]
                                              [--reserve 2]
"""

import argparse
import math
import multiprocessing
import os
import sys
import time
import uuid

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
PLAN = "standard"
TOKEN = "bench-shared-budget"


def parse_args():
    parser = argparse.ArgumentParser(prog="python -m bench bigcommerce_shared_budget",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per worker (default 200)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis-url", default=None,
                        help=f"Redis for the shared budget (default: $REDIS_URL, else {DEFAULT_REDIS_URL})")
    parser.add_argument("--reserve", type=int, default=None,
                        help="requests each budget keeps back per window (default: the client's own default)")
    parser.add_argument("--control", action="store_true",
                        help="also run with a private budget per worker, to count the 429s sharing avoids")
    args = parser.parse_args(sys.argv[1:])
    if args.requests < 1 or args.workers < 1:
        parser.error("--requests and --workers must be at least 1")
    return args


def counting_limiter(plan: str):
    """The sandbox's own rate limiter, also remembering how many requests each finished window let through."""
    from plugin.bigcommerce.sandbox.ratelimit import RateLimiter

    class CountingRateLimiter(RateLimiter):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.closed_windows: list[int] = []

        def _roll(self, now: float) -> None:  # called under the limiter's lock
            start, used = self._window_start, self._used
            super()._roll(now)
            if self._window_start != start and used:
                self.closed_windows.append(used)

        def windows(self) -> list[int]:
            with self._lock:
                return self.closed_windows + ([self._used] if self._used else [])

    return CountingRateLimiter(plan)


# ------------------------------------------------------------------------------------------ worker

def worker(base_url: str, store_hash: str, redis_url: str | None, reserve: int | None, requests_to_make: int,
           go, results) -> None:
    """One worker process: `requests_to_make` GET /v2/time calls through the client, counting answers."""
    from plugin.bigcommerce.client import BigCommerceClient
    from plugin.bigcommerce.ratelimit import DEFAULT_RESERVE, RateBudget, RedisRateBudget

    reserve = DEFAULT_RESERVE if reserve is None else reserve
    if redis_url:
        import redis

        budget = RedisRateBudget(redis.Redis.from_url(redis_url), store_hash, reserve=reserve)
    else:
        budget = RateBudget(store_hash, reserve=reserve)
    client = BigCommerceClient(base_url=base_url, store_hash=store_hash, access_token=TOKEN, budget=budget)
    statuses: dict[int, int] = {}
    client._session.hooks["response"].append(
        lambda response, *args, **kwargs: statuses.__setitem__(response.status_code,
                                                               statuses.get(response.status_code, 0) + 1))
    error = ""
    go.wait()
    started = time.monotonic()
    done = 0
    try:
        for _ in range(requests_to_make):
            client.get_time()
            done += 1
    except Exception as exc:  # noqa: BLE001 - reported in the table
        error = f"{type(exc).__name__}: {exc}"
    results.put({"pid": os.getpid(), "done": done, "statuses": statuses, "error": error,
                 "seconds": time.monotonic() - started})


# ------------------------------------------------------------------------------------------ one run

def run(*, label: str, redis_url: str | None, args) -> dict:
    import requests

    from plugin.bigcommerce.sandbox.generator import generate
    from plugin.bigcommerce.sandbox.server import SandboxServer

    store_hash = f"benchbudget{uuid.uuid4().hex[:8]}"
    server = SandboxServer("127.0.0.1", 0, generate(products=50, orders=0, seed=1), token=TOKEN,
                           store_hash=store_hash, plan=PLAN)
    server.limiter = counting_limiter(PLAN)
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    results = context.Queue()
    processes = [context.Process(target=worker, args=(server.base_url, store_hash, redis_url, args.reserve,
                                                      args.requests, go, results))
                 for _ in range(args.workers)]
    for process in processes:
        process.start()
    server.start()
    try:
        time.sleep(1.0)  # let the spawned workers import and reach the start line
        print(f"{label}: {args.workers} workers x {args.requests} requests ...", flush=True)
        server.limiter.reset()  # window 1 opens now, not when the sandbox was built
        started = time.monotonic()
        go.set()
        outcomes = [results.get(timeout=1800) for _ in processes]
        wall = time.monotonic() - started
        for process in processes:
            process.join(30)
        summary = requests.get(f"{server.base_url}/_sandbox/state-summary", timeout=10).json()
    finally:
        server.stop()
        for process in processes:
            if process.is_alive():
                process.terminate()
        if redis_url:
            import redis

            from plugin.bigcommerce.ratelimit import RedisRateBudget

            redis.Redis.from_url(redis_url).delete(RedisRateBudget.KEY_PREFIX + store_hash)
    statuses: dict[int, int] = {}
    for outcome in outcomes:
        for status, count in outcome["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    return {"label": label, "wall": wall, "outcomes": outcomes, "statuses": statuses,
            "windows": server.limiter.windows(), "refused": summary["rate_limited"],
            "quota": summary["quota"], "window_ms": server.limiter.window_ms}


def redis_reachable(url: str) -> str:
    """'' when Redis answers, else why not."""
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
        return f"{type(exc).__name__}: {exc}"
    return ""


def report(rows: list[dict], args) -> None:
    quota, window_s = rows[0]["quota"], rows[0]["window_ms"] / 1000
    total = args.workers * args.requests
    windows_needed = math.ceil(total / quota)
    minimum = (windows_needed - 1) * window_s
    print(f"\nStore plan {PLAN}: {quota} requests per {window_s:.0f} s window. "
          f"{args.workers} workers x {args.requests} requests = {total} requests.")
    print(f"Theoretical minimum: {windows_needed} windows, {minimum:.0f} s (the first request opens window 1; "
          f"the last window's requests take no time).")
    header = (f"{'budget':<22} {'requests OK':>11} {'429s':>5} {'sent':>5} {'wall s':>7} {'vs min':>7}  "
              f"requests used per window (of {quota})")
    print("\n" + header)
    print("-" * (len(header) + 10))
    for row in rows:
        ok = row["statuses"].get(200, 0)
        sent = sum(row["statuses"].values())
        extra = f"{row['wall'] - minimum:+.1f} s"
        print(f"{row['label']:<22} {ok:>11} {row['statuses'].get(429, 0):>5} {sent:>5} {row['wall']:>7.1f} "
              f"{extra:>7}  {', '.join(str(used) for used in row['windows'])}")
        for outcome in row["outcomes"]:
            if outcome["error"]:
                print(f"    worker {outcome['pid']} stopped after {outcome['done']} requests: {outcome['error']}")
    print("\n429s: answers with status 429 seen by the workers (the sandbox's own count agrees: "
          + ", ".join(f"{row['label']} {row['refused']}" for row in rows) + "). No 429 is planned in this run.")


def main() -> int:
    args = parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itbc_portal.settings.local")
    redis_url = args.redis_url or os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    problem = redis_reachable(redis_url)
    if problem:
        print(f"Redis at {redis_url} is not reachable ({problem}).\nThe shared budget lives in Redis: start "
              f"Redis or pass --redis-url redis://HOST:PORT/DB.", file=sys.stderr)
        return 1
    rows = [run(label="shared (Redis)", redis_url=redis_url, args=args)]
    if args.control:
        rows.append(run(label="one each (in process)", redis_url=None, args=args))
    report(rows, args)
    return 0
