"""The binder: reads and writes the link table (store unit <-> IntelliTrack item), in bulk per page."""
from collections.abc import Iterator
from typing import NamedTuple

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from .models import StoreItemLink, SyncRunItem

LINK_CHUNK = 2000


def ref_of(product_id: int, variant_id: int | None) -> tuple[int, int | None]:
    return (int(product_id), int(variant_id) if variant_id is not None else None)


def links_for_products(*, store, product_ids) -> dict[tuple, dict]:
    """Existing links of these products, keyed by (product_id, variant_id). One query."""
    rows = StoreItemLink.objects.filter(store=store, product_id__in=list(set(product_ids))).values(
        "id", "product_id", "variant_id", "sku", "tracking", "item_id", "item__item_number", "retired_at"
    )
    return {ref_of(row["product_id"], row["variant_id"]): row for row in rows}


def linked_products_after(*, store, after: int, limit: int) -> list[int]:
    """The next `limit` product ids of the store's live links after `after`, in order."""
    return list(
        StoreItemLink.objects.filter(store=store, retired_at__isnull=True, product_id__gt=after)
        .order_by("product_id").values_list("product_id", flat=True).distinct()[:limit]
    )


def links_missing_from_catalog(*, store, product_ids: list[int], found: dict[int, set[int]]) -> list:
    """Live links of these products whose product, or (tracked by variant) variant, the catalog lacks."""
    links = StoreItemLink.objects.filter(store=store, retired_at__isnull=True, product_id__in=product_ids)
    return [
        link for link in links
        if link.product_id not in found
        or (link.tracking == StoreItemLink.Tracking.VARIANT and link.variant_id not in found[link.product_id])
    ]


def links_retire(*, links: list) -> None:
    if links:
        StoreItemLink.objects.filter(id__in=[link.id for link in links]).update(retired_at=timezone.now())


def link_owners_of_numbers(*, store, item_numbers) -> dict[str, tuple]:
    """Which unit of this store already owns each item number. One query."""
    rows = StoreItemLink.objects.filter(store=store, item__item_number__in=list(set(item_numbers))).values_list(
        "item__item_number", "product_id", "variant_id"
    )
    return {number: ref_of(product_id, variant_id) for number, product_id, variant_id in rows}


def links_create(*, store, rows: list[dict]) -> None:
    """rows: product_id, variant_id, sku, tracking, item_id."""
    now = timezone.now()
    StoreItemLink.objects.bulk_create(
        [StoreItemLink(store=store, last_synced_at=now, **row) for row in rows], batch_size=LINK_CHUNK
    )


def links_update_sku(*, changes: dict[int, str]) -> None:
    """{link id: sku}: refresh the SKU and sync time of re-imported units."""
    if not changes:
        return
    now = timezone.now()
    links = [StoreItemLink(id=link_id, sku=sku, last_synced_at=now, updated_at=now) for link_id, sku in changes.items()]
    StoreItemLink.objects.bulk_update(links, ["sku", "last_synced_at", "updated_at"], batch_size=LINK_CHUNK)


class LinkRow(NamedTuple):
    """A link as End of Day reads it: a plain row, not a model instance (a million of those would cost
    more than the rest of the run)."""

    id: int
    product_id: int
    variant_id: int | None
    sku: str
    tracking: str
    item_id: int
    item_number: str
    last_exported_qty: int | None
    last_remote_qty: int | None

    @property
    def inventory_identity(self) -> dict:
        if self.tracking == StoreItemLink.Tracking.VARIANT:
            return {"variant_id": self.variant_id}
        return {"product_id": self.product_id}


def links_iter(*, store, link_ids=None, chunk: int = LINK_CHUNK) -> Iterator[LinkRow]:
    """Every live link of a store in id order, streamed from one query: on PostgreSQL a server-side
    cursor fetches `chunk` rows at a time, so memory stays flat and the statement count does not grow."""
    links = StoreItemLink.objects.filter(store=store, retired_at__isnull=True)
    if link_ids is not None:
        links = links.filter(id__in=list(link_ids))
    rows = links.order_by("id").values_list(*LinkRow._fields[:6], "item__item_number", *LinkRow._fields[7:])
    return map(LinkRow._make, rows.iterator(chunk_size=chunk))


def links_count(*, store) -> int:
    return StoreItemLink.objects.filter(store=store, retired_at__isnull=True).count()


