"""Fulfillment export (DESIGN decision 10) over real HTTP against the sandbox store, with Redis locks.

Picks made in IntelliTrack become store shipments. Every expectation is read from the sandbox's own
records (its shipments, each order line's shipped quantity, the order's status) and compared with what
the test itself picked; the stock truth after an End of Day comes from tests/sync/truth.py."""
import pytest
from django.urls import reverse

from plugin.bigcommerce.sandbox.state import ShippingAddress
from plugin.intellitrack import services as it
from plugin.intellitrack.models import Carrier, PickingOrder, PickingOrderLine
from plugin.sync.jobs.fulfillments import shipment_carrier
from plugin.sync.models import ShipmentOutbox, StoreItemLink, StoreSyncState, SyncRun, SyncRunItem
from tests.sync.conftest import run_job, sandbox_client
from tests.sync.test_stock_truth import Warehouse, mismatches, stocked_units

pytestmark = [pytest.mark.django_db, pytest.mark.redis]
Job = SyncRun.Job
State = ShipmentOutbox.State


# --- helpers ------------------------------------------------------------------------------------------


def live_shop(shop_factory, *, mode="per_pick", **config):
    """A store after go-live (products, inventory and carriers imported), nothing open at go-live."""
    store, server = shop_factory(products=30, orders=0, order_statuses_to_import=[11], fulfillment_mode=mode,
                                 **config)
    boot = run_job(store, Job.BOOTSTRAP)
    assert boot.status == SyncRun.Status.SUCCEEDED, boot.error
    return store, server, Warehouse(server.state)


def order_of(state, units, quantities, *, address=None):
    items = [{"variant_id": variant_id, "quantity": quantity}
             for (_product_id, variant_id), quantity in zip(units, quantities, strict=True)]
    return state.place_order(items=items, status_id=11, address=address)


def import_orders(store):
    run = run_job(store, Job.IMPORT_ORDERS)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error


def lines_of(order) -> list[PickingOrderLine]:
    return list(PickingOrderLine.objects.filter(order__store_order_id=order.id).order_by("line_number"))


def pick(store, warehouse, line, quantity, *, tracking="", carrier=None):
    config = store.basic_configuration
    it.order_pick(line=line, quantity=quantity, location=config.default_location, tracking_number=tracking,
                  carrier=carrier)
    link = StoreItemLink.objects.get(store=store, item_id=line.item_id)
    warehouse.shelf[warehouse.key_of(link)] -= quantity


def export(store, **kwargs) -> SyncRun:
    return run_job(store, Job.EXPORT_FULFILLMENTS, **kwargs)


def carrier(store, name) -> Carrier:
    return Carrier.objects.get_or_create(division=store.basic_configuration.default_division, name=name)[0]


def store_shipments(state, order_id) -> list:
    return list(state.orders[order_id].shipments)


def shipped_equals_picked(state, order) -> None:
    """Line by line: what the store recorded as shipped equals what IntelliTrack picked."""
    picked = {line.store_order_product_id: line.picked_qty
              for line in PickingOrderLine.objects.filter(order__store_order_id=order.id)}
    shipped = {line.id: line.quantity_shipped for line in state.orders[order.id].products}
    in_shipments = {}
    for shipment in state.orders[order.id].shipments:
        for line_id, _product_id, quantity in shipment.items:
            in_shipments[line_id] = in_shipments.get(line_id, 0) + quantity
    assert shipped == {line_id: picked.get(line_id, 0) for line_id in shipped}
    assert {k: v for k, v in in_shipments.items() if v} == {k: v for k, v in picked.items() if v}


def items_of(shipment) -> dict[int, int]:
    return {line_id: quantity for line_id, _product_id, quantity in shipment.items}


# --- pure mapping -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [
    ("UPS", ("ups", "ups")), ("ups", ("ups", "ups")), ("FedEx", ("fedex", "fedex")),
    ("Royal Mail", ("royalmail", "royal-mail")), ("ShipperHQ", ("shipperhq", "")), ("Acme Freight", ("", "")),
    ("Store shipping", ("", "")), ("", ("", "")),
])
def test_carrier_names_map_to_shipping_providers(name, expected):
    assert shipment_carrier(name) == expected


# --- per pick ---------------------------------------------------------------------------------------------


