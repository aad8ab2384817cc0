"""Export fulfillments (IntelliTrack -> BigCommerce): picks become store shipments (DESIGN decision 10).

A run has two phases.

**Capture.** IntelliTrack writes a pick and its ledger row in one transaction, and a ledger row is never
changed afterwards. The store's `StoreSyncState.fulfillments_cursor` says up to which ledger row its picks
already have outbox rows. Each run reads the picks after the cursor through the gateway (`picks_since`,
which stops at the ledger's safe high-water mark: a row id below it can no longer appear, so no pick still
being written is skipped) and, in ONE transaction with the state row locked, writes their
`ShipmentOutbox` rows and moves the cursor past them. This equals "an outbox row written in the same
transaction as the pick": the outbox row is a pure function of an immutable committed row, and the rows
and the cursor commit together, so a pick is either behind the cursor with its outbox row, or ahead of it
with none and read again by the next run; never lost, never captured twice. A worker killed in between
rolls the capture back whole. (It also keeps the IntelliTrack side free of any knowledge of stores.)

Fulfillment mode "per pick": one row per pick. Mode "on close": a pick of an order still open joins the
order's `pending_close` row (one per picking order), which becomes `pending` once the picking order has
closed (or was cancelled): one shipment of everything picked and not shipped yet. The rows stay in the
outbox while they wait, so the cursor never has to wait for them.

**Send.** Rows `pending` or `checking` go out, grouped by store order: one `GET /v2/orders/{id}` with its
consignments per order (never per line) gives each line's `order_address_id` and the order's status; a
row whose lines ship to several addresses is split into one row per address first. A row is marked
`checking` (committed) before its POST, so a worker that dies after the store took the shipment leaves
it `checking`, never `pending`: every `checking` row reads the order's shipments first and is `sent` if a
shipment with the same address, items and tracking number is there, else sent again. A POST without a
usable answer (timeout, 5xx) leaves the row `checking`; a refusal (400/422, an order the store no longer
ships: Cancelled, Declined, Refunded) makes it `refused` with the reason, reported and never retried; a
connection that failed before sending leaves it `pending` and ends the run as failed. With "Allow writes
to BigCommerce" off nothing is sent: rows stay pending and the run says so."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from plugin.bigcommerce.client import order_line_items
from plugin.bigcommerce.errors import (
    AuthError,
    BigCommerceError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    TransientError,
)

from .. import holds, runs
from ..mappers import SHIPMENT_PROVIDERS
from ..models import ShipmentOutbox, StoreSyncState, SyncRun, SyncRunItem
from .context import JobContext

OK, FAILED, SKIPPED, UNCERTAIN = (SyncRunItem.Outcome.OK, SyncRunItem.Outcome.FAILED,
                                  SyncRunItem.Outcome.SKIPPED, SyncRunItem.Outcome.UNCERTAIN)
State = ShipmentOutbox.State
PER_PICK, ON_CLOSE = "per_pick", "on_close"
PICK_PAGE = 1000
ORDERS_PER_CHUNK = 100
# Store orders that take no more shipments.
NOT_SHIPPABLE = {0: "Incomplete", 4: "Refunded", 5: "Cancelled", 6: "Declined"}

# --- carriers (pure) --------------------------------------------------------------------------------

# IntelliTrack carrier name (as the carrier import names them) or provider code -> shipping_provider.
PROVIDER_BY_NAME = {
    **{code: code for code in SHIPMENT_PROVIDERS},
    **{name.casefold(): code for code, name in SHIPMENT_PROVIDERS.items()},
}
# The AfterShip courier slug of the providers that have an obvious one.
TRACKING_CARRIERS = {"auspost": "australia-post", "canadapost": "canada-post", "usps": "usps", "fedex": "fedex",
                     "royalmail": "royal-mail", "ups": "ups"}


def shipment_carrier(carrier_name: str) -> tuple[str, str]:
    """(shipping_provider, tracking_carrier) for an IntelliTrack carrier name; ("", "") when the store
    knows no such provider (the shipment then carries a plain tracking number)."""
    provider = PROVIDER_BY_NAME.get(" ".join((carrier_name or "").split()).casefold(), "")
    return provider, TRACKING_CARRIERS.get(provider, "")


def unknown_carrier_note(carrier_name: str) -> str:
    return (f"Carrier \"{carrier_name}\" is not a BigCommerce shipping provider: the tracking number is sent "
            "without a carrier.")


def _item_key(items) -> dict[int, int]:
    totals: dict[int, int] = defaultdict(int)
    for item in items or []:
        totals[int(item["order_product_id"])] += int(item["quantity"])
    return dict(totals)


def shipment_matches(shipment: dict, row: ShipmentOutbox) -> bool:
    """Whether a shipment read from the store is this row's: same address, tracking number and items."""
    return (int(shipment.get("order_address_id") or 0) == int(row.order_address_id)
            and str(shipment.get("tracking_number") or "") == row.tracking_number
            and _item_key(shipment.get("items")) == _item_key(row.items))


