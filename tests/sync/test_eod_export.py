"""End of Day over real HTTP against the sandbox store, on PostgreSQL (and Redis for the lock).

The whole set-up runs first (products, inventory, carriers, orders) on a generated store with all three
tracking modes, then IntelliTrack stock changes (adjustments, moves inside and outside the scope, partial
picks), then End of Day: every store level must equal the formula, item by item."""
import math

import pytest

from plugin.intellitrack import services as it
from plugin.intellitrack.models import InventoryRecord, Location, PickingOrder, PickingOrderLine
from plugin.sync.models import OrderImport, StoreItemLink, SyncRun, SyncRunItem
from tests.sync.conftest import run_job, store_level
from tests.sync.truth import shipped_before_go_live, truth_levels

pytestmark = [pytest.mark.django_db]

Job = SyncRun.Job
OPEN_STATUSES = [11, 9, 3]


def expected_levels(store, server) -> dict[int, int]:
    """The truth (decision 18), computed from the sandbox's records and the raw stock rows."""
    return truth_levels(store, server.state, base=server.shipped_before_go_live)


def set_up(shop_factory, **config):
    store, server = shop_factory(products=80, orders=40, order_statuses_to_import=OPEN_STATUSES, **config)
    server.shipped_before_go_live = shipped_before_go_live(server.state)
    boot = run_job(store, Job.BOOTSTRAP)
    assert boot.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL), boot.error
    assert set(boot.summary["steps"]) == {"import_products", "import_inventory", "import_carriers"}
    orders = run_job(store, Job.IMPORT_ORDERS)
    assert orders.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL), orders.error
    assert PickingOrder.objects.filter(source_store=store).count() > 0
    return store, server


def change_intellitrack_stock(store):
    """Adjust, receive, move inside and outside the scope, and pick part of open orders."""
    config = store.basic_configuration
    l1 = config.default_location
    l2 = Location.objects.get(site=config.default_site, code="L2")
    l9 = Location.objects.get(code="L9")
    uom = config.default_uom
    links = list(StoreItemLink.objects.filter(store=store).select_related("item").order_by("id"))
    stocked = {r.item_id: r.on_hand for r in InventoryRecord.objects.filter(location=l1, uom=uom)}
    changed = 0
    for n, link in enumerate(links):
        have = stocked.get(link.item_id, 0)
        if n % 5 == 0:
            it.inventory_adjust(item=link.item, location=l1, uom=uom, quantity_delta=7, reason="count")
            changed += 1
        elif n % 5 == 1 and have >= 2:
            it.inventory_adjust(item=link.item, location=l1, uom=uom, quantity_delta=-2, reason="damaged")
            changed += 1
        elif n % 5 == 2 and have >= 3:
            it.inventory_move(item=link.item, uom=uom, from_location=l1, to_location=l2, quantity=3)  # same site
        elif n % 5 == 3 and have >= 4:
            it.inventory_move(item=link.item, uom=uom, from_location=l1, to_location=l9, quantity=4)  # leaves scope
            changed += 1
    picked = 0
    for line in PickingOrderLine.objects.filter(order__source_store=store, order__status="open").select_related(
        "item", "order"
    ):
        record = InventoryRecord.objects.filter(item=line.item, location=l1, uom=uom).first()
        if record and record.on_hand >= 1 and line.ordered_qty - line.picked_qty >= 1 and picked < 12:
            it.order_pick(line=line, quantity=1, location=l1)
            picked += 1
    assert changed > 5 and picked > 3
    # a completely picked order closes and stops counting
    return picked


@pytest.mark.parametrize(
    "flag, scope",
    [(True, "default_site"), (False, "default_site"), (True, "default_location"), (True, "division")],
    ids=["stock-decreased-on", "stock-decreased-off", "scope-location", "scope-division"],
)
def test_end_of_day_sets_every_store_level_to_the_formula(shop_factory, flag, scope):
    behavior = "order_placed" if flag else "order_completed_or_shipped"
    store, server = set_up(shop_factory, stock_decreased_when_order_placed=flag, quantity_scope=scope,
                           update_stock_behavior=behavior)
    change_intellitrack_stock(store)
    expected = expected_levels(store, server)
    run = run_job(store, Job.EOD_EXPORT)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    links = list(StoreItemLink.objects.filter(store=store))
    assert len(links) == len(expected) > 50
    mismatches = {link.sku: (store_level(server.state, link), expected[link.id])
                  for link in links if store_level(server.state, link) != expected[link.id]}
    assert mismatches == {}
    # the other store location is untouched by construction: only location 1 was written
    assert run.summary["write_requests"] == math.ceil(len(links) / 2000)
    assert run.summary["orders_run"] is not None
    items = {i.detail["ref"]: i for i in run.items.all()}
    assert len(items) == len(links)
    assert run.processed == run.total == len(links)
    assert all(items[link.id].quantity_after == expected[link.id] for link in links)
    assert all(items[link.id].store_transaction_id for link in links)
    assert {link.last_exported_qty for link in StoreItemLink.objects.filter(store=store)} == set(expected.values())
    # with the flag on, held units matter somewhere; off, only picked units not shipped yet count (added back)
    if flag:
        assert any(i.detail["held"] > 0 for i in items.values())
    else:
        assert all(i.detail["held"] <= 0 for i in items.values()) and any(i.detail["held"] < 0 for i in items.values())
    assert run.summary["stock_behavior"] == behavior and "warning" not in run.summary