def test_per_pick_each_pick_becomes_one_shipment_and_the_order_ends_shipped(shop_factory, client, viewer_user):
    store, server, warehouse = live_shop(shop_factory)
    state = server.state
    units = stocked_units(state, 2)
    order = order_of(state, units, [3, 2])
    import_orders(store)
    first, second = lines_of(order)
    address_id = state.orders[order.id].addresses[0].id

    pick(store, warehouse, first, 2, tracking="1Z999AA10123456784", carrier=carrier(store, "UPS"))
    pick(store, warehouse, second, 2, tracking="ACME-778", carrier=carrier(store, "Acme Freight"))
    run = export(store)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.summary["sent"] == 2 and run.summary["picks_captured"] == 2
    shipments = store_shipments(state, order.id)
    assert len(shipments) == 2
    by_tracking = {shipment.tracking_number: shipment for shipment in shipments}
    ups, acme = by_tracking["1Z999AA10123456784"], by_tracking["ACME-778"]
    assert items_of(ups) == {first.store_order_product_id: 2}
    assert (ups.shipping_provider, ups.tracking_carrier, ups.order_address_id) == ("ups", "ups", address_id)
    assert items_of(acme) == {second.store_order_product_id: 2}
    assert (acme.shipping_provider, acme.tracking_carrier) == ("", "")
    # the unknown carrier is said on the run
    acme_item = run.items.get(store_transaction_id=str(acme.id))
    assert "Acme Freight" in acme_item.reason and "not a BigCommerce shipping provider" in acme_item.reason
    assert state.orders[order.id].status_id == 3  # Partially Shipped
    shipped_equals_picked(state, order)

    # run again: nothing new, nothing sent twice
    again = export(store)
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert again.summary["sent"] == 0 and len(store_shipments(state, order.id)) == 2

    # the last unit, without a tracking number: the order is Shipped
    pick(store, warehouse, first, 1)
    last = export(store)
    assert last.summary["sent"] == 1
    assert state.orders[order.id].status_id == 2
    assert len(store_shipments(state, order.id)) == 3
    shipped_equals_picked(state, order)
    assert ShipmentOutbox.objects.filter(store=store, state=State.SENT).count() == 3

    # the picking order page shows the store status, each shipment's state and the store order's link
    import_orders(store)  # the store status as the sync reads it
    client.force_login(viewer_user)
    picking = PickingOrder.objects.get(source_store=store, store_order_id=order.id)
    page = client.get(reverse("intellitrack:order-detail", args=[picking.pk])).content.decode()
    assert f"https://store-{store.store_hash}.mybigcommerce.com/manage/orders/{order.id}" in page
    assert '<span id="store-order-status">Shipped</span>' in page
    assert page.count('class="shipment" data-state="sent"') == 3
    assert "1Z999AA10123456784" in page

    # picks of store orders are not adjustments: End of Day still leaves every level equal to the truth
    eod = run_job(store, Job.EOD_EXPORT)
    assert eod.status == SyncRun.Status.SUCCEEDED, eod.error
    assert mismatches(store, server, warehouse) == {}


def test_each_pick_is_captured_once_and_the_cursor_moves_with_the_rows(shop_factory):
    store, server, warehouse = live_shop(shop_factory, allow_writes_to_bigcommerce=False)
    state = server.state
    order = order_of(state, stocked_units(state, 1), [5])
    import_orders(store)
    (line,) = lines_of(order)
    for _ in range(3):
        pick(store, warehouse, line, 1)
    export(store)
    export(store)
    rows = list(ShipmentOutbox.objects.filter(store=store))
    assert len(rows) == 3 and sorted(p for row in rows for p in row.pick_ids) == sorted(
        line.picks.values_list("id", flat=True))
    cursor = StoreSyncState.objects.get(store=store).fulfillments_cursor
    assert cursor >= max(row.cursor_last for row in rows)
    # nothing was sent with writes off: the rows wait, and the run says so
    assert store_shipments(state, order.id) == []
    assert all(row.state == State.PENDING for row in rows)


# --- on close ---------------------------------------------------------------------------------------------


