"""Stock truth (DESIGN decision 18) over real HTTP against the sandbox store, on PostgreSQL and Redis.

Every expected level is computed by the test on its own (tests/sync/truth.py): from the sandbox's records
of what it took off its stock for each order line, and the test's own account of physical stock, which
starts at go-live as the store's level plus what open orders set aside (read from the sandbox's
records) and moves only with what the test itself picks. Each test ends with every linked item exact."""
import time
from collections import defaultdict

import pytest

from plugin.intellitrack import services as it
from plugin.intellitrack.models import InventoryRecord, PickingOrder, PickingOrderLine
from plugin.sync.models import StoreItemLink, StoreOrderLine, SyncRun
from tests.sync.conftest import run_job, store_level
from tests.sync.test_product_import import _add
from tests.sync.truth import HOLDS_NOTHING, MAX_LEVEL, shipped_before_go_live, truth_levels

pytestmark = [pytest.mark.django_db, pytest.mark.redis]
Job = SyncRun.Job


class Warehouse:
    """The test's own account of physical stock per store unit: what was on the shelf at go-live, less
    what the test picks."""

    def __init__(self, state):
        self.state = state
        self.base = shipped_before_go_live(state)
        # On the shelf at go-live: the store's level plus what it set aside for orders and has not shipped.
        self.shelf = defaultdict(int)
        for key, level in state.stock[1].items():
            self.shelf[key] += level
        for order in state.orders.values():
            if order.status_id in HOLDS_NOTHING:
                continue
            for line in order.products:
                product = state.products[line.product_id]
                if product.inventory_tracking == "none":
                    continue
                key = state.stock_key(product, state.variants[line.variant_id])
                self.shelf[key] += line.quantity_deducted - line.quantity_shipped

    def key_of(self, link) -> int:
        return -link.product_id if link.tracking == StoreItemLink.Tracking.PRODUCT else link.variant_id

    def physical(self, store) -> dict[int, int]:
        """{item id: units on the shelf} for the linked units."""
        return {link.item_id: self.shelf[self.key_of(link)] for link in StoreItemLink.objects.filter(store=store)}

    def pick(self, store, line: PickingOrderLine, quantity: int):
        config = store.basic_configuration
        it.order_pick(line=line, quantity=quantity, location=config.default_location)
        link = StoreItemLink.objects.get(store=store, item_id=line.item_id)
        self.shelf[self.key_of(link)] -= quantity


def mismatches(store, server, warehouse) -> dict:
    expected = truth_levels(store, server.state, base=warehouse.base, physical=warehouse.physical(store))
    return {link.sku: (store_level(server.state, link), expected[link.id])
            for link in StoreItemLink.objects.filter(store=store)
            if store_level(server.state, link) != expected[link.id]}


def go_live(shop_factory, *, orders=0, products=30, **config):
    store, server = shop_factory(products=products, orders=orders, order_statuses_to_import=[11], **config)
    return store, server


def place(state, link_units, *, status_id, quantity=2):
    """An order of `quantity` of each given (product_id, variant_id)."""
    items = [{"variant_id": variant_id, "quantity": quantity} for _product_id, variant_id in link_units]
    return state.place_order(items=items, status_id=status_id, allow_oversell=True)


def stocked_units(state, count: int, *, tracking="variant") -> list[tuple[int, int]]:
    found = []
    for product in state.products.values():
        if product.inventory_tracking != tracking:
            continue
        for variant_id in product.variant_ids:
            key = state.stock_key(product, state.variants[variant_id])
            if state.on_hand(key) >= 10:
                found.append((product.id, variant_id))
                break
        if len(found) == count:
            return found
    raise AssertionError("not enough stocked units in the generated store")


def ship(state, order_id: int, quantities: dict[int, int]):
    order = state.orders[order_id]
    address = order.addresses[0].id
    state.create_shipment(order_id, {"order_address_id": address, "items": [
        {"order_product_id": line_id, "quantity": quantity} for line_id, quantity in quantities.items()]})


