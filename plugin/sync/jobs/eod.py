"""End of Day export (IntelliTrack -> BigCommerce): an authoritative absolute stock level for every
linked item, at most 2000 items a request, to the store's configured inventory location.

level = on_hand(scope) - held, capped to 0..2,147,483,647 (decision 18; `held` is computed by
sync.holds from what every store order holds and what IntelliTrack has picked of it, under the stock
behaviour the store really has, read by the order import that runs first). The configuration's "Stock
decreased when order placed" flag only says what staff expect: a difference is a warning on the run.

Absolute levels are idempotent, so a batch resent after a crash or an unknown outcome is harmless. The
item rows are loaded when the run ends (or fails); a worker killed before that leaves them out, and the
rerun of its stale run sends and records every item again.
A dry run (asked for, or forced by "allow writes to BigCommerce" being off) reads the store's current
levels instead and records the drift without writing to the store; the orders are still imported into
IntelliTrack first, as for every End of Day."""
import logging
import re
from collections.abc import Iterator

from django.db import connection, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce, Greatest

from plugin.bigcommerce.errors import OutcomeUnknownError, TransientError, ValidationError
from plugin.intellitrack.models import InventoryTransaction

from .. import binder, holds, locations, runs
from ..mappers import StoreLevels, inventory_levels_add
from ..models import AdjustmentBatch, StoreSyncState, SyncRunItem
from .context import JobContext
from .eod_locations import eod_export_locations

logger = logging.getLogger(__name__)

BATCH = 2000
ADJUSTMENT_REASON = "itbc End of Day stock snapshot"
_INDEX_IN_ERROR_KEY = re.compile(r"items[.\[](\d+)")
SET_LEVEL_ACTION = "set_level"
DRY_RUN_ACTION = "dry_run"
MAX_REFUSED_ROUNDS = 25  # each refusal names one bad item; past this many, fail the rest of the batch


DRY_RUN_ORDERS_NOTE = ("Nothing is written to BigCommerce, but orders are still imported into IntelliTrack "
                       "first (an import, no store write).")


def eod_is_dry_run(ctx: JobContext) -> tuple[bool, str]:
    if ctx.run.dry_run:
        return True, f"Dry run asked for. {DRY_RUN_ORDERS_NOTE}"
    if not ctx.config.allow_writes_to_bigcommerce:
        return True, f"Dry run: \"Allow writes to BigCommerce\" is off. {DRY_RUN_ORDERS_NOTE}"
    return False, ""


def _scope_kwargs(ctx: JobContext) -> dict:
    config = ctx.config
    return {
        "division": config.default_division_id,
        "scope": config.quantity_scope,
        "site_id": config.default_site_id,
        "location_id": config.default_location_id,
    }


def stock_snapshot(ctx: JobContext, on_hand_read=None) -> tuple[dict, holds.Holds, int]:
    """On-hand by item (one aggregate over the whole scope; only items with stock), what store orders
    hold, and the highest ledger id the snapshot includes. On PostgreSQL all three are read in one
    REPEATABLE READ transaction, so they see one snapshot: under READ COMMITTED a pick committing between
    them lowers on-hand after the picks were read, and the unit counts twice.

    The ledger table is locked in SHARE mode before the snapshot is taken (its first query): that waits
    for ledger writers in flight and holds new ones back until the snapshot ends, so every ledger row up
    to the id read is in the on-hand and none after it. The Adjustment export moves its cursor past that
    id after the End of Day (those rows are in the absolute level already)."""
    ledger_table = InventoryTransaction._meta.db_table

    def read(lock: bool):
        with connection.cursor() as cursor:
            if lock:
                cursor.execute(f"LOCK TABLE {connection.ops.quote_name(ledger_table)} IN SHARE MODE")
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(ledger_table)}")
            ledger_max = int(cursor.fetchone()[0])
        held = holds.holds_compute(store=ctx.store, gateway=ctx.gateway)
        if on_hand_read is not None:  # several store locations: on-hand per location scope
            return on_hand_read(), held, ledger_max
        return ctx.gateway.on_hand_by_item(item_ids=None, **_scope_kwargs(ctx)), held, ledger_max

    # Inside an outer atomic block the isolation level is already set by then (and is the caller's), and
    # a lock would last as long as the caller's transaction. SQLite has one writer at a time.
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return read(lock=False)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # must come first
        return read(lock=True)