def test_on_close_one_shipment_of_everything_picked_when_the_order_closes(shop_factory):
    store, server, warehouse = live_shop(shop_factory, mode="on_close")
    state = server.state
    units = stocked_units(state, 2)
    order = order_of(state, units, [2, 3])
    partial = order_of(state, units[:1], [4])
    import_orders(store)
    first, second = lines_of(order)
    (partial_line,) = lines_of(partial)

    pick(store, warehouse, first, 2, tracking="TRK-1", carrier=carrier(store, "FedEx"))
    pick(store, warehouse, second, 1)
    pick(store, warehouse, partial_line, 1)
    waiting = export(store)
    assert waiting.status == SyncRun.Status.SUCCEEDED, waiting.error
    assert waiting.summary["waiting_for_close"] == 2 and waiting.summary["sent"] == 0
    assert store_shipments(state, order.id) == [] and store_shipments(state, partial.id) == []

    pick(store, warehouse, second, 2)  # the order is fully picked: it closes itself
    it.order_close(order=PickingOrder.objects.get(source_store=store, store_order_id=partial.id))  # by hand
    closed = export(store)
    assert closed.summary["sent"] == 2, closed.summary
    (shipment,) = store_shipments(state, order.id)
    assert items_of(shipment) == {first.store_order_product_id: 2, second.store_order_product_id: 3}
    assert (shipment.tracking_number, shipment.shipping_provider) == ("TRK-1", "fedex")
    assert state.orders[order.id].status_id == 2
    (partial_shipment,) = store_shipments(state, partial.id)
    assert items_of(partial_shipment) == {partial_line.store_order_product_id: 1}
    assert state.orders[partial.id].status_id == 3
    shipped_equals_picked(state, order)
    shipped_equals_picked(state, partial)
    assert export(store).summary["sent"] == 0
    assert len(store_shipments(state, order.id)) == 1

    # reopened, picked again and closed twice before the next export: one more shipment of what is new
    picking = PickingOrder.objects.get(source_store=store, store_order_id=partial.id)
    it.order_reopen(order=picking)
    pick(store, warehouse, PickingOrderLine.objects.get(pk=partial_line.pk), 1)
    it.order_close(order=picking)
    it.order_reopen(order=picking)
    pick(store, warehouse, PickingOrderLine.objects.get(pk=partial_line.pk), 1, tracking="TRK-2")
    it.order_close(order=picking)
    assert export(store).summary["sent"] == 1
    assert [items_of(s) for s in store_shipments(state, partial.id)] == [
        {partial_line.store_order_product_id: 1}, {partial_line.store_order_product_id: 2}]
    assert store_shipments(state, partial.id)[1].tracking_number == "TRK-2"
    shipped_equals_picked(state, partial)


def test_an_order_with_two_shipping_addresses_ships_each_line_to_its_own(shop_factory):
    store, server, warehouse = live_shop(shop_factory, mode="on_close")
    state = server.state
    order = order_of(state, stocked_units(state, 2), [1, 2])
    # the shopper sends the second line to another address (the sandbox's place_order takes one)
    with state.lock:
        placed = state.orders[order.id]
        home = placed.addresses[0]
        office = ShippingAddress(id=state.new_id("address"), order_id=order.id, first_name="Alex",
                                 last_name="Office", street_1="9 Work Rd", city="Dallas", state="Texas",
                                 zip="75201", country="United States", country_iso2="US",
                                 email="office@example.com", phone="555-0199")
        placed.addresses.append(office)
        placed.products[1].order_address_id = office.id
    import_orders(store)
    first, second = lines_of(order)
    pick(store, warehouse, first, 1, tracking="HOME-1")
    pick(store, warehouse, second, 2, tracking="HOME-1")
    run = export(store)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    shipments = {shipment.order_address_id: shipment for shipment in store_shipments(state, order.id)}
    assert set(shipments) == {home.id, office.id}
    assert items_of(shipments[home.id]) == {first.store_order_product_id: 1}
    assert items_of(shipments[office.id]) == {second.store_order_product_id: 2}
    assert state.orders[order.id].status_id == 2
    rows = ShipmentOutbox.objects.filter(store=store, store_order_id=order.id)
    assert sorted(rows.values_list("order_address_id", flat=True)) == sorted([home.id, office.id])
    assert all(row.state == State.SENT for row in rows)
    shipped_equals_picked(state, order)


# --- exactly once -----------------------------------------------------------------------------------------


