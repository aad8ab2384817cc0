"""Streaming a whole catalogue from the sandbox store: pages per second and the client's peak memory.

For each size N a sandbox store with N variant SKUs runs as its own process (`manage.py
bigcommerce_sandbox`), and each way of streaming runs in a fresh client process, so the peak RSS printed
is the client's alone and one N's peak cannot hide another's. Ways of streaming:
  variants  `iter_variant_pages` (250 variants a page)
  products  `iter_product_pages(include_variants=True)` (250 products a page, their variants inline)
The client's peak RSS must stay flat, and under 150 MB, as N grows.

    python -m bench bigcommerce_stream [--sizes 10000,25000,50000,100000] [--plan unlimited]
                                       [--modes variants,products]
"""

import argparse
import json
import os
import resource
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from plugin.bigcommerce.sandbox.ratelimit import PLANS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = "10000,25000,50000,100000"
MODES = ("variants", "products")
RSS_LIMIT_MB = 150
STORE_HASH = "benchstream"
SANDBOX_START_TIMEOUT_S = 300


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench bigcommerce_stream",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated numbers of variant SKUs")
    parser.add_argument("--plan", default="unlimited", choices=sorted(PLANS),
                        help="the sandbox store's plan (its request quota)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated: variants, products")
    # The client side of one measurement; the parent starts it in a fresh process.
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.token = os.environ.get("ITBC_SANDBOX_TOKEN", "")  # the children get the token by environment
    try:
        args.sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    except ValueError:
        parser.error("--sizes takes whole numbers separated by commas")
    if not args.sizes or any(not 1 <= size <= 100_000 for size in args.sizes):
        parser.error("each size must be between 1 and 100000 (the sandbox's largest catalogue)")
    args.modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    if not args.modes or any(mode not in MODES for mode in args.modes):
        parser.error(f"--modes takes {', '.join(MODES)}")
    return args


def _status_kb(pid: int | str, field: str) -> int:
    """A memory figure (kB) from /proc/PID/status: VmRSS now, VmHWM the peak so far."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


# ------------------------------------------------------------------------------------- client process

def client_main(args) -> int:
    """Stream every variant once and print one JSON line of figures."""
    from plugin.bigcommerce.client import BigCommerceClient
    from plugin.bigcommerce.ratelimit import RateBudget

    client = BigCommerceClient(base_url=args.base_url, store_hash=STORE_HASH, access_token=args.token,
                               budget=RateBudget(STORE_HASH))
    client.get_time()  # connection and imports warm before the clock starts
    rss_before_kb = _status_kb("self", "VmRSS")
    pages = variants = 0
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    started = time.perf_counter()
    if args.mode == "variants":
        for page in client.iter_variant_pages(limit=250):
            pages += 1
            variants += len(page)
    else:
        for page in client.iter_product_pages(include_variants=True, limit=250):
            pages += 1
            variants += sum(len(product.get("variants") or ()) for product in page)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "pages": pages, "variants": variants, "wall_s": wall,
        "rss_before_kb": rss_before_kb,
        "peak_rss_kb": usage.ru_maxrss,  # kB on Linux
        "cpu_s": usage.ru_utime + usage.ru_stime - cpu_before,
    }))
    return 0


# ------------------------------------------------------------------------------------- sandbox process

class Sandbox:
    """`manage.py bigcommerce_sandbox` on a free port, stopped with SIGTERM."""

    def __init__(self, *, variants: int, plan: str):
        self.token = secrets.token_hex(16)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "ITBC_SANDBOX_TOKEN": self.token}
        env.setdefault("DJANGO_SETTINGS_MODULE", "itbc_portal.settings.local")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "bigcommerce_sandbox", "--port", "0", "--products", str(variants),
             "--orders", "0", "--plan", plan, "--store-hash", STORE_HASH],
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

        return requests.get(f"{self.base_url}/_sandbox/state-summary", timeout=10).json()

    def rss_mb(self) -> tuple[float, float]:
        """(now, peak) of the sandbox process."""
        return (_status_kb(self.process.pid, "VmRSS") / 1024, _status_kb(self.process.pid, "VmHWM") / 1024)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_client(sandbox: Sandbox, mode: str) -> dict:
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "bigcommerce_stream", "--client", "--mode", mode,
         f"--base-url={sandbox.base_url}"],
        cwd=ROOT, capture_output=True, text=True, timeout=3600,
        env={**os.environ, "ITBC_SANDBOX_TOKEN": sandbox.token},
    )
    if completed.returncode != 0:
        raise RuntimeError(f"The {mode} client failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------------ main

def main() -> int:
    args = parse_args(sys.argv[1:])
    if args.client:
        return client_main(args)

    print(f"Streaming from a sandbox store (plan {args.plan}); every client run is a fresh process.", flush=True)
    rows = []
    for size in args.sizes:
        sandbox = Sandbox(variants=size, plan=args.plan)
        try:
            summary = sandbox.summary()
            print(f"N={size}: sandbox ready in {sandbox.startup_s:.1f} s with {summary['products']} products, "
                  f"{summary['variants']} variants", flush=True)
            for mode in args.modes:
                figures = run_client(sandbox, mode)
                sandbox_now, sandbox_peak = sandbox.rss_mb()
                rows.append({"n": size, "mode": mode, "store_variants": summary["variants"],
                             "sandbox_rss_mb": sandbox_now, "sandbox_peak_mb": sandbox_peak, **figures})
                print(f"  {mode}: {figures['pages']} pages, {figures['variants']} variants in "
                      f"{figures['wall_s']:.1f} s", flush=True)
        finally:
            sandbox.stop()

    header = (f"{'N':>7} {'stream':>8} {'pages':>6} {'variants':>8} {'pages/s':>8} {'variants/s':>10} "
              f"{'wall s':>7} {'client CPU s':>12} {'client RSS MB':>13} {'client peak MB':>14} {'sandbox RSS MB':>14}")
    print("\n" + header)
    print("-" * len(header))
    worst_peak = 0.0
    complete = True
    for row in rows:
        peak_mb = row["peak_rss_kb"] / 1024
        worst_peak = max(worst_peak, peak_mb)
        complete = complete and row["variants"] == row["store_variants"]
        print(f"{row['n']:>7} {row['mode']:>8} {row['pages']:>6} {row['variants']:>8} "
              f"{row['pages'] / row['wall_s']:>8.1f} {row['variants'] / row['wall_s']:>10.0f} "
              f"{row['wall_s']:>7.1f} {row['cpu_s']:>12.1f} {row['rss_before_kb'] / 1024:>13.1f} {peak_mb:>14.1f} "
              f"{row['sandbox_peak_mb']:>14.1f}")
    print("\nclient CPU s: the client process's CPU time while streaming (the rest of the wall time is the"
          "\nsandbox answering); client RSS MB: before the first page; client peak MB: the client process's peak (ru_maxrss);"
          "\nsandbox RSS MB: the sandbox process's peak (VmHWM), for information.")
    for mode in args.modes:
        peaks = [row["peak_rss_kb"] / 1024 for row in rows if row["mode"] == mode]
        if len(peaks) > 1:
            print(f"{mode}: client peak grows {peaks[-1] - peaks[0]:+.1f} MB from N={args.sizes[0]} "
                  f"to N={args.sizes[-1]}")
    print(f"Every variant streamed: {'yes' if complete else 'NO'}. "
          f"Highest client peak {worst_peak:.1f} MB (limit {RSS_LIMIT_MB} MB): "
          f"{'within' if worst_peak < RSS_LIMIT_MB else 'OVER'}.")
    return 0
