"""Every request the client makes is held to BigCommerce's OpenAPI files (and so are the answers these tests
feed it, so the fakes stay honest). A misspelled field, parameter or property fails."""
import datetime
import json

import pytest
import requests
import responses

from .contract import ContractViolation, require_specs, spec_for_url, validate_request, validate_response
from .helpers import TOKEN, V2, V3, make_client, v3_page

pytestmark = pytest.mark.usefixtures("specs")


@pytest.fixture(scope="module")
def specs():
    return require_specs()


ADDRESS = {
    "first_name": "Ada", "last_name": "Lovelace", "company": "", "street_1": "1 Main St", "street_2": "",
    "city": "Austin", "state": "Texas", "zip": "78701", "country": "United States", "country_iso2": "US",
    "phone": "5125550100", "email": "ada@example.com",
}
ORDER = {
    "id": 100, "customer_id": 0, "date_created": "Tue, 03 Nov 2026 10:00:00 +0000",
    "date_modified": "Tue, 03 Nov 2026 10:05:00 +0000", "status_id": 11, "status": "Awaiting Fulfillment",
    "subtotal_ex_tax": "20.0000", "subtotal_inc_tax": "20.0000", "total_ex_tax": "25.0000",
    "total_inc_tax": "25.0000", "items_total": 2, "items_shipped": 0, "currency_code": "USD",
    "billing_address": ADDRESS, "channel_id": 1,
}
ORDER_PRODUCT = {
    "id": 5, "order_id": 100, "product_id": 77, "variant_id": 301, "name": "Mug", "sku": "MUG-RED",
    "quantity": 2, "quantity_shipped": 0, "base_price": "10.0000", "order_address_id": 12,
}
SHIPPING_ADDRESS = {**ADDRESS, "id": 12, "order_id": 100, "items_total": 2, "items_shipped": 0,
                    "shipping_method": "Flat Rate"}
SHIPMENT = {
    "id": 1, "order_id": 100, "customer_id": 0, "order_address_id": 12, "date_created": "Tue, 03 Nov 2026 12:00:00 +0000",
    "tracking_number": "1Z999", "shipping_provider": "ups", "tracking_carrier": "", "comments": "",
    "billing_address": ADDRESS, "shipping_address": ADDRESS, "items": [{"order_product_id": 5, "product_id": 77, "quantity": 2}],
}
VARIANT = {"id": 301, "product_id": 77, "sku": "MUG-RED", "price": None, "inventory_level": 4,
           "inventory_warning_level": 0, "bin_picking_number": None, "option_values": []}
PRODUCT = {"id": 77, "name": "Mug", "type": "physical", "sku": "MUG", "weight": 1, "price": 10,
           "inventory_tracking": "variant", "inventory_level": 4, "variants": [VARIANT]}
INVENTORY_ITEM = {
    "identity": {"sku": "MUG-RED", "variant_id": 301, "product_id": 77 },
    "locations": [{"location_id": 1, "location_code": "BC-LOCATION-1", "location_name": "Default location",
                   "available_to_sell": 4, "total_inventory_onhand": 4, "location_enabled": True,
                   "settings": {"safety_stock": 0, "is_in_stock": True, "warning_level": 0,
                                "bin_picking_number": ""}}],
}
LOCATION_ITEM = {
    "identity": {"sku": "MUG-RED", "variant_id": 301, "product_id": 77 },
    "settings": {"safety_stock": 0, "is_in_stock": True, "warning_level": 0, "bin_picking_number": ""},
    "available_to_sell": 4, "total_inventory_onhand": 4,
}
LOCATION = {"id": 1, "code": "BC-LOCATION-1", "label": "Default location", "enabled": True,
            "type_id": "PHYSICAL", "storefront_visibility": True}
HOOK = {"id": 4, "client_id": "abc", "store_hash": "abc123", "scope": "store/order/created",
        "destination": "https://hooks.example.com/bc", "headers": {"X-Secret": "s"}, "is_active": True,
        "created_at": 1767225600, "updated_at": 1767225600}


