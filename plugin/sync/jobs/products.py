"""Import products (BigCommerce -> IntelliTrack): one item per stock-tracked unit, linked to it.

Per page of 250 products (variants included): map, check keys, upsert the items through the gateway in
one call, write the new links in one statement, refresh the known ones in another, record outcomes.
A rerun updates descriptions and creates only what is new: a unit already linked keeps its item, and an
item number already owned by another unit of the store is reported as a duplicate, never merged."""
from collections import Counter
from datetime import timedelta

from plugin.intellitrack.gateway import ItemData

from .. import binder, holds, runs
from ..mappers import StoreItem, products_to_store_items
from ..models import StoreSyncState, SyncRunItem
from .context import JobContext

OK, FAILED, SKIPPED = SyncRunItem.Outcome.OK, SyncRunItem.Outcome.FAILED, SyncRunItem.Outcome.SKIPPED


def collection_total(client, path: str) -> int | None:
    """How many records a v3 collection holds (for progress): the pagination total of a one-record page."""
    payload = client._get("v3", path, {"limit": 1, "page": 1}) or {}
    total = ((payload.get("meta") or {}).get("pagination") or {}).get("total")
    return int(total) if total is not None else None


def products_import_run(ctx: JobContext) -> dict:
    """Every product (a staff import), or, in an auto sync cycle, the products created or changed since
    the watermark minus the overlap: new items get their initial stock as the inventory import gives it,
    and a slice of the linked products is checked for deletion in the store (links retired)."""
    run = ctx.run
    only = None
    filters = {}
    cycle = bool((run.options or {}).get("auto_sync"))
    refs = runs.run_retry_refs(run)
    if refs is not None:
        only = {ref for ref in refs if isinstance(ref, tuple)}
        runs.run_set_total(run=run, total=len(only))
    elif cycle:
        watermark = ctx.config.last_auto_sync_completed_on
        if watermark is not None:
            filters["date_modified__min"] = (watermark - CATALOG_OVERLAP).isoformat()
        runs.run_set_total(run=run, total=None)
    else:
        runs.run_set_total(run=run, total=collection_total(ctx.client, "/catalog/products"))
    pages = 0
    counts = Counter()
    new_products: set[int] = set()
    for products in ctx.client.iter_product_pages(include_variants=True, **filters):
        pages += 1
        outcomes = products_page_import(ctx, products, only=only)
        counts.update(o.action for o in outcomes)
        if cycle:  # only a cycle gives new products their stock; a full import would hold every id
            new_products.update(o.detail["ref"][0] for o in outcomes if o.action in ("created", "linked"))
        # Progress counts products (what the total counts); outcomes count items.
        runs.run_items_record(run=run, outcomes=outcomes, lock=ctx.lock,
                              processed=len(products) if only is None else len(outcomes))
    summary = {"pages": pages, "actions": dict(counts), "create_item_using": ctx.config.create_item_using}
    if cycle:
        summary["modified_since"] = filters.get("date_modified__min")
        summary.update(catalog_cycle_extras(ctx, new_products=new_products))
    return summary


CATALOG_OVERLAP = timedelta(hours=1)
DELETION_CHECK_PRODUCTS = 1000  # linked products checked for deletion per cycle (4 catalog requests)


def catalog_cycle_extras(ctx: JobContext, *, new_products: set[int]) -> dict:
    """What an auto sync cycle adds to a product import: initial stock for new items (only after go-live:
    before it the inventory import sets everything), and the next slice of the deletion check."""
    from .inventory import inventory_initial_stock

    extras = {}
    if new_products and holds.sync_state(ctx.store).go_live_at is not None:
        holds.order_lines_relink(store=ctx.store)  # the open orders' lines of the new items count first
        outcomes = inventory_initial_stock(ctx, product_ids=new_products)
        runs.run_items_record(run=ctx.run, outcomes=outcomes, lock=ctx.lock, processed=0)
        extras["initial_stock_items"] = len(outcomes)
    retired = links_retire_deleted(ctx)
    extras["links_retired"] = retired
    return extras


def links_retire_deleted(ctx: JobContext) -> int:
    """Check the next slice of linked products against the store's catalog (rotating through all of them,
    cycle after cycle): a product or variant the store no longer has is reported and its link retired,
    so no level is sent for it; the IntelliTrack item and its history stay."""
    store = ctx.store
    state = holds.sync_state(store)
    product_ids = binder.linked_products_after(store=store, after=state.catalog_check_cursor,
                                               limit=DELETION_CHECK_PRODUCTS)
    if not product_ids:
        if state.catalog_check_cursor:
            StoreSyncState.objects.filter(pk=state.pk).update(catalog_check_cursor=0)
        return 0
    found: dict[int, set[int]] = {}
    for start in range(0, len(product_ids), 250):
        for products in ctx.client.iter_product_pages(include_variants=True, id__in=product_ids[start:start + 250]):
            for product in products:
                found[int(product["id"])] = {int(v["id"]) for v in product.get("variants") or []}
    gone = binder.links_missing_from_catalog(store=store, product_ids=product_ids, found=found)
    outcomes = [
        runs.ItemOutcome(key=link.sku or f"{link.product_id}/{link.variant_id or '-'}", outcome=SKIPPED,
                         action="retired", reason=("The product was deleted in the store" if link.product_id not in found
                                                   else "The variant was deleted in the store")
                         + "; its link is retired (the IntelliTrack item and its history stay).",
                         detail={"ref": [link.product_id, link.variant_id], "item": link.item_id})
        for link in gone
    ]
    binder.links_retire(links=gone)
    runs.run_items_record(run=ctx.run, outcomes=outcomes, lock=ctx.lock, processed=0)
    StoreSyncState.objects.filter(pk=state.pk).update(catalog_check_cursor=product_ids[-1])
    return len(gone)


