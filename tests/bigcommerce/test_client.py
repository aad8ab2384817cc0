"""The client's HTTP behaviour: session headers, paging, chunking, filters and typed errors."""
import datetime
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from plugin.bigcommerce.client import USER_AGENT
from plugin.bigcommerce.errors import (
    AuthError,
    NotFoundError,
    PermanentError,
    ValidationError,
)

from .helpers import TOKEN, V2, V3, make_client, sent_json, v3_page


def query(call) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(call.request.url).query).items()}


@responses.activate
def test_every_request_carries_token_json_headers_user_agent_and_both_timeouts():
    responses.get(f"{V2}/store", json={"id": "abc123", "name": "Shop"})
    client = make_client(timeout=(3, 17))

    assert client.get_store()["name"] == "Shop"

    request = responses.calls[0].request
    assert request.url == f"{V2}/store"  # the trailing slash of the base URL is dropped
    assert request.headers["X-Auth-Token"] == TOKEN
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == USER_AGENT and "itbc" in USER_AGENT
    assert request.req_kwargs["timeout"] == (3, 17)


@responses.activate
def test_v3_pages_stream_one_request_per_page_and_stop_at_total_pages():
    for page in (1, 2, 3):
        rows = [{"id": page * 10 + i} for i in range(2)]
        responses.get(f"{V3}/catalog/products", json=v3_page(rows, page, 3, 2))
    client = make_client()

    pages = client.iter_product_pages(limit=2, is_visible=True)
    first = next(pages)
    assert len(responses.calls) == 1, "a page is fetched only when the consumer asks for it"
    rest = list(pages)

    assert [row["id"] for row in first] == [10, 11]
    assert [[row["id"] for row in page] for page in rest] == [[20, 21], [30, 31]]
    assert len(responses.calls) == 3
    assert [query(c)["page"] for c in responses.calls] == ["1", "2", "3"]
    assert query(responses.calls[0]) == {"page": "1", "limit": "2", "include": "variants", "is_visible": "true"}


@responses.activate
def test_v3_paging_without_meta_stops_on_a_short_page():
    responses.get(f"{V3}/catalog/variants", json={"data": [{"id": 1}, {"id": 2}]})
    responses.get(f"{V3}/catalog/variants", json={"data": [{"id": 3}]})
    pages = list(make_client().iter_variant_pages(limit=2))
    assert [[v["id"] for v in page] for page in pages] == [[1, 2], [3]]
    assert len(responses.calls) == 2


@responses.activate
def test_v3_paging_stops_on_an_empty_page_and_yields_nothing_for_it():
    responses.get(f"{V3}/inventory/items", json=v3_page([], 1, 0, 1000, total=0))
    assert list(make_client().iter_inventory_item_pages()) == []
    assert query(responses.calls[0])["limit"] == "1000"


@responses.activate
def test_inventory_items_of_one_location_use_the_location_path_and_comma_filters():
    responses.get(f"{V3}/inventory/locations/4/items", json=v3_page([{"identity": {"sku": "A"}}], 1, 1, 50))
    pages = list(make_client().iter_inventory_item_pages(location_id=4, limit=50, sku__in=["A", "B"]))
    assert len(pages) == 1
    assert query(responses.calls[0])["sku:in"] == "A,B"


@responses.activate
def test_v2_pages_are_bare_arrays_and_a_204_ends_them():
    responses.get(f"{V2}/orders", json=[{"id": i} for i in range(3)])
    responses.get(f"{V2}/orders", status=204)
    since = datetime.datetime(2026, 11, 1, 8, 30, tzinfo=datetime.UTC)
    pages = list(make_client().iter_order_pages(limit=3, status_id=11, min_date_modified=since, sort="id:asc"))
    assert [len(page) for page in pages] == [3]
    assert len(responses.calls) == 2
    assert query(responses.calls[0]) == {
        "page": "1", "limit": "3", "status_id": "11", "min_date_modified": "2026-11-01T08:30:00+00:00", "sort": "id:asc",
    }


