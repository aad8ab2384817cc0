"""Run the sandbox store in the foreground until SIGINT/SIGTERM (used by `manage.py bigcommerce_sandbox`)."""
from __future__ import annotations

import os
import signal
import threading

from .faults import FaultConfig
from .generator import generate
from .server import SandboxServer
from .state import StoreState


def sandbox_build(*, host: str, port: int, store_hash: str, token: str, products: int, orders: int, seed: int,
                  plan: str, state_file: str | None, faults: FaultConfig,
                  update_stock_behavior: str = "order_placed") -> SandboxServer:
    def factory() -> StoreState:
        return generate(products=products, orders=orders, seed=seed, update_stock_behavior=update_stock_behavior)

    state = StoreState.load(state_file) if state_file and os.path.exists(state_file) else factory()
    return SandboxServer(host, port, state, token=token, store_hash=store_hash, plan=plan, faults=faults,
                         state_factory=factory)


def sandbox_run(server: SandboxServer, *, state_file: str | None, save_every_s: float, announce) -> None:
    """Serve until a signal arrives; save the state on the way out and every `save_every_s` seconds."""
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    server.start()
    announce(server)
    try:
        while not stop.wait(save_every_s if state_file else 3600):
            if state_file:
                server.state.save(state_file)
    finally:
        server.stop()
        if state_file:
            server.state.save(state_file)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
