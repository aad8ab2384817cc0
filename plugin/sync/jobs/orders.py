"""Import orders (BigCommerce -> IntelliTrack).

Every order in a status that holds stock (decision 18) is listed with its lines in one listing
(`include=consignments.line_items`), and what each line holds is kept (holds.order_lines_sync), whatever
its status and whether or not its lines match an item. The orders in the configured statuses also become
picking orders, each once (a staging row per order plus the picking order's unique store order id), with
the lines that match an item by the link table's ids; a line that matches none stays on the order as "not
managed in IntelliTrack" with its reason. A line for a product not imported yet imports that product first
(one catalog request per 250 products), then matches. Orders that left the open statuses since the last
scan (shipped, completed, refunded, cancelled, declined) update what they hold; those that turned
Cancelled, Declined or Refunded cancel their open picking order. An optional date range (min/max date
created) back-fills older orders.

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

from .. import holds, runs
from ..mappers import order_with_consignments_to_store_order
from ..models import OrderImport, StoreOrderLine, SyncRun, SyncRunItem
from .context import JobContext
from .products import products_page_import

OK, FAILED, SKIPPED = SyncRunItem.Outcome.OK, SyncRunItem.Outcome.FAILED, SyncRunItem.Outcome.SKIPPED
CLOSING_STATUSES = (4, 5, 6)  # Refunded, Cancelled, Declined
STATUS_NAMES = {2: "Shipped", 4: "Refunded", 5: "Cancelled", 6: "Declined", 10: "Completed"}
WATERMARK_OVERLAP = timedelta(hours=1)
CATALOG_BATCH = 250


def _date_filters(options: dict) -> dict:
    filters = {}
    if options.get("min_date_created"):
        filters["min_date_created"] = options["min_date_created"]
    if options.get("max_date_created"):
        filters["max_date_created"] = options["max_date_created"]
    return filters


def statuses_listed(import_statuses: list[int]) -> list[int]:
    """Every open status that holds stock, and the statuses to import (whatever they are)."""
    return sorted((set(holds.HOLDING_OPEN) | set(import_statuses)) - holds.NOT_HOLDING)


def orders_import_run(ctx: JobContext) -> dict:
    run, config = ctx.run, ctx.config
    import_statuses = [int(s) for s in (config.order_statuses_to_import or [])]
    statuses = statuses_listed(import_statuses)
    only = None
    refs = runs.run_retry_refs(run)
    if refs is not None:
        only = {ref for ref in refs if isinstance(ref, int)}
    dates = _date_filters(run.options)
    since = _listing_since(ctx) if only is None and not dates else {}
    behaviors = holds.stock_behaviors_read(ctx)
    page = _PageContext(ctx, behaviors=behaviors, import_statuses=set(import_statuses),
                        go_live_at=holds.sync_state(ctx.store).go_live_at)
    # One count request gives every status's count: only the statuses with orders are listed.
    counts = ctx.client.get_order_counts_by_status(**dates, **since)
    statuses = [status for status in statuses if counts.get(status, 0) > 0]
    runs.run_set_total(run=run, total=sum(counts.get(status, 0) for status in statuses))
    summary = {"statuses": import_statuses, "statuses_listed": statuses, "imported": 0, "waiting": 0,
               "already": 0, "cancelled": 0, "held_orders": 0, "unmanaged_lines": 0}
    listed: set[int] = set()
    for status in statuses:
        for orders in ctx.client.iter_order_pages(status_id=status, sort="id:asc", include_lines=True,
                                                  **dates, **since):
            if only is not None:
                orders = [o for o in orders if int(o["id"]) in only]
            if since:
                listed.update(int(o["id"]) for o in orders)
            outcomes = _orders_page_import(page, orders, summary)
            runs.run_items_record(run=run, outcomes=outcomes, lock=ctx.lock, processed=len(orders))
    # Every status was listed to its end (a retry or a date range lists only part of the orders).
    summary["listing_complete"] = only is None and not dates
    if since:
        summary["modified_since"] = since["min_date_modified"].isoformat()
        _orders_waiting_retry(page, statuses=import_statuses, listed=listed, summary=summary)
    holds.order_lines_relink(store=ctx.store)
    _initial_stock_for_new_products(page, summary)
    if only is None:
        _orders_left_open_scan(page, summary)
    summary["stock_behavior"] = behaviors.default
    warning = holds.stock_behavior_warning(expected_order_placed=config.stock_decreased_when_order_placed,
                                           behavior=behaviors.default)
    if warning:
        summary["warning"] = warning
    return summary


def _initial_stock_for_new_products(page: "_PageContext", summary: dict) -> None:
    """Items of products first named by an order get their stock once every order is read and relinked,
    so what all open orders hold of them is added back (after go-live; before it the inventory import
    sets it)."""
    if not page.new_products or page.go_live_at is None:
        return
    from .inventory import inventory_initial_stock

    outcomes = inventory_initial_stock(page.ctx, product_ids=page.new_products)
    runs.run_items_record(run=page.ctx.run, outcomes=outcomes, lock=page.ctx.lock, processed=0)
    summary["initial_stock_items"] = len(outcomes)


class _PageContext:
    """What every page of one order import shares."""

    def __init__(self, ctx: JobContext, *, behaviors, import_statuses: set[int], go_live_at):
        self.ctx, self.behaviors, self.import_statuses, self.go_live_at = ctx, behaviors, import_statuses, go_live_at
        self._methods = None
        # Products imported on the way (a line named them first): their items get initial stock at the end.
        self.new_products: set[int] = set()

    @property
    def methods(self) -> dict[str, str]:
        if self._methods is None:
            self._methods = _method_carriers(self.ctx)
        return self._methods


def _listing_since(ctx: JobContext) -> dict:
    """Which orders to list. An auto sync cycle: those modified since the watermark ("Last Auto Sync Completed
    On") minus the overlap (none before the first fully successful cycle). An End of Day's import
    (options["incremental"]): those modified since the last order import that listed every status, minus the
    overlap: what an order holds changes only with its status, quantities or shipments, each of which
    moves its date_modified, so the lines kept from earlier listings stay true. Staff imports, and any
    import with no complete listing before it, list every open order."""
    options = ctx.run.options or {}
    if options.get("auto_sync"):
        watermark = ctx.config.last_auto_sync_completed_on
        return {"min_date_modified": watermark - WATERMARK_OVERLAP} if watermark is not None else {}
    if options.get("incremental"):
        last = (
            SyncRun.objects.filter(store=ctx.store, job=SyncRun.Job.IMPORT_ORDERS,
                                   status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL],
                                   summary__listing_complete=True)
            .exclude(pk=ctx.run.pk).order_by("-started_at").values_list("started_at", flat=True).first()
        )
        return {"min_date_modified": last - WATERMARK_OVERLAP} if last is not None else {}
    return {}


WAITING_FETCH_BATCH = 50


def _orders_waiting_retry(page: "_PageContext", *, statuses: list[int], listed: set[int], summary: dict) -> None:
    """Retry the orders still waiting from earlier runs that the watermark's listing left out: one request
    per order (they are few: the orders IntelliTrack refused)."""
    ctx = page.ctx
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
                order = ctx.client.get_order(order_id, include_lines=True)
            except NotFoundError:
                outcomes.append(runs.ItemOutcome(key=str(order_id), outcome=SKIPPED, action="waiting",
                                                 reason="The store no longer has this order.",
                                                 detail={"ref": order_id}))
                continue
            # An order that left the statuses to import is not imported (a full listing would skip it too).
            if int(order.get("status_id") or 0) in statuses:
                orders.append(order)
        outcomes += _orders_page_import(page, orders, summary)
        runs.run_items_record(run=run, outcomes=outcomes, lock=ctx.lock, processed=len(batch))


def _line_reasons(ctx: JobContext, store_orders, links: dict) -> tuple[dict, dict, set]:
    """Import the products of lines that no link matches (products created or changed since the last
    product import), then give each line still unmatched its reason. Returns (links, reasons by
    order_product_id, and the products that got new items). One catalog request per 250 products; lines
    already known to match nothing are not asked about again."""
    store = ctx.store
    unmatched = [line for order in store_orders for line in order.lines
                 if holds.link_for_line(links, line.product_id, line.variant_id) is None]
    if not unmatched:
        return links, {}, set()
    known = set(StoreOrderLine.objects.filter(
        store=store, order_product_id__in=[line.order_product_id for line in unmatched]
    ).values_list("order_product_id", flat=True))
    product_ids = sorted({line.product_id for line in unmatched
                          if line.order_product_id not in known and line.product_id})
    outcome_reasons: dict[tuple, str] = {}
    in_catalog: set[int] = set()
    new_products: set[int] = set()
    for start in range(0, len(product_ids), CATALOG_BATCH):
        batch = product_ids[start:start + CATALOG_BATCH]
        for products in ctx.client.iter_product_pages(include_variants=True, id__in=batch):
            in_catalog.update(int(p["id"]) for p in products)
            for outcome in products_page_import(ctx, products):
                ref = outcome.detail.get("ref") or [None, None]
                if outcome.outcome != OK:
                    outcome_reasons[(ref[0], ref[1])] = outcome.reason
                elif outcome.action in ("created", "linked"):
                    new_products.add(ref[0])
    if product_ids:
        links = holds.order_lines_links(store=store, orders=store_orders)
    reasons = {}
    for line in unmatched:
        if holds.link_for_line(links, line.product_id, line.variant_id) is not None:
            continue
        if not line.product_id:
            reason = "A custom product: it is not in the store's catalog."
        elif line.order_product_id in known:
            continue  # keeps the reason it was given
        elif line.product_id not in in_catalog:
            reason = "The product is not in the store's catalog any more."
        else:
            reason = (outcome_reasons.get((line.product_id, line.variant_id))
                      or outcome_reasons.get((line.product_id, None))
                      or "No IntelliTrack item for this product or variant.")
        reasons[line.order_product_id] = reason
    return links, reasons, new_products


def orders_track_open(ctx: JobContext) -> dict:
    """Keep what every open store order holds, without importing picking orders: the full listing of the
    statuses that hold stock, with lines. The inventory import calls it so it can add back what the
    store has set aside for orders. Returns counts for the caller's summary."""
    import_statuses = [int(s) for s in (ctx.config.order_statuses_to_import or [])]
    behaviors = holds.stock_behaviors_read(ctx)
    page = _PageContext(ctx, behaviors=behaviors, import_statuses=set(),
                        go_live_at=holds.sync_state(ctx.store).go_live_at)
    summary = {"held_orders": 0}
    counts = ctx.client.get_order_counts_by_status()
    for status in statuses_listed(import_statuses):
        if not counts.get(status):
            continue
        for orders in ctx.client.iter_order_pages(status_id=status, sort="id:asc", include_lines=True):
            _orders_page_track(page, orders, summary, initial_stock=False)
            runs.run_heartbeat(run=ctx.run, lock=ctx.lock)
    holds.order_lines_relink(store=ctx.store)
    summary["stock_behavior"] = behaviors.default
    return summary


def _orders_page_track(page: "_PageContext", orders: list[dict], summary: dict, *, initial_stock: bool = True):
    """What the page's orders hold: returns the store orders, the links, the reasons of unmatched lines
    and the line rows by order_product_id. Products imported on the way are noted for their initial stock
    (`initial_stock` off when the inventory import sets it itself)."""
    ctx = page.ctx
    store = ctx.store
    store_orders = [order_with_consignments_to_store_order(order) for order in orders]
    holds.stock_behaviors_add_channels(ctx, page.behaviors, {order.channel_id for order in store_orders})
    links = holds.order_lines_links(store=store, orders=store_orders)
    links, reasons, new_products = _line_reasons(ctx, store_orders, links)
    rows = holds.order_lines_sync(store=store, orders=store_orders, behaviors=page.behaviors, links=links,
                                  reasons=reasons, go_live_at=page.go_live_at)
    summary["held_orders"] += sum(1 for order in store_orders if order.status_id not in holds.NOT_HOLDING)
    if initial_stock:
        page.new_products |= new_products
    return store_orders, links, reasons, rows


def _orders_page_import(page: "_PageContext", orders: list[dict], summary: dict) -> list[runs.ItemOutcome]:
    ctx = page.ctx
    store = ctx.store
    if not orders:
        return []
    store_orders, links, reasons, rows = _orders_page_track(page, orders, summary)

    to_import = [order for order in store_orders if order.status_id in page.import_statuses]
    staged = {
        row.store_order_id: row
        for row in OrderImport.objects.filter(
            store=store, store_order_id__in=[order.store_order_id for order in to_import]
        ).only("id", "store_order_id", "state", "attempts")
    }
    outcomes: list[runs.ItemOutcome] = []
    ready, nothing = [], []
    for order in to_import:
        row = staged.get(order.store_order_id)
        if row is not None and row.state != OrderImport.State.WAITING:
            summary["already"] += 1
            outcomes.append(runs.ItemOutcome(key=str(order.store_order_id), outcome=SKIPPED,
                                             action="already_imported",
                                             reason=f"Already {row.get_state_display().lower()}.",
                                             detail={"ref": order.store_order_id}))
            continue
        matched, unmanaged = [], []
        for line in order.lines_to_ship:
            line_row = rows.get(line.order_product_id)
            item_id = _item_of(links, line)
            if item_id is not None:
                matched.append((line, item_id))
            else:
                unmanaged.append((line, line_row.unmanaged_reason if line_row else reasons.get(
                    line.order_product_id, "No IntelliTrack item.")))
        summary["unmanaged_lines"] += len(unmanaged)
        if not matched:
            if not order.lines_to_ship:
                why = "Not imported: the order has nothing left to ship."
            else:
                why = "Not imported: no line is managed in IntelliTrack (" + "; ".join(
                    f"{line.sku or line.name}: {reason}" for line, reason in unmanaged) + ")."
            nothing.append((order, why))
        else:
            ready.append((order, matched, unmanaged))

    results = ctx.gateway.picking_orders_create(
        [_picking_order_data(ctx, order, matched, unmanaged, page.methods) for order, matched, unmanaged in ready]
    ) if ready else []

    waiting = []
    stage_rows = []
    for (order, matched, unmanaged), result in zip(ready, results, strict=True):
        if not result.ok:
            waiting.append((order, (result.reason or result.outcome) + " Retried on the next run."))
            continue
        summary["imported"] += 1
        stage_rows.append(OrderImport(store=store, store_order_id=order.store_order_id, status_id=order.status_id,
                                      state=OrderImport.State.IMPORTED, picking_order_id=result.order_id,
                                      reason=_unmanaged_text(unmanaged)))
        created = result.outcome == "created"
        reason = "" if created else "The picking order already existed."
        if unmanaged:
            reason = (reason + " " + _unmanaged_text(unmanaged)).strip()
        outcomes.append(runs.ItemOutcome(
            key=str(order.store_order_id), outcome=OK, action="created" if created else "matched",
            reason=reason, quantity_after=sum(line.remaining for line, _ in matched),
            detail={"ref": order.store_order_id, "picking_order": result.order_id, "lines": len(matched),
                    "unmanaged_lines": len(unmanaged)}))
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


def _item_of(links: dict, line) -> int | None:
    link = holds.link_for_line(links, line.product_id, line.variant_id)
    return link["item_id"] if link else None


def _unmanaged_text(unmanaged) -> str:
    if not unmanaged:
        return ""
    return "Not managed in IntelliTrack: " + "; ".join(
        f"{line.sku or line.name or line.product_id} x{line.remaining} ({reason})" for line, reason in unmanaged
    ) + "."


def _method_carriers(ctx: JobContext) -> dict[str, str]:
    """{shipping method name: carrier name} from the carriers already imported (one read per page)."""
    found = {}
    for carrier in ctx.gateway.carriers(ctx.division_code):
        for method in carrier.methods:
            found.setdefault(method.name, carrier.name)
    return found


def _picking_order_data(ctx: JobContext, order, matched, unmanaged, methods: dict[str, str]) -> PickingOrderData:
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
            PickingOrderLineData(line_number=number, item_id=item_id, ordered_qty=line.remaining,
                                 store_order_product_id=line.order_product_id, comment=line.name[:255])
            for number, (line, item_id) in enumerate(matched, start=1)
        ),
        unmanaged_lines=tuple(
            (("sku", line.sku), ("name", line.name[:255]), ("quantity", line.remaining), ("reason", reason))
            for line, reason in unmanaged
        ),
    )