def test_an_unknown_outcome_reads_the_shipments_before_sending_again(shop_factory):
    store, server, warehouse = live_shop(shop_factory)
    state = server.state
    units = stocked_units(state, 2)
    landed = order_of(state, units[:1], [2])
    lost = order_of(state, units[1:], [2])
    import_orders(store)
    (landed_line,) = lines_of(landed)
    (lost_line,) = lines_of(lost)
    pick(store, warehouse, landed_line, 2, tracking="DROP-1", carrier=carrier(store, "USPS"))

    # the store creates the shipment, but the answer never comes back
    server.add_fault_rule(method="POST", path="^/v2/orders/\\d+/shipments$", drop=True, times=1)
    first = export(store, client=sandbox_client(server))
    assert first.status == SyncRun.Status.PARTIAL, first.error
    assert first.items.get().outcome == SyncRunItem.Outcome.UNCERTAIN
    row = ShipmentOutbox.objects.get(store=store, store_order_id=landed.id)
    assert row.state == State.CHECKING and row.store_shipment_id is None
    assert len(store_shipments(state, landed.id)) == 1

    second = export(store)
    assert second.status == SyncRun.Status.SUCCEEDED, second.error
    assert second.summary["confirmed"] == 1 and second.summary["sent"] == 0
    (shipment,) = store_shipments(state, landed.id)
    row.refresh_from_db()
    assert (row.state, row.store_shipment_id) == (State.SENT, shipment.id)
    assert state.orders[landed.id].status_id == 2

    # a 500 before the store handled it: the shipments show nothing, so it is sent again, once
    pick(store, warehouse, lost_line, 2, tracking="LOST-1")
    server.add_fault_rule(method="POST", path="^/v2/orders/\\d+/shipments$", status=500, times=1)
    failed = export(store, client=sandbox_client(server))
    assert failed.status == SyncRun.Status.PARTIAL
    assert store_shipments(state, lost.id) == []
    resent = export(store)
    assert resent.summary["sent"] == 1 and resent.summary["confirmed"] == 0
    assert len(store_shipments(state, lost.id)) == 1
    shipped_equals_picked(state, landed)
    shipped_equals_picked(state, lost)
    assert export(store).summary["sent"] == 0


def test_a_worker_that_dies_after_the_store_took_the_shipment_never_sends_it_twice(shop_factory):
    store, server, warehouse = live_shop(shop_factory)
    state = server.state
    order = order_of(state, stocked_units(state, 1), [1])
    import_orders(store)
    (line,) = lines_of(order)
    pick(store, warehouse, line, 1, tracking="KILLED-1")

    class DiesAfterSending:
        """A client that sends the shipment, then the worker dies before it records the answer."""

        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def create_shipment(self, *args, **kwargs):
            self.inner.create_shipment(*args, **kwargs)
            raise SystemExit("killed")

    with pytest.raises(SystemExit):
        export(store, client=DiesAfterSending(sandbox_client(server)))
    assert ShipmentOutbox.objects.get(store=store).state == State.CHECKING
    # the dead worker's run is marked stale (as the stale check does after its heartbeat stops)
    SyncRun.objects.filter(store=store, status=SyncRun.Status.RUNNING).update(status=SyncRun.Status.STALE)
    after = export(store)
    assert after.status == SyncRun.Status.SUCCEEDED, after.error
    assert after.summary["confirmed"] == 1
    assert len(store_shipments(state, order.id)) == 1


# --- refusals, outages, writes off -------------------------------------------------------------------------


def order_page(client, user, store, order) -> str:
    client.force_login(user)
    picking = PickingOrder.objects.get(source_store=store, store_order_id=order.id)
    return client.get(reverse("intellitrack:order-detail", args=[picking.pk])).content.decode()


