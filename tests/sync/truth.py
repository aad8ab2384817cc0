"""The store level every linked item must have (DESIGN decision 18), computed by the test on its own.

From the sandbox store's own records (what it took off its stock for each order line, and each order's
status), the IntelliTrack rows of physical stock and picks as the warehouse recorded them, and what had
shipped before go-live (taken by the test before the first inventory import). Never through the code
under test: no selector, gateway or sync module is called here."""
from collections import defaultdict

from plugin.intellitrack.models import InventoryRecord, PickingOrderLine
from plugin.sync.models import StoreItemLink

MAX_LEVEL = 2_147_483_647
HOLDS_NOTHING = {0, 4, 5, 6}  # incomplete, refunded, cancelled, declined
WILL_NOT_SHIP = {2, 10}  # shipped, completed


def shipped_before_go_live(state) -> dict[int, int]:
    """Per order line, the units that had shipped (left the shelf) before IntelliTrack held the stock."""
    return {line.id: line.quantity_shipped for order in state.orders.values() for line in order.products}


def physical_in_scope(store) -> dict[int, int]:
    """On-hand in single units per item inside the configured scope, from the raw stock rows."""
    config = store.basic_configuration
    records = InventoryRecord.objects.select_related("uom")
    if config.quantity_scope == "default_site":
        records = records.filter(site=config.default_site)
    elif config.quantity_scope == "default_location":
        records = records.filter(location=config.default_location)
    else:
        records = records.filter(site__division=config.default_division)
    on_hand = defaultdict(int)
    for record in records:
        on_hand[record.item_id] += record.on_hand * record.uom.each_count
    return on_hand


def picked_per_store_line(store) -> dict[int, int]:
    picked = defaultdict(int)
    for line in PickingOrderLine.objects.filter(order__source_store=store, store_order_product_id__isnull=False):
        picked[line.store_order_product_id] += line.picked_qty
    return picked


def held_per_item(store, state, *, base: dict[int, int]) -> dict[int, int]:
    """What the store has set aside for orders and IntelliTrack has not picked (negative: picked units the
    store has not taken off yet), per item."""
    links = {(link.product_id, link.variant_id): link.item_id for link in StoreItemLink.objects.filter(store=store)}
    picked = picked_per_store_line(store)
    held = defaultdict(int)
    for order in state.orders.values():
        if order.status_id in HOLDS_NOTHING:
            continue
        for line in order.products:
            item = links.get((line.product_id, line.variant_id)) or links.get((line.product_id, None))
            product = state.products.get(line.product_id)
            if item is None or product is None:
                continue
            if product.inventory_tracking == "product" and (line.product_id, None) not in links:
                continue
            if product.inventory_tracking == "variant" and (line.product_id, line.variant_id) not in links:
                continue
            units = line.quantity_deducted - base.get(line.id, 0) - picked.get(line.id, 0)
            held[item] += max(0, units) if order.status_id in WILL_NOT_SHIP else units
    return held


def truth_levels(store, state, *, base: dict[int, int], physical: dict[int, int] | None = None) -> dict[int, int]:
    """{link id: the level the store must show}."""
    physical = physical_in_scope(store) if physical is None else physical
    held = held_per_item(store, state, base=base)
    return {
        link.id: min(MAX_LEVEL, max(0, physical.get(link.item_id, 0) - held.get(link.item_id, 0)))
        for link in StoreItemLink.objects.filter(store=store)
    }


# ----- several store locations ---------------------------------------------------------------------------
# The test names each store location's IntelliTrack scope itself ({"site": id} or {"location": id}); holds
# count at the store's default location, and what its stock cannot cover at the other locations in the
# order of their store location ids, each up to its stock (plugin/sync/locations.py states the rule; this
# is the test's own reading of it).

def physical_at(scope: dict) -> dict[int, int]:
    """On-hand in single units per item inside one scope ({"site": id} or {"location": id}), from the raw
    stock rows."""
    records = InventoryRecord.objects.select_related("uom")
    records = records.filter(site_id=scope["site"]) if "site" in scope else records.filter(
        location_id=scope["location"])
    on_hand = defaultdict(int)
    for record in records:
        on_hand[record.item_id] += record.on_hand * record.uom.each_count
    return on_hand


def truth_levels_by_location(store, state, *, base: dict[int, int], scopes: dict[int, dict],
                             default_location_id: int) -> dict[tuple[int, int], int]:
    """{(link id, store location id): the level the store must show there}: on-hand in that location's
    scope, less what store orders hold: at the default location first, the rest at the others in turn."""
    held = held_per_item(store, state, base=base)
    links = list(StoreItemLink.objects.filter(store=store))
    order = [default_location_id, *sorted(location_id for location_id in scopes if location_id != default_location_id)]
    physical = {location_id: physical_at(scopes[location_id]) for location_id in order}
    expected = {}
    for link in links:
        still_held = held.get(link.item_id, 0)
        for location_id in order:
            stock = physical[location_id].get(link.item_id, 0)
            if location_id == default_location_id and still_held < 0:
                level, still_held = stock - still_held, 0
            else:
                level = max(0, stock - still_held)
                still_held -= stock - level
            expected[(link.id, location_id)] = min(MAX_LEVEL, level)
    return expected
