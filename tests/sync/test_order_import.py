"""Import orders: only the configured statuses, each once, and an optional created-date range."""
from datetime import date, datetime, timedelta

import pytest

from plugin.intellitrack.models import Customer, PickingOrder
from plugin.sync.models import OrderImport, SyncRun
from tests.sync.conftest import run_job

pytestmark = pytest.mark.django_db
Job = SyncRun.Job


def test_only_configured_statuses_each_once_with_customers_matched(shop_factory):
    store, server = shop_factory(products=60, orders=40, order_statuses_to_import=[11, 9])
    run_job(store, Job.IMPORT_PRODUCTS)
    run = run_job(store, Job.IMPORT_ORDERS)
    assert run.status in ("succeeded", "partial"), run.error
    products = server.state.products

    def to_pick(order):
        return [p for p in order.products
                if p.quantity > p.quantity_shipped and products[p.product_id].inventory_tracking != "none"]

    in_status = [o for o in server.state.orders.values() if o.status_id in (11, 9)]
    wanted = {o.id for o in in_status if to_pick(o)}
    imported = set(PickingOrder.objects.filter(source_store=store).values_list("store_order_id", flat=True))
    assert imported == wanted and wanted
    # an order of untracked products only is reported, not imported, and never retried
    nothing = {o.id for o in in_status if not to_pick(o)}
    assert set(OrderImport.objects.filter(store=store, state="no_stock").values_list("store_order_id", flat=True)) == nothing
    order = PickingOrder.objects.filter(source_store=store).select_related("customer", "ship_to").first()
    source = server.state.orders[order.store_order_id]
    assert order.number == str(source.id)
    assert order.ship_to.city == source.addresses[0].city
    lines = {(line.store_order_product_id, line.ordered_qty) for line in order.lines.all()}
    assert lines == {(p.id, p.quantity - p.quantity_shipped) for p in to_pick(source)}
    customers = Customer.objects.count()
    again = run_job(store, Job.IMPORT_ORDERS)
    assert again.status == "succeeded"
    assert set(again.items.values_list("action", flat=True)) == {"already_imported"}
    assert PickingOrder.objects.filter(source_store=store).count() == len(wanted)
    assert Customer.objects.count() == customers  # matched, not created again
    assert OrderImport.objects.filter(store=store, state="imported").count() == len(wanted)


def test_date_range_back_fills_only_orders_created_inside_it(shop_factory):
    store, server = shop_factory(products=60, orders=40, order_statuses_to_import=[11, 9, 3])
    run_job(store, Job.IMPORT_PRODUCTS)
    created = sorted(o.date_created for o in server.state.orders.values() if o.status_id in (11, 9, 3))
    middle = datetime.fromtimestamp(created[len(created) // 2]).date()
    run = run_job(store, Job.IMPORT_ORDERS, options={"min_date_created": (middle + timedelta(days=1)).isoformat()})
    assert run.status in ("succeeded", "partial")
    tracked = {pid for pid, p in server.state.products.items() if p.inventory_tracking != "none"}
    in_range = {o.id for o in server.state.orders.values()
                if o.status_id in (11, 9, 3) and datetime.fromtimestamp(o.date_created).date() > middle
                and any(p.quantity > p.quantity_shipped and p.product_id in tracked for p in o.products)}
    got = set(PickingOrder.objects.filter(source_store=store).values_list("store_order_id", flat=True))
    assert got == in_range
    nothing = run_job(store, Job.IMPORT_ORDERS, options={"max_date_created": date(2000, 1, 1).isoformat()})
    assert nothing.processed == 0 and nothing.items.count() == 0