@responses.activate
def test_v2_paging_stops_on_a_short_page_without_asking_again():
    responses.get(f"{V2}/orders/5/products", json=[{"id": 1}, {"id": 2}])
    assert [p["id"] for p in make_client().list_order_products(5)] == [1, 2]
    assert len(responses.calls) == 1
    assert query(responses.calls[0]) == {"page": "1", "limit": "250"}


@responses.activate
def test_v2_empty_shipments_answered_with_204_are_an_empty_list():
    responses.get(f"{V2}/orders/7/shipments", status=204)
    assert make_client().list_order_shipments(7) == []


@responses.activate
def test_orders_count_and_single_order():
    responses.get(f"{V2}/orders/count", json={"count": 42, "statuses": []})
    responses.get(f"{V2}/orders/9", json={"id": 9, "status_id": 11})
    client = make_client()
    assert client.get_orders_count(status_id=11) == 42
    assert query(responses.calls[0]) == {"status_id": "11"}
    assert client.get_order(9)["status_id"] == 11


@responses.activate
def test_absolute_adjustments_go_in_chunks_of_2000_and_return_a_transaction_id_per_chunk():
    for number in (1, 2, 3):
        responses.put(f"{V3}/inventory/adjustments/absolute", json={"transaction_id": f"tx-{number}"})
    items = [{"location_id": 1, "variant_id": n, "quantity": n % 7} for n in range(1, 4501)]

    ids = make_client().adjust_absolute(items, reason="End of day")

    assert ids == ["tx-1", "tx-2", "tx-3"]
    bodies = [sent_json(call) for call in responses.calls]
    assert [len(body["items"]) for body in bodies] == [2000, 2000, 500]
    assert [item for body in bodies for item in body["items"]] == items  # order kept, nothing lost
    assert {body["reason"] for body in bodies} == {"End of day"}


@responses.activate
def test_relative_adjustment_without_reason_sends_no_reason():
    responses.post(f"{V3}/inventory/adjustments/relative", json={"transaction_id": "tx-r"})
    assert make_client().adjust_relative([{"location_id": 1, "sku": "A", "quantity": -2}]) == ["tx-r"]
    assert sent_json(responses.calls[0]) == {"items": [{"location_id": 1, "sku": "A", "quantity": -2}]}


@pytest.mark.parametrize(
    "item",
    [
        {"location_id": 1, "sku": "A", "variant_id": 3, "quantity": 1},  # two identifiers
        {"location_id": 1, "quantity": 1},  # none
        {"location_id": "1", "sku": "A", "quantity": 1},
        {"location_id": 1, "sku": "A", "quantiy": 1},
        {"location_id": 1, "sku": "A", "quantity": -1},  # absolute levels are never negative
        {"location_id": 1, "sku": "A", "quantity": 2_147_483_648},
    ],
)
@responses.activate
def test_adjustment_items_that_break_the_rules_are_refused_before_sending(item):
    with pytest.raises(ValidationError) as raised:
        make_client().adjust_absolute([{"location_id": 1, "sku": "OK", "quantity": 1}, item])
    assert raised.value.status is None
    assert all(key.startswith("items[1]") for key in raised.value.errors)
    assert len(responses.calls) == 0


@responses.activate
def test_variant_batches_hold_50_and_product_batches_10():
    responses.put(f"{V3}/catalog/variants", json={"data": [{"id": 0}], "meta": {}})
    responses.put(f"{V3}/catalog/products", json={"data": [{"id": 0}], "meta": {}})
    client = make_client()

    updated_variants = client.update_variants([{"id": n, "price": 1.5} for n in range(1, 121)])
    updated_products = client.update_products([{"id": n, "is_visible": True} for n in range(1, 26)])

    sizes = [(urlsplit(c.request.url).path.rsplit("/", 1)[-1], len(sent_json(c))) for c in responses.calls]
    assert sizes == [("variants", 50), ("variants", 50), ("variants", 20),
                     ("products", 10), ("products", 10), ("products", 5)]
    assert len(updated_variants) == 3 and len(updated_products) == 3  # what the store answered, per chunk


@responses.activate
def test_batch_updates_need_ids():
    with pytest.raises(ValidationError) as raised:
        make_client().update_products([{"id": 1}, {"name": "no id"}])
    assert raised.value.errors == {"[1].id": "required"}
    assert len(responses.calls) == 0