def test_go_live_with_open_orders_then_picks_shipments_a_cancellation_and_a_refund(shop_factory):
    store, server = go_live(shop_factory)
    state = server.state
    units = stocked_units(state, 4)
    awaiting_payment = place(state, units[:2], status_id=7)
    pending = place(state, units[1:3], status_id=1)
    to_fulfil = place(state, units[2:4], status_id=11, quantity=3)
    partial = place(state, units[:1] + units[3:], status_id=11, quantity=4)
    ship(state, partial.id, {partial.products[0].id: 1})
    assert state.orders[partial.id].status_id == 3
    before_go_live = {key: dict(levels) for key, levels in state.stock.items()}
    warehouse = Warehouse(state)

    boot = run_job(store, Job.BOOTSTRAP)
    assert boot.status == SyncRun.Status.SUCCEEDED, boot.error
    inventory = SyncRun.objects.get(store=store, job=Job.IMPORT_INVENTORY)
    assert inventory.summary["units_added_back"] > 0
    # the first End of Day after go-live changes no level that nothing physical changed
    first = run_job(store, Job.EOD_EXPORT)
    assert first.status == SyncRun.Status.SUCCEEDED, first.error
    assert state.stock[1] == before_go_live[1]
    assert mismatches(store, server, warehouse) == {}
    # every order holding stock is kept per line, imported as a picking order or not
    assert set(StoreOrderLine.objects.filter(store=store).values_list("store_order_id", flat=True)) == {
        awaiting_payment.id, pending.id, to_fulfil.id, partial.id}
    assert set(PickingOrder.objects.filter(source_store=store).values_list("store_order_id", flat=True)) == {
        to_fulfil.id}  # only Awaiting Fulfillment is imported; Partially Shipped is not configured

    # picks (some shipped), a cancellation and a refund
    line = PickingOrderLine.objects.filter(order__store_order_id=to_fulfil.id).order_by("line_number").first()
    warehouse.pick(store, line, 2)
    ship(state, to_fulfil.id, {line.store_order_product_id: 1})
    state.set_order_status(awaiting_payment.id, 5)
    state.set_order_status(pending.id, 4)
    second = run_job(store, Job.EOD_EXPORT)
    assert second.status == SyncRun.Status.SUCCEEDED, second.error
    assert mismatches(store, server, warehouse) == {}
    # the run shows what it computed per item
    item = second.items.exclude(detail__held=0).first()
    assert item is not None and {"on_hand", "held"} <= set(item.detail)


