"""Reads of the embedded IntelliTrack: the Inventory Data page, item and order lists, and the two
aggregates the sync jobs need (on-hand by item for a scope, unpicked open quantity by item for a store).
The aggregates are one GROUP BY query each, whatever the number of items."""

from itertools import islice

from django.apps import apps
from django.db import connection
from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from .models import (
    Division,
    InventoryRecord,
    InventoryTransaction,
    Item,
    Location,
    Pick,
    PickingOrder,
    PickingOrderLine,
    Site,
)

SCOPE_DEFAULT_SITE = "default_site"
SCOPE_DEFAULT_LOCATION = "default_location"
SCOPE_DIVISION = "division"
SCOPES = (SCOPE_DEFAULT_SITE, SCOPE_DEFAULT_LOCATION, SCOPE_DIVISION)


def _pk(value) -> int | None:
    return getattr(value, "pk", value)


# --- Inventory Data page --------------------------------------------------------------------------


def inventory_list(
    *,
    division: Division | int | None = None,
    site: Site | int | None = None,
    location: Location | int | None = None,
    item_query: str = "",
) -> QuerySet[InventoryRecord]:
    """Inventory records matching the filters, with item, site, location and UOM loaded."""
    records = InventoryRecord.objects.select_related("item", "site", "location", "uom", "site__division")
    if division is not None:
        records = records.filter(site__division_id=_pk(division))
    if site is not None:
        records = records.filter(site_id=_pk(site))
    if location is not None:
        records = records.filter(location_id=_pk(location))
    item_query = (item_query or "").strip()
    if item_query:
        records = records.filter(
            Q(item__item_number__icontains=item_query)
            | Q(item__alternate_number__icontains=item_query)
            | Q(item__description__icontains=item_query)
        )
    return records.order_by("item__item_number", "site__code", "location__code", "uom__code")


def inventory_totals(
    *,
    division: Division | int | None = None,
    site: Site | int | None = None,
    location: Location | int | None = None,
    item_query: str = "",
    store=None,
) -> dict:
    """Totals over the same filters as `inventory_list` (and `inventory_page_list`'s store): on_hand (in each
    record's own UOM), on_hand_each (converted to single units), records and items."""
    records = inventory_list(division=division, site=site, location=location, item_query=item_query)
    if store is not None:
        records = records.filter(Exists(_store_links().filter(item_id=OuterRef("item_id"), store_id=_pk(store))))
    totals = records.order_by().aggregate(
        total_on_hand=Coalesce(Sum("on_hand"), 0),
        total_each=Coalesce(Sum(F("on_hand") * F("uom__each_count")), 0),
        record_count=Count("id"),
        item_count=Count("item_id", distinct=True),
    )
    return {
        "on_hand": totals["total_on_hand"],
        "on_hand_each": totals["total_each"],
        "records": totals["record_count"],
        "items": totals["item_count"],
    }


# Sort keys of the Inventory Data page -> columns. Every order ends with the record id, so a row never
# shows on two pages whatever the ties.
INVENTORY_SORTS = {
    "item": ("item__item_number", "site__code", "location__code", "uom__code"),
    "description": ("item__description", "item__item_number"),
    "division": ("site__division__code", "item__item_number"),
    "site": ("site__code", "location__code", "item__item_number"),
    "location": ("location__code", "item__item_number"),
    "uom": ("uom__code", "item__item_number"),
    "on_hand": ("on_hand",),
    "available": ("available",),
    "store_level": ("store_level",),
    "updated": ("updated_at",),
}
INVENTORY_DEFAULT_SORT = "item"


def _store_links():
    # The sync app's link table, named through the app registry: IntelliTrack does not import the sync app.
    return apps.get_model("sync", "StoreItemLink").objects.filter(retired_at__isnull=True)


def inventory_available_expression():
    """Per record, its item's stock still free to sell: the item's on-hand in single units (every record of
    the item, each x its UOM's each-count) minus the units its open picking orders have not picked yet
    (`_unpicked_lines`, the figure the sync subtracts). Two correlated aggregates, keyed on the item."""
    item_on_hand = (
        InventoryRecord.objects.filter(item_id=OuterRef("item_id"))
        .order_by()
        .values("item_id")
        .annotate(quantity=Sum(F("on_hand") * F("uom__each_count")))
        .values("quantity")
    )
    item_unpicked = (
        _unpicked_lines()
        .filter(item_id=OuterRef("item_id"))
        .order_by()
        .values("item_id")
        .annotate(quantity=UNPICKED_QUANTITY)
        .values("quantity")
    )
    return Coalesce(Subquery(item_on_hand), 0) - Coalesce(Subquery(item_unpicked), 0)


