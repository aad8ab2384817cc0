"""The IntelliTrack gateway: everything the sync code may ask of IntelliTrack, and nothing more.

`IntelliTrackGateway` is the typed protocol; `EmbeddedGateway` backs it with this app's models. Every
operation is a bulk write or a single aggregate read, never a query per item, and exchanges plain frozen
dataclasses (no model objects leave this module). `get_gateway()` returns the configured implementation
(setting ITBC_INTELLITRACK_GATEWAY, a dotted path; the embedded one by default).

A division may be named by id (int) or code (str) wherever a `division` is asked for. Cursors for
`ledger_since` and `picks_since` are InventoryTransaction ids (a pick's cursor is its ledger row's id)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Prefetch
from django.utils.module_loading import import_string

from . import selectors, services
from .models import (
    UOM,
    Carrier,
    Division,
    InventoryTransaction,
    Item,
    Location,
    PickingOrder,
    PickingOrderLine,
    ShippingMethod,
    Site,
)

DEFAULT_GATEWAY = "plugin.intellitrack.gateway.EmbeddedGateway"

SCOPE_DEFAULT_SITE = selectors.SCOPE_DEFAULT_SITE
SCOPE_DEFAULT_LOCATION = selectors.SCOPE_DEFAULT_LOCATION
SCOPE_DIVISION = selectors.SCOPE_DIVISION


class GatewayError(Exception):
    """IntelliTrack refused a request; the message says why."""


class UnknownMasterData(GatewayError):
    """A division, site, location, UOM or order named in a request does not exist."""


# --- master data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DivisionInfo:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class SiteInfo:
    id: int
    division_id: int
    code: str
    name: str


@dataclass(frozen=True)
class LocationInfo:
    id: int
    site_id: int
    division_id: int
    code: str
    name: str


@dataclass(frozen=True)
class UOMInfo:
    id: int
    division_id: int
    code: str
    name: str
    each_count: int


@dataclass(frozen=True)
class ShippingMethodInfo:
    id: int
    name: str
    description: str


@dataclass(frozen=True)
class CarrierInfo:
    id: int
    division_id: int
    name: str
    methods: tuple[ShippingMethodInfo, ...] = ()


@dataclass(frozen=True)
class CarrierData:
    name: str
    methods: tuple[tuple[str, str], ...] = ()  # (method name, description)


# --- items and stock ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemData:
    """One item to create or update. `key` is the caller's own name for it (for example a store product
    and variant id); it comes back on the result unchanged."""

    item_number: str
    description: str = ""
    alternate_number: str = ""
    active: bool | None = None  # None: new items active, existing ones left as they are
    key: str = ""


@dataclass(frozen=True)
class ItemResult:
    key: str
    item_number: str
    outcome: str  # created | updated | unchanged | blank | duplicate | invalid
    item_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.item_id is not None


@dataclass(frozen=True)
class ItemInfo:
    id: int
    division_id: int
    item_number: str
    alternate_number: str
    description: str
    active: bool


@dataclass(frozen=True)
class StockRow:
    item_id: int
    quantity: int


@dataclass(frozen=True)
class StockResult:
    item_id: int
    quantity: int
    outcome: str  # set | overwritten | unchanged | exists | skipped | unknown_item | duplicate
    on_hand_before: int | None = None
    on_hand_after: int | None = None
    reason: str = ""


# --- picking orders -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerData:
    name: str
    account_number: str = ""
    email: str = ""
    phone: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True)
class ShipToData:
    name: str = ""
    company: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class PickingOrderLineData:
    line_number: int
    item_id: int
    ordered_qty: int
    store_order_product_id: int | None = None
    comment: str = ""


@dataclass(frozen=True)
class PickingOrderData:
    """A store order to become a picking order. The number defaults to the store order id."""

    division: int | str
    store_id: int | None
    store_order_id: int | None
    customer: CustomerData
    lines: tuple[PickingOrderLineData, ...]
    order_date: datetime.date | None = None
    number: str = ""
    due_date: datetime.date | None = None
    ship_to: ShipToData | None = None
    carrier_name: str = ""
    shipping_method_name: str = ""
    # Lines of the store order that no item matches, kept on the order for staff to see: each a tuple of
    # (field, value) pairs with sku, name, quantity and reason.
    unmanaged_lines: tuple[tuple[tuple[str, object], ...], ...] = ()


@dataclass(frozen=True)
class PickingOrderResult:
    store_order_id: int | None
    number: str
    outcome: str  # created | exists | invalid
    order_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.order_id is not None


@dataclass(frozen=True)
class PickingOrderLineInfo:
    id: int
    line_number: int
    item_id: int
    ordered_qty: int
    picked_qty: int
    store_order_product_id: int | None

    @property
    def remaining(self) -> int:
        return self.ordered_qty - self.picked_qty


@dataclass(frozen=True)
class PickingOrderInfo:
    id: int
    division_id: int
    number: str
    status: str  # open | closed | cancelled
    store_id: int | None
    store_order_id: int | None
    order_date: datetime.date
    closed_at: datetime.datetime | None
    lines: tuple[PickingOrderLineInfo, ...] = ()


# --- changes since a cursor -----------------------------------------------------------------------


@dataclass(frozen=True)
class PickInfo:
    cursor: int  # the pick's ledger row id
    pick_id: int
    order_id: int
    order_number: str
    order_status: str  # the order's status now (closed once fully picked)
    store_id: int | None
    store_order_id: int | None
    line_id: int
    line_number: int
    item_id: int
    item_number: str
    store_order_product_id: int | None
    quantity: int
    location_id: int
    tracking_number: str
    carrier_name: str
    picked_at: datetime.datetime
    user_name: str


@dataclass(frozen=True)
class LedgerRow:
    id: int
    kind: str
    item_id: int
    item_number: str
    site_id: int | None
    location_id: int | None
    uom_id: int | None
    each_count: int
    quantity_delta: int
    balance_after: int | None
    reason: str
    reference: str
    picking_order_id: int | None
    store_id: int | None
    store_order_id: int | None
    user_name: str
    created_at: datetime.datetime


@dataclass(frozen=True)
class PickPage:
    picks: list[PickInfo] = field(default_factory=list)
    next_cursor: int = 0


@dataclass(frozen=True)
class LedgerPage:
    rows: list[LedgerRow] = field(default_factory=list)
    next_cursor: int = 0


# --- the protocol ---------------------------------------------------------------------------------


@runtime_checkable
class IntelliTrackGateway(Protocol):
    def divisions(self) -> list[DivisionInfo]: ...

    def sites(self, division: int | str | None = None) -> list[SiteInfo]: ...

    def locations(
        self, *, site_id: int | None = None, division: int | str | None = None
    ) -> list[LocationInfo]: ...

    def uoms(self, division: int | str | None = None) -> list[UOMInfo]: ...

    def carriers(self, division: int | str) -> list[CarrierInfo]: ...

    def carriers_upsert(self, division: int | str, carriers: Sequence[CarrierData]) -> dict[str, int]: ...

    def items_find(self, division: int | str, item_numbers: Iterable[str]) -> dict[str, ItemInfo]: ...

    def items_get(self, item_ids: Iterable[int]) -> dict[int, ItemInfo]: ...

    def items_upsert(
        self, division_code: int | str, items: Sequence[ItemData], *, default_uom_id: int | None = None
    ) -> list[ItemResult]: ...

    def initial_stock_set(
        self,
        *,
        location_id: int,
        uom_id: int,
        rows: Sequence[StockRow],
        overwrite: bool = False,
        reason: str = "Initial stock",
        reference: str = "",
    ) -> list[StockResult]: ...

    def on_hand_by_item(
        self,
        *,
        division: int | str,
        scope: str,
        site_id: int | None = None,
        location_id: int | None = None,
        item_ids: Iterable[int] | None = None,
    ) -> dict[int, int]: ...

    def unpicked_by_item(self, store_id: int, item_ids: Iterable[int] | None = None) -> dict[int, int]: ...

    def picked_by_store_line(self, store_id: int, store_order_ids: Iterable[int]) -> dict[int, int]: ...

    def picking_orders_create(self, orders: Sequence[PickingOrderData]) -> list[PickingOrderResult]: ...

    def picking_orders_get(
        self, *, store_id: int, store_order_ids: Iterable[int]
    ) -> dict[int, PickingOrderInfo]: ...

    def order_close(self, order_id: int) -> PickingOrderInfo: ...

    def order_cancel(self, order_id: int) -> PickingOrderInfo: ...

    def picks_since(self, cursor: int, *, store_id: int | None = None, limit: int = 1000) -> PickPage: ...

    def ledger_since(
        self, cursor: int, *, limit: int = 1000, kinds: Iterable[str] | None = None
    ) -> LedgerPage: ...


# --- the embedded implementation ------------------------------------------------------------------


def _error_text(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(message for messages in error.message_dict.values() for message in messages)
    return "; ".join(error.messages)


def _division(division: int | str | Division) -> Division:
    if isinstance(division, Division):
        return division
    lookup = {"code": division} if isinstance(division, str) else {"pk": division}
    try:
        return Division.objects.get(**lookup)
    except Division.DoesNotExist:
        raise UnknownMasterData(f"No division {division!r}.") from None


def _division_filter(division: int | str) -> dict:
    return {"code": division} if isinstance(division, str) else {"pk": division}


def _item_info(item: Item) -> ItemInfo:
    return ItemInfo(
        id=item.id,
        division_id=item.division_id,
        item_number=item.item_number,
        alternate_number=item.alternate_number,
        description=item.description,
        active=item.active,
    )


def _order_info(order: PickingOrder, *, with_lines: bool = False) -> PickingOrderInfo:
    lines = ()
    if with_lines:
        lines = tuple(
            PickingOrderLineInfo(
                id=line.id,
                line_number=line.line_number,
                item_id=line.item_id,
                ordered_qty=line.ordered_qty,
                picked_qty=line.picked_qty,
                store_order_product_id=line.store_order_product_id,
            )
            for line in order.lines.all()
        )
    return PickingOrderInfo(
        id=order.id,
        division_id=order.division_id,
        number=order.number,
        status=order.status,
        store_id=order.source_store_id,
        store_order_id=order.store_order_id,
        order_date=order.order_date,
        closed_at=order.closed_at,
        lines=lines,
    )


def _user_name(user) -> str:
    return user.get_username() if user is not None else ""


class EmbeddedGateway:
    """IntelliTrack as this app's own tables."""

    # master data

    def divisions(self) -> list[DivisionInfo]:
        return [DivisionInfo(id=d.id, code=d.code, name=d.name) for d in Division.objects.order_by("code")]

    def sites(self, division: int | str | None = None) -> list[SiteInfo]:
        sites = Site.objects.order_by("division__code", "code")
        if division is not None:
            sites = sites.filter(**{f"division__{k}": v for k, v in _division_filter(division).items()})
        return [SiteInfo(id=s.id, division_id=s.division_id, code=s.code, name=s.name) for s in sites]

    def locations(
        self, *, site_id: int | None = None, division: int | str | None = None
    ) -> list[LocationInfo]:
        locations = Location.objects.select_related("site").order_by("site__code", "code")
        if site_id is not None:
            locations = locations.filter(site_id=site_id)
        if division is not None:
            locations = locations.filter(
                **{f"site__division__{k}": v for k, v in _division_filter(division).items()}
            )
        return [
            LocationInfo(
                id=loc.id, site_id=loc.site_id, division_id=loc.site.division_id, code=loc.code, name=loc.name
            )
            for loc in locations
        ]

    def uoms(self, division: int | str | None = None) -> list[UOMInfo]:
        uoms = UOM.objects.order_by("division__code", "code")
        if division is not None:
            uoms = uoms.filter(**{f"division__{k}": v for k, v in _division_filter(division).items()})
        return [
            UOMInfo(id=u.id, division_id=u.division_id, code=u.code, name=u.name, each_count=u.each_count)
            for u in uoms
        ]

    def carriers(self, division: int | str) -> list[CarrierInfo]:
        carriers = (
            Carrier.objects.filter(**{f"division__{k}": v for k, v in _division_filter(division).items()})
            .prefetch_related(Prefetch("methods", queryset=ShippingMethod.objects.order_by("name")))
            .order_by("name")
        )
        return [
            CarrierInfo(
                id=c.id,
                division_id=c.division_id,
                name=c.name,
                methods=tuple(
                    ShippingMethodInfo(id=m.id, name=m.name, description=m.description)
                    for m in c.methods.all()
                ),
            )
            for c in carriers
        ]

    def carriers_upsert(self, division: int | str, carriers: Sequence[CarrierData]) -> dict[str, int]:
        return services.carriers_upsert(
            division=_division(division),
            carriers=[(carrier.name, list(carrier.methods)) for carrier in carriers],
        )

    # items and stock

    def items_find(self, division: int | str, item_numbers: Iterable[str]) -> dict[str, ItemInfo]:
        items = Item.objects.filter(
            **{f"division__{k}": v for k, v in _division_filter(division).items()},
            item_number__in=list(item_numbers),
        )
        return {item.item_number: _item_info(item) for item in items}

    def items_get(self, item_ids: Iterable[int]) -> dict[int, ItemInfo]:
        return {item.id: _item_info(item) for item in Item.objects.filter(id__in=list(item_ids))}

    def items_upsert(
        self, division_code: int | str, items: Sequence[ItemData], *, default_uom_id: int | None = None
    ) -> list[ItemResult]:
        division = _division(division_code)
        default_uom = None
        if default_uom_id is not None:
            default_uom = UOM.objects.filter(pk=default_uom_id, division=division).first()
            if default_uom is None:
                raise UnknownMasterData(f"No unit of measure {default_uom_id} in division {division.code}.")
        outcomes = services.items_upsert(
            division=division,
            default_uom=default_uom,
            entries=[
                {
                    "item_number": item.item_number,
                    "description": item.description,
                    "alternate_number": item.alternate_number,
                    "active": item.active,
                }
                for item in items
            ],
        )
        return [
            ItemResult(
                key=item.key,
                item_number=outcome["item_number"],
                outcome=outcome["outcome"],
                item_id=outcome["item_id"],
                reason=outcome["reason"],
            )
            for item, outcome in zip(items, outcomes, strict=True)
        ]

    def initial_stock_set(
        self,
        *,
        location_id: int,
        uom_id: int,
        rows: Sequence[StockRow],
        overwrite: bool = False,
        reason: str = "Initial stock",
        reference: str = "",
    ) -> list[StockResult]:
        try:
            location = Location.objects.select_related("site").get(pk=location_id)
            uom = UOM.objects.get(pk=uom_id)
        except ObjectDoesNotExist as exc:
            raise UnknownMasterData(str(exc)) from None
        try:
            outcomes = services.inventory_initial_set(
                location=location,
                uom=uom,
                quantities=[(row.item_id, row.quantity) for row in rows],
                overwrite=overwrite,
                reason=reason,
                reference=reference,
            )
        except ValidationError as exc:
            raise GatewayError(_error_text(exc)) from None
        return [StockResult(**outcome) for outcome in outcomes]

    def on_hand_by_item(
        self,
        *,
        division: int | str,
        scope: str,
        site_id: int | None = None,
        location_id: int | None = None,
        item_ids: Iterable[int] | None = None,
    ) -> dict[int, int]:
        division_id = division if isinstance(division, int) else _division(division).id
        try:
            return selectors.on_hand_by_item(
                division=division_id, scope=scope, site=site_id, location=location_id, item_ids=item_ids
            )
        except ValueError as exc:
            raise GatewayError(str(exc)) from None

    def unpicked_by_item(self, store_id: int, item_ids: Iterable[int] | None = None) -> dict[int, int]:
        return selectors.unpicked_by_item(store=store_id, item_ids=item_ids)

    def picked_by_store_line(self, store_id: int, store_order_ids: Iterable[int]) -> dict[int, int]:
        return selectors.picked_by_store_line(store=store_id, store_order_ids=store_order_ids)

    # picking orders

    def picking_orders_create(self, orders: Sequence[PickingOrderData]) -> list[PickingOrderResult]:
        results: list[PickingOrderResult | None] = [None] * len(orders)
        groups: dict[tuple, list[int]] = {}
        for index, order in enumerate(orders):
            groups.setdefault((order.division, order.store_id), []).append(index)
        for (division, store_id), indexes in groups.items():
            outcomes = services.picking_orders_create(
                division=_division(division), store_id=store_id, orders=[orders[i] for i in indexes]
            )
            for index, outcome in zip(indexes, outcomes, strict=True):
                results[index] = PickingOrderResult(**outcome)
        return results

    def picking_orders_get(
        self, *, store_id: int, store_order_ids: Iterable[int]
    ) -> dict[int, PickingOrderInfo]:
        orders = PickingOrder.objects.filter(
            source_store_id=store_id, store_order_id__in=list(store_order_ids)
        ).prefetch_related(Prefetch("lines", queryset=PickingOrderLine.objects.order_by("line_number")))
        return {order.store_order_id: _order_info(order, with_lines=True) for order in orders}

    def _order_change(self, service, order_id: int) -> PickingOrderInfo:
        order = PickingOrder.objects.filter(pk=order_id).first()
        if order is None:
            raise UnknownMasterData(f"No picking order {order_id}.")
        try:
            return _order_info(service(order=order))
        except ValidationError as exc:
            raise GatewayError(_error_text(exc)) from None

    def order_close(self, order_id: int) -> PickingOrderInfo:
        return self._order_change(services.order_close, order_id)

    def order_cancel(self, order_id: int) -> PickingOrderInfo:
        return self._order_change(services.order_cancel, order_id)

    # changes since a cursor

    def picks_since(self, cursor: int, *, store_id: int | None = None, limit: int = 1000) -> PickPage:
        high_water, _ = services.ledger_high_water()
        rows = (
            InventoryTransaction.objects.filter(
                kind=InventoryTransaction.Kind.PICK, id__gt=cursor, id__lte=high_water, pick__isnull=False
            )
            .select_related(
                "pick", "pick__line", "pick__line__item", "pick__carrier", "pick__user", "picking_order"
            )
            .order_by("id")
        )
        if store_id is not None:
            rows = rows.filter(picking_order__source_store_id=store_id)
        rows = list(rows[:limit])
        picks = []
        for row in rows:
            pick, order = row.pick, row.picking_order
            picks.append(
                PickInfo(
                    cursor=row.id,
                    pick_id=pick.id,
                    order_id=order.id,
                    order_number=order.number,
                    order_status=order.status,
                    store_id=order.source_store_id,
                    store_order_id=order.store_order_id,
                    line_id=pick.line_id,
                    line_number=pick.line.line_number,
                    item_id=pick.line.item_id,
                    item_number=pick.line.item.item_number,
                    store_order_product_id=pick.line.store_order_product_id,
                    quantity=pick.quantity,
                    location_id=pick.location_id,
                    tracking_number=pick.tracking_number,
                    carrier_name=pick.carrier.name if pick.carrier_id else "",
                    picked_at=pick.picked_at,
                    user_name=_user_name(pick.user),
                )
            )
        next_cursor = rows[-1].id if len(rows) == limit else max(cursor, high_water)
        return PickPage(picks=picks, next_cursor=next_cursor)

    def ledger_since(
        self, cursor: int, *, limit: int = 1000, kinds: Iterable[str] | None = None
    ) -> LedgerPage:
        high_water, _ = services.ledger_high_water()
        rows = (
            InventoryTransaction.objects.filter(id__gt=cursor, id__lte=high_water)
            .select_related("item", "uom", "user", "picking_order")
            .order_by("id")
        )
        if kinds is not None:
            rows = rows.filter(kind__in=list(kinds))
        rows = list(rows[:limit])
        ledger = [
            LedgerRow(
                id=row.id,
                kind=row.kind,
                item_id=row.item_id,
                item_number=row.item.item_number,
                site_id=row.site_id,
                location_id=row.location_id,
                uom_id=row.uom_id,
                each_count=row.uom.each_count if row.uom_id else 1,
                quantity_delta=row.quantity_delta,
                balance_after=row.balance_after,
                reason=row.reason,
                reference=row.reference,
                picking_order_id=row.picking_order_id,
                store_id=row.picking_order.source_store_id if row.picking_order_id else None,
                store_order_id=row.picking_order.store_order_id if row.picking_order_id else None,
                user_name=_user_name(row.user),
                created_at=row.created_at,
            )
            for row in rows
        ]
        next_cursor = rows[-1].id if len(rows) == limit else max(cursor, high_water)
        return LedgerPage(rows=ledger, next_cursor=next_cursor)


def get_gateway() -> IntelliTrackGateway:
    """The configured gateway (setting ITBC_INTELLITRACK_GATEWAY, a dotted path to a class)."""
    return import_string(getattr(settings, "ITBC_INTELLITRACK_GATEWAY", DEFAULT_GATEWAY))()
