"""Stock and picking-order writes of the embedded IntelliTrack.

Every stock change locks the rows it touches (SELECT ... FOR UPDATE) and writes its ledger row in the
same transaction, so the ledger always explains on-hand and two concurrent picks of the last unit
cannot both succeed. Locks are always taken in one order, picking order -> line -> inventory records
(by id), so two services never wait on each other in a circle.

Bad input raises django.core.exceptions.ValidationError with a dict keyed by the keyword argument
that is wrong (NON_FIELD_ERRORS, "__all__", for the state of the order or item)."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import (
    UOM,
    Carrier,
    InventoryRecord,
    InventoryTransaction,
    Item,
    Location,
    Pick,
    PickingOrder,
    PickingOrderLine,
)

Kind = InventoryTransaction.Kind
Status = PickingOrder.Status

TRACKING_NUMBER_MAX_LENGTH = Pick._meta.get_field("tracking_number").max_length
REFERENCE_MAX_LENGTH = InventoryTransaction._meta.get_field("reference").max_length


# --- input checks ---------------------------------------------------------------------------------


def _whole_number(value, field: str, *, minimum: int | None = None, allow_zero: bool = True) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({field: ["Enter a whole number."]})
    if minimum is not None and value < minimum:
        raise ValidationError({field: [f"Enter a number of at least {minimum}."]})
    if not allow_zero and value == 0:
        raise ValidationError({field: ["Enter a quantity other than zero."]})
    return value


def _check_place(
    *, item: Item, location: Location, uom: UOM | None, location_field: str = "location"
) -> None:
    errors = {}
    if location.site.division_id != item.division_id:
        errors[location_field] = [f"Location {location.code} is not in the item's division."]
    if uom is not None and uom.division_id != item.division_id:
        errors["uom"] = [f"Unit of measure {uom.code} is not in the item's division."]
    if errors:
        raise ValidationError(errors)


def _check_reference(reference: str) -> str:
    reference = (reference or "").strip()
    if len(reference) > REFERENCE_MAX_LENGTH:
        raise ValidationError({"reference": [f"Use at most {REFERENCE_MAX_LENGTH} characters."]})
    return reference


def _user_or_none(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


# --- row locks ------------------------------------------------------------------------------------


def _ensure_records(*, item: Item, uom: UOM, locations: list[Location]) -> None:
    """Create missing records at zero; a concurrent creator wins quietly (ON CONFLICT DO NOTHING)."""
    InventoryRecord.objects.bulk_create(
        [
            InventoryRecord(item=item, site_id=location.site_id, location=location, uom=uom, on_hand=0)
            for location in locations
        ],
        ignore_conflicts=True,
    )


def _lock_records(*, item: Item, uom: UOM, locations: list[Location]) -> dict[int, InventoryRecord]:
    """Lock the item's records at these locations, in id order; returns {location_id: record}."""
    records = (
        InventoryRecord.objects.select_for_update()
        .filter(item=item, uom=uom, location__in=locations)
        .order_by("id")
    )
    return {record.location_id: record for record in records}


def _lock_record(*, item: Item, uom: UOM, location: Location, create: bool) -> InventoryRecord | None:
    if create:
        _ensure_records(item=item, uom=uom, locations=[location])
    return _lock_records(item=item, uom=uom, locations=[location]).get(location.id)


def _apply(
    *,
    record: InventoryRecord,
    delta: int,
    kind: str,
    user,
    reason: str = "",
    reference: str = "",
    picking_order: PickingOrder | None = None,
    pick: Pick | None = None,
) -> InventoryTransaction:
    """Change a locked record's on-hand and write the ledger row for it."""
    record.on_hand += delta
    record.updated_at = timezone.now()
    record.save(update_fields=["on_hand", "updated_at"])
    return InventoryTransaction.objects.create(
        kind=kind,
        item_id=record.item_id,
        site_id=record.site_id,
        location_id=record.location_id,
        uom_id=record.uom_id,
        quantity_delta=delta,
        balance_after=record.on_hand,
        user=_user_or_none(user),
        reason=reason,
        reference=reference,
        picking_order=picking_order,
        pick=pick,
    )


def _short_of_stock(on_hand: int, location: Location) -> str:
    return f"Only {on_hand} on hand at location {location.code}."


# --- inventory ------------------------------------------------------------------------------------


