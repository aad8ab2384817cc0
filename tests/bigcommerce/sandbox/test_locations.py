"""The sandbox store with several inventory locations: paged location list, levels per location for
absolute and relative adjustments and for reads, each answer held to BigCommerce's OpenAPI files; catalog
reads show the default location only, as the spec says of the Catalog API."""
import pytest

from plugin.bigcommerce.sandbox.state import Location
from tests.bigcommerce.sandbox.support import bc


@pytest.fixture
def store(make_sandbox):
    server = make_sandbox(products=20, orders=0, locations=3, plan="unlimited")
    for number in range(4, 8):
        server.state.add_location(Location(id=number, code=f"WH{number}", label=f"Warehouse {number}"))
    return server


def tracked_variant(state):
    product = next(p for p in state.products.values() if p.inventory_tracking == "variant")
    return product, product.variant_ids[0]


def test_locations_are_paged_and_filtered(store):
    first = bc(store, "GET", "/v3/inventory/locations?limit=3&page=1").json()
    second = bc(store, "GET", "/v3/inventory/locations?limit=3&page=3").json()
    assert [entry["id"] for entry in first["data"]] == [1, 2, 3]
    assert [entry["id"] for entry in second["data"]] == [7]
    assert first["meta"]["pagination"]["total_pages"] == 3
    assert [entry["id"] for entry in bc(store, "GET", "/v3/inventory/locations?location_id:in=2,6").json()["data"]] \
        == [2, 6]


def test_absolute_and_relative_adjustments_set_each_location_alone_in_one_request(store):
    state = store.state
    product, variant_id = tracked_variant(state)
    default_before = state.on_hand(variant_id, 1)
    items = [{"location_id": location_id, "variant_id": variant_id, "quantity": location_id * 10}
             for location_id in (2, 3, 5)]
    assert bc(store, "PUT", "/v3/inventory/adjustments/absolute", json={"items": items}).status_code == 200
    assert bc(store, "POST", "/v3/inventory/adjustments/relative",
              json={"items": [{"location_id": 3, "variant_id": variant_id, "quantity": -4}]}).status_code == 200
    assert [state.on_hand(variant_id, location_id) for location_id in (1, 2, 3, 5)] == [default_before, 20, 26, 50]

    at_three = bc(store, "GET", f"/v3/inventory/locations/3/items?variant_id:in={variant_id}").json()["data"]
    assert at_three[0]["total_inventory_onhand"] == 26
    across = bc(store, "GET", f"/v3/inventory/items?variant_id:in={variant_id}&location_id:in=1,2,5").json()["data"]
    assert {entry["location_id"]: entry["total_inventory_onhand"] for entry in across[0]["locations"]} == {
        1: default_before, 2: 20, 5: 50}
    # The Catalog API shows the default location's stock only.
    variant = bc(store, "GET", f"/v3/catalog/variants?id={variant_id}").json()["data"][0]
    assert variant["inventory_level"] == default_before


def test_a_relative_change_at_a_location_never_set_and_an_unknown_location_are_refused(store):
    _product, variant_id = tracked_variant(store.state)
    never_set = bc(store, "POST", "/v3/inventory/adjustments/relative",
                   json={"items": [{"location_id": 6, "variant_id": variant_id, "quantity": 1}]})
    assert never_set.status_code == 422
    unknown = bc(store, "PUT", "/v3/inventory/adjustments/absolute",
                 json={"items": [{"location_id": 99, "variant_id": variant_id, "quantity": 1}]})
    assert unknown.status_code == 422
    assert bc(store, "GET", "/v3/inventory/locations/99/items").status_code == 404
