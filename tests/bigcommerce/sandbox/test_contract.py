"""Every answer the sandbox gives matches BigCommerce's OpenAPI files, and a broken answer is caught."""
import copy
import json

import pytest
import requests

from tests.bigcommerce.sandbox.support import ContractViolation, bc, check_contract

READS = [
    "/v2/store",
    "/v2/time",
    "/v3/settings/inventory",
    "/v3/catalog/products?limit=5",
    "/v3/catalog/products?limit=3&include=variants",
    "/v3/catalog/products?id:in=1,2,3",
    "/v3/catalog/products?sku:in=SKU-000001,SKU-000002",
    "/v3/catalog/products/1",
    "/v3/catalog/products/1/variants",
    "/v3/catalog/variants?limit=20",
    "/v3/catalog/variants?product_id:in=1,2",
    "/v3/inventory/items?limit=20",
    "/v3/inventory/items?variant_id:in=1,2&location_id:in=1",
    "/v3/inventory/locations/1/items?limit=20",
    "/v3/inventory/locations",
    "/v2/orders?limit=10",
    "/v2/orders?status_id=11&sort=date_modified",
    "/v2/orders/count",
    "/v2/orders/100",
    "/v2/orders?limit=5&include=consignments.line_items&consignment_structure=object",
    "/v2/orders/100?include=consignments.line_items&consignment_structure=object",
    "/v2/orders/100?include=consignments&consignment_structure=object",
    "/v2/orders/100/products",
    "/v2/orders/100/shipping_addresses",
    "/v2/orders/100/shipments/count",
    "/v2/order_statuses",
    "/v2/shipping/zones",
    "/v2/shipping/zones/1/methods",
]


@pytest.mark.parametrize("path", READS)
def test_reads_match_the_spec(sandbox, path):
    response = bc(sandbox, "GET", path)
    assert response.status_code == 200, response.text


def test_shipments_of_a_shipped_order_match_the_spec(sandbox):
    shipped = next(order for order in sandbox.state.orders.values() if order.shipments)
    response = bc(sandbox, "GET", f"/v2/orders/{shipped.id}/shipments")
    assert response.status_code == 200
    assert response.json()[0]["order_id"] == shipped.id


def test_writes_match_the_spec(sandbox):
    product = next(p for p in sandbox.state.products.values() if p.inventory_tracking == "product")
    variant_product = next(p for p in sandbox.state.products.values() if p.inventory_tracking == "variant")
    assert bc(sandbox, "PUT", "/v3/settings/inventory", json={"update_stock_behavior": "order_completed_or_shipped"}).status_code == 200
    assert bc(sandbox, "PUT", "/v3/inventory/adjustments/absolute",
              json={"reason": "count", "items": [{"location_id": 1, "product_id": product.id, "quantity": 9}]}).status_code == 200
    assert bc(sandbox, "POST", "/v3/inventory/adjustments/relative",
              json={"items": [{"location_id": 1, "product_id": product.id, "quantity": -2}]}).status_code == 200
    assert bc(sandbox, "PUT", "/v3/catalog/variants",
              json=[{"id": variant_product.variant_ids[0], "price": 11.5}]).status_code == 200
    # The spec marks the batch's required `id` read-only, so only the answer is checked here.
    assert bc(sandbox, "PUT", "/v3/catalog/products", json=[{"id": product.id, "name": "Renamed"}],
              check_request=False).status_code == 200
    created = bc(sandbox, "POST", "/v3/hooks", json={"scope": "store/order/created",
                                                        "destination": "https://example.com/hooks", "is_active": True})
    assert created.status_code == 200
    hook_id = created.json()["data"]["id"]
    # The spec's hook list has minItems 1, so the list is read while a hook exists.
    assert bc(sandbox, "GET", "/v3/hooks").json()["data"][0]["id"] == hook_id
    assert bc(sandbox, "GET", f"/v3/hooks/{hook_id}").status_code == 200
    assert bc(sandbox, "DELETE", f"/v3/hooks/{hook_id}").status_code == 200
    order = sandbox.state.place_order(items=[{"product_id": product.id, "quantity": 1}])
    assert bc(sandbox, "PUT", f"/v2/orders/{order.id}", json={"status_id": 9}).status_code == 200
    shipment = bc(sandbox, "POST", f"/v2/orders/{order.id}/shipments", json={
        "order_address_id": order.addresses[0].id, "tracking_number": "1Z999", "shipping_provider": "ups",
        "items": [{"order_product_id": order.products[0].id, "quantity": 1}]})
    assert shipment.status_code == 201