@transaction.atomic
def inventory_adjust(
    *,
    item: Item,
    location: Location,
    uom: UOM,
    quantity_delta: int,
    reason: str,
    user=None,
    reference: str = "",
) -> InventoryTransaction:
    """Raise or lower on-hand by `quantity_delta`; a reason is required and the result may not go below
    zero."""
    _whole_number(quantity_delta, "quantity_delta", allow_zero=False)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Give a reason for the adjustment."]})
    reference = _check_reference(reference)
    _check_place(item=item, location=location, uom=uom)
    record = _lock_record(item=item, uom=uom, location=location, create=quantity_delta > 0)
    on_hand = record.on_hand if record else 0
    if on_hand + quantity_delta < 0:
        raise ValidationError(
            {"quantity_delta": [f"On-hand cannot go below zero: {_short_of_stock(on_hand, location)}"]}
        )
    return _apply(
        record=record, delta=quantity_delta, kind=Kind.ADJUST, user=user, reason=reason, reference=reference
    )


@transaction.atomic
def inventory_set(
    *,
    item: Item,
    location: Location,
    uom: UOM,
    quantity: int,
    reason: str,
    user=None,
    reference: str = "",
    kind: str = Kind.ADJUST,
) -> InventoryTransaction | None:
    """Adjust on-hand to an absolute count; returns None when the count already matches."""
    _whole_number(quantity, "quantity", minimum=0)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Give a reason for the adjustment."]})
    if kind not in (Kind.ADJUST, Kind.INITIAL_SET):
        raise ValueError(f"inventory_set cannot write a {kind!r} row")
    reference = _check_reference(reference)
    _check_place(item=item, location=location, uom=uom)
    record = _lock_record(item=item, uom=uom, location=location, create=quantity > 0)
    on_hand = record.on_hand if record else 0
    if quantity == on_hand:
        return None
    return _apply(
        record=record, delta=quantity - on_hand, kind=kind, user=user, reason=reason, reference=reference
    )


@transaction.atomic
def inventory_receive(
    *,
    item: Item,
    location: Location,
    uom: UOM,
    quantity: int,
    user=None,
    reason: str = "",
    reference: str = "",
    kind: str = Kind.RECEIVE,
) -> InventoryTransaction:
    """Add stock at a location: a receipt (default), an add-to-inventory or a return."""
    _whole_number(quantity, "quantity", minimum=1)
    if kind not in (Kind.ADD, Kind.RECEIVE, Kind.RETURN):
        raise ValueError(f"inventory_receive cannot write a {kind!r} row")
    reference = _check_reference(reference)
    _check_place(item=item, location=location, uom=uom)
    record = _lock_record(item=item, uom=uom, location=location, create=True)
    return _apply(
        record=record,
        delta=quantity,
        kind=kind,
        user=user,
        reason=(reason or "").strip(),
        reference=reference,
    )


@transaction.atomic
def inventory_move(
    *,
    item: Item,
    uom: UOM,
    from_location: Location,
    to_location: Location,
    quantity: int,
    user=None,
    reason: str = "",
    reference: str = "",
) -> tuple[InventoryTransaction, InventoryTransaction]:
    """Move stock between two locations of the item's division: a move_out and a move_in ledger row."""
    _whole_number(quantity, "quantity", minimum=1)
    if from_location.pk == to_location.pk:
        raise ValidationError({"to_location": ["Choose a location other than the one stock moves from."]})
    reference = _check_reference(reference)
    _check_place(item=item, location=from_location, uom=uom, location_field="from_location")
    _check_place(item=item, location=to_location, uom=None, location_field="to_location")
    _ensure_records(item=item, uom=uom, locations=[to_location])
    records = _lock_records(item=item, uom=uom, locations=[from_location, to_location])
    source = records.get(from_location.id)
    on_hand = source.on_hand if source else 0
    if on_hand < quantity:
        raise ValidationError({"quantity": [_short_of_stock(on_hand, from_location)]})
    reason = (reason or "").strip()
    out_row = _apply(
        record=source, delta=-quantity, kind=Kind.MOVE_OUT, user=user, reason=reason, reference=reference
    )
    in_row = _apply(
        record=records[to_location.id],
        delta=quantity,
        kind=Kind.MOVE_IN,
        user=user,
        reason=reason,
        reference=reference,
    )
    return out_row, in_row


# --- picking orders -------------------------------------------------------------------------------


def _lock_order(order_id: int) -> PickingOrder:
    return PickingOrder.objects.select_for_update().get(pk=order_id)


def _pick_uom(*, item: Item, location: Location, uom: UOM | None) -> UOM:
    if uom is not None:
        return uom
    if item.default_uom_id is not None:
        return item.default_uom
    # Without a default UOM, pick from the item's only record at that location.
    uom_ids = list(
        InventoryRecord.objects.filter(item=item, location=location).values_list("uom_id", flat=True)[:2]
    )
    if not uom_ids:
        raise ValidationError({"quantity": [_short_of_stock(0, location)]})
    if len(uom_ids) > 1:
        raise ValidationError({"uom": ["The item has stock in several units of measure here; choose one."]})
    return UOM.objects.get(pk=uom_ids[0])


