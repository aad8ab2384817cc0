"""Import orders: only the configured statuses, each once, and an optional created-date range."""
import time
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from plugin.intellitrack.gateway import EmbeddedGateway, GatewayError
from plugin.intellitrack.models import Customer, PickingOrder
from plugin.sync.models import OrderImport, SyncRun
from tests.sync.conftest import run_job
from tests.sync.test_eod_export import set_up

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


def _cancelled_hours_ago(store, server, *, hours: float) -> int:
    """An imported store order that the store cancelled `hours` ago; earlier order imports ran before."""
    imported = OrderImport.objects.filter(store=store, state="imported").order_by("store_order_id").first()
    server.state.set_order_status(imported.store_order_id, 5)
    server.state.orders[imported.store_order_id].date_modified = time.time() - hours * 3600
    SyncRun.objects.filter(store=store, job=Job.IMPORT_ORDERS).update(
        started_at=timezone.now() - timedelta(hours=hours + 1))
    return imported.store_order_id


def _picking_status(store, store_order_id) -> str:
    return PickingOrder.objects.get(source_store=store, store_order_id=store_order_id).status


def test_a_retry_run_does_not_move_the_cancellation_window(shop_factory):
    store, server = set_up(shop_factory)
    order_id = _cancelled_hours_ago(store, server, hours=3)
    last = SyncRun.objects.filter(store=store, job=Job.IMPORT_ORDERS).latest("pk")
    retry = run_job(store, Job.IMPORT_ORDERS, options={"only_failed_of": last.pk})  # no cancellation scan
    assert "cancel_scan_ok" not in retry.summary
    assert _picking_status(store, order_id) == "open"
    run = run_job(store, Job.IMPORT_ORDERS)
    assert run.summary["cancel_scan_ok"] is True
    assert _picking_status(store, order_id) == "cancelled"


def test_a_failed_cancel_is_retried_after_the_overlap(shop_factory, monkeypatch):
    store, server = set_up(shop_factory)
    order_id = _cancelled_hours_ago(store, server, hours=3.5)

    def refuse(self, order_id):
        raise GatewayError("IntelliTrack is locked for a count")

    with monkeypatch.context() as patch:
        patch.setattr(EmbeddedGateway, "order_cancel", refuse)
        failed = run_job(store, Job.IMPORT_ORDERS)
    assert failed.items.get(key=str(order_id), action="cancel").outcome == "failed"
    assert failed.summary["cancel_scan_ok"] is False
    SyncRun.objects.filter(pk=failed.pk).update(started_at=timezone.now() - timedelta(hours=2))
    run_job(store, Job.IMPORT_ORDERS)
    assert _picking_status(store, order_id) == "cancelled"
