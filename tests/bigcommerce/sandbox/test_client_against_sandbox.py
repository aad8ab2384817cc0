"""The project's BigCommerce client against the sandbox over HTTP: the two must agree end to end."""
import pytest

from plugin.bigcommerce.client import MAX_STOCK_LEVEL, BigCommerceClient
from plugin.bigcommerce.errors import OutcomeUnknownError, ValidationError
from tests.bigcommerce.sandbox.support import bc


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


ABSOLUTE = "/v3/inventory/adjustments/absolute"


def _product_item(server, quantity: int) -> tuple[dict, int]:
    product = next(p for p in server.state.products.values() if p.inventory_tracking == "product")
    return {"location_id": 1, "product_id": product.id, "quantity": quantity}, -product.id


def test_two_500s_in_a_row_on_the_absolute_set_are_ridden_out_and_counted(make_sandbox):
    server = make_sandbox(plan="unlimited", faults={"rules": [
        {"method": "PUT", "path": ABSOLUTE, "status": 500, "times": 2}]})
    client = _client(server)
    item, key = _product_item(server, 77)
    before = client.requests_received.copy()
    assert len(client.adjust_absolute([item])) == 1
    assert server.state.on_hand(key) == 77
    assert (client.requests_received - before) == {f"PUT {ABSOLUTE}": 3}
    assert server.faults.rules_used() == [2]  # the store saw the two refused attempts and the third


def test_a_500_on_a_relative_adjustment_is_not_repeated(make_sandbox):
    server = make_sandbox(plan="unlimited", faults={"rules": [
        {"method": "POST", "path": "/v3/inventory/adjustments/relative", "status": 500}]})
    client = _client(server)
    item, key = _product_item(server, 10)
    client.adjust_absolute([item])
    with pytest.raises(OutcomeUnknownError):
        client.adjust_relative([{**item, "quantity": -1}])
    assert server.state.on_hand(key) == 10
    assert client.received("POST", "/v3/inventory/adjustments/relative") == 1


def test_a_dropped_absolute_set_is_sent_again_and_both_attempts_count(make_sandbox):
    server = make_sandbox(plan="unlimited", faults={"rules": [{"method": "PUT", "path": ABSOLUTE, "drop": True}]})
    client = _client(server)
    item, key = _product_item(server, 31)
    client.adjust_absolute([item])
    assert server.state.on_hand(key) == 31
    assert client.received("PUT", ABSOLUTE) == 2
    assert client.requests_unanswered == {f"PUT {ABSOLUTE}": 1}


def test_a_level_above_the_maximum_is_refused_naming_the_item_and_the_capped_level_is_stored(sandbox):
    client = _client(sandbox)
    item, key = _product_item(sandbox, 5)
    client.adjust_absolute([item])
    too_high = [{**item, "quantity": 3}, {**item, "quantity": MAX_STOCK_LEVEL + 1}]
    # The client refuses before sending, naming the item by its index: nothing reaches the store.
    with pytest.raises(ValidationError) as refused_here:
        client.adjust_absolute(too_high)
    assert list(refused_here.value.errors) == ["items[1].quantity"] and refused_here.value.status is None
    assert client.received("PUT", ABSOLUTE) == 1 and sandbox.state.on_hand(key) == 5
    # The store itself refuses the whole batch with 422 naming items.1, and applies nothing.
    response = bc(sandbox, "PUT", ABSOLUTE, json={"items": too_high})
    assert response.status_code == 422 and list(response.json()["errors"]) == ["items.1"]
    assert sandbox.state.on_hand(key) == 5
    # The caller caps and sends: the maximum itself is a valid level.
    client.adjust_absolute([{**item, "quantity": min(MAX_STOCK_LEVEL + 1, MAX_STOCK_LEVEL)}])
    assert sandbox.state.on_hand(key) == MAX_STOCK_LEVEL
