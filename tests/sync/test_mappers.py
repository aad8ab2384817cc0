"""The mappers on JSON shaped like the OpenAPI examples (tests/sync/fixtures)."""
import json
from datetime import date
from pathlib import Path

from plugin.sync import mappers

FIXTURES = Path(__file__).parent / "fixtures"


def load(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_products_by_sku_one_item_per_tracked_unit():
    items, rejected, skipped = mappers.products_to_store_items(load("products_page.json"), create_item_using="sku")
    by_ref = {(i.product_id, i.variant_id): i for i in items}
    # product-tracked: one item, no variant id; variant-tracked: one per variant
    assert set(by_ref) == {(174, None), (77, 1), (77, 3), (90, None)}
    assert by_ref[(174, None)].item_number == "TOTE-PLAIN"
    assert by_ref[(174, None)].tracking == "product"
    assert by_ref[(77, 1)].item_number == "FLCT-BLU-S"
    assert by_ref[(77, 1)].description == "Fog Linen Chambray Towel Blue / S"
    assert by_ref[(77, 3)].item_number == "ÉTÉ-毛巾-M"
    assert by_ref[(77, 1)].inventory_level == 4
    assert [(r.product_id, r.variant_id) for r in rejected] == [(77, 2)]
    assert "Blank SKU" in rejected[0].reason
    assert rejected[0].key == "Fog Linen Chambray Towel Grey / S"
    assert [(s.product_id, s.key) for s in skipped] == [(88, "GIFT")]
    assert "tracking is off" in skipped[0].reason


def test_products_by_name_uses_name_and_option_values():
    items, rejected, skipped = mappers.products_to_store_items(load("products_page.json"), create_item_using="name")
    numbers = {(i.product_id, i.variant_id): i.item_number for i in items}
    assert numbers == {
        (174, None): "Plain Canvas Tote",
        (77, 1): "Fog Linen Chambray Towel Blue / S",
        (77, 2): "Fog Linen Chambray Towel Grey / S",
        (77, 3): "Fog Linen Chambray Towel Été / M",
    }
    # the long name cannot be an item number: reported, not truncated
    assert [(r.product_id, r.reason.startswith("Item number longer than 255")) for r in rejected] == [(90, True)]
    assert len(skipped) == 1


def test_inventory_levels_read_one_location():
    levels = mappers.inventory_levels_add(mappers.StoreLevels(), load("inventory_items.json"), location_id=1)
    assert levels.level_for(tracking="product", product_id=174, variant_id=None) == 12
    assert levels.level_for(tracking="variant", product_id=77, variant_id=1) == 4
    assert levels.level_for(tracking="variant", product_id=77, variant_id=2) is None  # only at location 2
    other = mappers.inventory_levels_add(mappers.StoreLevels(), load("inventory_items.json"), location_id=2)
    assert other.level_for(tracking="product", product_id=174, variant_id=None) == 40
    assert other.level_for(tracking="variant", product_id=77, variant_id=2) == 7


def test_order_to_store_order():
    order = mappers.order_to_store_order(
        load("order.json"), load("order_products.json"), load("order_shipping_addresses.json")
    )
    assert order.store_order_id == 120 and order.number == "120" and order.status_id == 11
    assert order.order_date == date(2024, 3, 5)
    assert order.customer_account == "BC-11"
    assert order.customer.name == "Jane Doe" and order.customer.company == "Acme Inc."
    assert order.customer.email == "Jane.Doe@example.com"
    assert order.ship_to.name == "John Roe" and order.ship_to.postal_code == "LS1 1AA"
    assert order.shipping_method == "Flat Rate"
    # every line with what was ordered and shipped (what it holds of the store's stock depends on both)
    assert [(line.order_product_id, line.variant_id, line.sku, line.quantity, line.quantity_shipped)
            for line in order.lines] == [
        (501, 1, "FLCT-BLU-S", 3, 1),
        (502, 380, "TOTE-PLAIN", 1, 0),
        (503, 401, "LONG-NAME", 2, 2),
    ]
    # what is left to ship; the fully shipped product is left out
    assert [(line.order_product_id, line.remaining) for line in order.lines_to_ship] == [(501, 2), (502, 1)]


def test_guest_order_matches_customer_by_email_and_iso_dates():
    raw = dict(load("order.json"), customer_id=0, date_created="2024-03-06T10:00:00Z")
    order = mappers.order_to_store_order(raw, [], [])
    assert order.customer_account == "BC-GUEST-jane.doe@example.com"
    assert order.order_date == date(2024, 3, 6)
    assert order.ship_to is None and order.lines == []


def test_shipping_to_carriers():
    zones = load("shipping_zones.json")
    methods = load("shipping_methods.json")
    carriers = {c.name: dict(c.methods) for c in mappers.shipping_to_carriers([(z, methods[str(z["id"])]) for z in zones])}
    # every shipment provider is a carrier; UPS gets the zone's UPS method
    assert set(mappers.SHIPMENT_PROVIDERS.values()) <= set(carriers)
    assert carriers["UPS"] == {"UPS Ground": "Zone: United States"}
    # the store's own methods, one per name, naming every zone; the disabled one is left out
    assert carriers["Store shipping"] == {
        "Flat Rate": "Zone: United States, Europe",
        "Free Shipping": "Zone: Europe",
    }
    assert carriers["FedEx"] == {}


def test_inventory_levels_from_location_items():
    levels = mappers.inventory_levels_add(mappers.StoreLevels(), load("location_items.json"), location_id=1)
    assert levels.level_for(tracking="product", product_id=174, variant_id=None) == 12
    assert levels.level_for(tracking="variant", product_id=77, variant_id=1) == 4
    assert levels.level_for(tracking="variant", product_id=77, variant_id=99) is None
