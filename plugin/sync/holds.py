"""What store orders hold of the store's stock (DESIGN decision 18).

The store level of a linked item must be `on_hand(scope) - held`, where `held` sums over the lines of every
store order the store keeps stock aside for: the units the store has taken off its stock for the line,
less those that had left the shelf before IntelliTrack held the stock (`base_shipped`), less those
IntelliTrack has picked. Under `order_placed` the store takes a line's units at placement, so `held` is
what IntelliTrack has not picked yet. Under `order_completed_or_shipped` it takes them as they ship, so a
unit picked in IntelliTrack whose shipment the store has not recorded yet counts negative: it is added
back, because the store takes it off again when the shipment lands.

Which behaviour applied to an order is decided when its lines are first seen, from the behaviour the store
had (per channel) when the order was created, as far as the sync has observed it. Lines are matched to
items by the link table's product and variant ids only, never by SKU."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from plugin.portal import notifications

from . import binder
from .mappers import StoreOrder
from .models import StoreItemLink, StoreOrderLine, StoreSyncState

ORDER_PLACED = "order_placed"
ORDER_SHIPPED = "order_completed_or_shipped"
STOCK_BEHAVIORS = (ORDER_PLACED, ORDER_SHIPPED)
# Orders that hold nothing: incomplete, refunded, cancelled, declined.
NOT_HOLDING = frozenset({0, 4, 5, 6})
# Orders the store will not ship further: what they hold stays until IntelliTrack has picked it.
FINISHED = frozenset({2, 10})
# Orders that may still take or hold stock: listed in full by every order import.
HOLDING_OPEN = (1, 3, 7, 8, 9, 11, 12, 13, 14)
# Where a held order goes when it leaves the open statuses: scanned for changes since the last scan.
LEFT_OPEN = (2, 10, 4, 5, 6)
STOCK_LEVEL_MAX = 2_147_483_647
LINE_FIELDS = ("quantity", "quantity_shipped", "status_id", "channel_id", "link", "unmanaged_reason", "settled",
               "sku", "name", "updated_at")


def sync_state(store) -> StoreSyncState:
    state, _ = StoreSyncState.objects.get_or_create(store=store)
    return state


# --- the store's stock behaviour ------------------------------------------------------------------


@dataclass
class StockBehaviors:
    """The store's `update_stock_behavior`, globally and per channel, with what was seen before a change."""

    default: str
    channels: dict  # the StoreSyncState.stock_behaviors record: {"channel id": {...}}

    def now(self, channel_id: int) -> str:
        entry = self.channels.get(str(channel_id))
        return entry["behavior"] if entry else self.default

    def at_placement(self, channel_id: int, created_at: datetime | None) -> str:
        """The behaviour when an order was created: the one seen before the last change for orders created
        up to the last time the old one was still seen, the current one otherwise."""
        entry = self.channels.get(str(channel_id))
        if not entry:
            return self.default
        changed_after = entry.get("changed_after")
        if entry.get("previous") and changed_after and created_at is not None:
            if created_at <= datetime.fromisoformat(changed_after):
                return entry["previous"]
        return entry["behavior"]


def _behavior_of(settings: dict) -> str:
    value = str((settings or {}).get("update_stock_behavior") or "")
    return value if value in STOCK_BEHAVIORS else ORDER_PLACED


def stock_behaviors_read(ctx, *, channel_ids: Iterable[int] = (1,)) -> StockBehaviors:
    """Read what the store really does (globally and for each channel named) and remember it, noting a
    change since the last read. Saves the global behaviour on the connection for the pages."""
    store = ctx.store
    now = timezone.now()
    default = _behavior_of(ctx.client.get_inventory_settings())
    state = sync_state(store)
    record = dict(state.stock_behaviors or {})
    for channel_id in sorted({int(c) for c in channel_ids} | {1}):
        behavior = _behavior_of(ctx.client.get_inventory_settings(channel_id=channel_id))
        _remember(record, str(channel_id), behavior, now)
    _remember(record, "default", default, now)
    state.stock_behaviors = record
    state.stock_behavior_read_at = now
    state.save(update_fields=["stock_behaviors", "stock_behavior_read_at"])
    if store.remote_update_stock_behavior != default:
        store.remote_update_stock_behavior = default
        store.save(update_fields=["remote_update_stock_behavior"])
    notifications.notice_stock_setting(ctx=ctx, behavior=default)  # mailed when it differs from the flag
    return StockBehaviors(default=default, channels=record)


def stock_behaviors_known(store) -> StockBehaviors:
    """The behaviours as last read (no request); the store's default when never read."""
    record = dict(sync_state(store).stock_behaviors or {})
    default = (record.get("default") or {}).get("behavior") or store.remote_update_stock_behavior or ORDER_PLACED
    return StockBehaviors(default=default, channels=record)