def answer_everything():
    """One spec-shaped answer for every endpoint the client knows."""
    responses.get(f"{V2}/store", json={"id": "abc123", "domain": "shop.example.com", "name": "Demo Shop",
                                       "timezone": {"name": "America/Chicago", "raw_offset": -21600,
                                                    "dst_offset": -18000, "dst_correction": False}})
    responses.get(f"{V2}/time", json={"time": 1767225600})
    responses.get(f"{V3}/settings/inventory", json={"data": {
        "update_stock_behavior": "order_placed", "edit_order_stock_adjustment": True,
        "refund_order_stock_adjustment": True}, "meta": {}})
    responses.get(f"{V3}/catalog/products", json=v3_page([PRODUCT], 1, 1, 250))
    responses.get(f"{V3}/catalog/variants", json=v3_page([VARIANT], 1, 1, 250))
    responses.get(f"{V3}/inventory/items", json=v3_page([INVENTORY_ITEM], 1, 1, 1000))
    responses.get(f"{V3}/inventory/locations/1/items", json=v3_page([LOCATION_ITEM], 1, 1, 1000))
    responses.get(f"{V3}/inventory/locations", json=v3_page([LOCATION], 1, 1, 250))
    responses.put(f"{V3}/inventory/adjustments/absolute", json={"transaction_id": "3f0b6c2e"})
    responses.post(f"{V3}/inventory/adjustments/relative", json={"transaction_id": "7a1d9e44"})
    responses.put(f"{V3}/catalog/variants", json={"data": [VARIANT], "meta": {}})
    responses.put(f"{V3}/catalog/products", json={"data": [PRODUCT], "meta": {}})
    responses.get(f"{V2}/orders", json=[ORDER])
    responses.get(f"{V2}/orders/count", json={"count": 1, "statuses": [{"id": 11, "name": "Awaiting Fulfillment",
                                                                           "count": 1}]})
    responses.get(f"{V2}/orders/100", json=ORDER)
    responses.put(f"{V2}/orders/100", json={**ORDER, "status_id": 2, "status": "Shipped"})
    responses.get(f"{V2}/orders/100/products", json=[ORDER_PRODUCT])
    responses.get(f"{V2}/orders/100/shipping_addresses", json=[SHIPPING_ADDRESS])
    responses.get(f"{V2}/orders/100/shipments", json=[SHIPMENT])
    responses.get(f"{V2}/orders/101/shipments", status=204)
    responses.post(f"{V2}/orders/100/shipments", json=SHIPMENT, status=201)
    responses.get(f"{V2}/order_statuses", json=[{"id": 11, "name": "Awaiting Fulfillment",
                                                 "system_label": "Awaiting Fulfillment",
                                                 "custom_label": "Awaiting Fulfillment",
                                                 "system_description": "Paid, ready to ship."}])
    responses.get(f"{V2}/shipping/zones", json=[{"id": 1, "name": "United States", "type": "country",
                                                 "enabled": True}])
    responses.get(f"{V2}/shipping/zones/1/methods", json=[{"id": 2, "name": "Flat Rate", "type": "perorder",
                                                           "settings": {"rate": 5}, "enabled": True}])
    responses.get(f"{V3}/hooks", json=v3_page([HOOK], 1, 1, 250))
    responses.post(f"{V3}/hooks", json={"data": HOOK, "meta": {}})
    responses.delete(f"{V3}/hooks/4", json={"data": HOOK, "meta": {}})


def call_every_client_method(client):
    since = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
    client.get_store()
    client.get_time()
    client.get_inventory_settings()
    list(client.iter_product_pages(id__in=[77, 78], sku="MUG", include_fields=["name", "sku", "inventory_level"]))
    list(client.iter_product_pages(include_variants=False, inventory_tracking=None, is_visible=True))
    list(client.iter_variant_pages(product_id__in=[77, 78]))
    list(client.iter_inventory_item_pages(variant_id__in=[301, 302], location_id__in=[1]))
    list(client.iter_inventory_item_pages(location_id=1, sku__in=["MUG-RED", "MUG-BLUE"]))
    client.list_locations()
    client.adjust_absolute([{"location_id": 1, "variant_id": 301, "quantity": 8},
                            {"location_id": 1, "sku": "MUG-BLUE", "quantity": 0},
                            {"location_id": 1, "product_id": 78, "quantity": 3}], reason="End of day")
    client.adjust_relative([{"location_id": 1, "variant_id": 301, "quantity": -2}], reason="Cycle count")
    client.update_variants([{"id": 301, "price": 12.5, "inventory_warning_level": 2}])
    client.update_products([{"id": 77, "inventory_tracking": "variant", "is_visible": True}])
    list(client.iter_order_pages(status_id=11, min_date_modified=since, sort="date_modified", min_id=10))
    client.get_order(100)
    client.get_orders_count(status_id=11)
    client.get_order_counts_by_status(min_date_modified=since)
    client.list_order_products(100)
    client.list_order_shipping_addresses(100)
    client.list_order_shipments(100)
    client.list_order_shipments(101)
    client.create_shipment(100, order_address_id=12, items=[{"order_product_id": 5, "quantity": 2}],
                           tracking_number="1Z999", shipping_provider="ups", tracking_carrier="ups",
                           comments="Left the dock")
    client.update_order_status(100, 2)
    client.list_order_statuses()
    client.list_shipping_zones()
    client.list_shipping_methods(1)
    client.list_hooks()
    client.create_hook(scope="store/order/created", destination="https://hooks.example.com/bc",
                       headers={"X-Secret": "s"})
    client.delete_hook(4)


