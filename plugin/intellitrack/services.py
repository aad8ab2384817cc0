"""Stock and picking-order writes of the embedded IntelliTrack.

Every stock change locks the rows it touches (SELECT ... FOR UPDATE) and writes its ledger row in the
same transaction, so the ledger always explains on-hand and two concurrent picks of the last unit
cannot both succeed. Locks are always taken in one order, the ledger's advisory lock (shared) ->
picking order -> line -> inventory records (by id), so two services never wait on each other in a circle.

Bad input raises django.core.exceptions.ValidationError with a dict keyed by the keyword argument
that is wrong (NON_FIELD_ERRORS, "__all__", for the state of the order or item)."""

from collections import Counter

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import (
    UOM,
    Carrier,
    Customer,
    Division,
    InventoryRecord,
    InventoryTransaction,
    Item,
    Location,
    Pick,
    PickingOrder,
    PickingOrderLine,
    ShippingMethod,
    ShipTo,
    Site,
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


# Ledger readers page by id ("rows since a cursor"). Ids are handed out before commit, so a reader could
# see id 11 committed while id 10 is still in flight and skip it for ever. Every writer therefore holds
# this advisory lock in shared mode for its transaction, and a reader takes it exclusively for an instant
# to learn the highest id that can no longer gain a lower-numbered neighbour (`ledger_high_water`).
# Writers take it BEFORE any row lock: a writer waiting behind a queued reader then holds no row another
# writer needs, so no lock cycle can form. Call the readers outside a transaction that changes stock.
LEDGER_LOCK_KEY = 4_101_987_655


def _ledger_write_guard() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [LEDGER_LOCK_KEY])


# Order imports of one division run one after the other: each reads which orders, customers and
# ship-tos exist and inserts the rest, so two overlapping runs would insert the same rows twice. The
# two-key form keeps this lock apart from the single-key ledger lock.
ORDER_IMPORT_LOCK_CLASS = 41_019_877


def _order_import_guard(division: Division) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s::integer, %s::integer)",
                [ORDER_IMPORT_LOCK_CLASS, division.pk],
            )


