"""The data generator: deterministic, a realistic mix, and fast enough for 100,000 SKUs."""
import json
import time

import pytest

from plugin.bigcommerce.sandbox import generate
from plugin.bigcommerce.sandbox.state import StoreState


def _as_json(state) -> str:
    return json.dumps(state.to_dict(), sort_keys=True)


def test_the_same_seed_gives_the_same_store():
    assert _as_json(generate(products=400, orders=80, seed=11)) == _as_json(generate(products=400, orders=80, seed=11))


def test_another_seed_gives_another_store():
    assert _as_json(generate(products=400, orders=80, seed=11)) != _as_json(generate(products=400, orders=80, seed=12))


def test_sku_count_and_the_mix():
    state = generate(products=1000, orders=300, seed=5)
    assert len(state.variants) == 1000
    tracking = {p.inventory_tracking for p in state.products.values()}
    assert tracking == {"none", "product", "variant"}
    assert any(p.has_options and p.inventory_tracking == "product" for p in state.products.values())
    assert all(p.has_options for p in state.products.values() if p.inventory_tracking == "variant")
    assert len({v.sku.lower() for v in state.variants.values()}) == 1000
    statuses = {order.status_id for order in state.orders.values()}
    assert {11, 9, 3, 2, 5} <= statuses
    for order in state.orders.values():
        assert order.products and order.addresses
        if order.status_id == 2:
            assert order.items_shipped == order.items_total and order.shipments
        if order.status_id == 3:
            assert 0 < order.items_shipped < order.items_total
    # a few tracked items never had stock set (relative adjustments refuse them)
    keys = [key for p in state.products.values() for key in state.stock_keys(p)]
    unset = [key for key in keys if key not in state.stock[1]]
    assert 0 < len(unset) < len(keys) * 0.05


def test_a_saved_store_loads_back_the_same(tmp_path):
    state = generate(products=300, orders=60, seed=2)
    state.place_order(items=[{"sku": state.variants[state.variant_order[5]].sku, "quantity": 1}], allow_oversell=True)
    path = tmp_path / "store.json"
    state.save(str(path))
    assert _as_json(StoreState.load(str(path))) == _as_json(state)


@pytest.mark.slow
def test_100k_skus_and_20k_orders_generate_in_seconds():
    started = time.perf_counter()
    state = generate(products=100_000, orders=20_000, seed=1)
    elapsed = time.perf_counter() - started
    assert len(state.variants) == 100_000 and len(state.orders) == 20_000
    assert elapsed < 15, f"generation took {elapsed:.1f} s"
