"""v2 orders: bare arrays and 204s, filters, status changes, shipments, and how orders move stock."""
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
import requests

from tests.bigcommerce.sandbox.support import bc, sandbox_post


def _stock_item(state):
    """A product tracked by product, without options, with plenty of stock at the default location."""
    product = next(p for p in state.products.values() if p.inventory_tracking == "product" and not p.has_options)
    state.set_stock(product_id=product.id, quantity=50)
    return product


def test_orders_are_a_bare_array_paged_and_204_past_the_end(sandbox):
    state = sandbox.state
    first = bc(sandbox, "GET", "/v2/orders?limit=10&page=1")
    assert first.status_code == 200 and isinstance(first.json(), list)
    assert [order["id"] for order in first.json()] == state.order_ids[:10]
    pages = -(-len(state.order_ids) // 10)
    last = bc(sandbox, "GET", f"/v2/orders?limit=10&page={pages}")
    assert [order["id"] for order in last.json()] == state.order_ids[(pages - 1) * 10:]
    beyond = bc(sandbox, "GET", f"/v2/orders?limit=10&page={pages + 1}")
    assert beyond.status_code == 204 and beyond.content == b""


def test_status_and_id_filters_and_count(sandbox):
    state = sandbox.state
    awaiting = [oid for oid in state.order_ids if state.orders[oid].status_id == 11]
    assert awaiting
    body = bc(sandbox, "GET", "/v2/orders?status_id=11&limit=250").json()
    assert [order["id"] for order in body] == awaiting
    assert {order["status"] for order in body} == {"Awaiting Fulfillment"}
    count = bc(sandbox, "GET", "/v2/orders/count?status_id=11").json()
    assert count["count"] == len(awaiting)
    everything = bc(sandbox, "GET", "/v2/orders/count").json()
    assert everything["count"] == len(state.orders)
    assert sum(status["count"] for status in everything["statuses"]) == len(state.orders)
    above = bc(sandbox, "GET", f"/v2/orders?min_id={state.order_ids[-3]}").json()
    assert [order["id"] for order in above] == state.order_ids[-3:]
    assert bc(sandbox, "GET", "/v2/orders?status_id=4").status_code == 204


@pytest.mark.parametrize("style", ["rfc2822", "iso8601"])
def test_min_date_modified_takes_both_date_styles(sandbox, style):
    state = sandbox.state
    order = state.place_order(items=[{"product_id": _stock_item(state).id, "quantity": 1}])
    since = datetime.fromtimestamp(order.date_modified - 1, tz=UTC)
    text = format_datetime(since) if style == "rfc2822" else since.isoformat()
    body = bc(sandbox, "GET", "/v2/orders", params={"min_date_modified": text}).json()
    assert [row["id"] for row in body] == [order.id]
    older = bc(sandbox, "GET", "/v2/orders", params={"max_date_modified": text, "limit": 250}).json()
    assert order.id not in {row["id"] for row in older}


def test_a_bad_date_is_400_not_500(sandbox):
    response = bc(sandbox, "GET", "/v2/orders?min_date_modified=yesterday")
    assert response.status_code == 400


def test_sort_by_date_modified_descending(sandbox):
    body = bc(sandbox, "GET", "/v2/orders?sort=date_modified:desc&limit=250", check_request=False).json()
    stamps = [datetime.strptime(row["date_modified"], "%a, %d %b %Y %H:%M:%S %z") for row in body]
    assert stamps == sorted(stamps, reverse=True)


def test_order_products_and_addresses(sandbox):
    order = sandbox.state.orders[sandbox.state.order_ids[0]]
    products = bc(sandbox, "GET", f"/v2/orders/{order.id}/products").json()
    assert [row["id"] for row in products] == [line.id for line in order.products]
    assert {row["order_address_id"] for row in products} == {order.addresses[0].id}
    addresses = bc(sandbox, "GET", f"/v2/orders/{order.id}/shipping_addresses").json()
    assert addresses[0]["id"] == order.addresses[0].id
    assert addresses[0]["items_total"] == sum(line.quantity for line in order.products)


def test_status_change_with_put(sandbox):
    order_id = sandbox.state.order_ids[0]
    response = bc(sandbox, "PUT", f"/v2/orders/{order_id}", json={"status_id": 9})
    assert response.status_code == 200 and response.json()["status_id"] == 9
    assert bc(sandbox, "GET", f"/v2/orders/{order_id}").json()["status"] == "Awaiting Shipment"
    assert bc(sandbox, "PUT", f"/v2/orders/{order_id}", json={"status_id": 99}).status_code == 400


def test_shipments_move_the_order_to_partially_shipped_then_shipped(sandbox):
    state = sandbox.state
    product = _stock_item(state)
    order = state.place_order(items=[{"product_id": product.id, "quantity": 3}])
    line = order.products[0]
    url = f"/v2/orders/{order.id}/shipments"
    assert bc(sandbox, "GET", url).status_code == 204
    first = bc(sandbox, "POST", url, json={"order_address_id": order.addresses[0].id, "tracking_number": "T1",
                                           "items": [{"order_product_id": line.id, "quantity": 1}]})
    assert first.status_code == 201
    assert first.json()["items"] == [{"order_product_id": line.id, "product_id": product.id, "quantity": 1}]
    assert bc(sandbox, "GET", f"/v2/orders/{order.id}").json()["status_id"] == 3
    assert bc(sandbox, "GET", f"/v2/orders/{order.id}/products").json()[0]["quantity_shipped"] == 1
    bc(sandbox, "POST", url, json={"order_address_id": order.addresses[0].id,
                                   "items": [{"order_product_id": line.id, "quantity": 2}]})
    shipped = bc(sandbox, "GET", f"/v2/orders/{order.id}").json()
    assert shipped["status_id"] == 2 and shipped["items_shipped"] == 3 and shipped["date_shipped"]
    assert bc(sandbox, "GET", f"{url}/count").json() == {"count": 2}
    assert len(bc(sandbox, "GET", url).json()) == 2


@pytest.mark.parametrize("change, expected_status", [
    ({"order_address_id": 999999}, 400),
    ({"items": [{"order_product_id": 999999, "quantity": 1}]}, 400),
    ({"items": [{"order_product_id": None, "quantity": 4}]}, 400),
    ({"quantity": 4}, 400),
    ({"quantity": 0}, 400),
    ({"items": []}, 400),
])
def test_bad_shipments_are_refused_and_change_nothing(sandbox, change, expected_status):
    state = sandbox.state
    order = state.place_order(items=[{"product_id": _stock_item(state).id, "quantity": 3}])
    body = {"order_address_id": order.addresses[0].id,
            "items": [{"order_product_id": order.products[0].id, "quantity": change.pop("quantity", 1)}]}
    body.update(change)
    response = bc(sandbox, "POST", f"/v2/orders/{order.id}/shipments", json=body, check_request=False)
    assert response.status_code == expected_status
    assert order.products[0].quantity_shipped == 0 and not order.shipments and order.status_id == 11


def test_unknown_order_is_404_with_a_v2_body(sandbox):
    response = bc(sandbox, "GET", "/v2/orders/987654")
    assert response.status_code == 404 and response.json()[0]["status"] == 404
    assert bc(sandbox, "GET", "/v2/orders/987654/shipments").status_code == 404


def test_order_statuses_are_the_fixed_list(sandbox):
    body = bc(sandbox, "GET", "/v2/order_statuses").json()
    assert [status["id"] for status in body] == list(range(15))
    assert body[11]["name"] == "Awaiting Fulfillment"


def _ship_all(sandbox, order):
    return bc(sandbox, "POST", f"/v2/orders/{order.id}/shipments", json={
        "order_address_id": order.addresses[0].id,
        "items": [{"order_product_id": line.id, "quantity": line.quantity} for line in order.products]})


def test_order_placed_takes_stock_when_the_order_is_placed(sandbox):
    state = sandbox.state
    assert bc(sandbox, "GET", "/v3/settings/inventory").json()["data"]["update_stock_behavior"] == "order_placed"
    product = _stock_item(state)
    placed = sandbox_post(sandbox, "orders", {"items": [{"sku": product.sku, "quantity": 4}]})
    assert placed.status_code == 201
    assert state.on_hand(-product.id) == 46
    order = state.orders[placed.json()["id"]]
    _ship_all(sandbox, order)
    assert state.on_hand(-product.id) == 46
    level = bc(sandbox, "GET", f"/v3/catalog/products/{product.id}").json()["data"]["inventory_level"]
    assert level == 46


def test_order_completed_or_shipped_takes_stock_on_shipment(sandbox):
    state = sandbox.state
    bc(sandbox, "PUT", "/v3/settings/inventory", json={"update_stock_behavior": "order_completed_or_shipped"})
    product = _stock_item(state)
    tracked = next(p for p in state.products.values() if p.inventory_tracking == "variant")
    variant_id = tracked.variant_ids[0]
    state.set_stock(variant_id=variant_id, quantity=10)
    order = state.place_order(items=[{"product_id": product.id, "quantity": 4}, {"variant_id": variant_id, "quantity": 2}])
    assert state.on_hand(-product.id) == 50 and state.on_hand(variant_id) == 10
    bc(sandbox, "POST", f"/v2/orders/{order.id}/shipments", json={
        "order_address_id": order.addresses[0].id, "items": [{"order_product_id": order.products[0].id, "quantity": 1}]})
    assert state.on_hand(-product.id) == 49 and state.on_hand(variant_id) == 10
    _ship_rest = [{"order_product_id": order.products[0].id, "quantity": 3},
                  {"order_product_id": order.products[1].id, "quantity": 2}]
    bc(sandbox, "POST", f"/v2/orders/{order.id}/shipments",
       json={"order_address_id": order.addresses[0].id, "items": _ship_rest})
    assert state.on_hand(-product.id) == 46 and state.on_hand(variant_id) == 8


@pytest.mark.parametrize("refund_restocks", [True, False])
def test_cancelling_returns_stock_only_when_the_store_says_so(sandbox, refund_restocks):
    state = sandbox.state
    bc(sandbox, "PUT", "/v3/settings/inventory", json={"refund_order_stock_adjustment": refund_restocks})
    product = _stock_item(state)
    order = state.place_order(items=[{"product_id": product.id, "quantity": 5}])
    assert state.on_hand(-product.id) == 45
    bc(sandbox, "PUT", f"/v2/orders/{order.id}", json={"status_id": 5})
    assert state.on_hand(-product.id) == (50 if refund_restocks else 45)


def test_an_order_modified_now_is_found_by_a_watermark(sandbox):
    state = sandbox.state
    start = time.time() - 1
    order_id = state.order_ids[0]
    bc(sandbox, "PUT", f"/v2/orders/{order_id}", json={"status_id": 9})
    since = format_datetime(datetime.fromtimestamp(start, tz=UTC))
    assert [row["id"] for row in bc(sandbox, "GET", "/v2/orders", params={"min_date_modified": since}).json()] == [order_id]


def test_out_of_stock_orders_are_refused_unless_oversold(sandbox):
    state = sandbox.state
    product = _stock_item(state)
    refused = sandbox_post(sandbox, "orders", {"items": [{"product_id": product.id, "quantity": 51}]})
    assert refused.status_code == 422
    assert state.on_hand(-product.id) == 50
    allowed = sandbox_post(sandbox, "orders", {"items": [{"product_id": product.id, "quantity": 51}],
                                               "allow_oversell": True})
    assert allowed.status_code == 201 and state.on_hand(-product.id) == 0
    assert requests.get(f"{sandbox.base_url}/_sandbox/state-summary", timeout=5).json()["orders"] == len(state.orders)


def test_orders_carry_their_lines_in_consignments_when_asked(sandbox):
    query = "include=consignments.line_items&consignment_structure=object"
    orders = bc(sandbox, "GET", f"/v2/orders?limit=50&{query}").json()
    assert len(orders) == len(sandbox.state.orders)
    for order in orders:
        consignments = order["consignments"]
        assert consignments["pickups"] == [] and consignments["downloads"] == []
        assert consignments["email"] == {"gift_certificates": []}
        addresses = bc(sandbox, "GET", f"/v2/orders/{order['id']}/shipping_addresses").json()
        assert [c["id"] for c in consignments["shipping"]] == [a["id"] for a in addresses]
        products = bc(sandbox, "GET", f"/v2/orders/{order['id']}/products").json()
        assert [line for c in consignments["shipping"] for line in c["line_items"]] == products
        assert sum(c["items_total"] for c in consignments["shipping"]) == order["items_total"]
        assert sum(c["items_shipped"] for c in consignments["shipping"]) == order["items_shipped"]
    single = bc(sandbox, "GET", f"/v2/orders/{orders[0]['id']}?{query}").json()
    assert single == orders[0]


def test_consignments_without_lines_link_them_and_plain_orders_are_unchanged(sandbox):
    order = bc(sandbox, "GET", "/v2/orders/100?include=consignments&consignment_structure=object").json()
    links = order["consignments"]["shipping"][0]["line_items"]
    line_ids = [line.id for line in sandbox.state.orders[100].products]
    assert [link["resource"] for link in links] == [f"/orders/100/products/{i}" for i in line_ids]
    plain = bc(sandbox, "GET", "/v2/orders/100").json()
    assert "consignments" not in plain
    assert {key: value for key, value in order.items() if key != "consignments"} == plain
    assert bc(sandbox, "GET", "/v2/orders/100?include=consignments.line_items").status_code == 400