# --- the runner ---------------------------------------------------------------------------------------


def fulfillments_export_run(ctx: JobContext) -> dict:
    summary = {"mode": ctx.config.fulfillment_mode, "picks_captured": 0, "shipments_queued": 0,
               "waiting_for_close": 0, "sent": 0, "confirmed": 0, "refused": 0, "uncertain": 0,
               "left_pending": 0}
    _capture(ctx, summary)
    _promote(ctx, summary)
    summary["waiting_for_close"] = ShipmentOutbox.objects.filter(
        store=ctx.store, state=State.PENDING_CLOSE).count()
    if SyncRun.objects.filter(store=ctx.store, job=SyncRun.Job.EOD_EXPORT, status=SyncRun.Status.RUNNING).exists():
        # A shipment landing between the End of Day's order import and its absolute levels would be taken
        # off by the store (when it takes stock at shipping) and then overwritten: it waits for the next run.
        summary["note"] = "An End of Day of this store is running: the shipments wait for the next run."
        summary["waiting_for_end_of_day"] = True
        return summary
    _send(ctx, summary)
    return summary


# --- capture ------------------------------------------------------------------------------------------


def _capture(ctx: JobContext, summary: dict) -> None:
    store = ctx.store
    state_pk = holds.sync_state(store).pk
    cursor = StoreSyncState.objects.values_list("fulfillments_cursor", flat=True).get(pk=state_pk)
    mode = ctx.config.fulfillment_mode
    while True:
        # Read outside the transaction: the gateway's high-water read must not sit inside one.
        page = ctx.gateway.picks_since(cursor, store_id=store.pk, limit=PICK_PAGE)
        if page.next_cursor <= cursor and not page.picks:
            return
        with transaction.atomic():
            locked = StoreSyncState.objects.select_for_update().get(pk=state_pk)
            moved = locked.fulfillments_cursor != cursor
            if not moved:
                _capture_page(ctx, page.picks, mode=mode, summary=summary)
                locked.fulfillments_cursor = max(cursor, page.next_cursor)
                locked.save(update_fields=["fulfillments_cursor"])
        runs.run_heartbeat(run=ctx.run, lock=ctx.lock)
        if moved:  # another capture got there first: read again from where it stopped
            cursor = locked.fulfillments_cursor
            continue
        cursor = locked.fulfillments_cursor
        if len(page.picks) < PICK_PAGE:
            return