@transaction.atomic
def order_pick(
    *,
    line: PickingOrderLine,
    quantity: int,
    location: Location,
    user=None,
    tracking_number: str = "",
    carrier: Carrier | None = None,
    uom: UOM | None = None,
) -> Pick:
    """Pick part or all of a line's remaining quantity from one location. Stock leaves that location with
    a `pick` ledger row; the order closes itself once every line is fully picked."""
    _whole_number(quantity, "quantity", minimum=1)
    tracking_number = (tracking_number or "").strip()
    if len(tracking_number) > TRACKING_NUMBER_MAX_LENGTH:
        raise ValidationError({"tracking_number": [f"Use at most {TRACKING_NUMBER_MAX_LENGTH} characters."]})

    order = _lock_order(line.order_id)
    if order.status != Status.OPEN:
        state = order.get_status_display().lower()
        raise ValidationError(
            {NON_FIELD_ERRORS: [f"Order {order.number} is {state}; only open orders can be picked."]}
        )
    line = PickingOrderLine.objects.select_for_update().select_related("item").get(pk=line.pk)
    item = line.item
    if not item.active:
        raise ValidationError(
            {NON_FIELD_ERRORS: [f"Item {item.item_number} is inactive and cannot be picked."]}
        )
    errors = {}
    if location.site.division_id != order.division_id:
        errors["location"] = [f"Location {location.code} is not in the order's division."]
    if carrier is not None and carrier.division_id != order.division_id:
        errors["carrier"] = [f"Carrier {carrier.name} is not in the order's division."]
    if quantity > line.remaining:
        errors["quantity"] = [f"Only {line.remaining} left to pick on line {line.line_number}."]
    if errors:
        raise ValidationError(errors)

    uom = _pick_uom(item=item, location=location, uom=uom)
    _check_place(item=item, location=location, uom=uom)
    record = _lock_record(item=item, uom=uom, location=location, create=False)
    on_hand = record.on_hand if record else 0
    if on_hand < quantity:
        raise ValidationError({"quantity": [_short_of_stock(on_hand, location)]})

    pick = Pick.objects.create(
        line=line,
        quantity=quantity,
        location=location,
        user=_user_or_none(user),
        tracking_number=tracking_number,
        carrier=carrier,
    )
    pick.transaction = _apply(
        record=record,
        delta=-quantity,
        kind=Kind.PICK,
        user=user,
        reference=order.number,
        picking_order=order,
        pick=pick,
    )
    pick.save(update_fields=["transaction"])
    line.picked_qty += quantity
    line.save(update_fields=["picked_qty"])

    if not order.lines.filter(picked_qty__lt=F("ordered_qty")).exists():
        order.status = Status.CLOSED
        order.closed_at = timezone.now()
        order.save(update_fields=["status", "closed_at"])
    line.order = order
    return pick


@transaction.atomic
def order_close(*, order: PickingOrder, user=None) -> PickingOrder:
    """Close an open order by hand (a closed order stays closed)."""
    locked = _lock_order(order.pk)
    if locked.status == Status.CANCELLED:
        raise ValidationError(
            {NON_FIELD_ERRORS: [f"Order {locked.number} is cancelled and cannot be closed."]}
        )
    if locked.status == Status.OPEN:
        locked.status = Status.CLOSED
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at"])
    order.status, order.closed_at = locked.status, locked.closed_at
    return locked


@transaction.atomic
def order_reopen(*, order: PickingOrder, user=None) -> PickingOrder:
    """Reopen a closed order (an open order stays open; a cancelled one cannot be reopened)."""
    locked = _lock_order(order.pk)
    if locked.status == Status.CANCELLED:
        raise ValidationError(
            {NON_FIELD_ERRORS: [f"Order {locked.number} is cancelled and cannot be reopened."]}
        )
    if locked.status == Status.CLOSED:
        locked.status = Status.OPEN
        locked.closed_at = None
        locked.save(update_fields=["status", "closed_at"])
    order.status, order.closed_at = locked.status, locked.closed_at
    return locked


@transaction.atomic
def order_cancel(*, order: PickingOrder, user=None) -> PickingOrder:
    """Cancel an open order, so its unpicked quantity stops counting (a cancelled order stays cancelled;
    a closed one cannot be cancelled)."""
    locked = _lock_order(order.pk)
    if locked.status == Status.CLOSED:
        raise ValidationError(
            {NON_FIELD_ERRORS: [f"Order {locked.number} is closed and cannot be cancelled."]}
        )
    if locked.status == Status.OPEN:
        locked.status = Status.CANCELLED
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at"])
    order.status, order.closed_at = locked.status, locked.closed_at
    return locked