def store_levels_read(ctx: JobContext, progress: runs.RunProgress | None = None) -> StoreLevels:
    """The store's current levels at the configured location, a page at a time."""
    levels = StoreLevels()
    location_id = ctx.store.inventory_location_id
    for page in ctx.client.iter_inventory_item_pages(location_id=location_id):
        inventory_levels_add(levels, page, location_id=location_id)
        if progress is not None:
            progress.tick()
        else:
            runs.run_heartbeat(run=ctx.run, lock=ctx.lock)
    return levels


def _batches(links: Iterator, size: int) -> Iterator[list]:
    batch = []
    for link in links:
        batch.append(link)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def eod_export_run(ctx: JobContext) -> dict:
    """A fixed number of statements whatever the store's size: one aggregate each for on-hand and
    held (with the statement that makes them one snapshot), one streamed read of the links, then (at the end) one COPY of the item outcomes, one UPDATE
    of the links joined to them and one of the run's counters. Progress between them is written on a
    timer (runs.RunProgress), never per batch."""
    # Several mapped store locations need a level per (unit, location): eod_locations sends those.
    location_mapping = locations.mapping_for(ctx)
    if location_mapping.is_multi:
        return eod_export_locations(ctx, location_mapping)
    run, store, config = ctx.run, ctx.store, ctx.config
    dry_run, dry_reason = eod_is_dry_run(ctx)
    behaviors = holds.stock_behaviors_known(store)
    link_ids = None
    refs = runs.run_retry_refs(run)
    if refs is not None:
        link_ids = [ref for ref in refs if isinstance(ref, int)]
    runs.run_set_total(run=run, total=len(link_ids) if link_ids is not None else binder.links_count(store=store))
    progress = runs.RunProgress(run=run, lock=ctx.lock)
    on_hand, held, ledger_max = stock_snapshot(ctx)
    held_by_item = held.by_item
    store_levels = store_levels_read(ctx, progress) if dry_run else None
    spool = runs.RunItemSpool(run=run)
    received_before = _absolute_requests_received(ctx)
    drifted = 0
    capped: set[int] = set()
    try:
        for links in _batches(binder.links_iter(store=store, link_ids=link_ids, chunk=BATCH), BATCH):
            quantities = {}
            for link in links:
                level, was_capped = holds.level_for_store(on_hand=int(on_hand.get(link.item_id, 0)),
                                                          held=int(held_by_item.get(link.item_id, 0)))
                quantities[link.id] = level
                if was_capped:
                    capped.add(link.id)
            if dry_run:
                outcomes = []
                for link in links:
                    remote = store_levels.level_for(
                        tracking=link.tracking, product_id=link.product_id, variant_id=link.variant_id
                    )
                    qty = quantities[link.id]
                    drift = None if remote is None else qty - remote
                    drifted += 1 if drift else 0
                    outcomes.append(
                        runs.ItemOutcome(
                            key=link.sku or link.item_number,
                            outcome=SyncRunItem.Outcome.OK,
                            action=DRY_RUN_ACTION,
                            reason=_capped_reason(link, on_hand, held_by_item, capped) or (
                                "" if remote is not None else "The store reports no level at this location."),
                            quantity_before=remote,
                            quantity_after=qty,
                            detail=_detail(link, on_hand, held_by_item, drift=drift, capped=link.id in capped,
                                           before_source="read" if remote is not None else None),
                        )
                    )
            else:
                outcomes = _send_batch(ctx, links, quantities, on_hand, held_by_item, progress, capped)
                drifted += sum(1 for o in outcomes if o.quantity_before is not None
                               and o.quantity_after != o.quantity_before)
            spool.add(outcomes)
            progress.tick(len(links))
    except Exception as exc:
        # The run fails with this error; what was sent before it is still recorded, each sent link with
        # the snapshot's last ledger row (the export's cursor cannot move: not every link was sent). A
        # batch that got no answer may have landed: its links are marked too, so the Adjustment export
        # never adds a change the level may already hold (the next End of Day sends the level again).
        if isinstance(exc, BatchOutcomeUnknown):
            spool.add(exc.outcomes)
        try:
            _record(run, spool, progress, dry_run=dry_run, ledger_id=ledger_max, superseding=False)
        except Exception:
            logger.exception("End of Day run %s: the items sent before the failure could not be recorded", run.pk)
        raise
    else:
        # A full run moves the Adjustment export's cursor past the snapshot, with the items; a retry of
        # some items marks those links instead.
        _record(run, spool, progress, dry_run=dry_run, ledger_id=ledger_max, superseding=link_ids is None)
    finally:
        spool.close()
    if held.settled:
        holds.holds_settle(held.settled)
    summary = {"dry_run": dry_run, "write_requests": _absolute_requests_received(ctx) - received_before,
               "location_id": store.inventory_location_id, "progress_writes": progress.writes,
               "stock_behavior": behaviors.default, "order_lines_held": held.lines, "capped_items": len(capped)}
    warning = holds.stock_behavior_warning(expected_order_placed=config.stock_decreased_when_order_placed,
                                           behavior=behaviors.default)
    if warning:
        summary["warning"] = warning
    if dry_run:
        summary.update(dry_run_reason=dry_reason, drifted_items=drifted)
    else:  # levels sent that differ from the last level known in the store (the run page's "changed only")
        summary["changed_items"] = drifted
    return summary


