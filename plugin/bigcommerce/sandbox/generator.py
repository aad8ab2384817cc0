"""Deterministic sample data for the sandbox store: the same seed always gives the same store.

`products` counts SKUs (stock-tracked units, variants included), so `generate(products=100_000)` gives a
catalog with 100,000 variants. Dates are offsets from a fixed instant so the data does not depend on
the day it was generated."""
from __future__ import annotations

import gc
import random

from .state import (
    DEFAULT_LOCATION_ID,
    Location,
    Order,
    OrderProduct,
    Product,
    Shipment,
    ShippingAddress,
    StoreState,
    Variant,
)

BASE_TIME = 1_767_225_600.0  # 2026-01-01T00:00:00Z
NOUNS = ("Mug", "Shirt", "Cap", "Bottle", "Lamp", "Notebook", "Bag", "Scarf", "Bowl", "Candle", "Towel", "Clock")
ADJECTIVES = ("Blue", "Classic", "Rustic", "Modern", "Tiny", "Grand", "Soft", "Bright", "Quiet", "Bold")
OPTION_SETS = (
    ("Size", ("S", "M", "L", "XL")),
    ("Color", ("Red", "Green", "Black")),
    ("Material", ("Cotton", "Wool")),
)
CITIES = (("Austin", "Texas", "78701"), ("Denver", "Colorado", "80202"), ("Boston", "Massachusetts", "02108"),
          ("Seattle", "Washington", "98101"), ("Miami", "Florida", "33101"))
# (status_id, weight): mostly paid orders waiting to be fulfilled, plus the other common states
ORDER_STATUS_MIX = ((11, 40), (9, 10), (3, 8), (2, 20), (5, 6), (10, 6), (7, 5), (1, 3), (12, 2))


def _build_catalog(state: StoreState, rng: random.Random, skus: int) -> None:
    product_id = 1
    variant_id = 1
    made = 0
    option_id = 1
    value_id = 1
    default_level = state.stock[DEFAULT_LOCATION_ID]
    second_level = state.stock.get(2)
    while made < skus:
        roll = rng.random()
        tracking = "none" if roll < 0.08 else ("product" if roll < 0.45 else "variant")
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {product_id}"
        price = round(rng.uniform(3, 120), 2)
        created = BASE_TIME - rng.randint(30, 400) * 86400
        option_combos: list[tuple] = []
        options: tuple = ()
        # variant tracking implies options; some product-tracked products have options too
        if tracking == "variant" or (tracking == "product" and rng.random() < 0.2):
            option_name, labels = OPTION_SETS[rng.randrange(len(OPTION_SETS))]
            labels = labels[: min(rng.randint(2, len(labels)), skus - made)]
            values = []
            for label in labels:
                values.append((value_id, label))
                value_id += 1
            options = ((option_id, option_name, tuple(values)),)
            option_combos = [((option_id, vid, option_name, label),) for vid, label in values]
            option_id += 1
        base_sku = f"SKU-{product_id:06d}"
        product_variants = []
        for index, combo in enumerate(option_combos or [()]):
            sku = f"{base_sku}-{combo[0][3][:3].upper()}" if combo else base_sku
            product_variants.append(Variant(id=variant_id, product_id=product_id, sku=sku, sku_id=variant_id,
                                            price=round(price + index, 2), option_values=combo))
            variant_id += 1
        product = Product(
            id=product_id, name=name, sku=base_sku, price=price, weight=round(rng.uniform(0.1, 5), 2),
            inventory_tracking=tracking, inventory_warning_level=rng.choice((0, 0, 5, 10)),
            date_created=created, date_modified=created + rng.randint(0, 20) * 86400,
            base_variant_id=None if options else product_variants[0].id, variant_ids=[v.id for v in product_variants], options=options,
        )
        state.add_product(product, product_variants)
        for key in state.stock_keys(product):
            # about 1 in 100 tracked items never had stock set: relative adjustments are refused for them
            if rng.random() < 0.01:
                continue
            default_level[key] = rng.choice((0, rng.randint(1, 40), rng.randint(1, 200)))
            if second_level is not None and rng.random() < 0.3:
                second_level[key] = rng.randint(0, 50)
        made += len(product_variants)
        product_id += 1


