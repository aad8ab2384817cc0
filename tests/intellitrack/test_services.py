import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from plugin.intellitrack import services
from plugin.intellitrack.models import InventoryRecord, InventoryTransaction, Item, PickingOrder

from .factories import (
    CarrierFactory,
    DivisionFactory,
    ItemFactory,
    LocationFactory,
    PickingOrderFactory,
    PickingOrderLineFactory,
    SiteFactory,
    UOMFactory,
)

Kind = InventoryTransaction.Kind


def on_hand(item, location, uom):
    record = InventoryRecord.objects.filter(item=item, location=location, uom=uom).first()
    return record.on_hand if record else 0


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


# --- adjust -----------------------------------------------------------------------------------


def test_adjust_up_creates_record_and_ledger_row(place, operator_user):
    row = services.inventory_adjust(
        item=place.item,
        location=place.loc_a,
        uom=place.ea,
        quantity_delta=7,
        reason="found",
        user=operator_user,
    )
    record = InventoryRecord.objects.get(item=place.item, location=place.loc_a, uom=place.ea)
    assert record.on_hand == 7
    assert record.site == place.site1
    assert (row.kind, row.quantity_delta, row.balance_after, row.reason) == (Kind.ADJUST, 7, 7, "found")
    assert row.user == operator_user and row.location == place.loc_a and row.site == place.site1


def test_adjust_down_to_zero_then_below_zero_is_refused(place):
    services.inventory_adjust(
        item=place.item, location=place.loc_a, uom=place.ea, quantity_delta=3, reason="r"
    )
    services.inventory_adjust(
        item=place.item, location=place.loc_a, uom=place.ea, quantity_delta=-3, reason="r"
    )
    assert on_hand(place.item, place.loc_a, place.ea) == 0
    with pytest.raises(ValidationError) as excinfo:
        services.inventory_adjust(
            item=place.item, location=place.loc_a, uom=place.ea, quantity_delta=-1, reason="r"
        )
    assert "below zero" in errors_of(excinfo)["quantity_delta"][0]
    assert on_hand(place.item, place.loc_a, place.ea) == 0
    assert InventoryTransaction.objects.count() == 2


def test_adjust_down_without_a_record_is_refused_and_writes_nothing(place):
    with pytest.raises(ValidationError) as excinfo:
        services.inventory_adjust(
            item=place.item, location=place.loc_a, uom=place.ea, quantity_delta=-2, reason="r"
        )
    assert "quantity_delta" in errors_of(excinfo)
    assert not InventoryRecord.objects.exists()
    assert not InventoryTransaction.objects.exists()


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_adjust_needs_a_reason(place, reason):
    with pytest.raises(ValidationError) as excinfo:
        services.inventory_adjust(
            item=place.item, location=place.loc_a, uom=place.ea, quantity_delta=1, reason=reason
        )
    assert list(errors_of(excinfo)) == ["reason"]
    assert not InventoryTransaction.objects.exists()


@pytest.mark.parametrize("delta", [0, 1.5, "3", True])
def test_adjust_needs_a_non_zero_whole_number(place, delta):
    with pytest.raises(ValidationError) as excinfo:
        services.inventory_adjust(
            item=place.item, location=place.loc_a, uom=place.ea, quantity_delta=delta, reason="r"
        )
    assert "quantity_delta" in errors_of(excinfo)


def test_adjust_refuses_a_location_or_uom_of_another_division(place):
    other = DivisionFactory(code="D2")
    foreign_location = LocationFactory(site=SiteFactory(division=other, code="X"), code="X1")
    foreign_uom = UOMFactory(division=other, code="EA")
    with pytest.raises(ValidationError) as excinfo:
        services.inventory_adjust(
            item=place.item, location=foreign_location, uom=foreign_uom, quantity_delta=1, reason="r"
        )
    assert set(errors_of(excinfo)) == {"location", "uom"}


def test_adjust_reference_is_limited_in_length(place):
    with pytest.raises(ValidationError) as excinfo:
        services.inventory_adjust(
            item=place.item,
            location=place.loc_a,
            uom=place.ea,
            quantity_delta=1,
            reason="r",
            reference="x" * 101,
        )
    assert "reference" in errors_of(excinfo)


# --- set / receive / move ----------------------------------------------------------------------