def ledger_high_water() -> tuple[int, int]:
    """The highest InventoryTransaction id and Pick id whose writers have all finished.

    The exclusive lock is a transaction lock, so it ends with the transaction whatever happens; a
    session lock whose unlock failed in an aborted transaction would stay with the connection and
    block every writer. Inside a caller's atomic block the lock lasts until that block commits, so
    call this outside a transaction that changes stock."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LEDGER_LOCK_KEY])
        cursor.execute(
            f"SELECT (SELECT COALESCE(MAX(id), 0) FROM {InventoryTransaction._meta.db_table}),"
            f" (SELECT COALESCE(MAX(id), 0) FROM {Pick._meta.db_table})"
        )
        transaction_id, pick_id = cursor.fetchone()
    return transaction_id, pick_id


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
    _ledger_write_guard()
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
    _ledger_write_guard()
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
    _ledger_write_guard()
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
    _ledger_write_guard()
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
    """The unit a pick takes stock from. Order lines count single units, so only a UOM with an
    each-count of 1 will do: picking 1 from a case would take 12."""
    if uom is None:
        uom = item.default_uom
    if uom is not None:
        if uom.each_count != 1:
            raise ValidationError(
                {
                    "uom": [
                        f"Picks take single units; {uom.code} holds {uom.each_count} each. Choose a unit of 1."
                    ]
                }
            )
        return uom
    # Without a default UOM, pick from the item's only single-unit record at that location.
    uom_ids = list(
        InventoryRecord.objects.filter(item=item, location=location, uom__each_count=1).values_list(
            "uom_id", flat=True
        )[:2]
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

    _ledger_write_guard()
    order = _lock_order(line.order_id)
    if order.status != Status.OPEN:
        state = order.get_status_display().lower()
        raise ValidationError(
            {NON_FIELD_ERRORS: [f"Order {order.number} is {state}; only open orders can be picked."]}
        )
    line = PickingOrderLine.objects.select_for_update(of=("self",)).select_related("item").get(pk=line.pk)
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


# --- bulk writes for the gateway (one store page at a time) -----------------------------------------


ITEM_NUMBER_MAX_LENGTH = Item._meta.get_field("item_number").max_length
DESCRIPTION_MAX_LENGTH = Item._meta.get_field("description").max_length


def _insert_returning(model, rows: list[dict], returning: list[str]) -> list[tuple]:
    """INSERT many rows, skip any that break a unique constraint (ON CONFLICT DO NOTHING) and return the
    given columns of the rows really inserted: what bulk_create(ignore_conflicts=True) cannot tell."""
    if not rows:
        return []
    fields = [model._meta.get_field(name) for name in rows[0]]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    returned = ", ".join(connection.ops.quote_name(model._meta.get_field(name).column) for name in returning)
    inserted = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            params = [
                field.get_db_prep_save(row[field.name], connection) for row in chunk for field in fields
            ]
            cursor.execute(
                f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) "
                f"VALUES {', '.join([placeholders] * len(chunk))} ON CONFLICT DO NOTHING RETURNING {returned}",
                params,
            )
            inserted.extend(cursor.fetchall())
    return inserted


@transaction.atomic
def items_upsert(*, division, entries: list[dict], default_uom: UOM | None = None, user=None) -> list[dict]:
    """Create or update items by item number in one division, in bulk.

    `entries`: dicts with item_number, description, alternate_number and active (None: leave as is).
    Returns one dict per entry, in order: {"outcome": created|updated|unchanged|blank|duplicate|invalid,
    "item_id", "item_number", "reason"}. A blank key, an item number that appears twice in the batch or an
    alternate number owned by another item is reported, never merged. Created items get a new_item row."""
    now = timezone.now()
    results: list[dict | None] = [None] * len(entries)
    cleaned = []
    for entry in entries:
        number = (entry.get("item_number") or "").strip()
        alternate = (entry.get("alternate_number") or "").strip()
        description = (entry.get("description") or "").strip()[:DESCRIPTION_MAX_LENGTH]
        cleaned.append((number, alternate, description, entry.get("active")))
    number_counts = Counter(number for number, *_ in cleaned if number)
    alternate_counts = Counter(alternate for _, alternate, *_ in cleaned if alternate)

    def report(index, outcome, item_id=None, reason=""):
        results[index] = {
            "outcome": outcome,
            "item_id": item_id,
            "item_number": cleaned[index][0],
            "reason": reason,
        }

    valid = []
    for index, (number, alternate, _description, _active) in enumerate(cleaned):
        if not number:
            report(index, "blank", reason="The item number is blank.")
        elif len(number) > ITEM_NUMBER_MAX_LENGTH:
            report(
                index,
                "invalid",
                reason=f"The item number is longer than {ITEM_NUMBER_MAX_LENGTH} characters.",
            )
        elif len(alternate) > ITEM_NUMBER_MAX_LENGTH:
            report(
                index,
                "invalid",
                reason=f"The alternate number is longer than {ITEM_NUMBER_MAX_LENGTH} characters.",
            )
        elif number_counts[number] > 1:
            report(
                index,
                "duplicate",
                reason=f"Item number {number} appears {number_counts[number]} times in this batch.",
            )
        elif alternate and alternate_counts[alternate] > 1:
            report(
                index,
                "duplicate",
                reason=f"Alternate number {alternate} appears more than once in this batch.",
            )
        else:
            valid.append(index)

    numbers = [cleaned[index][0] for index in valid]
    existing = {
        item.item_number: item for item in Item.objects.filter(division=division, item_number__in=numbers)
    }
    alternates = [cleaned[index][1] for index in valid if cleaned[index][1]]
    alternate_owner = dict(
        Item.objects.filter(division=division, alternate_number__in=alternates).values_list(
            "alternate_number", "item_number"
        )
    )

    to_insert, to_update = [], []
    for index in valid:
        number, alternate, description, active = cleaned[index]
        owner = alternate_owner.get(alternate) if alternate else None
        if owner is not None and owner != number:
            report(
                index, "duplicate", reason=f"Alternate number {alternate} already belongs to item {owner}."
            )
            continue
        item = existing.get(number)
        if item is None:
            to_insert.append(index)
            continue
        changed = []
        if description and item.description != description:
            item.description = description
            changed.append("description")
        if alternate and item.alternate_number != alternate:
            item.alternate_number = alternate
            changed.append("alternate_number")
        if active is not None and item.active != bool(active):
            item.active = bool(active)
            changed.append("active")
        if changed:
            to_update.append(item)
            report(index, "updated", item.id, "Changed: " + ", ".join(changed) + ".")
        else:
            report(index, "unchanged", item.id)

    # Rows go in key order (ids for updates, item numbers for inserts), so two runs over overlapping
    # items take their row and index locks in the same order and cannot deadlock.
    to_update.sort(key=lambda item: item.pk)
    to_insert.sort(key=lambda index: cleaned[index][0])
    _ledger_write_guard()
    if to_update:
        Item.objects.bulk_update(to_update, ["description", "alternate_number", "active"], batch_size=1000)

    inserted = dict(
        (number, item_id)
        for item_id, number in _insert_returning(
            Item,
            [
                {
                    "division": division.pk,
                    "item_number": cleaned[index][0],
                    "alternate_number": cleaned[index][1],
                    "description": cleaned[index][2],
                    "active": True if cleaned[index][3] is None else bool(cleaned[index][3]),
                    "default_uom": default_uom.pk if default_uom else None,
                    "created_at": now,
                }
                for index in to_insert
            ],
            ["id", "item_number"],
        )
    )
    # Rows the insert skipped were created meanwhile by someone else, or clash on the alternate number.
    skipped = [cleaned[index][0] for index in to_insert if cleaned[index][0] not in inserted]
    created_meanwhile = dict(
        Item.objects.filter(division=division, item_number__in=skipped).values_list("item_number", "id")
    )
    for index in to_insert:
        number = cleaned[index][0]
        if number in inserted:
            report(index, "created", inserted[number])
        elif number in created_meanwhile:
            report(index, "unchanged", created_meanwhile[number], "Created at the same time by another run.")
        else:
            report(
                index,
                "duplicate",
                reason=f"Alternate number {cleaned[index][1]} already belongs to another item.",
            )

    InventoryTransaction.objects.bulk_create(
        [
            InventoryTransaction(
                kind=Kind.NEW_ITEM,
                item_id=item_id,
                quantity_delta=0,
                user=_user_or_none(user),
                reason="New item",
            )
            for item_id in inserted.values()
        ],
        batch_size=1000,
    )
    return results


@transaction.atomic
def inventory_initial_set(
    *,
    location: Location,
    uom: UOM,
    quantities: list[tuple[int, int]],
    overwrite: bool = False,
    user=None,
    reason: str = "Initial stock",
    reference: str = "",
) -> list[dict]:
    """Set on-hand at one location and UOM for many items, in bulk: (item_id, quantity) pairs.

    Only items without a record there yet get stock, unless `overwrite` (then the record is set to the
    quantity with an initial_set ledger row for the difference). Returns one dict per pair, in order:
    {"outcome": set|overwritten|unchanged|exists|skipped|unknown_item|duplicate, "item_id", "quantity",
    "on_hand_before", "on_hand_after", "reason"}."""
    division_id = location.site.division_id
    if uom.division_id != division_id:
        raise ValidationError({"uom": [f"Unit of measure {uom.code} is not in the location's division."]})
    results: list[dict | None] = [None] * len(quantities)

    def report(index, outcome, before=None, after=None, reason_text=""):
        item_id, quantity = quantities[index]
        results[index] = {
            "outcome": outcome,
            "item_id": item_id,
            "quantity": quantity,
            "on_hand_before": before,
            "on_hand_after": after,
            "reason": reason_text,
        }

    id_counts = Counter(item_id for item_id, _ in quantities)
    candidates = []
    for index, (item_id, quantity) in enumerate(quantities):
        if id_counts[item_id] > 1:
            report(index, "duplicate", reason_text="The item appears more than once in this batch.")
        elif isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            report(index, "skipped", reason_text=f"Quantity {quantity!r} is not a positive whole number.")
        else:
            candidates.append(index)

    known = set(
        Item.objects.filter(
            division_id=division_id, id__in=[quantities[i][0] for i in candidates]
        ).values_list("id", flat=True)
    )
    wanted = []
    for index in candidates:
        if quantities[index][0] in known:
            wanted.append(index)
        else:
            report(index, "unknown_item", reason_text="No such item in the location's division.")

    item_ids = [quantities[index][0] for index in wanted]
    _ledger_write_guard()
    before = {
        record.item_id: record
        for record in InventoryRecord.objects.select_for_update()
        .filter(item_id__in=item_ids, location=location, uom=uom)
        .order_by("id")
    }
    if not overwrite:
        for index in wanted:
            record = before.get(quantities[index][0])
            if record is not None:
                report(index, "exists", record.on_hand, record.on_hand, "The item already has stock here.")
        wanted = [index for index in wanted if quantities[index][0] not in before]

    now = timezone.now()
    # In item order, so two runs inserting the same records take the index locks in one order.
    new_ids = sorted(quantities[index][0] for index in wanted if quantities[index][0] not in before)
    InventoryRecord.objects.bulk_create(
        [
            InventoryRecord(item_id=item_id, site_id=location.site_id, location=location, uom=uom, on_hand=0)
            for item_id in new_ids
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    records = {
        record.item_id: record
        for record in InventoryRecord.objects.select_for_update()
        .filter(item_id__in=item_ids, location=location, uom=uom)
        .order_by("id")
    }
    changed, ledger = [], []
    for index in wanted:
        item_id, quantity = quantities[index]
        record = records[item_id]
        on_hand_before = record.on_hand
        if item_id not in before and on_hand_before != 0:
            # Created and stocked by someone else between our two reads: leave it alone.
            report(index, "exists", on_hand_before, on_hand_before, "The item already has stock here.")
            continue
        if quantity == on_hand_before:
            report(index, "unchanged", on_hand_before, quantity)
            continue
        record.on_hand = quantity
        record.updated_at = now
        changed.append(record)
        ledger.append(
            InventoryTransaction(
                kind=Kind.INITIAL_SET,
                item_id=item_id,
                site_id=record.site_id,
                location_id=record.location_id,
                uom_id=record.uom_id,
                quantity_delta=quantity - on_hand_before,
                balance_after=quantity,
                user=_user_or_none(user),
                reason=reason,
                reference=reference,
            )
        )
        report(index, "overwritten" if item_id in before else "set", on_hand_before, quantity)
    InventoryRecord.objects.bulk_update(changed, ["on_hand", "updated_at"], batch_size=1000)
    InventoryTransaction.objects.bulk_create(ledger, batch_size=1000)
    return results


@transaction.atomic
def carriers_upsert(*, division, carriers: list[tuple[str, list[tuple[str, str]]]]) -> dict[str, int]:
    """Make sure each (carrier name, [(method name, description)]) exists in the division; returns
    {carrier name: carrier id}. Existing carriers and methods are kept as they are."""
    names = sorted({name.strip() for name, _ in carriers if name and name.strip()})
    Carrier.objects.bulk_create(
        [Carrier(division=division, name=name) for name in names], ignore_conflicts=True, batch_size=1000
    )
    ids = dict(Carrier.objects.filter(division=division, name__in=names).values_list("name", "id"))
    methods = {}
    for name, carrier_methods in carriers:
        for method_name, description in carrier_methods or []:
            if name and name.strip() in ids and method_name and method_name.strip():
                methods[(ids[name.strip()], method_name.strip())] = (description or "").strip()
    ShippingMethod.objects.bulk_create(
        [
            ShippingMethod(carrier_id=carrier_id, name=method_name, description=description)
            for (carrier_id, method_name), description in methods.items()
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return ids


CUSTOMER_FIELDS = [
    "name",
    "account_number",
    "email",
    "phone",
    "address1",
    "address2",
    "city",
    "state",
    "postal_code",
    "country",
]
SHIP_TO_FIELDS = [
    "name",
    "company",
    "address1",
    "address2",
    "city",
    "state",
    "postal_code",
    "country",
    "phone",
    "email",
]
ORDER_NUMBER_MAX_LENGTH = PickingOrder._meta.get_field("number").max_length


def _text_fields(source, names: list[str], model) -> dict:
    values = {}
    for name in names:
        value = (getattr(source, name, "") or "").strip()
        values[name] = value[: model._meta.get_field(name).max_length]
    return values


def _order_problem(order, number: str, items: dict[int, Item]) -> str:
    if not number:
        return "The order number is blank."
    if len(number) > ORDER_NUMBER_MAX_LENGTH:
        return f"The order number is longer than {ORDER_NUMBER_MAX_LENGTH} characters."
    if order.customer is None or not (order.customer.name or "").strip():
        return "The order has no customer name."
    if not order.lines:
        return "The order has no lines."
    seen = set()
    for line in order.lines:
        if (
            isinstance(line.line_number, bool)
            or not isinstance(line.line_number, int)
            or line.line_number < 1
        ):
            return f"Line number {line.line_number!r} is not a positive whole number."
        if line.line_number in seen:
            return f"Line number {line.line_number} appears twice."
        seen.add(line.line_number)
        if (
            isinstance(line.ordered_qty, bool)
            or not isinstance(line.ordered_qty, int)
            or line.ordered_qty < 1
        ):
            return f"Line {line.line_number}: ordered quantity {line.ordered_qty!r} is not a positive whole number."
        if line.item_id not in items:
            return f"Line {line.line_number}: item {line.item_id} is not in the order's division."
    return ""


def store_qualified_number(store_id: int, number: str) -> str:
    """The picking order number of a store order whose own number another store's order already has in
    the division: "S<store id>-<number>"."""
    return f"S{store_id}-{number}"


@transaction.atomic
def picking_orders_create(*, division: Division, store_id: int | None, orders: list) -> list[dict]:
    """Create picking orders from store orders, in bulk and idempotently.

    An order that already exists for (store, store order id), or by number when there is no store, is
    returned as "exists" and left untouched. Customers match on account number (or name and email when it
    is blank), ship-tos on their full address, carriers and methods on name; missing ones are created.
    `orders` are objects with the attributes of gateway.PickingOrderData. Returns one dict per order:
    {"outcome": created|exists|invalid, "order_id", "number", "store_order_id", "reason"}."""
    _order_import_guard(division)
    numbers = [(order.number or str(order.store_order_id or "")).strip() for order in orders]
    results: list[dict | None] = [None] * len(orders)

    def report(index, outcome, order_id=None, reason=""):
        results[index] = {
            "outcome": outcome,
            "order_id": order_id,
            "number": numbers[index],
            "store_order_id": orders[index].store_order_id,
            "reason": reason,
        }

    def key(index):
        return orders[index].store_order_id if store_id is not None else numbers[index]

    if store_id is not None:
        existing = dict(
            PickingOrder.objects.filter(
                source_store_id=store_id, store_order_id__in=[order.store_order_id for order in orders]
            ).values_list("store_order_id", "id")
        )
    else:
        existing = dict(
            PickingOrder.objects.filter(division=division, number__in=numbers).values_list("number", "id")
        )
    first_of_key: dict = {}
    fresh = []
    for index in range(len(orders)):
        if key(index) in existing:
            report(index, "exists", existing[key(index)])
        elif key(index) in first_of_key:
            continue  # a repeat within this batch: answered below with the first one's outcome
        else:
            first_of_key[key(index)] = index
            fresh.append(index)

    item_ids = {line.item_id for index in fresh for line in orders[index].lines}
    items = {item.id: item for item in Item.objects.filter(division=division, id__in=item_ids)}
    candidates = [numbers[i] for i in fresh]
    if store_id is not None:
        candidates += [store_qualified_number(store_id, numbers[i]) for i in fresh]
    # number -> the store whose order holds it (None: an order entered in IntelliTrack)
    taken_by = dict(
        PickingOrder.objects.filter(division=division, number__in=candidates).values_list("number", "source_store_id")
    )
    to_create = []
    for index in fresh:
        if store_id is not None and numbers[index] in taken_by and taken_by[numbers[index]] != store_id:
            # Stores sharing a division number their orders alike: the later store's order keeps its store
            # order id and takes a number that names its store.
            numbers[index] = store_qualified_number(store_id, numbers[index])
        problem = _order_problem(orders[index], numbers[index], items)
        if not problem and numbers[index] in taken_by:
            problem = f"Order number {numbers[index]} is already used by another picking order."
        if problem:
            report(index, "invalid", reason=problem)
        else:
            to_create.append(index)
            taken_by[numbers[index]] = store_id  # the first order of the batch keeps a repeated number

    customer_ids = _customers_match_or_create(
        division, [orders[index].customer for index in to_create], store_id=store_id
    )
    ship_to_ids = _ship_tos_match_or_create(
        [(customer_ids[n], orders[index].ship_to) for n, index in enumerate(to_create)]
    )
    carrier_ids = carriers_upsert(
        division=division,
        carriers=[
            (orders[index].carrier_name, [(orders[index].shipping_method_name, "")])
            for index in to_create
            if orders[index].carrier_name
        ],
    )
    method_ids = {
        (carrier_id, name): method_id
        for method_id, carrier_id, name in ShippingMethod.objects.filter(
            carrier_id__in=carrier_ids.values()
        ).values_list("id", "carrier_id", "name")
    }

    new_orders = []
    for n, index in enumerate(to_create):
        order = orders[index]
        carrier_id = carrier_ids.get((order.carrier_name or "").strip())
        method_id = method_ids.get((carrier_id, (order.shipping_method_name or "").strip()))
        new_orders.append(
            PickingOrder(
                division=division,
                number=numbers[index],
                order_date=order.order_date or timezone.localdate(),
                due_date=order.due_date,
                customer_id=customer_ids[n],
                ship_to_id=ship_to_ids[n],
                carrier_id=carrier_id,
                shipping_method_id=method_id,
                source_store_id=store_id,
                store_order_id=order.store_order_id,
                unmanaged_lines=[dict(line) for line in getattr(order, "unmanaged_lines", ())],
            )
        )
    PickingOrder.objects.bulk_create(new_orders, batch_size=500)
    PickingOrderLine.objects.bulk_create(
        [
            PickingOrderLine(
                order=picking_order,
                line_number=line.line_number,
                item_id=line.item_id,
                ordered_qty=line.ordered_qty,
                store_order_product_id=line.store_order_product_id,
                comment=(line.comment or "")[:255],
            )
            for picking_order, index in zip(new_orders, to_create, strict=True)
            for line in orders[index].lines
        ],
        batch_size=1000,
    )
    for picking_order, index in zip(new_orders, to_create, strict=True):
        report(index, "created", picking_order.id)
    for index in range(len(orders)):
        if results[index] is None:
            first = results[first_of_key[key(index)]]
            outcome = "exists" if first["outcome"] in ("created", "exists") else first["outcome"]
            report(index, outcome, first["order_id"], first["reason"])
    return results


def _customers_match_or_create(division: Division, customers: list, *, store_id: int | None) -> list[int]:
    """Customer ids for the given customer data, in order; missing customers are created in one insert.
    Matched among the customers of the same store only (account numbers are each store's own ids), or
    among those entered in IntelliTrack when the orders come from no store."""
    wanted = [_text_fields(customer, CUSTOMER_FIELDS, Customer) for customer in customers]

    def match_key(values):
        if values["account_number"]:
            return ("account", values["account_number"])
        return ("name", values["name"], values["email"])

    accounts = {values["account_number"] for values in wanted if values["account_number"]}
    names = {values["name"] for values in wanted if not values["account_number"]}
    known = {}
    for customer in (
        Customer.objects.filter(division=division, source_store_id=store_id)
        .filter(Q(account_number__in=accounts) | Q(account_number="", name__in=names))
        .order_by("id")
    ):
        known.setdefault(
            match_key(
                {"account_number": customer.account_number, "name": customer.name, "email": customer.email}
            ),
            customer.id,
        )
    missing = {}
    for values in wanted:
        if match_key(values) not in known:
            missing.setdefault(
                match_key(values), Customer(division=division, source_store_id=store_id, **values)
            )
    Customer.objects.bulk_create(list(missing.values()), batch_size=1000)
    known.update({match_key_value: customer.id for match_key_value, customer in missing.items()})
    return [known[match_key(values)] for values in wanted]


def _ship_tos_match_or_create(pairs: list[tuple[int, object]]) -> list[int | None]:
    """Ship-to ids for (customer id, ship-to data or None) pairs; a ship-to matches on every field."""
    wanted = [
        (customer_id, tuple(_text_fields(ship_to, SHIP_TO_FIELDS, ShipTo).items()))
        if ship_to is not None
        else None
        for customer_id, ship_to in pairs
    ]
    customer_ids = {entry[0] for entry in wanted if entry}
    known = {}
    for ship_to in ShipTo.objects.filter(customer_id__in=customer_ids).order_by("id"):
        known.setdefault(
            (ship_to.customer_id, tuple((f, getattr(ship_to, f)) for f in SHIP_TO_FIELDS)), ship_to.id
        )
    missing = {}
    for entry in wanted:
        if entry and entry not in known and entry not in missing:
            missing[entry] = ShipTo(customer_id=entry[0], **dict(entry[1]))
    ShipTo.objects.bulk_create(list(missing.values()), batch_size=1000)
    known.update({entry: ship_to.id for entry, ship_to in missing.items()})
    return [known[entry] if entry else None for entry in wanted]


# --- demo master data -----------------------------------------------------------------------------

DEMO_DIVISION = ("MAIN", "Main Division")
DEMO_SITES = {
    "WH1": (
        "Main Warehouse",
        [("A-01", "Aisle A, bin 1"), ("A-02", "Aisle A, bin 2"), ("BULK", "Bulk storage")],
    ),
    "WH2": ("Overflow Warehouse", [("B-01", "Aisle B, bin 1"), ("B-02", "Aisle B, bin 2")]),
}
DEMO_UOMS = [("EA", "Each", 1), ("CS", "Case of 12", 12)]
DEMO_CARRIERS = {
    "UPS": [("Ground", "1-5 business days"), ("Next Day Air", "Next business day")],
    "FedEx": [("Ground", "1-5 business days"), ("2Day", "Two business days")],
    "USPS": [("Priority Mail", "1-3 business days")],
}
DEMO_CUSTOMER = {
    "name": "Walk-in Customer",
    "account_number": "WALKIN",
    "city": "Springfield",
    "country": "US",
}


@transaction.atomic
def demo_master_data_ensure() -> dict[str, int]:
    """Create the demo division, sites, locations, units, carriers and customer where missing; running it
    again changes nothing. Returns how many rows of each kind were created."""
    created = Counter()
    code, name = DEMO_DIVISION
    division, made = Division.objects.get_or_create(code=code, defaults={"name": name})
    created["divisions"] += made
    for site_code, (site_name, locations) in DEMO_SITES.items():
        site, made = Site.objects.get_or_create(
            division=division, code=site_code, defaults={"name": site_name}
        )
        created["sites"] += made
        for location_code, location_name in locations:
            _, made = Location.objects.get_or_create(
                site=site, code=location_code, defaults={"name": location_name}
            )
            created["locations"] += made
    for uom_code, uom_name, each_count in DEMO_UOMS:
        _, made = UOM.objects.get_or_create(
            division=division, code=uom_code, defaults={"name": uom_name, "each_count": each_count}
        )
        created["uoms"] += made
    for carrier_name, methods in DEMO_CARRIERS.items():
        carrier, made = Carrier.objects.get_or_create(division=division, name=carrier_name)
        created["carriers"] += made
        for method_name, description in methods:
            _, made = ShippingMethod.objects.get_or_create(
                carrier=carrier, name=method_name, defaults={"description": description}
            )
            created["shipping methods"] += made
    customer, made = Customer.objects.get_or_create(
        division=division, account_number=DEMO_CUSTOMER["account_number"], defaults=DEMO_CUSTOMER
    )
    created["customers"] += made
    if made:
        ShipTo.objects.create(
            customer=customer, name=customer.name, city=customer.city, country=customer.country
        )
    return dict(created)