def _build_orders(state: StoreState, rng: random.Random, count: int) -> None:
    statuses = [status for status, _ in ORDER_STATUS_MIX]
    weights = [weight for _, weight in ORDER_STATUS_MIX]
    sellable = state.variant_order
    if not sellable:
        return
    placed_behavior = state.inventory_settings["update_stock_behavior"] == "order_placed"
    order_product_id = 1
    address_id = 1
    shipment_id = 1
    for number in range(count):
        order_id = 100 + number
        status_id = rng.choices(statuses, weights)[0]
        created = BASE_TIME - (count - number) * 600 - rng.randint(0, 500)
        city, region, zip_code = CITIES[rng.randrange(len(CITIES))]
        address = ShippingAddress(id=address_id, order_id=order_id, first_name=f"Pat{number}", last_name="Buyer",
                                  street_1=f"{rng.randint(1, 999)} Elm St", city=city, state=region, zip=zip_code,
                                  country="United States", country_iso2="US", email=f"buyer{number}@example.com",
                                  phone="555-0101")
        lines = []
        for _ in range(rng.randint(1, 4)):
            variant = state.variants[sellable[rng.randrange(len(sellable))]]
            product = state.products[variant.product_id]
            quantity = rng.randint(1, 3)
            shipped = quantity if status_id in (2, 10) else (rng.randint(0, quantity - 1) if status_id == 3 else 0)
            deducted = quantity if placed_behavior else shipped
            if status_id == 5 and state.inventory_settings["refund_order_stock_adjustment"]:
                deducted = 0
            lines.append(OrderProduct(id=order_product_id, order_id=order_id, product_id=product.id,
                                      variant_id=variant.id, order_address_id=address_id, name=product.name,
                                      sku=variant.sku, quantity=quantity, price=variant.price,
                                      quantity_shipped=shipped, quantity_deducted=deducted,
                                      product_options=variant.option_values))
            order_product_id += 1
        if status_id == 3 and all(line.quantity_shipped == 0 for line in lines):
            lines[0].quantity_shipped = 1 if lines[0].quantity > 1 else 0
            # a shipped unit has left the store's stock, whatever the setting
            lines[0].quantity_deducted = max(lines[0].quantity_deducted, lines[0].quantity_shipped)
            if lines[0].quantity_shipped == 0:
                lines.append(OrderProduct(id=order_product_id, order_id=order_id, product_id=lines[0].product_id,
                                          variant_id=lines[0].variant_id, order_address_id=address_id,
                                          name=lines[0].name, sku=lines[0].sku, quantity=2, price=lines[0].price,
                                          quantity_shipped=1, quantity_deducted=2 if placed_behavior else 1,
                                          product_options=lines[0].product_options))
                order_product_id += 1
        modified = created + rng.randint(0, 3) * 3600
        order = Order(id=order_id, customer_id=rng.randint(0, 500), status_id=status_id, date_created=created,
                      date_modified=modified, products=lines, addresses=[address])
        shipped_lines = [line for line in lines if line.quantity_shipped]
        if shipped_lines:
            order.shipments.append(Shipment(
                id=shipment_id, order_id=order_id, order_address_id=address_id, date_created=modified,
                items=tuple((line.id, line.product_id, line.quantity_shipped) for line in shipped_lines),
                tracking_number=f"1Z{order_id:010d}", shipping_provider="ups", shipping_method="Ground"))
            shipment_id += 1
            if status_id == 2:
                order.date_shipped = modified
        state.add_order(order)
        address_id += 1
    state.next_ids.update(order=100 + count, order_product=order_product_id, address=address_id,
                          shipment=shipment_id)


def _build_shipping(state: StoreState) -> None:
    state.shipping_zones = [
        {"id": 1, "name": "United States", "type": "country", "locations": [{"id": 1, "country_iso2": "US"}],
         "free_shipping": {"enabled": False, "minimum_sub_total": "0.0000", "exclude_fixed_shipping_products": False},
         "handling_fees": {"fixed_surcharge": "0", "display_separately": True}, "enabled": True},
        {"id": 2, "name": "Rest of the World", "type": "global", "locations": [],
         "free_shipping": {"enabled": False, "minimum_sub_total": "0.0000", "exclude_fixed_shipping_products": False},
         "handling_fees": {"fixed_surcharge": "0", "display_separately": True}, "enabled": True},
    ]
    state.shipping_methods = {
        1: [
            {"id": 1, "name": "Flat Rate", "type": "perorder", "settings": {"rate": 7.5}, "enabled": True,
             "handling_fees": {"fixed_surcharge": 0}, "is_fallback": False,
             "channel_ids": [1]},
            {"id": 2, "name": "UPS Ground", "type": "upsready", "settings": {"rate": 0}, "enabled": True,
             "handling_fees": {"fixed_surcharge": 0}, "is_fallback": False,
             "channel_ids": [1]},
        ],
        2: [
            {"id": 3, "name": "International Flat Rate", "type": "perorder", "settings": {"rate": 25}, "enabled": True,
             "handling_fees": {"fixed_surcharge": 0}, "is_fallback": True,
             "channel_ids": [1]},
        ],
    }


def generate(*, products: int = 500, orders: int = 100, seed: int = 1, locations: int = 2,
             update_stock_behavior: str = "order_placed") -> StoreState:
    """Build a store with `products` SKUs and `orders` orders; the same arguments give the same store."""
    # Building creates millions of long-lived objects and no garbage: cyclic GC passes would only slow it.
    collecting = gc.isenabled()
    gc.disable()
    try:
        state = _generate(products, orders, seed, locations, update_stock_behavior)
        # The store lives as long as the server: keep later full collections from rescanning it.
        gc.freeze()
        return state
    finally:
        if collecting:
            gc.enable()


def _generate(products: int, orders: int, seed: int, locations: int, update_stock_behavior: str) -> StoreState:
    rng = random.Random(seed)
    state = StoreState()
    state.inventory_settings["update_stock_behavior"] = update_stock_behavior
    state.add_location(Location(id=DEFAULT_LOCATION_ID, code="WH1", label="Main warehouse"))
    for number in range(2, locations + 1):
        state.add_location(Location(id=number, code=f"WH{number}", label=f"Warehouse {number}"))
    _build_catalog(state, rng, products)
    _build_orders(state, rng, orders)
    _build_shipping(state)
    return state