def _left_open_window(ctx: JobContext) -> dict:
    """Orders modified since the last run whose scan ran and cancelled everything it had to (a retry run,
    with no scan, or a scan with a failed cancel must not move it, or that order is never looked at
    again), minus the overlap. Before any such scan: since the first order the sync tracked or imported
    (an order can only have left the open statuses after the sync first saw it open)."""
    store = ctx.store
    last = (
        SyncRun.objects.filter(store=store, job=SyncRun.Job.IMPORT_ORDERS,
                               status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL],
                               summary__cancel_scan_ok=True)
        .exclude(pk=ctx.run.pk).order_by("-started_at").values_list("started_at", flat=True).first()
    )
    if last is None:
        firsts = [
            StoreOrderLine.objects.filter(store=store).order_by("created_at").values_list("created_at", flat=True).first(),
            OrderImport.objects.filter(store=store).order_by("created_at").values_list("created_at", flat=True).first(),
        ]
        firsts = [moment for moment in firsts if moment is not None]
        if not firsts:
            return {"nothing_tracked": True}
        last = min(firsts)
    return {"min_date_modified": last - WATERMARK_OVERLAP}


def _orders_left_open_scan(page: "_PageContext", summary: dict) -> None:
    """Orders that left the open statuses since the last scan: what their lines hold follows their new
    status, and those that turned Cancelled, Declined or Refunded cancel their open picking order."""
    ctx = page.ctx
    store = ctx.store
    since = _left_open_window(ctx)
    if since.pop("nothing_tracked", False):
        summary["cancel_scan_ok"] = True
        return
    failed_cancels = 0
    for status in holds.LEFT_OPEN:
        for orders in ctx.client.iter_order_pages(status_id=status, sort="id:asc", include_lines=True, **since):
            store_orders = [order_with_consignments_to_store_order(order) for order in orders]
            holds.order_lines_sync(store=store, orders=store_orders, behaviors=page.behaviors,
                                   links=holds.order_lines_links(store=store, orders=store_orders),
                                   go_live_at=page.go_live_at, tracked_only=True)
            if status not in CLOSING_STATUSES:
                runs.run_heartbeat(run=ctx.run, lock=ctx.lock)
                continue
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
