"""The project's BigCommerce client against the sandbox over HTTP: the two must agree end to end."""
import pytest

from plugin.bigcommerce.client import BigCommerceClient
from plugin.bigcommerce.errors import ValidationError


def _client(server, **kwargs) -> BigCommerceClient:
    kwargs.setdefault("backoff_base", 0.01)
    kwargs.setdefault("backoff_cap", 0.05)
    return BigCommerceClient(base_url=server.base_url, store_hash=server.store_hash, access_token=server.token,
                             **kwargs)


def test_streams_the_catalog_and_the_inventory(make_sandbox):
    server = make_sandbox(products=1500, orders=20, plan="unlimited")
    state = server.state
    client = _client(server)
    products = [product for page in client.iter_product_pages() for product in page]
    assert [product["id"] for product in products] == state.product_order
    assert sum(len(product["variants"]) for product in products) == len(state.variants)
    variants = [variant["id"] for page in client.iter_variant_pages() for variant in page]
    assert variants == state.variant_order
    items = [item for page in client.iter_inventory_item_pages() for item in page]
    assert len(items) == sum(len(state.stock_keys(p)) for p in state.products.values())
    assert client.get_inventory_settings()["update_stock_behavior"] == "order_placed"
    assert [location["id"] for location in client.list_locations()] == [1, 2]


def test_absolute_adjustments_are_chunked_at_2000(make_sandbox):
    server = make_sandbox(products=5000, orders=0, plan="unlimited")
    state = server.state
    keys = [key for pid in state.product_order for key in state.stock_keys(state.products[pid])][:4500]
    items = [{"location_id": 1, "quantity": 5, **({"product_id": -key} if key < 0 else {"variant_id": key})}
             for key in keys]
    transaction_ids = _client(server).adjust_absolute(items, reason="count")
    assert len(transaction_ids) == 3 and len(set(transaction_ids)) == 3
    assert {state.on_hand(key) for key in keys} == {5}


def test_the_sandbox_refusal_reaches_the_client_as_a_validation_error(sandbox):
    product = next(p for p in sandbox.state.products.values() if p.inventory_tracking == "variant")
    with pytest.raises(ValidationError) as caught:
        _client(sandbox).adjust_absolute([{"location_id": 1, "product_id": product.id, "quantity": 1}])
    assert caught.value.errors


def test_orders_and_shipments(sandbox):
    state = sandbox.state
    client = _client(sandbox)
    awaiting = [oid for oid in state.order_ids if state.orders[oid].status_id == 11]
    listed = [order["id"] for page in client.iter_order_pages(status_id=11) for order in page]
    assert listed == awaiting
    assert client.get_orders_count(status_id=11) == len(awaiting)
    order_id = awaiting[0]
    lines = client.list_order_products(order_id)
    address = client.list_order_shipping_addresses(order_id)[0]
    assert client.list_order_shipments(order_id) == []
    client.create_shipment(order_id, order_address_id=address["id"], tracking_number="1Z1",
                           items=[{"order_product_id": line["id"], "quantity": line["quantity"]} for line in lines])
    assert client.get_order(order_id)["status_id"] == 2
    assert len(client.list_order_shipments(order_id)) == 1
    assert client.update_order_status(order_id, 10)["status_id"] == 10


def test_the_client_stays_inside_the_quota(make_sandbox):
    server = make_sandbox(plan="standard", quota=20, window_ms=1000)
    client = _client(server)
    for _ in range(45):
        assert client.get_time()["time"]
    assert server.limiter.refused == 0


def test_the_client_rides_out_injected_5xx_on_reads(make_sandbox):
    server = make_sandbox(plan="unlimited", faults={"error_rate": 0.3, "error_statuses": [502, 503], "seed": 5})
    client = _client(server, max_retries=6)
    products = [product["id"] for page in client.iter_product_pages(limit=20) for product in page]
    assert products == server.state.product_order
    assert server.faults.counts["error"] > 0
