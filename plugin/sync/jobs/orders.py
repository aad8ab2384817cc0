"""Import orders (BigCommerce -> IntelliTrack): store orders in the configured statuses become picking
orders, each once (a staging row per order plus the picking order's unique store order id).

Lines match links by the stored ids first (variant, then product), SKU second. An order with an
unmatched line is not imported: it is reported and waits for the next run. Store orders that turned
Cancelled, Declined or Refunded cancel their imported picking order, so their quantity stops counting
as unpicked. An optional date range (min/max date created) back-fills older orders.

An auto sync cycle (options["auto_sync"]) lists only the orders modified since the store's watermark
("Last Auto Sync Completed On") minus an overlap; the orders still waiting from earlier runs that the
listing leaves out are fetched by id, so they are still retried."""
from datetime import timedelta

from django.utils import timezone

from plugin.bigcommerce.errors import NotFoundError
from plugin.intellitrack.gateway import (
    CustomerData,
    GatewayError,
    PickingOrderData,
    PickingOrderLineData,
    ShipToData,
)

from .. import binder, runs
from ..mappers import order_to_store_order
from ..models import OrderImport, SyncRun, SyncRunItem
from .context import JobContext

OK, FAILED, SKIPPED = SyncRunItem.Outcome.OK, SyncRunItem.Outcome.FAILED, SyncRunItem.Outcome.SKIPPED
CLOSING_STATUSES = (4, 5, 6)  # Refunded, Cancelled, Declined
STATUS_NAMES = {4: "Refunded", 5: "Cancelled", 6: "Declined"}
WATERMARK_OVERLAP = timedelta(hours=1)


def _date_filters(options: dict) -> dict:
    filters = {}
    if options.get("min_date_created"):
        filters["min_date_created"] = options["min_date_created"]
    if options.get("max_date_created"):
        filters["max_date_created"] = options["max_date_created"]
    return filters


def orders_import_run(ctx: JobContext) -> dict:
    run, config = ctx.run, ctx.config
    statuses = [int(s) for s in (config.order_statuses_to_import or [])]
    only = None
    refs = runs.run_retry_refs(run)
    if refs is not None:
        only = {ref for ref in refs if isinstance(ref, int)}
    dates = _date_filters(run.options)
    since = _auto_sync_since(ctx) if only is None and not dates else {}
    total = sum(ctx.client.get_orders_count(status_id=status, **dates, **since) for status in statuses)
    runs.run_set_total(run=run, total=total)
    summary = {"statuses": statuses, "imported": 0, "waiting": 0, "already": 0, "cancelled": 0}
    listed: set[int] = set()
    for status in statuses:
        for orders in ctx.client.iter_order_pages(status_id=status, sort="id:asc", **dates, **since):
            if only is not None:
                orders = [o for o in orders if int(o["id"]) in only]
            if since:
                listed.update(int(o["id"]) for o in orders)
            outcomes = _orders_page_import(ctx, orders, summary)
            runs.run_items_record(run=run, outcomes=outcomes, lock=ctx.lock, processed=len(orders))
    if since:
        summary["modified_since"] = since["min_date_modified"].isoformat()
        _orders_waiting_retry(ctx, statuses=statuses, listed=listed, summary=summary)
    if only is None:
        _orders_cancel_closed(ctx, summary)
    return summary


def _auto_sync_since(ctx: JobContext) -> dict:
    """The listing filter of an auto sync cycle: orders modified since the watermark minus the overlap
    (none before the first fully successful cycle, nor for runs started by staff or End of Day)."""
    watermark = ctx.config.last_auto_sync_completed_on
    if not ctx.run.options.get("auto_sync") or watermark is None:
        return {}
    return {"min_date_modified": watermark - WATERMARK_OVERLAP}


WAITING_FETCH_BATCH = 50


def _orders_waiting_retry(ctx: JobContext, *, statuses: list[int], listed: set[int], summary: dict) -> None:
    """Retry the orders still waiting from earlier runs that the watermark's listing left out: one request
    per order (they are few: the orders with a line no item matched yet)."""
    run = ctx.run
    waiting = [
        order_id for order_id in OrderImport.objects.filter(
            store=ctx.store, state=OrderImport.State.WAITING).order_by("store_order_id").values_list(
            "store_order_id", flat=True)
        if order_id not in listed
    ]
    summary["waiting_fetched"] = len(waiting)
    if not waiting:
        return
    runs.run_set_total(run=run, total=(run.total or 0) + len(waiting))
    for start in range(0, len(waiting), WAITING_FETCH_BATCH):
        batch = waiting[start:start + WAITING_FETCH_BATCH]
        orders, outcomes = [], []
        for order_id in batch:
            try:
                order = ctx.client.get_order(order_id)
            except NotFoundError:
                outcomes.append(runs.ItemOutcome(key=str(order_id), outcome=SKIPPED, action="waiting",
                                                 reason="The store no longer has this order.",
                                                 detail={"ref": order_id}))
                continue
            # An order that left the statuses to import is not imported (a full listing would skip it too).
            if int(order.get("status_id") or 0) in statuses:
                orders.append(order)
        outcomes += _orders_page_import(ctx, orders, summary)
        runs.run_items_record(run=run, outcomes=outcomes, lock=ctx.lock, processed=len(batch))


