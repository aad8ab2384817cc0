"""Import inventory (BigCommerce -> IntelliTrack): the store's on-hand at its configured location becomes
the on-hand of the linked item at the default Division-Site-Location, in the default UOM. A store with
several mapped locations (plugin/sync/locations.py) has each mapped location's level read into its own
site's location (the mapped location, or the site's first by code); open orders' holds are added back
at the default location only, where they are counted.

Only items with no stock record there yet are set, unless the run was started with overwrite confirmed.
Inventory rows of products not imported (no link) are reported.

On-hand is the store's level plus what open orders hold (decision 18): under "stock decreased when order
placed" the store no longer counts units set aside for orders that are still on the shelf, so the first End
of Day after go-live changes no level that nothing physical changed. The open orders are read (with their
lines) first, and the first inventory import marks when IntelliTrack started holding the store's stock."""
from collections import Counter
from typing import NamedTuple

from django.utils import timezone

from plugin.intellitrack.gateway import StockRow

from .. import binder, holds, locations, runs
from ..mappers import StoreLevels, inventory_levels_add
from ..models import StoreItemLink, SyncRunItem
from .adjustments import adjustments_start_at_go_live
from .context import JobContext
from .orders import orders_track_open
from .products import collection_total

OK, FAILED, SKIPPED = SyncRunItem.Outcome.OK, SyncRunItem.Outcome.FAILED, SyncRunItem.Outcome.SKIPPED


STOCK_SET = {"set": "set_stock", "overwritten": "overwritten", "unchanged": "unchanged"}


class _Target(NamedTuple):
    store_location_id: int
    landing_location_id: int | None  # the IntelliTrack location the level lands at
    holds: bool  # the default location: what open orders hold is added back
    name: str  # "" with one location (the run items' keys stay as they were)


def _targets(ctx: JobContext) -> list[_Target]:
    """Where each mapped store location's levels land: the default location at the Basic Configuration's
    Default Location, with what open orders hold added back; each other mapped location at its own
    location (or its site's first location), as read (see plugin/sync/locations.py)."""
    mapping = locations.mapping_for(ctx)
    if not mapping.is_multi:
        return [_Target(ctx.store.inventory_location_id, ctx.config.default_location_id, True, "")]
    return [_Target(scope.store_location_id, scope.landing_location_id, scope.is_default,
                    scope.mapped.code or str(scope.store_location_id))
            for scope in locations.location_scopes(ctx.config, mapping)]


def inventory_import_run(ctx: JobContext) -> dict:
    run, store = ctx.run, ctx.store
    overwrite = bool(run.options.get("overwrite"))
    location_id = store.inventory_location_id
    targets = _targets(ctx)
    only = None
    refs = runs.run_retry_refs(run)
    if refs is not None:
        only = {ref for ref in refs if isinstance(ref, tuple)}
    runs.run_set_total(run=run, total=len(only) * len(targets) if only is not None else sum(
        collection_total(ctx.client, f"/inventory/locations/{int(target.store_location_id)}/items")
        for target in targets))
    state = holds.sync_state(store)
    if state.go_live_at is None:
        state.go_live_at = timezone.now()
        adjustments_start_at_go_live(ctx, state)
        state.save(update_fields=["go_live_at", "adjustments_cursor"])
    tracked = orders_track_open(ctx)
    held = holds.holds_compute(store=store, gateway=ctx.gateway).by_item
    counts = Counter()
    for target in targets:
        # A product tracked by product is listed once per variant: its stock is taken once (ids only: small).
        products_done: set[int] = set()
        for page in ctx.client.iter_inventory_item_pages(location_id=target.store_location_id):
            outcomes = _inventory_page_apply(ctx, page, held=held if target.holds else {}, overwrite=overwrite,
                                             only=only, products_done=products_done, target=target)
            counts.update(o.action for o in outcomes)
            # Progress counts inventory entries (what the total counts); outcomes count items.
            runs.run_items_record(run=run, outcomes=outcomes, lock=ctx.lock,
                                  processed=len(page) if only is None else len(outcomes))
    summary = {"overwrite": overwrite, "location_id": location_id, "actions": dict(counts),
               "open_orders": tracked["held_orders"], "stock_behavior": tracked["stock_behavior"],
               "units_added_back": sum(value for value in held.values() if value > 0)}
    if len(targets) > 1:
        summary["locations"] = {str(t.store_location_id): t.landing_location_id for t in targets}
    return summary