def test_set_adjusts_to_an_absolute_count_and_skips_when_equal(place):
    services.inventory_receive(item=place.item, location=place.loc_a, uom=place.ea, quantity=10)
    row = services.inventory_set(
        item=place.item, location=place.loc_a, uom=place.ea, quantity=4, reason="count"
    )
    assert (row.quantity_delta, row.balance_after) == (-6, 4)
    assert (
        services.inventory_set(item=place.item, location=place.loc_a, uom=place.ea, quantity=4, reason="c")
        is None
    )
    with pytest.raises(ValidationError) as excinfo:
        services.inventory_set(item=place.item, location=place.loc_a, uom=place.ea, quantity=-1, reason="c")
    assert "quantity" in errors_of(excinfo)


def test_receive_adds_stock_with_its_kind(place):
    services.inventory_receive(item=place.item, location=place.loc_a, uom=place.ea, quantity=2)
    row = services.inventory_receive(
        item=place.item, location=place.loc_a, uom=place.ea, quantity=3, kind=Kind.ADD, reference="PO 7"
    )
    assert (row.kind, row.balance_after, row.reference) == (Kind.ADD, 5, "PO 7")
    assert list(InventoryTransaction.objects.order_by("id").values_list("kind", flat=True)) == [
        Kind.RECEIVE,
        Kind.ADD,
    ]


@pytest.mark.parametrize("quantity", [0, -4])
def test_receive_needs_a_positive_quantity(place, quantity):
    with pytest.raises(ValidationError) as excinfo:
        services.inventory_receive(item=place.item, location=place.loc_a, uom=place.ea, quantity=quantity)
    assert "quantity" in errors_of(excinfo)


def test_move_between_sites_writes_out_and_in_rows(place):
    services.inventory_receive(item=place.item, location=place.loc_a, uom=place.ea, quantity=10)
    out_row, in_row = services.inventory_move(
        item=place.item, uom=place.ea, from_location=place.loc_a, to_location=place.loc_c, quantity=4
    )
    assert (out_row.kind, out_row.quantity_delta, out_row.balance_after) == (Kind.MOVE_OUT, -4, 6)
    assert (in_row.kind, in_row.quantity_delta, in_row.balance_after, in_row.site) == (
        Kind.MOVE_IN,
        4,
        4,
        place.site2,
    )
    assert on_hand(place.item, place.loc_a, place.ea) == 6
    assert on_hand(place.item, place.loc_c, place.ea) == 4


def test_move_more_than_on_hand_is_refused(place):
    services.inventory_receive(item=place.item, location=place.loc_a, uom=place.ea, quantity=2)
    with pytest.raises(ValidationError) as excinfo:
        services.inventory_move(
            item=place.item, uom=place.ea, from_location=place.loc_a, to_location=place.loc_b, quantity=3
        )
    assert "Only 2 on hand" in errors_of(excinfo)["quantity"][0]
    assert on_hand(place.item, place.loc_a, place.ea) == 2
    assert on_hand(place.item, place.loc_b, place.ea) == 0


def test_move_to_the_same_location_is_refused(place):
    services.inventory_receive(item=place.item, location=place.loc_a, uom=place.ea, quantity=2)
    with pytest.raises(ValidationError) as excinfo:
        services.inventory_move(
            item=place.item, uom=place.ea, from_location=place.loc_a, to_location=place.loc_a, quantity=1
        )
    assert "to_location" in errors_of(excinfo)


# --- picking ----------------------------------------------------------------------------------


@pytest.fixture
def order(place):
    order = PickingOrderFactory(division=place.division, number="1001")
    PickingOrderLineFactory(order=order, line_number=1, item=place.item, ordered_qty=5)
    other = ItemFactory(division=place.division, item_number="GADGET", default_uom=place.ea)
    PickingOrderLineFactory(order=order, line_number=2, item=other, ordered_qty=2)
    services.inventory_receive(item=place.item, location=place.loc_a, uom=place.ea, quantity=10)
    services.inventory_receive(item=other, location=place.loc_a, uom=place.ea, quantity=10)
    return order