def adjustments_supersede(*, store, ledger_id: int, eod_run) -> None:
    """Every ledger row up to `ledger_id` is in the levels an End of Day just sent: the Adjustment export
    moves past them (never back), and the uncertain batches among them are healed. Two statements."""
    with transaction.atomic():
        StoreSyncState.objects.filter(store=store).update(
            adjustments_cursor=Greatest(Coalesce("adjustments_cursor", Value(0)), Value(ledger_id)))
        AdjustmentBatch.objects.filter(store=store, state__in=AdjustmentBatch.UNKNOWN_STATES, superseded_by=None,
                                       last_ledger_id__lte=ledger_id).update(superseded_by=eod_run)


def _record(run, spool: runs.RunItemSpool, progress: runs.RunProgress, *, dry_run: bool, ledger_id: int,
            superseding: bool) -> None:
    """The run's item rows, the links' last levels and the counters, together, in three statements; for
    a full run that sent, also the Adjustment export's cursor past the snapshot (two more): an export
    after a crash between them would otherwise send again what the levels already hold."""
    with transaction.atomic():
        spool.load(processed=progress.processed)
        supersede = superseding and not dry_run
        binder.links_record_run_quantities(
            run=run, action=DRY_RUN_ACTION if dry_run else SET_LEVEL_ACTION, exported=not dry_run,
            ledger_id=None if supersede else ledger_id,
        )
        if supersede:
            adjustments_supersede(store=run.store_id, ledger_id=ledger_id, eod_run=run)


ABSOLUTE_PATH = "/v3/inventory/adjustments/absolute"


def _absolute_requests_received(ctx: JobContext) -> int:
    """How many absolute-level requests the store has received from this client (attempts included)."""
    return ctx.client.received("PUT", ABSOLUTE_PATH)


def _capped_reason(link, on_hand, held, capped: set) -> str:
    if link.id not in capped:
        return ""
    computed = int(on_hand.get(link.item_id, 0)) - int(held.get(link.item_id, 0))
    return f"Capped to BigCommerce's maximum of {holds.STOCK_LEVEL_MAX:,} (computed {computed:,})."


def _detail(link, on_hand, held, **extra) -> dict:
    return {
        "ref": link.id,
        "product_id": link.product_id,
        "variant_id": link.variant_id,
        "item": link.item_number,
        "on_hand": int(on_hand.get(link.item_id, 0)),
        "held": int(held.get(link.item_id, 0)),
        **extra,
    }


def _last_known_level(link) -> tuple[int | None, str | None]:
    """The store's level before this run as far as we know (the run page's "store level before", as a dry
    run's level read from the store): what we last sent, else what a dry run last read."""
    if link.last_exported_qty is not None:
        return link.last_exported_qty, "last_sent"
    if link.last_remote_qty is not None:
        return link.last_remote_qty, "last_read"
    return None, None


def _payload(ctx: JobContext, link, qty: int) -> dict:
    return {"location_id": ctx.store.inventory_location_id, **link.inventory_identity, "quantity": qty}