def inventory_page_list(
    *,
    division: Division | int | None = None,
    site: Site | int | None = None,
    location: Location | int | None = None,
    item_query: str = "",
    store=None,
    sort: str = INVENTORY_DEFAULT_SORT,
) -> QuerySet[InventoryRecord]:
    """`inventory_list` for the Inventory Data page and its CSV: each record with `available` (see
    `inventory_available_expression`) and `store_level`, the level last sent to `store` for the item (with
    no store: the highest over the stores that link it); with a store, only items that store links.
    `sort` is a key of INVENTORY_SORTS, "-" in front for descending."""
    descending = sort.startswith("-")
    columns = INVENTORY_SORTS[sort.lstrip("-")]
    links = _store_links().filter(item_id=OuterRef("item_id"))
    records = inventory_list(division=division, site=site, location=location, item_query=item_query)
    if store is not None:
        links = links.filter(store_id=_pk(store))
        records = records.filter(Exists(links))
        # Exact, not a pick among several: a store links an item at most once (link_unique_item_per_store).
        store_level = Subquery(links.values("last_exported_qty")[:1])
    else:
        store_level = Subquery(
            links.order_by().values("item_id").annotate(level=Max("last_exported_qty")).values("level")
        )
    records = records.annotate(available=inventory_available_expression(), store_level=store_level)
    # Only the store level can be empty (an item never sent): last both ways. Other columns keep the
    # plain direction, so an index in that order can serve it.
    nulls = {"nulls_last": True} if sort.lstrip("-") == "store_level" else {}
    ordering = [F(column).desc(**nulls) if descending else F(column).asc(**nulls) for column in columns]
    return records.order_by(*ordering, "-pk" if descending else "pk")


def inventory_page_ids(**filters):
    """The ids of `inventory_page_list(**filters)` in its order, for a paginator (count() and slices).
    Sorted by a per-item figure (Available, the store level), the figures are joined as grouped
    aggregates (one pass over each table) instead of looked up once per record."""
    sort = filters.get("sort") or INVENTORY_DEFAULT_SORT
    records = inventory_page_list(**filters)
    descending = sort.startswith("-")
    if sort.lstrip("-") == "available":
        on_hand = (InventoryRecord.objects.order_by().values("item_id")
                   .annotate(quantity=Sum(F("on_hand") * F("uom__each_count"))).values("item_id", "quantity"))
        unpicked = (_unpicked_lines().order_by().values("item_id").annotate(quantity=UNPICKED_QUANTITY)
                    .values("item_id", "quantity"))
        return _IdsByItemFigure(records, {"h": on_hand, "u": unpicked},
                                "COALESCE(h.quantity, 0) - COALESCE(u.quantity, 0)", descending=descending)
    if sort.lstrip("-") == "store_level":
        links = _store_links()
        if filters.get("store") is not None:
            links = links.filter(store_id=_pk(filters["store"]))
        levels = (links.order_by().values("item_id").annotate(quantity=Max("last_exported_qty"))
                  .values("item_id", "quantity"))
        return _IdsByItemFigure(records, {"s": levels}, "s.quantity", descending=descending, nulls_last=True)
    return records.values_list("pk", flat=True)


class _IdsByItemFigure:
    """Record ids ordered by a figure of their item computed from grouped aggregates joined on item_id
    (each a queryset of item_id, quantity), record id last for ties."""

    def __init__(self, records: QuerySet[InventoryRecord], joins: dict[str, QuerySet], figure: str, *,
                 descending: bool, nulls_last: bool = False):
        self.records = records.order_by()
        self.joins, self.figure = joins, figure
        self.direction = "DESC" if descending else "ASC"
        self.nulls = " NULLS LAST" if nulls_last else ""

    def count(self) -> int:
        return self.records.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice) or key.step is not None:
            raise TypeError("only plain slices of the ids")
        start, stop = key.start or 0, key.stop
        chosen, params = self.records.values("pk", "item_id").query.sql_with_params()
        params = list(params)
        joined = []
        for alias, aggregate in self.joins.items():
            sql, aggregate_params = aggregate.query.sql_with_params()
            joined.append(f"LEFT JOIN ({sql}) {alias} ON {alias}.item_id = r.item_id")
            params += aggregate_params
        sql = (f"SELECT r.pk FROM ({chosen}) r {' '.join(joined)} "
               f"ORDER BY {self.figure} {self.direction}{self.nulls}, r.pk {self.direction} LIMIT %s OFFSET %s")
        limit = (stop - start) if stop is not None else self.count()
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, max(limit, 0), start])
            return [row[0] for row in cursor.fetchall()]