def _capture_page(ctx: JobContext, picks, *, mode: str, summary: dict) -> None:
    """Outbox rows for one page of picks, inside the capture transaction: a few statements a page."""
    store = ctx.store
    skipped = []
    usable = []
    for pick in picks:
        if not pick.store_order_id or not pick.store_order_product_id:
            skipped.append(runs.ItemOutcome(
                key=str(pick.store_order_id or pick.order_number), outcome=SKIPPED, action="pick",
                reason=f"Pick {pick.pick_id} of line {pick.line_number} is not of a store order line: no shipment.",
                detail={"pick": pick.pick_id}))
            continue
        usable.append(pick)
    summary["picks_captured"] += len(usable)
    new: list[ShipmentOutbox] = []
    changed: list[ShipmentOutbox] = []
    if mode == ON_CLOSE:
        # An order's row not sent yet (never tried) takes its new picks, also once the order has closed:
        # one shipment of everything picked and not shipped when the order closes.
        waiting = {
            row.picking_order_id: row
            for row in ShipmentOutbox.objects.select_for_update().filter(
                store=store, mode=ON_CLOSE, state__in=[State.PENDING_CLOSE, State.PENDING], attempts=0,
                picking_order_id__in={p.order_id for p in usable}).order_by("id")
        }
        for pick in usable:
            row = waiting.get(pick.order_id)
            if row is None:
                row = _new_row(ctx, pick, mode=ON_CLOSE, state=State.PENDING_CLOSE)
                waiting[pick.order_id] = row
                new.append(row)
            else:
                _add_pick(row, pick)
                if row.pk is not None and row not in changed:
                    changed.append(row)
            if pick.order_status != "open":
                row.state = State.PENDING
    else:
        new = [_new_row(ctx, pick, mode=PER_PICK, state=State.PENDING) for pick in usable]
    if new:
        ShipmentOutbox.objects.bulk_create(new, batch_size=1000)
    if changed:
        ShipmentOutbox.objects.bulk_update(changed, ["items", "pick_ids", "cursor_last", "tracking_number",
                                                     "carrier_name", "shipping_provider", "tracking_carrier",
                                                     "note", "state", "updated_at"], batch_size=1000)
    summary["shipments_queued"] += sum(1 for row in new if row.state == State.PENDING)
    if skipped:
        runs.run_items_record(run=ctx.run, outcomes=skipped, lock=ctx.lock, processed=0)


def _new_row(ctx: JobContext, pick, *, mode: str, state: str) -> ShipmentOutbox:
    row = ShipmentOutbox(store=ctx.store, store_order_id=pick.store_order_id, picking_order_id=pick.order_id,
                         mode=mode, state=state, items=[], pick_ids=[], cursor_first=pick.cursor,
                         cursor_last=pick.cursor, run=ctx.run)
    _add_pick(row, pick)
    return row


def _add_pick(row: ShipmentOutbox, pick) -> None:
    """Add a pick's units to a row; its tracking number and carrier (when entered) become the row's."""
    for item in row.items:
        if item["order_product_id"] == pick.store_order_product_id:
            item["quantity"] += pick.quantity
            item["pick_ids"].append(pick.pick_id)
            break
    else:
        row.items.append({"order_product_id": pick.store_order_product_id, "quantity": pick.quantity,
                          "pick_ids": [pick.pick_id]})
    row.pick_ids.append(pick.pick_id)
    row.cursor_last = max(row.cursor_last, pick.cursor)
    if pick.tracking_number:
        if row.tracking_number and row.tracking_number != pick.tracking_number:
            row.note = (f"The picks carried several tracking numbers; the shipment carries the last one "
                        f"({pick.tracking_number}).")
        row.tracking_number = pick.tracking_number
    if pick.carrier_name:
        row.carrier_name = pick.carrier_name[:100]
        row.shipping_provider, row.tracking_carrier = shipment_carrier(pick.carrier_name)