def test_an_order_with_unmatched_lines_imports_the_rest_and_they_are_held(shop_factory):
    store, server = go_live(shop_factory)
    state = server.state
    blank_pid, blank_vids = _add(state, name="Blank", tracking="variant", skus=["BLANK-OK", ""])
    long_pid, _ = _add(state, name="Long", tracking="product", skus=["L" * 300])
    untracked_pid, _ = _add(state, name="Gift card", tracking="none", skus=["GIFT-1"])
    for pid, vids in ((blank_pid, blank_vids), (long_pid, None)):
        for vid in vids or [None]:
            state.set_stock(quantity=20, **({"variant_id": vid} if vid and state.products[pid].inventory_tracking == "variant" else {"product_id": pid}))
    units = stocked_units(state, 2)
    warehouse_boot = run_job(store, Job.BOOTSTRAP)
    assert warehouse_boot.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL)
    warehouse = Warehouse(state)  # nothing was open at go-live
    late_pid, late_vids = _add(state, name="Late", tracking="variant", skus=["LATE-A", "LATE-B"])
    state.set_stock(quantity=9, variant_id=late_vids[0])
    items = [
        {"variant_id": units[0][1], "quantity": 3},
        {"variant_id": blank_vids[1], "quantity": 1},
        {"product_id": long_pid, "quantity": 1},
        {"product_id": untracked_pid, "quantity": 1},
        {"variant_id": late_vids[0], "quantity": 2},
    ]
    order = state.place_order(items=items, status_id=11, allow_oversell=True)
    state.place_order(items=[{"variant_id": units[1][1], "quantity": 1},
                                     {"variant_id": blank_vids[1], "quantity": 1}], status_id=7,
                              allow_oversell=True)
    run = run_job(store, Job.EOD_EXPORT)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    picking = PickingOrder.objects.get(source_store=store, store_order_id=order.id)
    # the matched line and the line of the product created after the import are picked here
    linked_items = {link.item_id for link in StoreItemLink.objects.filter(
        store=store, variant_id__in=[units[0][1], late_vids[0]])}
    assert set(picking.lines.values_list("item_id", flat=True)) == linked_items
    reasons = {line["sku"]: line["reason"] for line in picking.unmanaged_lines}
    assert set(reasons) == {"", "L" * 300, "GIFT-1"}
    assert "Blank SKU" in reasons[""] and "longer than 255" in reasons["L" * 300]
    assert "tracking is off" in reasons["GIFT-1"]
    unmanaged = StoreOrderLine.objects.filter(store=store, link__isnull=True)
    assert unmanaged.count() == 4 and all(row.unmanaged_reason for row in unmanaged)
    # the new product's item starts with what is on the shelf: the store's level plus the order's 2
    warehouse.shelf[late_vids[0]] = 9
    late_link = StoreItemLink.objects.get(store=store, variant_id=late_vids[0])
    assert InventoryRecord.objects.get(item_id=late_link.item_id).on_hand == 9
    assert mismatches(store, server, warehouse) == {}
    # the units of the matched lines are held: not handed back for sale
    link = StoreItemLink.objects.get(store=store, variant_id=units[0][1])
    assert store_level(state, link) == warehouse.shelf[units[0][1]] - 3


def test_one_sku_on_two_products_lines_count_for_their_own_product_only(shop_factory):
    store, server = go_live(shop_factory)
    state = server.state
    first_pid, _ = _add(state, name="Mug A", tracking="product", skus=["MUG-1"])
    second_pid, _ = _add(state, name="Mug B", tracking="product", skus=["MUG-1"])
    state.set_stock(quantity=30, product_id=first_pid)
    state.adjust_inventory([{"location_id": 1, "product_id": second_pid, "quantity": 12}], relative=False)
    run_job(store, Job.BOOTSTRAP)
    warehouse = Warehouse(state)
    assert StoreItemLink.objects.filter(store=store, product_id=first_pid).exists()
    assert not StoreItemLink.objects.filter(store=store, product_id=second_pid).exists()  # a duplicate
    state.place_order(items=[{"product_id": first_pid, "quantity": 2}], status_id=11)
    state.place_order(items=[{"product_id": second_pid, "quantity": 5}], status_id=11)
    run = run_job(store, Job.EOD_EXPORT)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    link = StoreItemLink.objects.get(store=store, product_id=first_pid)
    assert store_level(state, link) == 30 - 2  # the second product's 5 are not taken from the first
    assert mismatches(store, server, warehouse) == {}


def test_the_store_switches_its_stock_behaviour_between_two_end_of_days(shop_factory):
    store, server = go_live(shop_factory)
    state = server.state
    units = stocked_units(state, 3)
    run_job(store, Job.BOOTSTRAP)
    warehouse = Warehouse(state)
    placed_before = place(state, units[:2], status_id=11, quantity=2)
    first = run_job(store, Job.EOD_EXPORT)
    assert first.status == SyncRun.Status.SUCCEEDED and first.summary["stock_behavior"] == "order_placed"
    assert mismatches(store, server, warehouse) == {}

    # Store dates have whole seconds: an order created in the second the old behaviour was last seen is
    # taken as placed under it. Staff switch the setting a little later.
    time.sleep(1.1)
    state.inventory_settings["update_stock_behavior"] = "order_completed_or_shipped"
    placed_after = place(state, units[1:], status_id=11, quantity=3)
    run_job(store, Job.IMPORT_ORDERS)
    # picks not shipped yet, on an order of each behaviour; one shipment
    for order in (placed_before, placed_after):
        line = PickingOrderLine.objects.filter(order__store_order_id=order.id).order_by("line_number").first()
        warehouse.pick(store, line, 1)
    line = PickingOrderLine.objects.filter(order__store_order_id=placed_after.id).order_by("line_number").last()
    warehouse.pick(store, line, 2)
    ship(state, placed_after.id, {line.store_order_product_id: 2})
    second = run_job(store, Job.EOD_EXPORT)
    assert second.status == SyncRun.Status.SUCCEEDED, second.error
    assert second.summary["stock_behavior"] == "order_completed_or_shipped"
    assert "Stock decreased when order placed" in second.summary["warning"]
    assert mismatches(store, server, warehouse) == {}