def products_page_import(ctx: JobContext, products: list[dict], *, only=None) -> list[runs.ItemOutcome]:
    store, config = ctx.store, ctx.config
    units, rejected, skipped = products_to_store_items(products, create_item_using=config.create_item_using)
    if only is not None:
        units = [u for u in units if (u.product_id, u.variant_id) in only]
        rejected = [r for r in rejected if (r.product_id, r.variant_id) in only]
        skipped = []
    outcomes = [
        runs.ItemOutcome(key=s.key, outcome=SKIPPED, action="skipped", reason=s.reason,
                         detail={"ref": [s.product_id, None]})
        for s in skipped
    ]
    outcomes += [
        runs.ItemOutcome(key=r.key, outcome=FAILED, action="rejected", reason=r.reason,
                         detail={"ref": r.ref, "sku": r.sku})
        for r in rejected
    ]
    if not units:
        return outcomes

    links = binder.links_for_products(store=store, product_ids=[u.product_id for u in units])
    owners = binder.link_owners_of_numbers(store=store, item_numbers=[u.item_number for u in units])
    in_page = Counter(u.item_number.casefold() for u in units if (u.product_id, u.variant_id) not in links)
    first_seen: dict[str, tuple] = {}

    to_upsert: list[tuple[StoreItem, dict | None]] = []
    for unit in units:
        ref = (unit.product_id, unit.variant_id)
        link = links.get(ref)
        if link is not None:
            to_upsert.append((unit, link))
            continue
        owner = owners.get(unit.item_number)
        folded = unit.item_number.casefold()
        if owner is not None and owner != ref:
            outcomes.append(_duplicate(unit, f"product {owner[0]}" + (f" variant {owner[1]}" if owner[1] else "")))
            continue
        if in_page[folded] > 1:
            if folded in first_seen:
                earlier = first_seen[folded]
                outcomes.append(_duplicate(unit, f"product {earlier[0]}" + (f" variant {earlier[1]}" if earlier[1] else "")))
                continue
            first_seen[folded] = ref
        to_upsert.append((unit, None))

    # A linked unit keeps its item (and item number) even when its SKU or name changed in the store.
    records = [
        ItemData(
            item_number=link["item__item_number"] if link else unit.item_number,
            description=unit.description,
            key=f"{unit.product_id}/{unit.variant_id or ''}",
        )
        for unit, link in to_upsert
    ]
    results = ctx.gateway.items_upsert(ctx.division_code, records, default_uom_id=config.default_uom_id)
    new_links, sku_changes = [], {}
    for (unit, link), record, result in zip(to_upsert, records, results, strict=True):
        detail = {"ref": [unit.product_id, unit.variant_id], "sku": unit.sku, "item": record.item_number}
        if not result.ok:
            action = "duplicate" if result.outcome == "duplicate" else "rejected"
            outcomes.append(runs.ItemOutcome(key=unit.item_number, outcome=FAILED, action=action,
                                             reason=result.reason or result.outcome, detail=detail))
            continue
        reason = ""
        if link is not None:
            action = "updated" if result.outcome == "updated" else "unchanged"
            if link["sku"] != unit.sku:
                sku_changes[link["id"]] = unit.sku
            if record.item_number != unit.item_number:
                reason = f"Key changed in the store to {unit.item_number!r}; the item keeps {record.item_number!r}."
        else:
            action = "created" if result.outcome == "created" else "linked"
            if action == "linked":
                reason = "An IntelliTrack item with this number existed; it is now linked."
            new_links.append({"product_id": unit.product_id, "variant_id": unit.variant_id, "sku": unit.sku,
                              "tracking": unit.tracking, "item_id": result.item_id})
        outcomes.append(runs.ItemOutcome(key=unit.item_number, outcome=OK, action=action, reason=reason, detail=detail))
    binder.links_create(store=store, rows=new_links)
    binder.links_update_sku(changes=sku_changes)
    return outcomes


def _duplicate(unit: StoreItem, owner: str) -> runs.ItemOutcome:
    return runs.ItemOutcome(
        key=unit.item_number,
        outcome=FAILED,
        action="duplicate",
        reason=f"Duplicate item number {unit.item_number!r}: already used by {owner}. Not merged.",
        detail={"ref": [unit.product_id, unit.variant_id], "sku": unit.sku},
    )