def _promote(ctx: JobContext, summary: dict) -> None:
    """Rows waiting for their order to close become pending once it is closed or cancelled (any row
    waiting under mode "per pick": the mode was switched)."""
    store = ctx.store
    waiting = ShipmentOutbox.objects.filter(store=store, state=State.PENDING_CLOSE)
    if ctx.config.fulfillment_mode != ON_CLOSE:
        summary["shipments_queued"] += waiting.update(state=State.PENDING, updated_at=timezone.now())
        return
    order_ids = set(waiting.values_list("store_order_id", flat=True))
    if not order_ids:
        return
    orders = ctx.gateway.picking_orders_get(store_id=store.pk, store_order_ids=order_ids)
    still_open = [info.id for info in orders.values() if info.status == "open"]
    summary["shipments_queued"] += waiting.exclude(picking_order_id__in=still_open).update(
        state=State.PENDING, updated_at=timezone.now())


# --- send ---------------------------------------------------------------------------------------------


class _StoreUnreachable(Exception):
    def __init__(self, error: BigCommerceError):
        self.error = error
        super().__init__(str(error))


@dataclass
class _Result:
    row: ShipmentOutbox
    outcome: str
    action: str
    reason: str = ""


def _send(ctx: JobContext, summary: dict) -> None:
    store = ctx.store
    queue = ShipmentOutbox.objects.filter(store=store, state__in=[State.PENDING, State.CHECKING])
    if not ctx.config.allow_writes_to_bigcommerce:
        count = queue.count()
        summary.update(writes_off=True, dry_run=True, left_pending=count)
        summary["note"] = (f"\"Allow writes to BigCommerce\" is off: nothing was sent; {count} shipment(s) stay "
                           "pending until writes are allowed.")
        runs.run_set_total(run=ctx.run, total=count)
        outcomes = [runs.ItemOutcome(key=str(row.store_order_id), outcome=SKIPPED, action="shipment",
                                     reason="Not sent: \"Allow writes to BigCommerce\" is off.",
                                     quantity_after=row.quantity, detail=_detail(row))
                    for row in queue.order_by("id").iterator(chunk_size=1000)]
        runs.run_items_record(run=ctx.run, outcomes=outcomes, lock=ctx.lock)
        return
    order_ids = list(dict.fromkeys(queue.order_by("id").values_list("store_order_id", flat=True)))
    runs.run_set_total(run=ctx.run, total=queue.count())
    try:
        for start in range(0, len(order_ids), ORDERS_PER_CHUNK):
            chunk = order_ids[start:start + ORDERS_PER_CHUNK]
            by_order: dict[int, list[ShipmentOutbox]] = defaultdict(list)
            for row in queue.filter(store_order_id__in=chunk).order_by("id"):
                by_order[row.store_order_id].append(row)
            for order_id in chunk:
                if by_order.get(order_id):
                    _send_order(ctx, order_id, by_order[order_id], summary)
    except (_StoreUnreachable, TransientError, RateLimitedError, AuthError) as exc:
        # The store cannot be reached (or refuses our credentials): what is left waits for the next run,
        # and the run fails with the reason (its summary kept).
        summary["left_pending"] = queue.count()
        SyncRun.objects.filter(pk=ctx.run.pk).update(summary={**(ctx.run.summary or {}), **summary})
        raise (exc.error if isinstance(exc, _StoreUnreachable) else exc) from None
    summary["left_pending"] = queue.count()


def _send_order(ctx: JobContext, order_id: int, rows: list[ShipmentOutbox], summary: dict) -> None:
    """Send one store order's rows: one read of the order, one read of its shipments when a row is
    `checking`, then a POST per shipment."""
    results: list[_Result] = []
    try:
        try:
            order = ctx.client.get_order(order_id, include_lines=True)
        except NotFoundError:
            for row in rows:
                results.append(_refuse(row, f"Store order {order_id} does not exist in the store any more."))
            return
        to_send = _confirm_checking(ctx, order_id, rows, results)
        status_id = int(order.get("status_id") or 0)
        if status_id in NOT_SHIPPABLE:
            for row in to_send:
                results.append(_refuse(row, f"The store order is {NOT_SHIPPABLE[status_id]}: the shipment was "
                                            "not sent."))
            return
        to_send = _addressed(ctx, order_id, to_send, order, results)
        _post(ctx, order_id, to_send, results)
    finally:
        _save_results(ctx, results, summary)