def _inventory_page_apply(ctx: JobContext, page: list[dict], *, held: dict, overwrite: bool, only,
                          products_done: set[int], target: _Target) -> list[runs.ItemOutcome]:
    """One page of the store's inventory entries at `target`'s store location: set the linked items'
    on-hand at its IntelliTrack location to the store's level plus what open orders hold (only where
    IntelliTrack holds no stock there yet, unless overwriting)."""
    store, config, run = ctx.store, ctx.config, ctx.run
    location_id = target.store_location_id
    levels = inventory_levels_add(StoreLevels(), page, location_id=location_id)
    product_ids = {int((e.get("identity") or {}).get("product_id") or 0) for e in page}
    links = binder.links_for_products(store=store, product_ids=product_ids)
    outcomes, wanted = [], []
    for entry in page:
        identity = entry.get("identity") or {}
        product_id = int(identity.get("product_id") or 0)
        variant_id = identity.get("variant_id")
        link = links.get((product_id, int(variant_id) if variant_id is not None else None))
        if link is None:
            link = links.get((product_id, None))
            if link is not None:
                if product_id in products_done:
                    continue
                products_done.add(product_id)
        ref = [product_id, link["variant_id"] if link else variant_id]
        if only is not None and tuple(ref) not in only:
            continue
        key = identity.get("sku") or f"{product_id}/{variant_id}"
        if target.name:
            key = f"{key} @ {target.name}"
        if link is None:
            outcomes.append(runs.ItemOutcome(
                key=key, outcome=SKIPPED, action="not_linked",
                reason="No IntelliTrack item for this product or variant: import products first "
                       "(untracked products are never imported).",
                detail={"ref": ref}))
            continue
        store_level = max(0, int(levels.level_for(tracking=link["tracking"], product_id=product_id,
                                                  variant_id=link["variant_id"]) or 0))
        item_held = int(held.get(link["item_id"], 0))
        qty = max(0, store_level + item_held)
        detail = {"ref": ref, "item": link["item__item_number"], "store_level": store_level, "held": item_held}
        if target.name:
            detail["location_id"] = location_id
        if qty == 0:
            outcomes.append(runs.ItemOutcome(key=key, outcome=SKIPPED, action="none_in_store",
                                             reason="The store holds none at this location.",
                                             quantity_after=0, detail=detail))
            continue
        wanted.append((key, detail, link["item_id"], qty))
    if wanted:
        results = ctx.gateway.initial_stock_set(
            location_id=target.landing_location_id,
            uom_id=config.default_uom_id,
            rows=[StockRow(item_id=item_id, quantity=qty) for _, _, item_id, qty in wanted],
            overwrite=overwrite,
            reason="Inventory import from BigCommerce",
            reference=f"itbc run {run.pk}",
        )
        for (key, detail, _item_id, qty), result in zip(wanted, results, strict=True):
            common = dict(key=key, quantity_before=result.on_hand_before, detail=detail)
            if result.outcome in STOCK_SET:
                outcomes.append(runs.ItemOutcome(outcome=OK, action=STOCK_SET[result.outcome],
                                                 quantity_after=result.on_hand_after, **common))
            elif result.outcome == "exists":
                outcomes.append(runs.ItemOutcome(
                    outcome=SKIPPED, action="kept", quantity_after=result.on_hand_before,
                    reason=f"IntelliTrack already holds stock for this item at the default location; the "
                           f"store's {qty} was not applied (overwrite not confirmed).", **common))
            elif result.outcome == "skipped":
                outcomes.append(runs.ItemOutcome(outcome=SKIPPED, action="skipped", reason=result.reason,
                                                 **common))
            else:
                outcomes.append(runs.ItemOutcome(outcome=FAILED, action=result.outcome,
                                                 reason=result.reason or result.outcome, quantity_after=qty,
                                                 **common))
    return outcomes


def inventory_initial_stock(ctx: JobContext, *, product_ids) -> list[runs.ItemOutcome]:
    """Initial stock for the items of products imported since go-live (by an auto sync cycle or an order
    that named them): the store's level plus what open orders hold, as the inventory import gives it, only
    where IntelliTrack holds no stock yet. One inventory request per 250 products, and one sum of holds."""
    ids = sorted({int(product_id) for product_id in product_ids})
    if not ids:
        return []
    held = holds.holds_compute(store=ctx.store, gateway=ctx.gateway).by_item
    outcomes: list[runs.ItemOutcome] = []
    for target in _targets(ctx):
        products_done: set[int] = set()
        for start in range(0, len(ids), 250):
            for page in ctx.client.iter_inventory_item_pages(location_id=target.store_location_id,
                                                             product_id__in=ids[start:start + 250]):
                outcomes += _inventory_page_apply(ctx, page, held=held if target.holds else {}, overwrite=False,
                                                  only=None, products_done=products_done, target=target)
    # Entries with nothing to set are not news here: keep what was set and what went wrong.
    return [o for o in outcomes if o.action not in ("none_in_store", "kept", "not_linked")]


def products_imported(*, store) -> bool:
    return StoreItemLink.objects.filter(store=store).exists()