def links_record_run_quantities(*, run, action: str, exported: bool, ledger_id: int | None = None) -> None:
    """Save on the links what a run's OK items of `action` sent (quantity_after into last_exported_qty) or
    read (quantity_before into last_remote_qty). The items' detail["ref"] is the link id. One UPDATE
    joined to the run's items on PostgreSQL, writing only the links whose figure changed (on a steady
    catalogue, the few that drifted), so its cost follows the changes, not the catalogue.

    `ledger_id`: the last ledger row of the snapshot an absolute level was computed from. Given, it is
    saved on every link the run sent, and the Adjustment export never sends that link a row up to it
    again. A full End of Day that ends moves the export's cursor instead (one row, in the same
    transaction), so it leaves this out; a failed or retried one, which cannot move the cursor, passes it."""
    column, source = ("last_exported_qty", "quantity_after") if exported else ("last_remote_qty", "quantity_before")
    ledger = exported and ledger_id is not None
    if connection.vendor == "postgresql":
        changed = f"link.{column} IS DISTINCT FROM item.{source}"
        if ledger:
            # Snapshots only move forward: a later run's id is never below an earlier one's.
            changed = f"({changed} OR link.absolute_ledger_id IS DISTINCT FROM %s)"
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {StoreItemLink._meta.db_table} AS link SET {column} = item.{source}"
                + (", absolute_ledger_id = %s " if ledger else " ")
                + f"FROM {SyncRunItem._meta.db_table} AS item "
                f"WHERE item.run_id = %s AND item.action = %s AND item.outcome = %s "
                f"AND link.id = (item.detail ->> 'ref')::bigint AND link.store_id = %s AND {changed}",
                [*([ledger_id] if ledger else []), run.pk, action, SyncRunItem.Outcome.OK, run.store_id,
                 *([ledger_id] if ledger else [])],
            )
            if ledger:
                # Levels sent without an answer may be in the store: their links are marked the same way.
                cursor.execute(
                    f"UPDATE {StoreItemLink._meta.db_table} AS link SET absolute_ledger_id = %s "
                    f"FROM {SyncRunItem._meta.db_table} AS item WHERE item.run_id = %s AND item.action = %s "
                    f"AND item.outcome = %s AND link.id = (item.detail ->> 'ref')::bigint AND link.store_id = %s",
                    [ledger_id, run.pk, action, SyncRunItem.Outcome.UNCERTAIN, run.store_id],
                )
        return
    items = (
        SyncRunItem.objects.filter(run=run, action=action, outcome=SyncRunItem.Outcome.OK)
        .values_list("detail__ref", source)
        .iterator(chunk_size=LINK_CHUNK)
    )
    batch = []
    fields = [column, *(["absolute_ledger_id"] if ledger else [])]
    extra = {"absolute_ledger_id": ledger_id} if ledger else {}
    for ref, qty in items:
        batch.append(StoreItemLink(id=int(ref), **{column: qty}, **extra))
        if len(batch) == LINK_CHUNK:
            StoreItemLink.objects.bulk_update(batch, fields)
            batch = []
    if batch:
        StoreItemLink.objects.bulk_update(batch, fields)
    if ledger:
        uncertain = SyncRunItem.objects.filter(run=run, action=action, outcome=SyncRunItem.Outcome.UNCERTAIN)
        StoreItemLink.objects.filter(
            store_id=run.store_id, id__in=[int(ref) for ref in uncertain.values_list("detail__ref", flat=True)]
        ).update(absolute_ledger_id=ledger_id)


def links_matching_lines(*, store, product_ids, skus) -> tuple[dict, dict, dict]:
    """Links that may match order lines: by variant id, by product id (product-tracked) and by SKU.
    One query."""
    rows = StoreItemLink.objects.filter(store=store).filter(
        Q(product_id__in=list(set(product_ids))) | Q(sku__in=[s for s in set(skus) if s])
    ).values("product_id", "variant_id", "sku", "tracking", "item_id")
    by_variant, by_product, by_sku = {}, {}, {}
    for row in rows:
        if row["tracking"] == StoreItemLink.Tracking.VARIANT:
            by_variant[(row["product_id"], row["variant_id"])] = row["item_id"]
        else:
            by_product[row["product_id"]] = row["item_id"]
        if row["sku"]:
            by_sku.setdefault(row["sku"], row["item_id"])
    return by_variant, by_product, by_sku


def line_item_id(line, by_variant: dict, by_product: dict, by_sku: dict) -> int | None:
    """The stored ids first (variant, then product), SKU second."""
    if line.variant_id is not None and (line.product_id, line.variant_id) in by_variant:
        return by_variant[(line.product_id, line.variant_id)]
    if line.product_id in by_product:
        return by_product[line.product_id]
    if line.sku and line.sku in by_sku:
        return by_sku[line.sku]
    return None