def _send_batch(ctx: JobContext, links, quantities, on_hand, held, progress, capped: set) -> list:
    """Send one batch; a refusal naming single items takes those out and resends the rest. Returns the
    outcomes. Infrastructure errors propagate and fail the run."""
    pending = list(links)
    refused: dict[int, str] = {}
    transaction_id = ""
    for _round in range(MAX_REFUSED_ROUNDS + 1):
        if not pending:
            break
        try:
            transaction_id = _absolute_with_one_resend(
                ctx, [_payload(ctx, link, quantities[link.id]) for link in pending], progress
            )
            break
        except (OutcomeUnknownError, TransientError) as exc:
            if isinstance(exc, TransientError) and exc.status is not None:
                raise  # the store answered: it did not take the batch
            # No answer came back (a dropped PUT is a TransientError without a status): it may have landed.
            raise BatchOutcomeUnknown(exc, [
                runs.ItemOutcome(key=link.sku or link.item_number, outcome=SyncRunItem.Outcome.UNCERTAIN,
                                 action=SET_LEVEL_ACTION, quantity_after=quantities[link.id],
                                 reason="No answer came back from the store: whether it took this level is "
                                        "unknown. The next End of Day sends it again.",
                                 detail=_detail(link, on_hand, held))
                for link in pending]) from exc
        except ValidationError as exc:
            bad = _refused_indexes(exc, len(pending))
            if not bad or _round == MAX_REFUSED_ROUNDS:
                for link in pending:
                    refused[link.id] = f"BigCommerce refused the batch: {exc.message}"
                pending = []
                break
            for index in bad:
                link = pending[index]
                refused[link.id] = (exc.errors.get(f"items.{index}") or exc.errors.get(f"items[{index}]") or exc.message)
            pending = [link for i, link in enumerate(pending) if i not in bad]
    sent_ids = {link.id for link in pending}
    outcomes = []
    for link in links:
        qty = quantities[link.id]
        before, source = _last_known_level(link)
        if link.id in sent_ids:
            outcomes.append(
                runs.ItemOutcome(
                    key=link.sku or link.item_number,
                    outcome=SyncRunItem.Outcome.OK,
                    action=SET_LEVEL_ACTION,
                    reason=_capped_reason(link, on_hand, held, capped),
                    quantity_before=before,
                    quantity_after=qty,
                    store_transaction_id=transaction_id,
                    detail=_detail(link, on_hand, held, capped=link.id in capped, before_source=source),
                )
            )
        else:
            outcomes.append(
                runs.ItemOutcome(
                    key=link.sku or link.item_number,
                    outcome=SyncRunItem.Outcome.FAILED,
                    action=SET_LEVEL_ACTION,
                    reason=str(refused.get(link.id, "Not sent.")),
                    quantity_before=before,
                    quantity_after=qty,
                    detail=_detail(link, on_hand, held, before_source=source),
                )
            )
    # The links' last_exported_qty is saved from these outcomes when the run's items are loaded.
    return outcomes


class BatchOutcomeUnknown(OutcomeUnknownError):
    """A batch of absolute levels sent twice without an answer: the run stops; its items are uncertain."""

    def __init__(self, cause, outcomes: list):
        super().__init__(cause.message, status=cause.status, method=cause.method, path=cause.path,
                         body=cause.body)
        self.outcomes = outcomes


def _absolute_with_one_resend(ctx: JobContext, items: list[dict], progress, *,
                              reason: str = ADJUSTMENT_REASON) -> str:
    """Absolute levels are safe to repeat: after the client's own retries, try the batch once more."""
    try:
        return ctx.client.adjust_absolute(items, reason=reason)[0]
    except (TransientError, OutcomeUnknownError) as exc:
        logger.warning("End of Day batch for store %s failed once (%s); sending it again", ctx.store.pk, exc)
        progress.tick()
        return ctx.client.adjust_absolute(items, reason=reason)[0]


def _refused_indexes(exc: ValidationError, size: int) -> set[int]:
    found = set()
    for key in (exc.errors or {}):
        match = _INDEX_IN_ERROR_KEY.match(str(key))
        if match and int(match.group(1)) < size:
            found.add(int(match.group(1)))
    return found