def _confirm_checking(ctx: JobContext, order_id: int, rows, results) -> list[ShipmentOutbox]:
    """Rows whose last send may have reached the store: `sent` when the store has their shipment (one
    read of the order's shipments), else sent again. Returns the rows still to send."""
    checking = [row for row in rows if row.state == State.CHECKING]
    if not checking:
        return rows
    shipments = ctx.client.list_order_shipments(order_id)
    claimed = set(ShipmentOutbox.objects.filter(store=ctx.store, store_order_id=order_id,
                                                store_shipment_id__isnull=False)
                  .values_list("store_shipment_id", flat=True))
    still = []
    for row in rows:
        if row.state != State.CHECKING:
            still.append(row)
            continue
        match = next((s for s in shipments if int(s.get("id") or 0) not in claimed and shipment_matches(s, row)),
                     None)
        if match is None:
            row.note = _join(row.note, "Not found among the store's shipments after an unknown outcome: sent again.")
            still.append(row)
            continue
        claimed.add(int(match["id"]))
        row.state, row.store_shipment_id, row.sent_at, row.error = State.SENT, int(match["id"]), timezone.now(), ""
        results.append(_Result(row, OK, "confirmed", _join(
            "The store already had this shipment (its earlier send had an unknown outcome): not sent again.",
            _carrier_reason(row))))
    return still


def _addressed(ctx: JobContext, order_id: int, rows, order: dict, results) -> list[ShipmentOutbox]:
    """Give every row its order address from the order's lines, splitting a row whose lines ship to
    several addresses into one row per address; written before anything is sent."""
    lines = {int(line["id"]): line for line in order_line_items(order)}
    ready, new = [], []
    for row in rows:
        groups: dict[int, list[dict]] = defaultdict(list)
        missing = []
        for item in row.items:
            line = lines.get(int(item["order_product_id"]))
            if line is None or not int(line.get("order_address_id") or 0):
                missing.append(str(item["order_product_id"]))
            else:
                groups[int(line["order_address_id"])].append(item)
        if missing:
            results.append(_refuse(row, f"Order product(s) {', '.join(missing)} are not shipping lines of store "
                                        f"order {order_id}."))
            continue
        if row.order_address_id and list(groups) != [row.order_address_id]:
            results.append(_refuse(row, "The store order's lines moved to another address since the last send."))
            continue
        (first, first_items), *others = groups.items()
        row.order_address_id, row.items = first, first_items
        row.pick_ids = sorted({pick for item in first_items for pick in item.get("pick_ids", [])})
        ready.append(row)
        for address_id, items in others:
            split = ShipmentOutbox(
                store=row.store, store_order_id=row.store_order_id, picking_order_id=row.picking_order_id,
                mode=row.mode, order_address_id=address_id, items=items,
                pick_ids=sorted({pick for item in items for pick in item.get("pick_ids", [])}),
                tracking_number=row.tracking_number, carrier_name=row.carrier_name,
                shipping_provider=row.shipping_provider, tracking_carrier=row.tracking_carrier,
                state=row.state, cursor_first=row.cursor_first, cursor_last=row.cursor_last, run=ctx.run,
                note=_join(row.note, "The order ships to several addresses: one shipment per address."))
            new.append(split)
    if not ready and not new:
        return []
    now = timezone.now()
    with transaction.atomic():
        if new:
            ShipmentOutbox.objects.bulk_create(new)
        ready.extend(new)
        # Marked `checking` before the POSTs: a worker that dies after the store took a shipment leaves its
        # row to be checked against the store's shipments, never sent blind.
        for row in ready:
            row.state, row.attempts, row.run, row.updated_at = State.CHECKING, row.attempts + 1, ctx.run, now
        ShipmentOutbox.objects.bulk_update(ready, ["order_address_id", "items", "pick_ids", "state", "attempts",
                                                   "run", "note", "updated_at"])
    return ready


