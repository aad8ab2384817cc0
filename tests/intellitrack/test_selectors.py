import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from plugin.configuration.models import StoreConnection
from plugin.intellitrack import selectors, services
from plugin.intellitrack.models import PickingOrder

from .factories import (
    DivisionFactory,
    ItemFactory,
    LocationFactory,
    PickingOrderFactory,
    PickingOrderLineFactory,
    SiteFactory,
    UOMFactory,
)


@pytest.fixture
def stocked(place):
    """WIDGET: A=5, B=7 (site S1), C=11 (site S2), plus 2 cases (24 each) at A.
    GADGET: A=3 only. A foreign division holds 100 of its own item."""
    gadget = ItemFactory(division=place.division, item_number="GADGET", default_uom=place.ea)
    for location, quantity in [(place.loc_a, 5), (place.loc_b, 7), (place.loc_c, 11)]:
        services.inventory_receive(item=place.item, location=location, uom=place.ea, quantity=quantity)
    services.inventory_receive(item=place.item, location=place.loc_a, uom=place.cs, quantity=2)
    services.inventory_receive(item=gadget, location=place.loc_a, uom=place.ea, quantity=3)
    other = DivisionFactory(code="D2")
    foreign_item = ItemFactory(division=other, item_number="WIDGET", default_uom=UOMFactory(division=other))
    foreign_location = LocationFactory(site=SiteFactory(division=other, code="S9"), code="Z")
    services.inventory_receive(
        item=foreign_item, location=foreign_location, uom=foreign_item.default_uom, quantity=100
    )
    place.gadget = gadget
    place.foreign_location = foreign_location
    return place


def one_query(func, **kwargs):
    with CaptureQueriesContext(connection) as queries:
        result = func(**kwargs)
    assert len(queries) == 1, [q["sql"] for q in queries]
    return result


def test_on_hand_by_item_for_each_scope_in_one_query(stocked):
    p = stocked
    kwargs = {"division": p.division, "site": p.site1, "location": p.loc_a}
    assert one_query(selectors.on_hand_by_item, scope="default_location", **kwargs) == {
        p.item.id: 5 + 24,
        p.gadget.id: 3,
    }
    assert one_query(selectors.on_hand_by_item, scope="default_site", **kwargs) == {
        p.item.id: 5 + 7 + 24,
        p.gadget.id: 3,
    }
    assert one_query(selectors.on_hand_by_item, scope="division", division=p.division) == {
        p.item.id: 5 + 7 + 11 + 24,
        p.gadget.id: 3,
    }


def test_on_hand_by_item_limits_to_item_ids_and_division(stocked):
    p = stocked
    assert selectors.on_hand_by_item(scope="division", division=p.division.id, item_ids=[p.gadget.id]) == {
        p.gadget.id: 3
    }
    # A location of another division never counts for this division.
    assert (
        selectors.on_hand_by_item(scope="default_location", division=p.division, location=p.foreign_location)
        == {}
    )


def test_on_hand_by_item_rejects_bad_scopes(place):
    with pytest.raises(ValueError):
        selectors.on_hand_by_item(scope="default_site", division=place.division)
    with pytest.raises(ValueError):
        selectors.on_hand_by_item(scope="default_location", division=place.division)
    with pytest.raises(ValueError):
        selectors.on_hand_by_item(scope="planet", division=place.division)


def test_unpicked_by_item_counts_open_orders_of_the_store_only(stocked):
    p = stocked
    store = StoreConnection.objects.create(name="shop", store_hash="abc123")
    other_store = StoreConnection.objects.create(name="other", store_hash="def456")

    def order(number, source, lines):
        picking_order = PickingOrderFactory(
            division=p.division, number=number, source_store=source, store_order_id=int(number)
        )
        for n, (item, ordered) in enumerate(lines, start=1):
            PickingOrderLineFactory(order=picking_order, line_number=n, item=item, ordered_qty=ordered)
        return picking_order

    open_order = order("1", store, [(p.item, 4), (p.gadget, 2)])
    order("2", store, [(p.item, 3)])
    services.order_close(order=order("3", store, [(p.item, 50)]))
    services.order_cancel(order=order("4", store, [(p.item, 60)]))
    order("5", other_store, [(p.item, 70)])
    order("6", None, [(p.item, 80)])
    services.order_pick(line=open_order.lines.get(line_number=1), quantity=1, location=p.loc_a)
    services.order_pick(line=open_order.lines.get(line_number=2), quantity=2, location=p.loc_a)

    assert one_query(selectors.unpicked_by_item, store=store) == {p.item.id: (4 - 1) + 3}
    assert selectors.unpicked_by_item(store=store.id, item_ids=[p.gadget.id]) == {}
    assert PickingOrder.objects.get(number="1").status == PickingOrder.Status.OPEN