def test_partial_pick_lowers_stock_and_writes_a_pick_row(place, order, operator_user):
    line = order.lines.get(line_number=1)
    carrier = CarrierFactory(division=place.division, name="UPS")
    pick = services.order_pick(
        line=line,
        quantity=2,
        location=place.loc_a,
        user=operator_user,
        tracking_number=" 1Z999 ",
        carrier=carrier,
    )
    line.refresh_from_db()
    order.refresh_from_db()
    assert (line.picked_qty, line.remaining) == (2, 3)
    assert order.status == PickingOrder.Status.OPEN
    assert on_hand(place.item, place.loc_a, place.ea) == 8
    assert (pick.quantity, pick.tracking_number, pick.carrier, pick.user) == (
        2,
        "1Z999",
        carrier,
        operator_user,
    )
    row = pick.transaction
    assert (row.kind, row.quantity_delta, row.balance_after) == (Kind.PICK, -2, 8)
    assert row.picking_order == order and row.pick == pick and row.reference == "1001"


def test_fully_picked_order_closes_itself(place, order):
    line1, line2 = order.lines.order_by("line_number")
    services.order_pick(line=line1, quantity=3, location=place.loc_a)
    services.order_pick(line=line2, quantity=2, location=place.loc_a)
    order.refresh_from_db()
    assert order.status == PickingOrder.Status.OPEN
    services.order_pick(line=line1, quantity=2, location=place.loc_a)
    order.refresh_from_db()
    assert order.status == PickingOrder.Status.CLOSED and order.closed_at is not None


def test_pick_more_than_remaining_is_refused(place, order):
    line = order.lines.get(line_number=1)
    services.order_pick(line=line, quantity=4, location=place.loc_a)
    with pytest.raises(ValidationError) as excinfo:
        services.order_pick(line=line, quantity=2, location=place.loc_a)
    assert "Only 1 left" in errors_of(excinfo)["quantity"][0]
    line.refresh_from_db()
    assert line.picked_qty == 4


def test_pick_more_than_on_hand_at_the_location_is_refused(place, order):
    line = order.lines.get(line_number=1)
    services.inventory_receive(item=place.item, location=place.loc_b, uom=place.ea, quantity=1)
    with pytest.raises(ValidationError) as excinfo:
        services.order_pick(line=line, quantity=2, location=place.loc_b)
    assert "Only 1 on hand at location B" in errors_of(excinfo)["quantity"][0]
    with pytest.raises(ValidationError):
        services.order_pick(line=line, quantity=1, location=place.loc_c)  # nothing there at all
    assert on_hand(place.item, place.loc_b, place.ea) == 1
    assert not InventoryTransaction.objects.filter(kind=Kind.PICK).exists()


@pytest.mark.parametrize("quantity", [0, -1, 2.5])
def test_pick_needs_a_positive_whole_quantity(place, order, quantity):
    with pytest.raises(ValidationError) as excinfo:
        services.order_pick(line=order.lines.get(line_number=1), quantity=quantity, location=place.loc_a)
    assert "quantity" in errors_of(excinfo)


def test_pick_of_an_inactive_item_is_refused(place, order):
    place.item.active = False
    place.item.save()
    with pytest.raises(ValidationError) as excinfo:
        services.order_pick(line=order.lines.get(line_number=1), quantity=1, location=place.loc_a)
    assert "inactive" in errors_of(excinfo)[NON_FIELD_ERRORS][0]


@pytest.mark.parametrize("close", [services.order_close, services.order_cancel])
def test_closed_or_cancelled_orders_cannot_be_picked(place, order, close):
    close(order=order)
    with pytest.raises(ValidationError) as excinfo:
        services.order_pick(line=order.lines.get(line_number=1), quantity=1, location=place.loc_a)
    assert "only open orders" in errors_of(excinfo)[NON_FIELD_ERRORS][0]
    assert on_hand(place.item, place.loc_a, place.ea) == 10


def test_pick_refuses_foreign_location_and_carrier_and_long_tracking(place, order):
    other = DivisionFactory(code="D2")
    foreign_location = LocationFactory(site=SiteFactory(division=other, code="X"), code="X1")
    foreign_carrier = CarrierFactory(division=other, name="DHL")
    line = order.lines.get(line_number=1)
    with pytest.raises(ValidationError) as excinfo:
        services.order_pick(line=line, quantity=1, location=foreign_location, carrier=foreign_carrier)
    assert set(errors_of(excinfo)) == {"location", "carrier"}
    with pytest.raises(ValidationError) as excinfo:
        services.order_pick(line=line, quantity=1, location=place.loc_a, tracking_number="9" * 51)
    assert "tracking_number" in errors_of(excinfo)