def stock_behaviors_add_channels(ctx, behaviors: StockBehaviors, channel_ids: Iterable[int]) -> None:
    """Read the behaviour of channels not read yet in this run (one request each)."""
    missing = sorted({int(c) for c in channel_ids} - {int(k) for k in behaviors.channels if k != "default"})
    if not missing:
        return
    now = timezone.now()
    for channel_id in missing:
        _remember(behaviors.channels, str(channel_id),
                  _behavior_of(ctx.client.get_inventory_settings(channel_id=channel_id)), now)
    StoreSyncState.objects.filter(store=ctx.store).update(stock_behaviors=behaviors.channels)


def _remember(record: dict, key: str, behavior: str, now: datetime) -> None:
    entry = dict(record.get(key) or {})
    if entry.get("behavior") and entry["behavior"] != behavior:
        entry["previous"] = entry["behavior"]
        entry["changed_after"] = entry.get("seen_at")
        entry["changed_seen_at"] = now.isoformat()
    entry["behavior"] = behavior
    entry["seen_at"] = now.isoformat()
    record[key] = entry


def stock_behavior_warning(*, expected_order_placed: bool, behavior: str) -> str:
    """The warning shown when the configuration's flag disagrees with what the store does ("" if not)."""
    if (behavior == ORDER_PLACED) == bool(expected_order_placed):
        return ""
    does = "when an order is placed" if behavior == ORDER_PLACED else "when an order is completed or shipped"
    flag = "on" if expected_order_placed else "off"
    return (f"The store takes stock off {does}, but \"Stock decreased when order placed\" is {flag} in the "
            f"configuration. End of Day computes with what the store does.")


# --- order lines ----------------------------------------------------------------------------------


def link_for_line(links: dict, product_id: int, variant_id: int | None) -> dict | None:
    """The link of a line by ids only: the variant's own link (tracked by variant), else the product's
    (tracked by product)."""
    if variant_id is not None:
        link = links.get((int(product_id), int(variant_id)))
        if link is not None:
            return link if not link.get("retired_at") else None
    link = links.get((int(product_id), None))
    if link is not None and link["tracking"] == StoreItemLink.Tracking.PRODUCT and not link.get("retired_at"):
        return link
    return None


def order_lines_links(*, store, orders: list[StoreOrder]) -> dict:
    return binder.links_for_products(
        store=store, product_ids={line.product_id for order in orders for line in order.lines}
    )


def order_lines_sync(
    *, store, orders: list[StoreOrder], behaviors: StockBehaviors, links: dict, reasons: dict | None = None,
    go_live_at: datetime | None = None, tracked_only: bool = False,
) -> dict[int, StoreOrderLine]:
    """Write what these orders' lines hold: new lines of orders that hold stock are added, known lines
    take the order's new status, quantities and (when it matches now) link. `reasons` gives the reason
    of each unmatched line by order_product_id. With `tracked_only`, orders not tracked yet are left
    out (a scan of orders that left the open statuses). Two statements at most, plus the read."""
    reasons = reasons or {}
    ids = [order.store_order_id for order in orders]
    existing = {
        row.order_product_id: row
        for row in StoreOrderLine.objects.filter(store=store, store_order_id__in=ids)
    }
    by_order: dict[int, list[StoreOrderLine]] = defaultdict(list)
    for row in existing.values():
        by_order[row.store_order_id].append(row)
    now = timezone.now()
    new, changed = [], []
    rows: dict[int, StoreOrderLine] = {}
    for order in orders:
        for line in order.lines:
            link = link_for_line(links, line.product_id, line.variant_id)
            link_id = link["id"] if link else None
            reason = "" if link else reasons.get(line.order_product_id, "No IntelliTrack item for this product.")
            row = existing.get(line.order_product_id)
            if row is None:
                if tracked_only or order.status_id in NOT_HOLDING:
                    continue
                behavior = behaviors.at_placement(order.channel_id, order.created_at)
                before_go_live = go_live_at is None or order.created_at is None or order.created_at < go_live_at
                row = StoreOrderLine(
                    store=store, store_order_id=order.store_order_id, order_product_id=line.order_product_id,
                    product_id=line.product_id, variant_id=line.variant_id, sku=line.sku[:255],
                    name=line.name[:255], link_id=link_id, unmanaged_reason=reason, quantity=line.quantity,
                    quantity_shipped=line.quantity_shipped,
                    base_shipped=line.quantity_shipped if before_go_live else 0,
                    taken_at_placement=behavior == ORDER_PLACED,
                    status_id=order.status_id, channel_id=order.channel_id,
                    settled=False, order_created_at=order.created_at,
                )
                new.append(row)
            else:
                values = {
                    "quantity": line.quantity, "quantity_shipped": line.quantity_shipped,
                    "status_id": order.status_id, "channel_id": order.channel_id,
                    # A line that matches no item keeps the reason; one that matches now takes its link.
                    "link_id": link_id if link_id is not None else row.link_id,
                    "unmanaged_reason": "" if (link_id or row.link_id) else reason,
                    # A line no item manages holds nothing once its order is finished: it leaves the sums.
                    "settled": order.status_id in NOT_HOLDING or (order.status_id in FINISHED and (
                        row.settled or (link_id or row.link_id) is None)),
                    "sku": line.sku[:255], "name": line.name[:255],
                }
                if any(getattr(row, name) != value for name, value in values.items()):
                    for name, value in values.items():
                        setattr(row, name, value)
                    row.updated_at = now
                    changed.append(row)
            rows[line.order_product_id] = row
        # A line the order no longer has (removed by an edit) holds nothing any more. Only when the
        # listing carried the order's lines: an order listed without them says nothing about its lines.
        if order.lines:
            listed = {line.order_product_id for line in order.lines}
            for row in by_order.get(order.store_order_id, ()):
                if row.order_product_id not in listed and not row.settled:
                    row.settled, row.updated_at = True, now
                    changed.append(row)
    if new:
        StoreOrderLine.objects.bulk_create(new, batch_size=1000)
    if changed:
        StoreOrderLine.objects.bulk_update(changed, LINE_FIELDS, batch_size=1000)
    return rows


