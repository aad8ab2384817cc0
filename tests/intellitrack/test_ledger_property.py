"""The ledger invariant under random sequences of stock operations: for every inventory record the sum
of its ledger deltas equals its on-hand, on-hand never goes below zero, and each operation is refused
exactly when a simple model of the rules says it must be."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugin.intellitrack import services
from plugin.intellitrack.models import InventoryRecord, InventoryTransaction, PickingOrder

from .factories import ItemFactory, PickingOrderFactory, PickingOrderLineFactory

N_ITEMS, N_LOCATIONS, N_UOMS = 2, 3, 2
LINE_QTY = 25

items_ = st.integers(0, N_ITEMS - 1)
locations_ = st.integers(0, N_LOCATIONS - 1)
uoms_ = st.integers(0, N_UOMS - 1)

operations = st.lists(
    st.one_of(
        st.tuples(st.just("receive"), items_, locations_, uoms_, st.integers(1, 20)),
        st.tuples(st.just("adjust"), items_, locations_, uoms_, st.integers(-20, 20).filter(bool)),
        st.tuples(st.just("set"), items_, locations_, uoms_, st.integers(0, 30)),
        st.tuples(st.just("move"), items_, locations_, locations_, uoms_, st.integers(1, 20)),
        st.tuples(st.just("pick"), items_, locations_, st.integers(1, 8)),
        st.tuples(st.just("reopen"), items_),
    ),
    max_size=30,
)


@pytest.fixture
def world(place):
    items = [place.item, ItemFactory(division=place.division, item_number="GADGET", default_uom=place.ea)]
    # One order line per item, each on its own order, so one line closing does not stop the other.
    lines = []
    for n, item in enumerate(items):
        order = PickingOrderFactory(division=place.division, number=f"PROP-{n}")
        lines.append(PickingOrderLineFactory(order=order, line_number=1, item=item, ordered_qty=LINE_QTY))
    return items, [place.loc_a, place.loc_b, place.loc_c], [place.ea, place.cs], lines


def check_invariant():
    deltas = {
        (row["item_id"], row["location_id"], row["uom_id"]): row["total"]
        for row in InventoryTransaction.objects.exclude(location=None)
        .values("item_id", "location_id", "uom_id")
        .annotate(total=Sum("quantity_delta"))
    }
    on_hand = {(r.item_id, r.location_id, r.uom_id): r.on_hand for r in InventoryRecord.objects.all()}
    assert all(quantity >= 0 for quantity in on_hand.values())
    # Every record is explained by its ledger, and no ledger row points at a missing record.
    assert {key: deltas.get(key, 0) for key in on_hand} == on_hand
    assert set(deltas) <= set(on_hand)
    # Each balance_after is the running sum of the deltas before it.
    running = {}
    for row in InventoryTransaction.objects.exclude(location=None).order_by("id"):
        key = (row.item_id, row.location_id, row.uom_id)
        running[key] = running.get(key, 0) + row.quantity_delta
        assert row.balance_after == running[key]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_ledger_explains_on_hand_for_any_sequence(world, ops):
    items, locations, uoms, lines = world
    with transaction.atomic():
        expected = {}  # (item, location, uom) index -> on hand
        picked = [0] * len(lines)
        open_ = [True] * len(lines)
        for op in ops:
            kind = op[0]
            refused_expected = False
            try:
                if kind == "receive":
                    _, i, loc, u, qty = op
                    services.inventory_receive(
                        item=items[i], location=locations[loc], uom=uoms[u], quantity=qty
                    )
                    expected[(i, loc, u)] = expected.get((i, loc, u), 0) + qty
                elif kind == "adjust":
                    _, i, loc, u, delta = op
                    refused_expected = expected.get((i, loc, u), 0) + delta < 0
                    services.inventory_adjust(
                        item=items[i],
                        location=locations[loc],
                        uom=uoms[u],
                        quantity_delta=delta,
                        reason="count",
                    )
                    expected[(i, loc, u)] = expected.get((i, loc, u), 0) + delta
                elif kind == "set":
                    _, i, loc, u, qty = op
                    services.inventory_set(
                        item=items[i], location=locations[loc], uom=uoms[u], quantity=qty, reason="c"
                    )
                    if qty or (i, loc, u) in expected:
                        expected[(i, loc, u)] = qty
                elif kind == "move":
                    _, i, src, dst, u, qty = op
                    refused_expected = src == dst or expected.get((i, src, u), 0) < qty
                    services.inventory_move(
                        item=items[i],
                        uom=uoms[u],
                        from_location=locations[src],
                        to_location=locations[dst],
                        quantity=qty,
                    )
                    expected[(i, src, u)] -= qty
                    expected[(i, dst, u)] = expected.get((i, dst, u), 0) + qty
                elif kind == "pick":
                    _, i, loc, qty = op
                    refused_expected = (
                        not open_[i] or qty > LINE_QTY - picked[i] or expected.get((i, loc, 0), 0) < qty
                    )
                    services.order_pick(line=lines[i], quantity=qty, location=locations[loc])
                    expected[(i, loc, 0)] -= qty
                    picked[i] += qty
                    open_[i] = picked[i] < LINE_QTY
                elif kind == "reopen":
                    _, i = op
                    services.order_reopen(order=lines[i].order)
                    open_[i] = True
            except ValidationError:
                assert refused_expected, f"{op} was refused"
            else:
                assert not refused_expected, f"{op} was accepted"
            check_invariant()

        actual = {(r.item_id, r.location_id, r.uom_id): r.on_hand for r in InventoryRecord.objects.all()}
        model = {(items[i].id, locations[loc].id, uoms[u].id): qty for (i, loc, u), qty in expected.items()}
        assert {k: v for k, v in actual.items() if v} == {k: v for k, v in model.items() if v}
        statuses = [PickingOrder.objects.get(pk=line.order_id).status for line in lines]
        assert statuses == ["open" if is_open else "closed" for is_open in open_]
        transaction.set_rollback(True)