def inventory_store_levels(*, item_ids, store=None) -> dict[int, list[dict]]:
    """Per item id, the level last sent to each store that links it: [{store_id, store_name, level,
    sent_at}], by store name. One query for a page (or a CSV chunk) of items."""
    links = _store_links().filter(item_id__in=list(item_ids))
    if store is not None:
        links = links.filter(store_id=_pk(store))
    levels: dict[int, list[dict]] = {}
    for row in links.order_by("store__name", "store_id").values(
        "item_id", "store_id", "store__name", "last_exported_qty", "last_synced_at"
    ):
        levels.setdefault(row["item_id"], []).append(
            {"store_id": row["store_id"], "store_name": row["store__name"], "level": row["last_exported_qty"],
             "sent_at": row["last_synced_at"]}
        )
    return levels


def inventory_csv_rows(*, filters: dict, chunk_size: int = 2000):
    """The rows of the Inventory Data CSV for `inventory_page_list(**filters)`: a header, then one row per
    record in the page's order. Generated a chunk at a time: the records come through a database cursor,
    and each chunk reads its items' store levels in one query. A level column per store (or the one
    filtered store)."""
    store = filters.get("store")
    stores = [store] if store is not None else list(
        apps.get_model("configuration", "StoreConnection").objects.order_by("name", "pk")
    )
    yield [
        "Item", "Description", "Division", "Site", "Location", "UOM", "On hand", "Available (item)",
        *[f"Store level last sent: {each.name}" for each in stores], "Updated",
    ]
    # Plain tuples, not model instances: the export reads every row.
    records = inventory_page_list(**filters).values_list(
        "item_id", "item__item_number", "item__description", "site__division__code", "site__code",
        "location__code", "uom__code", "on_hand", "available", "updated_at",
    ).iterator(chunk_size=chunk_size)
    while chunk := list(islice(records, chunk_size)):
        levels = inventory_store_levels(item_ids={row[0] for row in chunk}, store=store)
        for item_id, *columns, updated_at in chunk:
            by_store = {entry["store_id"]: entry["level"] for entry in levels.get(item_id, ())}
            yield [
                *columns,
                *["" if by_store.get(each.pk) is None else by_store[each.pk] for each in stores],
                updated_at.isoformat(timespec="seconds"),
            ]


# --- sync aggregates ------------------------------------------------------------------------------


def on_hand_by_item(
    *,
    division: Division | int,
    scope: str,
    site: Site | int | None = None,
    location: Location | int | None = None,
    item_ids=None,
) -> dict[int, int]:
    """On-hand in single units (on_hand x the record's UOM each-count) per item id, for the Default Location,
    the Default Site (all its locations) or the whole Division. Items without stock in the scope are absent
    (read them as 0). One aggregate query."""
    records = InventoryRecord.objects.all()
    if scope == SCOPE_DEFAULT_LOCATION:
        if location is None:
            raise ValueError("the default_location scope needs a location")
        records = records.filter(location_id=_pk(location))
    elif scope == SCOPE_DEFAULT_SITE:
        if site is None:
            raise ValueError("the default_site scope needs a site")
        records = records.filter(site_id=_pk(site))
    elif scope != SCOPE_DIVISION:
        raise ValueError(f"unknown quantity scope {scope!r}; use one of {', '.join(SCOPES)}")
    # A subquery over the division's few sites keeps this on the (site, item) index, without a join.
    records = records.filter(site_id__in=Site.objects.filter(division_id=_pk(division)).values("id"))
    if item_ids is not None:
        records = records.filter(item_id__in=list(item_ids))
    rows = (
        records.order_by()
        .values("item_id")
        .annotate(quantity=Sum(F("on_hand") * F("uom__each_count")))
        .values_list("item_id", "quantity")
    )
    # Streamed into the dict: on a catalogue of a million items the result rows never sit in memory
    # beside it.
    return {item_id: int(quantity) for item_id, quantity in rows.iterator(chunk_size=10_000)}


def _unpicked_lines() -> QuerySet[PickingOrderLine]:
    """The lines of OPEN picking orders with units left to pick: what open orders still hold."""
    return PickingOrderLine.objects.filter(order__status=PickingOrder.Status.OPEN, picked_qty__lt=F("ordered_qty"))


UNPICKED_QUANTITY = Sum(F("ordered_qty") - F("picked_qty"))


def unpicked_by_item(*, store, item_ids=None) -> dict[int, int]:
    """Ordered minus picked quantity per item id over the OPEN picking orders that came from `store`
    (a StoreConnection or its id). Items with nothing left to pick are absent. One aggregate query."""
    lines = _unpicked_lines().filter(order__source_store_id=_pk(store))
    if item_ids is not None:
        lines = lines.filter(item_id__in=list(item_ids))
    rows = (
        lines.order_by()
        .values("item_id")
        .annotate(quantity=UNPICKED_QUANTITY)
        .values_list("item_id", "quantity")
    )
    return dict(rows)


PICKED_LOOKUP_CHUNK = 10_000


