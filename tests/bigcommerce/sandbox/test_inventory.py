"""Inventory API: absolute and relative adjustments, their limits and refusals, and the item listings."""
import uuid

import pytest

from tests.bigcommerce.sandbox.support import bc


def _product(state, tracking: str, *, options: bool):
    return next(p for p in state.products.values()
                if p.inventory_tracking == tracking and p.has_options == options)


def _absolute(sandbox, items, **kwargs):
    return bc(sandbox, "PUT", "/v3/inventory/adjustments/absolute", json={"items": items}, **kwargs)


def _relative(sandbox, items, **kwargs):
    return bc(sandbox, "POST", "/v3/inventory/adjustments/relative", json={"items": items}, **kwargs)


def test_absolute_sets_levels_and_returns_a_transaction_id(sandbox):
    state = sandbox.state
    plain = _product(state, "product", options=False)
    tracked = _product(state, "variant", options=True)
    variant = state.variants[tracked.variant_ids[1]]
    response = _absolute(sandbox, [
        {"location_id": 1, "product_id": plain.id, "quantity": 40},
        {"location_id": 1, "sku": variant.sku, "quantity": 3},
        {"location_id": 2, "variant_id": variant.id, "quantity": 8},
    ])
    assert response.status_code == 200
    assert uuid.UUID(response.json()["transaction_id"])
    assert state.on_hand(-plain.id) == 40
    assert state.on_hand(variant.id) == 3 and state.on_hand(variant.id, 2) == 8
    item = bc(sandbox, "GET", f"/v3/inventory/items?variant_id:in={variant.id}").json()["data"][0]
    levels = {entry["location_id"]: entry["total_inventory_onhand"] for entry in item["locations"]}
    assert levels == {1: 3, 2: 8}
    listed = bc(sandbox, "GET", f"/v3/inventory/locations/2/items?variant_id:in={variant.id}").json()["data"]
    assert listed[0]["available_to_sell"] == 8


def test_two_thousand_items_are_accepted_and_2001_refused_with_nothing_applied(make_sandbox):
    server = make_sandbox(products=2400, orders=0, plan="unlimited")
    state = server.state
    keys = [key for pid in state.product_order for key in state.stock_keys(state.products[pid])]
    assert len(keys) > 2001
    items = []
    for key in keys[:2001]:
        items.append({"location_id": 1, "quantity": 123457, **({"product_id": -key} if key < 0 else {"variant_id": key})})
    too_many = _absolute(server, items)
    assert too_many.status_code == 422
    assert "2000" in str(too_many.json()["errors"])
    assert 123457 not in {state.on_hand(key) for key in keys[:2001]}
    accepted = _absolute(server, items[:2000])
    assert accepted.status_code == 200
    assert {state.on_hand(key) for key in keys[:2000]} == {123457}
    assert _relative(server, [dict(item, quantity=1) for item in items]).status_code == 422


@pytest.mark.parametrize("case", ["variant_of_product_tracked", "product_of_variant_tracked", "untracked",
                                  "two_identifiers", "unknown_sku"])
def test_the_wrong_identifier_is_refused_with_422(sandbox, case):
    state = sandbox.state
    if case == "variant_of_product_tracked":
        product = _product(state, "product", options=True)
        item = {"variant_id": product.variant_ids[0]}
    elif case == "product_of_variant_tracked":
        item = {"product_id": _product(state, "variant", options=True).id}
    elif case == "untracked":
        item = {"product_id": next(p for p in state.products.values() if p.inventory_tracking == "none").id}
    elif case == "two_identifiers":
        product = _product(state, "product", options=False)
        item = {"product_id": product.id, "sku": product.sku}
    else:
        item = {"sku": "NOPE-1"}
    before = {loc: dict(level) for loc, level in state.stock.items()}
    response = _absolute(sandbox, [{"location_id": 1, "quantity": 5, **item}],
                         check_request=case != "two_identifiers")  # the spec's oneOf refuses two ids itself
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["errors"]
    assert before == state.stock


def test_product_tracked_with_options_is_adjusted_by_product_id(sandbox):
    product = _product(sandbox.state, "product", options=True)
    assert _absolute(sandbox, [{"location_id": 1, "product_id": product.id, "quantity": 12}]).status_code == 200
    assert sandbox.state.product_inventory_level(product) == 12