def test_a_level_above_the_maximum_is_capped_and_two_500s_on_the_absolute_set_are_retried(shop_factory):
    store, server = go_live(shop_factory)
    state = server.state
    run_job(store, Job.BOOTSTRAP)
    warehouse = Warehouse(state)
    config = store.basic_configuration
    link = StoreItemLink.objects.filter(store=store).select_related("item").order_by("id").first()
    it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                        quantity_delta=MAX_LEVEL, reason="found a warehouse")
    warehouse.shelf[warehouse.key_of(link)] += MAX_LEVEL
    server.add_fault_rule(method="PUT", path="/v3/inventory/adjustments/absolute", status=500, times=2)
    run = run_job(store, Job.EOD_EXPORT)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert store_level(state, link) == MAX_LEVEL
    item = run.items.get(detail__ref=link.id)
    assert item.detail["capped"] is True and "Capped" in item.reason
    links = StoreItemLink.objects.filter(store=store).count()
    # what the store received: the two refused tries and the batches that went through
    assert run.summary["write_requests"] == 2 + -(-links // 2000)
    assert run.summary["capped_items"] == 1
    assert mismatches(store, server, warehouse) == {}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_slow_order_import_keeps_end_of_day_alive_a_second_trigger_is_refused(shop_factory, settings):
    settings.ITBC_RUN_STALE_SECONDS = 2
    settings.ITBC_RUN_LOCK_TTL_SECONDS = 1
    settings.ITBC_RUN_PROGRESS_SECONDS = 0.2
    from plugin.sync import runs as run_service
    from plugin.sync.services import job_trigger

    store, server = go_live(shop_factory, orders=30)
    state = server.state
    run_job(store, Job.BOOTSTRAP)
    warehouse = Warehouse(state)
    units = stocked_units(state, 2)
    fresh = place(state, units, status_id=7)
    # every order page (and count) answers slowly: the import step lasts far longer than the stale time
    server.add_fault_rule(method="GET", path="/v2/orders", delay_ms=400, times=None)
    done = {}

    def end_of_day():
        from django.db import connection

        try:
            done["run"] = run_job(store, Job.EOD_EXPORT)
        finally:
            connection.close()

    import threading

    worker = threading.Thread(target=end_of_day)
    worker.start()
    refused, checks = 0, 0
    while worker.is_alive():
        time.sleep(0.5)
        eod = SyncRun.objects.filter(store=store, job=Job.EOD_EXPORT, status="running").first()
        if eod is None:
            continue
        run_service.runs_mark_stale(store=store)
        eod.refresh_from_db()
        assert eod.status != "stale"  # alive while its order import runs
        if eod.status != "running":
            continue  # it has just finished
        checks += 1
        try:
            extra = job_trigger(store=store, job=Job.EOD_EXPORT, enqueue=False)
        except run_service.RunInProgress:
            refused += 1
        else:  # allowed only because the End of Day finished in between
            eod.refresh_from_db()
            assert eod.status == "succeeded"
            extra.delete()
            checks -= 1
    worker.join()
    server.faults.clear_rules()
    run = done["run"]
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert checks >= 3 and refused == checks
    assert run.summary["orders_imported_first"] is True
    assert StoreOrderLine.objects.filter(store=store, store_order_id=fresh.id).exists()
    assert mismatches(store, server, warehouse) == {}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_after_a_kill_during_the_order_import_the_rerun_imports_orders_itself(shop_factory, settings):
    settings.ITBC_RUN_STALE_SECONDS = 1
    settings.ITBC_EOD_ORDER_IMPORT_WAIT_SECONDS = 30
    from datetime import timedelta

    from django.utils import timezone

    from plugin.sync import runs as run_service

    store, server = go_live(shop_factory, orders=30)
    state = server.state
    run_job(store, Job.BOOTSTRAP)
    warehouse = Warehouse(state)
    # A worker died in the middle of an End of Day's order import: both runs are left running.
    dead_eod = run_service.run_create(store=store, job=Job.EOD_EXPORT)
    dead_import = run_service.run_create(store=store, job=Job.IMPORT_ORDERS, options={"parent_run": dead_eod.pk})
    long_ago = timezone.now() - timedelta(minutes=10)
    SyncRun.objects.filter(pk__in=[dead_eod.pk, dead_import.pk]).update(status="running", started_at=long_ago,
                                                                       heartbeat_at=long_ago)
    units = stocked_units(state, 2)
    fresh = place(state, units, status_id=11, quantity=3)
    rerun = run_job(store, Job.EOD_EXPORT)
    assert rerun.status == SyncRun.Status.SUCCEEDED, rerun.error
    assert rerun.summary["orders_run"] != dead_import.pk and rerun.summary["orders_imported_first"] is True
    assert SyncRun.objects.get(pk=dead_import.pk).status == "stale"
    assert PickingOrder.objects.filter(source_store=store, store_order_id=fresh.id).exists()
    assert mismatches(store, server, warehouse) == {}


def test_a_channel_with_its_own_stock_behaviour_counts_its_orders_by_it(shop_factory):
    store, server = go_live(shop_factory)
    state = server.state
    units = stocked_units(state, 2)
    state.update_inventory_settings({"update_stock_behavior": "order_completed_or_shipped"}, channel_id=2)
    run_job(store, Job.BOOTSTRAP)
    warehouse = Warehouse(state)
    on_web = place(state, units[:1], status_id=11, quantity=2)  # channel 1: taken at placement
    elsewhere = state.place_order(items=[{"variant_id": units[1][1], "quantity": 3}], status_id=11,
                                  allow_oversell=True, channel_id=2)  # taken when it ships
    run_job(store, Job.IMPORT_ORDERS)
    for order in (on_web, elsewhere):
        line = PickingOrderLine.objects.get(order__store_order_id=order.id)
        warehouse.pick(store, line, 1)
    run = run_job(store, Job.EOD_EXPORT)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    lines = dict(StoreOrderLine.objects.filter(store=store).values_list("store_order_id", "taken_at_placement"))
    assert lines == {on_web.id: True, elsewhere.id: False}
    assert mismatches(store, server, warehouse) == {}


def test_end_of_day_lists_only_the_orders_changed_since_the_last_complete_listing(shop_factory):
    from datetime import timedelta

    from django.utils import timezone

    store, server = go_live(shop_factory)
    state = server.state
    units = stocked_units(state, 3)
    run_job(store, Job.BOOTSTRAP)
    warehouse = Warehouse(state)
    older = [place(state, units[:2], status_id=7), place(state, units[1:], status_id=11)]
    listing = run_job(store, Job.IMPORT_ORDERS)
    assert listing.summary["listing_complete"] is True
    # that listing was hours ago, and the orders have not changed since
    SyncRun.objects.filter(pk=listing.pk).update(started_at=timezone.now() - timedelta(hours=3))
    for order in older:
        state.orders[order.id].date_modified = time.time() - 5 * 3600
    fresh = place(state, units[2:], status_id=11, quantity=4)
    run = run_job(store, Job.EOD_EXPORT)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    orders_run = SyncRun.objects.get(pk=run.summary["orders_run"])
    assert orders_run.summary["modified_since"] and orders_run.processed == 1  # the fresh order only
    assert StoreOrderLine.objects.filter(store=store, store_order_id=fresh.id).exists()
    # what the older orders hold still counts
    assert mismatches(store, server, warehouse) == {}