def test_inventory_list_and_totals_filter_together(stocked):
    p = stocked
    assert selectors.inventory_list(division=p.division).count() == 5
    site_records = list(selectors.inventory_list(site=p.site1, item_query="widg"))
    assert [(r.location.code, r.uom.code, r.on_hand) for r in site_records] == [
        ("A", "CS", 2),
        ("A", "EA", 5),
        ("B", "EA", 7),
    ]
    assert selectors.inventory_totals(site=p.site1, item_query="widg") == {
        "on_hand": 14,
        "on_hand_each": 5 + 7 + 24,
        "records": 3,
        "items": 1,
    }
    assert selectors.inventory_totals(location=p.loc_a) == {
        "on_hand": 10,
        "on_hand_each": 32,
        "records": 3,
        "items": 2,
    }
    assert selectors.inventory_totals(division=p.division, item_query="nothing") == {
        "on_hand": 0,
        "on_hand_each": 0,
        "records": 0,
        "items": 0,
    }


def test_item_transaction_list_is_newest_first(stocked):
    kinds = [row.balance_after for row in selectors.item_transaction_list(item=stocked.item)]
    assert kinds == [2, 11, 7, 5]


def test_picking_order_list_filters_and_prefetches_lines_and_picks(stocked):
    p = stocked
    store = StoreConnection.objects.create(name="shop", store_hash="abc123")
    first = PickingOrderFactory(division=p.division, number="A1", source_store=store, store_order_id=41)
    PickingOrderLineFactory(order=first, line_number=2, item=p.gadget, ordered_qty=1)
    PickingOrderLineFactory(order=first, line_number=1, item=p.item, ordered_qty=3)
    second = PickingOrderFactory(division=p.division, number="A2")
    PickingOrderLineFactory(order=second, line_number=1, item=p.item, ordered_qty=1)
    services.order_pick(line=first.lines.get(line_number=1), quantity=1, location=p.loc_b)
    services.order_close(order=second)

    assert [o.number for o in selectors.picking_order_list(division=p.division, status="open")] == ["A1"]
    assert [o.number for o in selectors.picking_order_list(store_order_id=41)] == ["A1"]
    assert [o.number for o in selectors.picking_order_list(store=store.id)] == ["A1"]
    orders = list(selectors.picking_order_list(division=p.division, with_lines=True))
    with CaptureQueriesContext(connection) as queries:
        shape = {
            o.number: [
                (li.line_number, li.item.item_number, [pk.location.code for pk in li.picks.all()])
                for li in o.lines.all()
            ]
            for o in orders
        }
    assert len(queries) == 0
    assert shape == {"A1": [(1, "WIDGET", ["B"]), (2, "GADGET", [])], "A2": [(1, "WIDGET", [])]}


def test_pickable_locations_are_those_with_stock_most_first(stocked):
    p = stocked
    line = PickingOrderLineFactory(order=PickingOrderFactory(division=p.division), item=p.item, ordered_qty=1)
    records = selectors.picking_order_pickable_locations(line=line)
    assert [(r.location.code, r.uom.code, r.on_hand) for r in records] == [
        ("C", "EA", 11),
        ("B", "EA", 7),
        ("A", "EA", 5),
    ]


def test_pick_stock_counts_single_units_only(stocked):
    """A case at a location is not stock a pick can take, so it is not offered or counted."""
    p = stocked
    order = PickingOrderFactory(division=p.division)
    stock = selectors.pick_stock_by_item(order=order, item_ids=[p.item.pk])
    assert [(place.code, amount) for place, amount in stock[p.item.pk]] == [("C", 11), ("B", 7), ("A", 5)]


def test_item_list_searches_numbers_and_descriptions(stocked):
    p = stocked
    ItemFactory(division=p.division, item_number="OLD", description="Retired widget", active=False)
    assert [i.item_number for i in selectors.item_list(division=p.division, query="widget")] == [
        "OLD",
        "WIDGET",
    ]
    assert [i.item_number for i in selectors.item_list(division=p.division, active=True)] == [
        "GADGET",
        "WIDGET",
    ]


def test_item_list_with_on_hand_counts_single_units(stocked):
    """WIDGET: 5 + 7 + 11 each, plus 2 cases of 12; GADGET 3; the foreign item is not in the division."""
    p = stocked
    items = selectors.item_list_with_on_hand(division=p.division)
    assert [(item.item_number, item.on_hand) for item in items] == [("GADGET", 3), ("WIDGET", 47)]