def picked_by_store_line(*, store, store_order_ids) -> dict[int, int]:
    """Units picked per store order line (the store's order_product_id) on the picking orders that came
    from `store` for these store orders, whatever the picking order's status. Lines with nothing picked
    are absent. One aggregate query per 10,000 orders."""
    ids = sorted({int(order_id) for order_id in store_order_ids})
    found: dict[int, int] = {}
    for start in range(0, len(ids), PICKED_LOOKUP_CHUNK):
        rows = (
            PickingOrderLine.objects.filter(
                order__source_store_id=_pk(store),
                order__store_order_id__in=ids[start:start + PICKED_LOOKUP_CHUNK],
                store_order_product_id__isnull=False,
                picked_qty__gt=0,
            )
            .order_by()
            .values("store_order_product_id")
            .annotate(quantity=Sum("picked_qty"))
            .values_list("store_order_product_id", "quantity")
        )
        found.update(rows)
    return found


# --- items and picking orders ---------------------------------------------------------------------


def item_list(
    *, division: Division | int | None = None, query: str = "", active: bool | None = None
) -> QuerySet[Item]:
    items = Item.objects.select_related("division", "default_uom")
    if division is not None:
        items = items.filter(division_id=_pk(division))
    if active is not None:
        items = items.filter(active=active)
    query = (query or "").strip()
    if query:
        items = items.filter(
            Q(item_number__icontains=query)
            | Q(alternate_number__icontains=query)
            | Q(description__icontains=query)
        )
    return items.order_by("division__code", "item_number")


def item_list_with_on_hand(
    *, division: Division | int | None = None, query: str = "", active: bool | None = None
) -> QuerySet[Item]:
    """`item_list` with each item's total on-hand in single units (on_hand x each-count) as `on_hand`;
    None for an item without records."""
    return (
        item_list(division=division, query=query, active=active)
        .annotate(on_hand=Sum(F("inventory_records__on_hand") * F("inventory_records__uom__each_count")))
        .order_by("division__code", "item_number", "pk")
    )


def item_transaction_list(*, item: Item | int) -> QuerySet[InventoryTransaction]:
    """An item's ledger history, newest first."""
    return (
        InventoryTransaction.objects.filter(item_id=_pk(item))
        .select_related("site", "location", "uom", "user", "picking_order")
        .order_by("-id")
    )


def picking_order_list(
    *,
    division: Division | int | None = None,
    status: str | None = None,
    store=None,
    store_order_id: int | None = None,
    with_lines: bool = False,
) -> QuerySet[PickingOrder]:
    """Picking orders, newest first; `with_lines` prefetches lines with their items and picks."""
    orders = PickingOrder.objects.select_related(
        "division", "customer", "ship_to", "carrier", "shipping_method"
    )
    if division is not None:
        orders = orders.filter(division_id=_pk(division))
    if status:
        orders = orders.filter(status=status)
    if store is not None:
        orders = orders.filter(source_store_id=_pk(store))
    if store_order_id is not None:
        orders = orders.filter(store_order_id=store_order_id)
    if with_lines:
        orders = orders.prefetch_related(
            Prefetch(
                "lines",
                queryset=PickingOrderLine.objects.select_related("item").order_by("line_number"),
            ),
            Prefetch(
                "lines__picks",
                queryset=Pick.objects.select_related("location", "user", "carrier").order_by("id"),
            ),
        )
    return orders.order_by("-order_date", "-id")


def picking_order_pickable_locations(*, line: PickingOrderLine) -> QuerySet[InventoryRecord]:
    """Where the line's item has single units in the order's division, most stock first."""
    return (
        InventoryRecord.objects.filter(
            item_id=line.item_id,
            on_hand__gt=0,
            site__division_id=line.order.division_id,
            uom__each_count=1,
        )
        .select_related("site", "location", "uom")
        .order_by("-on_hand", "location__code")
    )


def pick_stock_by_item(*, order: PickingOrder, item_ids) -> dict[int, list[tuple[Location, int]]]:
    """Per item, the locations of the order's division that hold it in single units, with the amount,
    most first: order lines count single units, so a pick never takes a case. One query for all the
    order's lines."""
    records = (
        InventoryRecord.objects.filter(
            item_id__in=item_ids, on_hand__gt=0, site__division_id=order.division_id, uom__each_count=1
        )
        .select_related("location__site")
        .order_by("-on_hand", "location__code")
    )
    places: dict[int, dict[int, list]] = {}
    for record in records:
        # Several single-unit UOMs at one location add up to one choice.
        entry = places.setdefault(record.item_id, {}).setdefault(record.location_id, [record.location, 0])
        entry[1] += record.on_hand
    return {
        item_id: [tuple(entry) for entry in by_location.values()] for item_id, by_location in places.items()
    }