def test_pick_without_default_uom_uses_the_only_single_unit_record_there(place, order):
    item = ItemFactory(division=place.division, item_number="LOOSE", default_uom=None)
    line = PickingOrderLineFactory(order=order, line_number=3, item=item, ordered_qty=1)
    services.inventory_receive(item=item, location=place.loc_b, uom=place.cs, quantity=1)
    services.inventory_receive(item=item, location=place.loc_b, uom=place.ea, quantity=3)
    pick = services.order_pick(line=line, quantity=1, location=place.loc_b)
    assert pick.transaction.uom == place.ea
    assert (on_hand(item, place.loc_b, place.ea), on_hand(item, place.loc_b, place.cs)) == (2, 1)


def test_pick_never_takes_a_case_for_single_units(place, order):
    """Order lines count single units, so a case (12 each) is not stock a pick can take."""
    item = ItemFactory(division=place.division, item_number="CASED", default_uom=None)
    line = PickingOrderLineFactory(order=order, line_number=3, item=item, ordered_qty=1)
    services.inventory_receive(item=item, location=place.loc_a, uom=place.cs, quantity=2)
    with pytest.raises(ValidationError) as excinfo:
        services.order_pick(line=line, quantity=1, location=place.loc_a)
    assert "quantity" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        services.order_pick(line=line, quantity=1, location=place.loc_a, uom=place.cs)
    assert "uom" in errors_of(excinfo)
    item.default_uom = place.cs
    item.save()
    with pytest.raises(ValidationError) as excinfo:
        services.order_pick(line=line, quantity=1, location=place.loc_a)
    assert "uom" in errors_of(excinfo)
    assert on_hand(item, place.loc_a, place.cs) == 2
    assert not InventoryTransaction.objects.filter(item=item, kind="pick").exists()


def test_close_reopen_cancel(order):
    services.order_close(order=order)
    assert order.status == PickingOrder.Status.CLOSED and order.closed_at
    services.order_close(order=order)  # closing twice is harmless
    services.order_reopen(order=order)
    order.refresh_from_db()
    assert order.status == PickingOrder.Status.OPEN and order.closed_at is None
    services.order_cancel(order=order)
    order.refresh_from_db()
    assert order.status == PickingOrder.Status.CANCELLED
    for refused in (services.order_close, services.order_reopen):
        with pytest.raises(ValidationError):
            refused(order=order)


def test_closed_order_cannot_be_cancelled(order):
    services.order_close(order=order)
    with pytest.raises(ValidationError):
        services.order_cancel(order=order)
    order.refresh_from_db()
    assert order.status == PickingOrder.Status.CLOSED


@pytest.mark.postgres
def test_the_ledger_is_append_only_in_the_database(place, django_user_model):
    from django.db import IntegrityError, transaction

    user = django_user_model.objects.create_user(username="temp", password="x")
    row = services.inventory_receive(
        item=place.item, location=place.loc_a, uom=place.ea, quantity=3, user=user
    )
    for change in (
        lambda: InventoryTransaction.objects.filter(pk=row.pk).update(quantity_delta=300),
        lambda: InventoryTransaction.objects.filter(pk=row.pk).delete(),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            change()
    # Deleting the user who made the change is still possible: the row keeps everything but the user.
    user.delete()
    row.refresh_from_db()
    assert (row.user_id, row.quantity_delta, row.balance_after) == (None, 3, 3)


# Bulk inserts go in the order of the unique key, so two runs inserting overlapping rows take the
# index locks in one order and cannot deadlock. Ids are handed out in insert order, so they show it.


def test_items_upsert_inserts_in_item_number_order(place):
    numbers = [f"N{n:03d}" for n in range(30)]
    services.items_upsert(division=place.division, entries=[{"item_number": n} for n in reversed(numbers)])
    created = Item.objects.filter(item_number__in=numbers).order_by("id")
    assert [item.item_number for item in created] == numbers


def test_initial_stock_set_inserts_records_in_item_order(place):
    items = [ItemFactory(division=place.division, item_number=f"S{n:03d}") for n in range(30)]
    quantities = [(item.pk, 3) for item in reversed(items)]
    services.inventory_initial_set(location=place.loc_a, uom=place.ea, quantities=quantities)
    records = InventoryRecord.objects.filter(location=place.loc_a, item__in=items).order_by("id")
    assert [record.item_id for record in records] == sorted(item.pk for item in items)