def test_relative_needs_an_absolute_first(sandbox):
    state = sandbox.state
    product = _product(state, "product", options=False)
    state.stock[1].pop(-product.id, None)  # an item whose stock was never set
    refused = _relative(sandbox, [{"location_id": 1, "product_id": product.id, "quantity": 2}])
    assert refused.status_code == 422 and "absolute" in refused.json()["title"]
    _absolute(sandbox, [{"location_id": 1, "product_id": product.id, "quantity": 5}])
    assert _relative(sandbox, [{"location_id": 1, "product_id": product.id, "quantity": 2}]).status_code == 200
    assert state.on_hand(-product.id) == 7


def test_relative_below_zero_is_refused_and_nothing_applied(sandbox):
    state = sandbox.state
    first, second = [p for p in state.products.values() if p.inventory_tracking == "product" and not p.has_options][:2]
    _absolute(sandbox, [{"location_id": 1, "product_id": first.id, "quantity": 3},
                        {"location_id": 1, "product_id": second.id, "quantity": 3}])
    response = _relative(sandbox, [{"location_id": 1, "product_id": first.id, "quantity": -1},
                                   {"location_id": 1, "product_id": second.id, "quantity": -4}])
    assert response.status_code == 422
    assert "items.1" in response.json()["errors"]
    assert state.on_hand(-first.id) == 3 and state.on_hand(-second.id) == 3


def test_unknown_location_is_refused(sandbox):
    product = _product(sandbox.state, "product", options=False)
    assert _absolute(sandbox, [{"location_id": 99, "product_id": product.id, "quantity": 1}]).status_code == 422
    assert bc(sandbox, "GET", "/v3/inventory/locations/99/items").status_code == 404


def test_inventory_items_list_every_tracked_item_once(sandbox):
    state = sandbox.state
    expected = sum(len(state.stock_keys(p)) for p in state.products.values())
    body = bc(sandbox, "GET", "/v3/inventory/items?limit=1000").json()
    assert body["meta"]["pagination"]["total"] == expected == len(body["data"])
    identities = [item["identity"] for item in body["data"]]
    untracked = {p.id for p in state.products.values() if p.inventory_tracking == "none"}
    assert not untracked & {identity["product_id"] for identity in identities}


def test_locations_list_the_default_first(sandbox):
    body = bc(sandbox, "GET", "/v3/inventory/locations").json()
    assert [location["id"] for location in body["data"]] == [1, 2]


def test_skus_match_regardless_of_case(sandbox):
    state = sandbox.state
    product = _product(state, "variant", options=True)
    variant = state.variants[product.variant_ids[0]]
    assert _absolute(sandbox, [{"location_id": 1, "sku": variant.sku.lower(), "quantity": 21}]).status_code == 200
    assert state.on_hand(variant.id) == 21
    listed = bc(sandbox, "GET", f"/v3/inventory/items?sku:in={variant.sku.lower()}").json()["data"]
    assert [item["identity"]["variant_id"] for item in listed] == [variant.id]


def test_item_filters_match_the_identity_shown(sandbox):
    state = sandbox.state
    body = bc(sandbox, "GET", "/v3/inventory/items?limit=1000").json()["data"]
    for identity in [item["identity"] for item in body][:60]:
        by_sku = bc(sandbox, "GET", f"/v3/inventory/items?sku:in={identity['sku']}").json()["data"]
        assert [item["identity"] for item in by_sku] == [identity]
        if "variant_id" in identity:
            by_variant = bc(sandbox, "GET", f"/v3/inventory/items?variant_id:in={identity['variant_id']}").json()["data"]
            assert [item["identity"] for item in by_variant] == [identity]
    product = next(p for p in state.products.values() if p.inventory_tracking == "variant")
    by_product = bc(sandbox, "GET", f"/v3/inventory/items?product_id:in={product.id}").json()["data"]
    assert [item["identity"]["variant_id"] for item in by_product] == product.variant_ids
    option_of_product_tracked = next(p for p in state.products.values()
                                     if p.inventory_tracking == "product" and p.has_options)
    sku = state.variants[option_of_product_tracked.variant_ids[0]].sku
    assert bc(sandbox, "GET", f"/v3/inventory/items?sku:in={sku}").json()["data"] == []
