"""A store configured against a live sandbox store, and helpers that run jobs the way a worker does."""
import pytest

from plugin.bigcommerce.client import BigCommerceClient
from plugin.sync.models import StoreItemLink, SyncRun
from plugin.sync.services import job_trigger, run_execute
from tests.bigcommerce.sandbox_fixtures import SANDBOX_STORE_HASH, SANDBOX_TOKEN
from tests.sync.factories import configured_store


def sandbox_client(server, **kwargs) -> BigCommerceClient:
    kwargs.setdefault("backoff_base", 0.01)
    kwargs.setdefault("backoff_cap", 0.05)
    return BigCommerceClient(base_url=server.base_url, store_hash=server.store_hash, access_token=server.token,
                             **kwargs)


def run_job(store, job, *, client=None, dry_run=False, options=None, trigger=SyncRun.Trigger.COMMAND) -> SyncRun:
    run = job_trigger(store=store, job=job, trigger=trigger, dry_run=dry_run, options=options, enqueue=False)
    finished = run_execute(run_id=run.pk, client=client)
    assert finished is not None
    return finished


def store_level(state, link: StoreItemLink, location_id: int = 1) -> int:
    """The sandbox's on-hand for a linked unit (its own stock key scheme)."""
    key = -link.product_id if link.tracking == StoreItemLink.Tracking.PRODUCT else link.variant_id
    return state.on_hand(key, location_id)


@pytest.fixture
def shop_factory(db, make_sandbox):
    def make(*, products=60, orders=30, plan="unlimited", update_stock_behavior="order_placed", faults=None,
             **config):
        server = make_sandbox(products=products, orders=orders, plan=plan,
                              update_stock_behavior=update_stock_behavior, faults=faults)
        store = configured_store(name=f"shop{server.port}", base_url=server.base_url,
                                 store_hash=SANDBOX_STORE_HASH, token=SANDBOX_TOKEN, **config)
        return store, server

    return make


@pytest.fixture
def shop(shop_factory):
    return shop_factory()