def _orders_page_import(ctx: JobContext, orders: list[dict], summary: dict) -> list[runs.ItemOutcome]:
    store = ctx.store
    ids = [int(o["id"]) for o in orders]
    staged = {
        row.store_order_id: row
        for row in OrderImport.objects.filter(store=store, store_order_id__in=ids).only(
            "id", "store_order_id", "state", "attempts"
        )
    }
    outcomes: list[runs.ItemOutcome] = []
    fresh = []
    for order in orders:
        row = staged.get(int(order["id"]))
        if row is not None and row.state != OrderImport.State.WAITING:
            summary["already"] += 1
            outcomes.append(runs.ItemOutcome(key=str(order["id"]), outcome=SKIPPED, action="already_imported",
                                             reason=f"Already {row.get_state_display().lower()}.",
                                             detail={"ref": int(order["id"])}))
            continue
        products = ctx.client.list_order_products(order["id"])
        addresses = ctx.client.list_order_shipping_addresses(order["id"])
        fresh.append(order_to_store_order(order, products, addresses))
        if len(fresh) % 25 == 0:  # two requests per order: keep the lock and heartbeat fresh on long pages
            runs.run_heartbeat(run=ctx.run, lock=ctx.lock)
    if not fresh:
        return outcomes

    lines = [line for order in fresh for line in order.lines]
    by_variant, by_product, by_sku = binder.links_matching_lines(
        store=store, product_ids=[line.product_id for line in lines], skus=[line.sku for line in lines]
    )
    missing_products = {
        line.product_id for line in lines if binder.line_item_id(line, by_variant, by_product, by_sku) is None
    }
    untracked = _untracked_products(ctx, missing_products) if missing_products else set()
    ready, waiting, nothing = [], [], []
    for order in fresh:
        matched, missing, left_out = [], [], []
        for line in order.lines:
            item_id = binder.line_item_id(line, by_variant, by_product, by_sku)
            if item_id is not None:
                matched.append((line, item_id))
            elif line.product_id in untracked:
                left_out.append(line)  # no stock to pick (a digital product, a gift certificate)
            else:
                missing.append(line)
        if missing:
            names = ", ".join(f"{line.sku or line.name} (product {line.product_id})" for line in missing)
            waiting.append((order, f"No IntelliTrack item for line(s): {names}. Retried on the next run."))
        elif not matched:
            why = "nothing left to ship" if not order.lines else "no stock-tracked product"
            nothing.append((order, f"Not imported: the order has {why}."))
        else:
            ready.append((order, matched))

    methods = _method_carriers(ctx)
    results = ctx.gateway.picking_orders_create(
        [_picking_order_data(ctx, order, matched, methods) for order, matched in ready]
    ) if ready else []

    stage_rows = []
    for (order, _matched), result in zip(ready, results, strict=True):
        if not result.ok:
            waiting.append((order, result.reason or result.outcome))
            continue
        summary["imported"] += 1
        stage_rows.append(OrderImport(store=store, store_order_id=order.store_order_id, status_id=order.status_id,
                                      state=OrderImport.State.IMPORTED, picking_order_id=result.order_id))
        created = result.outcome == "created"
        outcomes.append(runs.ItemOutcome(
            key=str(order.store_order_id), outcome=OK, action="created" if created else "matched",
            reason="" if created else "The picking order already existed.",
            quantity_after=sum(line.quantity for line in order.lines),
            detail={"ref": order.store_order_id, "picking_order": result.order_id, "lines": len(order.lines)}))
    for order, reason in nothing:
        stage_rows.append(OrderImport(store=store, store_order_id=order.store_order_id, status_id=order.status_id,
                                      state=OrderImport.State.NOTHING_TO_PICK, reason=reason))
        outcomes.append(runs.ItemOutcome(key=str(order.store_order_id), outcome=SKIPPED, action="nothing_to_pick",
                                         reason=reason, detail={"ref": order.store_order_id}))
    for order, reason in waiting:
        summary["waiting"] += 1
        stage_rows.append(OrderImport(store=store, store_order_id=order.store_order_id, status_id=order.status_id,
                                      state=OrderImport.State.WAITING, reason=reason))
        outcomes.append(runs.ItemOutcome(key=str(order.store_order_id), outcome=FAILED, action="waiting",
                                         reason=reason, detail={"ref": order.store_order_id}))
    if stage_rows:
        OrderImport.objects.bulk_create(
            stage_rows,
            update_conflicts=True,
            unique_fields=["store", "store_order_id"],
            update_fields=["status_id", "state", "reason", "picking_order", "updated_at"],
        )
    return outcomes