def test_a_cancelled_order_and_a_store_refusal_are_reported_and_not_retried(shop_factory, client, viewer_user):
    store, server, warehouse = live_shop(shop_factory)
    state = server.state
    units = stocked_units(state, 2)
    cancelled = order_of(state, units[:1], [2])
    shipped_by_hand = order_of(state, units[1:], [2])
    import_orders(store)
    (cancelled_line,) = lines_of(cancelled)
    (hand_line,) = lines_of(shipped_by_hand)
    pick(store, warehouse, cancelled_line, 1)
    pick(store, warehouse, hand_line, 2)
    state.set_order_status(cancelled.id, 5)
    # staff shipped the order in the control panel meanwhile: the store refuses more than the unshipped
    state.create_shipment(shipped_by_hand.id, {
        "order_address_id": state.orders[shipped_by_hand.id].addresses[0].id,
        "items": [{"order_product_id": hand_line.store_order_product_id, "quantity": 2}]})

    run = export(store)
    assert run.status == SyncRun.Status.PARTIAL, run.error
    assert run.summary["refused"] == 2
    reasons = {item.key: item.reason for item in run.items.filter(outcome=SyncRunItem.Outcome.FAILED)}
    assert "Cancelled" in reasons[str(cancelled.id)]
    assert "unshipped" in reasons[str(shipped_by_hand.id)] or "400" in reasons[str(shipped_by_hand.id)]
    assert store_shipments(state, cancelled.id) == []
    assert len(store_shipments(state, shipped_by_hand.id)) == 1
    assert set(ShipmentOutbox.objects.filter(store=store).values_list("state", flat=True)) == {State.REFUSED}

    again = export(store)
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert again.items.count() == 0
    assert store_shipments(state, cancelled.id) == [] and len(store_shipments(state, shipped_by_hand.id)) == 1
    page = order_page(client, viewer_user, store, cancelled)
    assert 'class="shipment" data-state="refused"' in page and "Cancelled" in page


def test_a_store_that_cannot_be_reached_leaves_the_shipments_pending(shop_factory):
    store, server, warehouse = live_shop(shop_factory)
    state = server.state
    order = order_of(state, stocked_units(state, 1), [2])
    import_orders(store)
    (line,) = lines_of(order)
    pick(store, warehouse, line, 2)
    down = sandbox_client(server, max_retries=1)
    down.base_url = "http://127.0.0.1:9"  # nothing listens: connection refused
    failed = export(store, client=down)
    assert failed.status == SyncRun.Status.FAILED and "connect" in failed.error.lower()
    assert ShipmentOutbox.objects.get(store=store).state == State.PENDING
    assert store_shipments(state, order.id) == []
    back = export(store)
    assert back.status == SyncRun.Status.SUCCEEDED and back.summary["sent"] == 1
    assert len(store_shipments(state, order.id)) == 1


def test_with_writes_off_nothing_is_sent_and_the_run_says_so(shop_factory, client, viewer_user):
    store, server, warehouse = live_shop(shop_factory, allow_writes_to_bigcommerce=False)
    state = server.state
    order = order_of(state, stocked_units(state, 1), [2])
    import_orders(store)
    (line,) = lines_of(order)
    pick(store, warehouse, line, 2, tracking="WAIT-1")
    run = export(store)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.summary["writes_off"] is True and "Allow writes to BigCommerce" in run.summary["note"]
    assert run.items.get().outcome == SyncRunItem.Outcome.SKIPPED
    assert store_shipments(state, order.id) == []
    assert ShipmentOutbox.objects.get(store=store).state == State.PENDING
    page = order_page(client, viewer_user, store, order)
    assert 'class="shipment" data-state="pending"' in page
    assert '<span id="store-order-status">Awaiting Fulfillment</span>' in page

    store.basic_configuration.allow_writes_to_bigcommerce = True
    store.basic_configuration.save()
    on = export(store)
    assert on.summary["sent"] == 1
    (shipment,) = store_shipments(state, order.id)
    assert shipment.tracking_number == "WAIT-1"


def test_the_auto_sync_cycle_sends_the_picks_as_its_second_step(shop_factory):
    store, server, warehouse = live_shop(shop_factory)
    state = server.state
    order = order_of(state, stocked_units(state, 1), [2])
    cycle = run_job(store, Job.AUTO_SYNC)
    assert cycle.status == SyncRun.Status.SUCCEEDED, cycle.error
    (line,) = lines_of(order)
    pick(store, warehouse, line, 2, tracking="CYCLE-1", carrier=carrier(store, "USPS"))
    cycle = run_job(store, Job.AUTO_SYNC)
    assert cycle.status == SyncRun.Status.SUCCEEDED, cycle.error
    step = SyncRun.objects.get(pk=cycle.summary["steps"][Job.EXPORT_FULFILLMENTS])
    assert step.summary["sent"] == 1
    (shipment,) = store_shipments(state, order.id)
    assert (shipment.tracking_number, shipment.shipping_provider) == ("CYCLE-1", "usps")
    assert state.orders[order.id].status_id == 2