def _post(ctx: JobContext, order_id: int, rows, results) -> None:
    for index, row in enumerate(rows):
        try:
            shipment = ctx.client.create_shipment(
                order_id, order_address_id=int(row.order_address_id),
                items=[{"order_product_id": int(i["order_product_id"]), "quantity": int(i["quantity"])}
                       for i in row.items],
                tracking_number=row.tracking_number, shipping_provider=row.shipping_provider,
                tracking_carrier=row.tracking_carrier)
        except OutcomeUnknownError as exc:
            row.error = str(exc)
            results.append(_Result(row, UNCERTAIN, "shipment", f"{exc} The store's shipments are read before it "
                                                               "is sent again."))
        except (TransientError, RateLimitedError, AuthError) as exc:
            # Nothing reached the store: this row and the rest of the order's wait for the next run.
            for left in rows[index:]:
                left.state, left.error = State.PENDING, str(exc)
                results.append(_Result(left, SKIPPED, "shipment", f"Not sent ({exc}); stays pending."))
            raise _StoreUnreachable(exc) from None
        except BigCommerceError as exc:  # a refusal: 400/422, 404, other 4xx, or the client's own checks
            results.append(_refuse(row, _refusal_text(exc)))
        else:
            row.state, row.error, row.sent_at = State.SENT, "", timezone.now()
            row.store_shipment_id = int(shipment.get("id") or 0) or None
            results.append(_Result(row, OK, "shipment", _carrier_reason(row)))


def _refusal_text(exc: BigCommerceError) -> str:
    errors = getattr(exc, "errors", None) or {}
    detail = "; ".join(f"{key}: {value}" for key, value in errors.items() if not str(key).isdigit())
    return f"{exc}" + (f" ({detail})" if detail else "")


def _refuse(row: ShipmentOutbox, reason: str) -> _Result:
    row.state, row.error = State.REFUSED, reason
    return _Result(row, FAILED, "shipment", reason + " Not retried.")


def _carrier_reason(row: ShipmentOutbox) -> str:
    return unknown_carrier_note(row.carrier_name) if row.carrier_name and not row.shipping_provider else ""


def _join(*parts: str) -> str:
    return " ".join(part for part in parts if part)


def _detail(row: ShipmentOutbox) -> dict:
    return {"ref": row.pk, "outbox": row.pk, "order_address_id": row.order_address_id,
            "items": [{"order_product_id": i["order_product_id"], "quantity": i["quantity"]} for i in row.items],
            "tracking_number": row.tracking_number, "carrier": row.carrier_name,
            "shipping_provider": row.shipping_provider, "tracking_carrier": row.tracking_carrier,
            "picks": row.pick_ids, "state": row.state}


SUMMARY_KEY = {("shipment", OK): "sent", ("confirmed", OK): "confirmed", ("shipment", FAILED): "refused",
               ("shipment", UNCERTAIN): "uncertain"}


def _save_results(ctx: JobContext, results: list[_Result], summary: dict) -> None:
    if not results:
        return
    now = timezone.now()
    rows = []
    for result in results:
        result.row.run, result.row.updated_at = ctx.run, now
        if result.row.pk is not None and result.row not in rows:
            rows.append(result.row)
        key = SUMMARY_KEY.get((result.action, result.outcome))
        if key:
            summary[key] += 1
    ShipmentOutbox.objects.bulk_update(rows, ["state", "store_shipment_id", "sent_at", "error", "note", "run",
                                              "order_address_id", "items", "pick_ids", "updated_at"])
    runs.run_items_record(run=ctx.run, lock=ctx.lock, outcomes=[
        runs.ItemOutcome(key=str(result.row.store_order_id), outcome=result.outcome, action=result.action,
                         reason=result.reason, quantity_after=result.row.quantity,
                         store_transaction_id=str(result.row.store_shipment_id or ""), detail=_detail(result.row))
        for result in results])