def test_errors_match_the_spec(sandbox):
    # Statuses the spec lists are validated against it; others against BigCommerce's error shape.
    assert bc(sandbox, "GET", "/v3/catalog/products/999999").status_code == 404
    assert bc(sandbox, "GET", "/v2/orders/999999").status_code == 404
    assert bc(sandbox, "GET", "/v3/inventory/locations/99/items").status_code == 404
    assert bc(sandbox, "PUT", "/v3/inventory/adjustments/absolute",
              json={"items": [{"location_id": 1, "sku": "NO-SUCH-SKU", "quantity": 1}]}).status_code == 422
    assert bc(sandbox, "GET", "/v2/store", token="wrong").status_code == 401
    assert bc(sandbox, "GET", "/v3/catalog/products", token="wrong").status_code == 401
    assert bc(sandbox, "GET", "/v3/hooks", token="wrong").status_code == 401  # a 401 the spec lists


def _with_body(response: requests.Response, body) -> requests.Response:
    broken = copy.copy(response)
    broken._content = json.dumps(body).encode()
    return broken


@pytest.mark.parametrize("path, rename", [
    ("/v3/inventory/items?limit=3", lambda body: body["data"][0]["locations"][0].__setitem__(
        "total_inventory_on_hand", body["data"][0]["locations"][0].pop("total_inventory_onhand"))),
    ("/v2/orders/100/products", lambda body: body[0].__setitem__("quantity_shiped", body[0].pop("quantity_shipped"))),
    ("/v3/catalog/products?limit=2", lambda body: body["data"][0].__setitem__(
        "inventory_trackng", body["data"][0].pop("inventory_tracking"))),
    ("/v2/orders?limit=2", lambda body: body[0].__setitem__("status_ID", body[0].pop("status_id"))),
    ("/v2/orders?limit=2&include=consignments.line_items&consignment_structure=object",
     lambda body: body[0]["consignments"]["shipping"][0]["line_items"][0].__setitem__(
         "quantity_shiped", body[0]["consignments"]["shipping"][0]["line_items"][0].pop("quantity_shipped"))),
    ("/v2/orders/100?include=consignments.line_items&consignment_structure=object",
     lambda body: body["consignments"]["shipping"][0].__setitem__(
         "items_shiped", body["consignments"]["shipping"][0].pop("items_shipped"))),
    ("/v3/settings/inventory", lambda body: body["data"].__setitem__(
        "update_stock_behaviour", body["data"].pop("update_stock_behavior"))),
])
def test_a_misspelled_field_fails_the_contract(sandbox, path, rename):
    response = bc(sandbox, "GET", path)  # the real answer passes
    body = response.json()
    rename(body)
    with pytest.raises(ContractViolation):
        check_contract(_with_body(response, body))


def test_a_wrongly_typed_field_fails_the_contract(sandbox):
    response = bc(sandbox, "PUT", "/v3/inventory/adjustments/absolute",
                  json={"items": [{"location_id": 1, "variant_id": _variant_tracked(sandbox), "quantity": 3}]})
    with pytest.raises(ContractViolation):
        check_contract(_with_body(response, {"transaction_id": 12345}))


def _variant_tracked(sandbox) -> int:
    product = next(p for p in sandbox.state.products.values() if p.inventory_tracking == "variant")
    return product.variant_ids[0]


def test_a_wrongly_typed_field_of_an_included_line_fails_the_contract(sandbox):
    # Without the in-memory patch on the spec's link schemas, oneOf [link, lines] let this through.
    response = bc(sandbox, "GET", "/v2/orders/100?include=consignments.line_items&consignment_structure=object")
    body = response.json()
    body["consignments"]["shipping"][0]["line_items"][0]["quantity"] = "two"
    with pytest.raises(ContractViolation):
        check_contract(_with_body(response, body))