@responses.activate
def test_every_request_of_every_client_method_matches_the_official_spec():
    answer_everything()
    call_every_client_method(make_client())

    problems = []
    specs_used = set()
    for call in responses.calls:
        specs_used.add(spec_for_url(call.request.url)[0].name)
        for check, args in ((validate_request, (call.request,)), (validate_response, (call.request, call.response))):
            try:
                check(*args)
            except ContractViolation as violation:
                problems.append(str(violation)[:600])
    assert problems == [], "\n".join(problems)
    assert len(responses.calls) == 29  # one per page or write of the methods above
    assert specs_used == {"store_information.v2.yml", "orders.v2.oas2.yml", "shipping.v2.yml",
                          "products_catalog.v3.yml", "product-variants_catalog.v3.yml", "inventory.v3.yml",
                          "locations.v3.yml", "settings.v3.yml", "webhooks.v3.yml"}


@responses.activate
def test_the_sandbox_url_shape_validates_like_the_real_one():
    sandbox = "http://127.0.0.1:8123/stores/abc123/v3"
    responses.put(f"{sandbox}/inventory/adjustments/absolute", json={"transaction_id": "t"})
    client = make_client()
    client.base_url = "http://127.0.0.1:8123"
    client.adjust_absolute([{"location_id": 1, "variant_id": 301, "quantity": 8}])
    call = responses.calls[0]
    validate_request(call.request)
    validate_response(call.request, call.response)


@responses.activate
def test_a_problem_json_error_answer_validates():
    body = {"status": 422, "title": "Invalid items", "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
            "errors": {"items.0.quantity": "must be an integer"}}
    responses.put(f"{V3}/inventory/adjustments/absolute", body=json.dumps(body), status=422,
                  content_type="application/problem+json")
    with pytest.raises(Exception):  # noqa: B017 - the client's error is not the subject here
        make_client().adjust_absolute([{"location_id": 1, "variant_id": 301, "quantity": 8}])
    validate_response(responses.calls[0].request, responses.calls[0].response)


# ---------------------------------------------------------------------- the contract catches misspellings

def prepared(method, path, **kwargs):
    session = requests.Session()
    session.headers.update({"X-Auth-Token": TOKEN, "Accept": "application/json", "Content-Type": "application/json"})
    return session.prepare_request(requests.Request(method, path, **kwargs))


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "expected"),
    [
        ("PUT", f"{V3}/inventory/adjustments/absolute",
         {"json": {"items": [{"location_id": 1, "variant_id": 301, "quantiy": 8}]}}, "quantiy"),
        ("PUT", f"{V3}/inventory/adjustments/absolute",
         {"json": {"reson": "x", "items": [{"location_id": 1, "variant_id": 301, "quantity": 8}]}}, "reson"),
        ("POST", f"{V2}/orders/100/shipments",
         {"json": {"order_address_id": 12, "items": [{"order_product_id": 5, "quantity": 1}], "tracking_numbr": "1Z"}},
         "tracking_numbr"),
        ("POST", f"{V2}/orders/100/shipments",
         {"json": {"order_address_id": "12", "items": [{"order_product_id": 5, "quantity": 1}]}}, "order_address_id"),
        ("PUT", f"{V3}/catalog/variants", {"json": [{"id": 301, "prices": 12.5}]}, "prices"),
        ("GET", f"{V2}/orders", {"params": {"statusid": 11}}, "statusid"),
        ("GET", f"{V2}/orders", {"params": {"status_id": "eleven"}}, "status_id"),
        ("GET", f"{V3}/inventory/items", {"params": {"variant_id:in": "301,abc"}}, "variant_id:in"),
    ],
)
def test_a_misspelled_or_mistyped_request_fails_the_contract(method, url, kwargs, expected):
    with pytest.raises(ContractViolation) as raised:
        validate_request(prepared(method, url, **kwargs))
    assert expected in str(raised.value) or "validation" in str(raised.value).lower()


def test_the_same_requests_spelled_right_pass():
    validate_request(prepared("PUT", f"{V3}/inventory/adjustments/absolute",
                              json={"reason": "x", "items": [{"location_id": 1, "variant_id": 301, "quantity": 8}]}))
    validate_request(prepared("POST", f"{V2}/orders/100/shipments",
                              json={"order_address_id": 12, "items": [{"order_product_id": 5, "quantity": 1}],
                                    "tracking_number": "1Z"}))
    validate_request(prepared("GET", f"{V3}/inventory/items", params={"variant_id:in": "301,302"}))