@responses.activate
def test_shipment_body_holds_required_fields_and_only_the_optional_ones_given():
    responses.post(f"{V2}/orders/100/shipments", json={"id": 1, "order_id": 100}, status=201)
    result = make_client().create_shipment(
        100, order_address_id=12, items=[{"order_product_id": 5, "quantity": 2}],
        tracking_number="1Z999", shipping_provider="ups",
    )
    assert result["id"] == 1
    assert sent_json(responses.calls[0]) == {
        "order_address_id": 12, "items": [{"order_product_id": 5, "quantity": 2}],
        "tracking_number": "1Z999", "shipping_provider": "ups",
    }


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"order_address_id": "12", "items": [{"order_product_id": 5, "quantity": 1}]}, "order_address_id"),
        ({"order_address_id": 0, "items": [{"order_product_id": 5, "quantity": 1}]}, "order_address_id"),
        ({"order_address_id": 12, "items": []}, "items"),
        ({"order_address_id": 12, "items": [{"order_product_id": 5}]}, "items[0].quantity"),
        ({"order_address_id": 12, "items": [{"order_product_id": 5, "quantity": 1}], "tracking_number": "9" * 51},
         "tracking_number"),
    ],
)
@responses.activate
def test_shipment_without_required_fields_is_refused_before_sending(kwargs, field):
    with pytest.raises(ValidationError) as raised:
        make_client().create_shipment(100, **kwargs)
    assert field in raised.value.errors
    assert len(responses.calls) == 0


@responses.activate
def test_hooks_statuses_zones_methods_locations_settings_and_status_update():
    responses.get(f"{V3}/hooks", json=v3_page([{"id": 3, "scope": "store/order/created"}], 1, 1, 250))
    responses.post(f"{V3}/hooks", json={"data": {"id": 4}, "meta": {}})
    responses.delete(f"{V3}/hooks/4", json={"data": {"id": 4}, "meta": {}})
    responses.get(f"{V2}/order_statuses", json=[{"id": 11, "name": "Awaiting Fulfillment"}])
    responses.get(f"{V2}/shipping/zones", json=[{"id": 1, "name": "US"}])
    responses.get(f"{V2}/shipping/zones/1/methods", json=[{"id": 2, "name": "Flat"}])
    responses.get(f"{V3}/inventory/locations", json=v3_page([{"id": 1}], 1, 1, 250))
    responses.get(f"{V3}/settings/inventory", json={"data": {"update_stock_behavior": "order_placed"}, "meta": {}})
    responses.put(f"{V2}/orders/9", json={"id": 9, "status_id": 2})
    client = make_client()

    assert client.list_hooks()[0]["id"] == 3
    assert client.create_hook(scope="store/order/created", destination="https://x.test/h", headers={"S": "1"}) == {"id": 4}
    assert sent_json(responses.calls[1]) == {"scope": "store/order/created", "destination": "https://x.test/h",
                                             "is_active": True, "headers": {"S": "1"}}
    assert client.delete_hook(4) == {"id": 4}
    assert client.list_order_statuses()[0]["id"] == 11
    assert client.list_shipping_zones()[0]["name"] == "US"
    assert client.list_shipping_methods(1)[0]["name"] == "Flat"
    assert client.list_locations() == [{"id": 1}]
    assert client.get_inventory_settings() == {"update_stock_behavior": "order_placed"}
    assert client.update_order_status(9, 2)["status_id"] == 2
    assert sent_json(responses.calls[-1]) == {"status_id": 2}


# ---------------------------------------------------------------------------------------- error typing

@pytest.mark.parametrize(("status", "error_class"), [(401, AuthError), (403, AuthError), (404, NotFoundError),
                                                     (409, PermanentError), (405, PermanentError)])
@responses.activate
def test_statuses_map_to_their_error_types(status, error_class):
    responses.get(f"{V3}/settings/inventory", json={"status": status, "title": "Nope", "type": "x", "errors": {}},
                  status=status)
    with pytest.raises(error_class) as raised:
        make_client().get_inventory_settings()
    assert raised.value.status == status
    assert "GET /stores/abc123/v3/settings/inventory" in raised.value.message
    assert "Nope" in raised.value.message


