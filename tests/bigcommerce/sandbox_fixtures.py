"""Fixtures that start a sandbox store on a free port (registered in tests/conftest.py).

    def test_something(sandbox):
        requests.get(f"{sandbox.store_url}/v2/store", headers={"X-Auth-Token": sandbox.token})
        sandbox.state.place_order(items=[{"sku": "SKU-000002", "quantity": 1}])

`sandbox` is function-scoped (a fresh, small store per test); `make_sandbox(**options)` builds one with
other options (plan, quota, window, faults, generator arguments) and stops it after the test."""
import pytest

from plugin.bigcommerce.sandbox import SandboxServer, generate

SANDBOX_TOKEN = "sandbox-test-token"
SANDBOX_STORE_HASH = "sbx123"


@pytest.fixture
def make_sandbox():
    started = []

    def make(*, products: int = 120, orders: int = 30, seed: int = 7, locations: int = 2,
             update_stock_behavior: str = "order_placed", **server_options) -> SandboxServer:
        def factory():
            return generate(products=products, orders=orders, seed=seed, locations=locations,
                            update_stock_behavior=update_stock_behavior)

        server_options.setdefault("token", SANDBOX_TOKEN)
        server_options.setdefault("store_hash", SANDBOX_STORE_HASH)
        server = SandboxServer("127.0.0.1", 0, factory(), state_factory=factory, **server_options).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def sandbox(make_sandbox) -> SandboxServer:
    """A small generated store (unlimited plan, so tests are not throttled) on a free port."""
    return make_sandbox(plan="unlimited")