def _untracked_products(ctx: JobContext, product_ids: set[int]) -> set[int]:
    """Which of these products the store does not track stock for (one catalog request per 250)."""
    found = set()
    ids = sorted(product_ids)
    for start in range(0, len(ids), 250):
        for products in ctx.client.iter_product_pages(include_variants=False, id__in=ids[start:start + 250]):
            found.update(int(p["id"]) for p in products if p.get("inventory_tracking") == "none")
    return found


def _method_carriers(ctx: JobContext) -> dict[str, str]:
    """{shipping method name: carrier name} from the carriers already imported (one read per page)."""
    found = {}
    for carrier in ctx.gateway.carriers(ctx.division_code):
        for method in carrier.methods:
            found.setdefault(method.name, carrier.name)
    return found


def _picking_order_data(ctx: JobContext, order, matched, methods: dict[str, str]) -> PickingOrderData:
    customer = order.customer
    ship_to = order.ship_to
    carrier = methods.get(order.shipping_method, "")
    return PickingOrderData(
        division=ctx.division_code,
        store_id=ctx.store.pk,
        store_order_id=order.store_order_id,
        number=order.number,
        order_date=order.order_date,
        customer=CustomerData(
            name=customer.name, account_number=order.customer_account, email=customer.email, phone=customer.phone,
            address1=customer.address1, address2=customer.address2, city=customer.city, state=customer.state,
            postal_code=customer.postal_code, country=customer.country,
        ),
        ship_to=None if ship_to is None else ShipToData(
            name=ship_to.name, company=ship_to.company, address1=ship_to.address1, address2=ship_to.address2,
            city=ship_to.city, state=ship_to.state, postal_code=ship_to.postal_code, country=ship_to.country,
            phone=ship_to.phone, email=ship_to.email,
        ),
        carrier_name=carrier,
        shipping_method_name=order.shipping_method if carrier else "",
        lines=tuple(
            PickingOrderLineData(line_number=number, item_id=item_id, ordered_qty=line.quantity,
                                 store_order_product_id=line.order_product_id, comment=line.name[:255])
            for number, (line, item_id) in enumerate(matched, start=1)
        ),
    )


def _orders_cancel_closed(ctx: JobContext, summary: dict) -> None:
    """Cancel the picking orders of imported store orders that the store has since closed."""
    store = ctx.store
    # The window starts at the last run whose scan ran and cancelled everything it had to: a retry run
    # (no scan) or a scan with a failed cancel must not move it, or that order is never looked at again.
    last = (
        SyncRun.objects.filter(store=store, job=SyncRun.Job.IMPORT_ORDERS,
                               status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL],
                               summary__cancel_scan_ok=True)
        .exclude(pk=ctx.run.pk).order_by("-started_at").values_list("started_at", flat=True).first()
    )
    since = {"min_date_modified": last - WATERMARK_OVERLAP} if last else {}
    failed_cancels = 0
    for status in CLOSING_STATUSES:
        for orders in ctx.client.iter_order_pages(status_id=status, sort="id:asc", **since):
            ids = [int(o["id"]) for o in orders]
            imported = list(OrderImport.objects.filter(
                store=store, store_order_id__in=ids, state=OrderImport.State.IMPORTED
            ).values_list("store_order_id", flat=True))
            if not imported:
                runs.run_heartbeat(run=ctx.run, lock=ctx.lock)
                continue
            picking = ctx.gateway.picking_orders_get(store_id=store.pk, store_order_ids=imported)
            outcomes, cancelled = [], []
            for store_order_id in imported:
                key = str(store_order_id)
                info = picking.get(store_order_id)
                if info is None or info.status == "cancelled":
                    cancelled.append(store_order_id)
                    continue
                if info.status != "open":
                    outcomes.append(runs.ItemOutcome(
                        key=key, outcome=SKIPPED, action="cancel",
                        reason=f"{STATUS_NAMES[status]} in the store, but the picking order is already {info.status}.",
                        detail={"ref": store_order_id}))
                    continue
                try:
                    ctx.gateway.order_cancel(info.id)
                except GatewayError as exc:
                    failed_cancels += 1
                    outcomes.append(runs.ItemOutcome(key=key, outcome=FAILED, action="cancel", reason=str(exc),
                                                     detail={"ref": store_order_id}))
                    continue
                cancelled.append(store_order_id)
                picked = sum(line.picked_qty for line in info.lines)
                outcomes.append(runs.ItemOutcome(
                    key=key, outcome=OK, action="cancel",
                    reason=f"{STATUS_NAMES[status]} in the store; picking order {info.number} was cancelled"
                           + (f" ({picked} already picked)." if picked else "."),
                    detail={"ref": store_order_id, "picking_order": info.id}))
            OrderImport.objects.filter(store=store, store_order_id__in=cancelled).update(
                state=OrderImport.State.CANCELLED, status_id=status, updated_at=timezone.now()
            )
            summary["cancelled"] += len(cancelled)
            # Cancellations come on top of the orders the total counts: they do not move the progress.
            runs.run_items_record(run=ctx.run, outcomes=outcomes, lock=ctx.lock, processed=0)
    summary["cancel_scan_ok"] = failed_cancels == 0
