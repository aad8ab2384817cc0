"""The client lists a store's inventory locations a page at a time and reads levels per location."""
import pytest
import responses
from responses import matchers

from plugin.bigcommerce.errors import AuthError

from .helpers import V3, make_client, v3_page


def location(location_id: int) -> dict:
    return {"id": location_id, "code": f"WH{location_id}", "label": f"Warehouse {location_id}", "enabled": True}


@responses.activate
def test_locations_are_listed_over_every_page():
    for page, ids in ((1, range(1, 251)), (2, range(251, 501)), (3, range(501, 503))):
        responses.get(f"{V3}/inventory/locations", json=v3_page([location(i) for i in ids], page, 3, 250, total=502),
                      match=[matchers.query_param_matcher({"page": str(page), "limit": "250"})])
    listed = make_client().list_locations()
    assert [entry["id"] for entry in listed] == list(range(1, 503))
    assert len(responses.calls) == 3


@responses.activate
def test_a_page_without_pagination_ends_the_list_when_short():
    responses.get(f"{V3}/inventory/locations", json={"data": [location(1), location(2)], "meta": {}})
    assert [entry["id"] for entry in make_client().list_locations()] == [1, 2]
    assert len(responses.calls) == 1


@responses.activate
def test_locations_filters_are_spelled_as_the_store_expects():
    responses.get(f"{V3}/inventory/locations", json=v3_page([location(2)], 1, 1, 250),
                  match=[matchers.query_param_matcher({"page": "1", "limit": "250", "location_id:in": "2,3",
                                                       "is_active": "true"})])
    assert make_client().list_locations(location_id__in=[2, 3], is_active=True) == [location(2)]


@responses.activate
def test_levels_of_each_location_are_read_from_that_location_and_its_pages():
    for location_id in (1, 2):
        for page in (1, 2):
            item = {"identity": {"sku": f"S{location_id}{page}", "variant_id": page, "product_id": 7},
                    "available_to_sell": location_id * 10 + page, "total_inventory_onhand": location_id * 10 + page,
                    "settings": {"safety_stock": 0, "is_in_stock": True, "warning_level": 0,
                                 "bin_picking_number": ""}}
            responses.get(f"{V3}/inventory/locations/{location_id}/items", json=v3_page([item], page, 2, 1),
                          match=[matchers.query_param_matcher({"page": str(page), "limit": "1"})])
    client = make_client()
    read = {location_id: [entry["total_inventory_onhand"] for page in
                          client.iter_inventory_item_pages(location_id=location_id, limit=1) for entry in page]
            for location_id in (1, 2)}
    assert read == {1: [11, 12], 2: [21, 22]}


@responses.activate
def test_a_store_token_without_the_locations_scope_is_an_auth_error():
    responses.get(f"{V3}/inventory/locations", status=403, json={"status": 403, "title": "Forbidden", "type": ""})
    with pytest.raises(AuthError):
        make_client().list_locations()