@responses.activate
def test_a_422_carries_bigcommerce_errors_map():
    body = {"status": 422, "title": "Invalid items", "type": "https://developer.bigcommerce.com/api-docs",
            "errors": {"items.0.variant_id": "Item with variant_id 74 is tracked by product"}}
    responses.put(f"{V3}/inventory/adjustments/absolute", body=json.dumps(body), status=422,
                  content_type="application/problem+json")
    with pytest.raises(ValidationError) as raised:
        make_client().adjust_absolute([{"location_id": 1, "variant_id": 74, "quantity": 1}])
    assert raised.value.status == 422
    assert raised.value.errors == body["errors"]
    assert "Invalid items" in str(raised.value)


@responses.activate
def test_a_batch_refusal_carries_batch_errors_and_the_chunks_already_done():
    responses.put(f"{V3}/catalog/variants", json={"data": [{"id": 1}], "meta": {}})
    batch_errors = [{"status": 422, "title": "Price is invalid", "type": "x", "errors": {"price": "bad"}}]
    responses.put(f"{V3}/catalog/variants", json={"batch_errors": batch_errors}, status=422)
    with pytest.raises(ValidationError) as raised:
        make_client().update_variants([{"id": n} for n in range(1, 61)])
    assert raised.value.errors == {"batch_errors": batch_errors}
    assert raised.value.chunk_index == 1
    assert raised.value.completed == [{"id": 1}]


@responses.activate
def test_a_v2_array_error_body_becomes_the_message():
    responses.put(f"{V2}/orders/9", json=[{"status": 400, "message": "The field 'status_id' is invalid."}], status=400)
    with pytest.raises(ValidationError) as raised:
        make_client().update_order_status(9, 99)
    assert "The field 'status_id' is invalid." in raised.value.message
    assert raised.value.errors == {"0": "The field 'status_id' is invalid."}


@responses.activate
def test_a_413_is_a_validation_error():
    responses.put(f"{V3}/catalog/products", json={"status": 413, "title": "The maximum items allowed in the array is 10"},
                  status=413)
    with pytest.raises(ValidationError, match="maximum items"):
        make_client().update_products([{"id": 1}])


@pytest.mark.parametrize("body", [[1, 2], "a string", 42, {"data": "not an object"}])
@pytest.mark.parametrize(
    "call, url",
    [
        (lambda c: c.get_store(), f"{V2}/store"),
        (lambda c: c.get_time(), f"{V2}/time"),
        (lambda c: c.get_inventory_settings(), f"{V3}/settings/inventory"),
        (lambda c: c.get_order(7), f"{V2}/orders/7"),
        (lambda c: c.get_orders_count(), f"{V2}/orders/count"),
        (lambda c: list(c.iter_variant_pages()), f"{V3}/catalog/variants"),
    ],
)
@responses.activate
def test_an_answer_that_is_not_a_json_object_is_a_permanent_error(call, url, body):
    """A base URL that is not a BigCommerce store may answer 200 with any JSON at all."""
    if isinstance(body, dict) and not url.endswith(("/settings/inventory", "/catalog/variants")):
        body = ["not", "an", "object"]  # a dict is a fine answer there: test a list instead
    responses.get(url, json=body)
    with pytest.raises(PermanentError, match="did not answer a JSON object; is the API base URL"):
        call(make_client())


@responses.activate
def test_order_counts_by_status_come_from_one_request():
    responses.get(f"{V2}/orders/count", json={"count": 5, "statuses": [
        {"id": 11, "name": "Awaiting Fulfillment", "count": 3}, {"id": 7, "name": "Awaiting Payment", "count": 2},
        {"id": 5, "name": "Cancelled", "count": 0}]})
    assert make_client().get_order_counts_by_status(min_date_modified="2026-01-01") == {11: 3, 7: 2, 5: 0}
    assert len(responses.calls) == 1 and "min_date_modified=2026-01-01" in responses.calls[0].request.url