def order_lines_relink(*, store) -> int:
    """Give the lines that matched no item their link when one exists now (products imported since).
    One read of the unmatched lines and one update."""
    unmatched = list(StoreOrderLine.objects.filter(store=store, link__isnull=True, settled=False))
    if not unmatched:
        return 0
    links = binder.links_for_products(store=store, product_ids={row.product_id for row in unmatched})
    changed = []
    for row in unmatched:
        link = link_for_line(links, row.product_id, row.variant_id)
        if link is not None:
            row.link_id, row.unmanaged_reason = link["id"], ""
            changed.append(row)
    if changed:
        StoreOrderLine.objects.bulk_update(changed, ["link", "unmanaged_reason"], batch_size=1000)
    return len(changed)


def units_taken(*, quantity: int, quantity_shipped: int, status_id: int, taken_at_placement: bool) -> int:
    """How many units of a line the store has taken off its stock so far."""
    if status_id in NOT_HOLDING:
        return 0
    if taken_at_placement or status_id in FINISHED:
        return quantity
    return min(quantity, quantity_shipped)


def line_held(*, quantity: int, quantity_shipped: int, base_shipped: int, status_id: int,
              taken_at_placement: bool, picked: int) -> int:
    """What one line holds of the store's stock beyond IntelliTrack's on-hand: positive while the store has
    taken units that are still on the shelf, negative for units picked that the store has not taken yet."""
    if status_id in NOT_HOLDING:
        return 0
    held = units_taken(quantity=quantity, quantity_shipped=quantity_shipped, status_id=status_id,
                       taken_at_placement=taken_at_placement) - base_shipped - picked
    return max(0, held) if status_id in FINISHED else held


HELD_COLUMNS = ("id", "store_order_id", "order_product_id", "link__item_id", "quantity", "quantity_shipped",
                "base_shipped", "status_id", "taken_at_placement")


def held_lines(*, store):
    """The lines that may hold stock: linked, not settled, in a holding status. Streamed."""
    return (
        StoreOrderLine.objects.filter(store=store, link__isnull=False, settled=False)
        .exclude(status_id__in=NOT_HOLDING)
        .order_by("id")
        .values_list(*HELD_COLUMNS)
        .iterator(chunk_size=5000)
    )


def held_store_order_ids(*, store) -> list[int]:
    return list(
        StoreOrderLine.objects.filter(store=store, link__isnull=False, settled=False)
        .exclude(status_id__in=NOT_HOLDING)
        .order_by().values_list("store_order_id", flat=True).distinct()
    )


@dataclass
class Holds:
    by_item: dict  # item id -> units held (negative: added back)
    settled: list  # ids of finished lines that hold nothing any more
    lines: int


def holds_compute(*, store, gateway) -> Holds:
    """`held` per item id, from the lines and what IntelliTrack picked for them. Run it in the same
    snapshot as the on-hand read (see jobs.eod.stock_snapshot)."""
    picked = gateway.picked_by_store_line(store.pk, held_store_order_ids(store=store))
    by_item: dict[int, int] = defaultdict(int)
    settled, count = [], 0
    for (row_id, _order, order_product_id, item_id, quantity, shipped, base, status_id,
         taken) in held_lines(store=store):
        count += 1
        held = line_held(quantity=quantity, quantity_shipped=shipped, base_shipped=base, status_id=status_id,
                         taken_at_placement=taken, picked=int(picked.get(order_product_id, 0)))
        if held:
            by_item[item_id] += held
        elif status_id in FINISHED:
            settled.append(row_id)
    return Holds(by_item=dict(by_item), settled=settled, lines=count)


def holds_settle(line_ids: list[int]) -> None:
    """Leave finished lines that hold nothing out of later sums (they cannot hold again)."""
    for start in range(0, len(line_ids), 10_000):
        StoreOrderLine.objects.filter(id__in=line_ids[start:start + 10_000]).update(settled=True)


def level_for_store(*, on_hand: int, held: int) -> tuple[int, bool]:
    """The level to send and whether it was capped to BigCommerce's range."""
    level = on_hand - held
    if level < 0:
        return 0, False
    if level > STOCK_LEVEL_MAX:
        return STOCK_LEVEL_MAX, True
    return level, False