def test_a_missing_token_fails_the_contract():
    request = prepared("GET", f"{V2}/store")
    del request.headers["X-Auth-Token"]
    with pytest.raises(ContractViolation):
        validate_request(request)


@responses.activate
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"transaction_idd": "t"}, "transaction_idd"),
        ({"transaction_id": 5}, "transaction_id"),
    ],
)
def test_a_misspelled_or_mistyped_response_fails_the_contract(body, expected):
    responses.put(f"{V3}/inventory/adjustments/absolute", json=body)
    response = requests.put(f"{V3}/inventory/adjustments/absolute", headers={"X-Auth-Token": TOKEN},
                            json={"items": [{"location_id": 1, "variant_id": 301, "quantity": 8}]})
    with pytest.raises(ContractViolation) as raised:
        validate_response(response.request, response)
    assert expected in str(raised.value) or "validation" in str(raised.value).lower()


@responses.activate
def test_a_misspelled_nested_response_property_fails_the_contract():
    responses.get(f"{V2}/orders/100/products", json=[{**ORDER_PRODUCT, "quantity_shiped": 0}])
    response = requests.get(f"{V2}/orders/100/products", headers={"X-Auth-Token": TOKEN})
    with pytest.raises(ContractViolation, match="quantity_shiped"):
        validate_response(response.request, response)


def test_unknown_paths_are_reported():
    with pytest.raises(ContractViolation, match="no BigCommerce spec"):
        validate_request(prepared("GET", f"{V3}/catalog/widgets"))


def test_a_missing_spec_folder_skips_locally_and_fails_under_ci(tmp_path, monkeypatch):
    monkeypatch.setenv("ITBC_OPENAPI_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="ITBC_OPENAPI_DIR"):
        require_specs()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="not found"):
        require_specs()


SHIPPING_CONSIGNMENT = {
    **ADDRESS, "id": 12, "form_fields": [], "shipping_method": "Flat Rate", "line_items": [ORDER_PRODUCT],
    "items_total": 2, "items_shipped": 0, "base_cost": 5, "cost_ex_tax": 5, "cost_inc_tax": 5, "cost_tax": 0,
    "cost_tax_class_id": 2, "base_handling_cost": 0, "handling_cost_ex_tax": 0, "handling_cost_inc_tax": 0,
    "handling_cost_tax": 0, "handling_cost_tax_class_id": 2, "shipping_zone_id": 1,
    "shipping_zone_name": "United States",
}
ORDER_WITH_LINES = {**ORDER, "consignments": {"pickups": [], "shipping": [SHIPPING_CONSIGNMENT], "downloads": [],
                                              "email": {"gift_certificates": []}}}
LINES_QUERY = {"include": "consignments.line_items", "consignment_structure": "object"}


@responses.activate
def test_orders_with_their_lines_keep_to_the_spec():
    from plugin.bigcommerce.client import order_line_items

    page_query = {**LINES_QUERY, "status_id": "11", "page": "1", "limit": "250"}
    responses.get(f"{V2}/orders", json=[ORDER_WITH_LINES],
                  match=[responses.matchers.query_param_matcher(page_query)])
    responses.get(f"{V2}/orders/100", json=ORDER_WITH_LINES,
                  match=[responses.matchers.query_param_matcher(LINES_QUERY)])
    responses.get(f"{V2}/orders/100", json=ORDER, match=[responses.matchers.query_param_matcher({})])
    client = make_client()
    orders = [order for page in client.iter_order_pages(status_id=11, include_lines=True) for order in page]
    assert [order_line_items(order) for order in orders] == [[ORDER_PRODUCT]]
    assert order_line_items(client.get_order(100, include_lines=True)) == [ORDER_PRODUCT]
    assert order_line_items(client.get_order(100)) == []  # without the include: the order as before
    for call in responses.calls:
        validate_request(call.request)
        validate_response(call.request, call.response)


@responses.activate
def test_a_misspelled_field_of_an_included_line_fails_the_contract():
    broken = {**ORDER_WITH_LINES, "consignments": {**ORDER_WITH_LINES["consignments"], "shipping": [
        {**SHIPPING_CONSIGNMENT, "line_items": [{**ORDER_PRODUCT, "quantity_shiped": 0}]}]}}
    responses.get(f"{V2}/orders/100", json=broken)
    response = requests.get(f"{V2}/orders/100", params=LINES_QUERY, headers={"X-Auth-Token": TOKEN})
    with pytest.raises(ContractViolation, match="quantity_shiped"):
        validate_response(response.request, response)
    with pytest.raises(ContractViolation):
        validate_request(prepared("GET", f"{V2}/orders/100", params={**LINES_QUERY, "include": "consignment.lines"}))