def test_second_end_of_day_sends_the_same_levels_and_dry_run_writes_nothing(shop_factory):
    store, server = set_up(shop_factory)
    change_intellitrack_stock(store)
    first = run_job(store, Job.EOD_EXPORT)
    second = run_job(store, Job.EOD_EXPORT)
    assert second.status == SyncRun.Status.SUCCEEDED
    sent = lambda run: dict(run.items.values_list("detail__ref", "quantity_after"))  # noqa: E731
    assert sent(first) == sent(second)

    # IntelliTrack changes; a dry run computes the new numbers and the drift but writes nothing
    config = store.basic_configuration
    link = StoreItemLink.objects.filter(store=store).select_related("item").first()
    before_level = store_level(server.state, link)
    it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                        quantity_delta=11, reason="found")
    stock_before = {loc: dict(levels) for loc, levels in server.state.stock.items()}
    transactions_before = list(server.state.transactions)
    dry = run_job(store, Job.EOD_EXPORT, dry_run=True)
    assert dry.status == SyncRun.Status.SUCCEEDED
    assert server.state.stock == stock_before and server.state.transactions == transactions_before
    assert dry.summary["dry_run"] is True and dry.summary["write_requests"] == 0
    row = dry.items.get(detail__ref=link.id)
    assert (row.quantity_before, row.quantity_after) == (before_level, expected_levels(store, server)[link.id])
    assert row.detail["drift"] == row.quantity_after - row.quantity_before != 0
    assert dry.summary["drifted_items"] == 1

    # "allow writes to BigCommerce" off: every export is a dry run
    config.allow_writes_to_bigcommerce = False
    config.save()
    forced = run_job(store, Job.EOD_EXPORT)
    assert forced.summary["dry_run"] is True and "Allow writes" in forced.summary["dry_run_reason"]
    assert server.state.stock == stock_before


def test_cancelled_store_order_cancels_its_picking_order_and_a_line_of_a_new_product_imports_it(shop_factory):
    store, server = set_up(shop_factory)
    imported = OrderImport.objects.filter(store=store, state="imported").first()
    picking = PickingOrder.objects.get(source_store=store, store_order_id=imported.store_order_id)
    assert picking.status == "open"
    server.state.set_order_status(imported.store_order_id, 5)
    # a new order for a product that was never imported (added after the product import)
    from tests.sync.test_product_import import _add

    new_pid, _ = _add(server.state, name="Late", tracking="product", skus=["LATE-1"])
    server.state.set_stock(quantity=5, product_id=new_pid)
    late = server.state.place_order(items=[{"sku": "LATE-1", "quantity": 1}], status_id=11)
    run = run_job(store, Job.IMPORT_ORDERS)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    picking.refresh_from_db()
    assert picking.status == "cancelled"
    cancel = run.items.get(key=str(imported.store_order_id), action="cancel")
    assert cancel.outcome == SyncRunItem.Outcome.OK and "Cancelled in the store" in cancel.reason
    # the product is imported first (one catalog request), then the order matches it by its ids
    assert run.items.get(key=str(late.id)).action == "created"
    link = StoreItemLink.objects.get(store=store, product_id=new_pid)
    line = PickingOrder.objects.get(source_store=store, store_order_id=late.id).lines.get()
    assert (line.item_id, line.ordered_qty) == (link.item_id, 1)
    # imported once: a second run creates nothing new
    count = PickingOrder.objects.filter(source_store=store).count()
    again = run_job(store, Job.IMPORT_ORDERS)
    assert again.items.get(key=str(late.id)).action == "already_imported"
    assert PickingOrder.objects.filter(source_store=store).count() == count


def test_an_item_the_store_refuses_is_reported_the_rest_of_the_batch_goes_on_and_retry_sends_it(shop_factory):
    store, server = set_up(shop_factory)
    change_intellitrack_stock(store)
    link = StoreItemLink.objects.filter(store=store, tracking="product").order_by("id")[3]
    product = server.state.products[link.product_id]
    product.inventory_tracking = "none"  # switched off in the store after the import
    run = run_job(store, Job.EOD_EXPORT)
    assert run.status == SyncRun.Status.PARTIAL
    failed = run.items.get(outcome=SyncRunItem.Outcome.FAILED)
    assert failed.detail["ref"] == link.id and "does not track inventory" in failed.reason
    assert run.summary["write_requests"] == 2  # refused once, resent without the refused item
    expected = expected_levels(store, server)
    others = StoreItemLink.objects.filter(store=store).exclude(pk=link.pk)
    assert all(store_level(server.state, other) == expected[other.id] for other in others)

    product.inventory_tracking = "product"  # fixed in the store; retry only what failed
    from plugin.sync import runs as run_service
    from plugin.sync.services import run_execute

    retry = run_service.run_retry_failed(run=run)
    retry = run_execute(run_id=retry.pk)
    assert retry.status == SyncRun.Status.SUCCEEDED, retry.error
    assert list(retry.items.values_list("detail__ref", flat=True)) == [link.id]
    assert store_level(server.state, link) == expected[link.id]
