"""End of Day for a store with more than one mapped inventory location (plugin/sync/locations.py says
what each location is sent). eod.eod_export_run hands over to `eod_export_locations` only then; a store
with one location never comes here.

Like the single-location End of Day: one snapshot (REPEATABLE READ, the ledger locked in SHARE mode) of
on-hand per location scope (one aggregate per mapped location) and of holds; the links streamed once;
absolute levels as (unit, location) pairs, pairs of several locations sharing a request, at most 2000 a
request, a link's pairs always in the same request (a failed request leaves whole links unsent); a refusal naming single items takes those out and resends the rest; the run's item rows loaded
at the end. Each pair is one run item: the default location's pairs carry the single-location action
(`set_level`, so the links' last_exported_qty and absolute_ledger_id are the default location's), the
other locations' pairs `set_level_at_location`, what they sent kept per (unit, location) in
StoreItemLocationLevel. Each OK pair keeps the snapshot's last ledger id (the default's on the link, the
others' on StoreItemLocationLevel), so after a failed run the adjustment export skips the rows already in
a level per (unit, location), never for a pair that was not sent. A dry run reads every mapped location's
levels and records the drift."""
import logging
from collections.abc import Iterator

from django.db import connection, transaction
from django.utils import timezone

from plugin.bigcommerce.errors import OutcomeUnknownError, TransientError, ValidationError

from .. import binder, holds, runs
from ..locations import LocationScope, levels_at, location_scopes, mapping_problem
from ..mappers import StoreLevels, inventory_levels_add
from ..models import StoreItemLink, StoreItemLocationLevel, SyncRunItem
from .context import JobContext, PrerequisiteMissing

logger = logging.getLogger(__name__)

BATCH = 2000  # (unit, location) pairs a request
LOCATION_SET_ACTION = "set_level_at_location"
LOCATION_DRY_RUN_ACTION = "dry_run_at_location"


def _snapshot(ctx: JobContext, scopes: list[LocationScope]):
    """On-hand per location scope, holds, and the ledger's last id, in one snapshot (eod.stock_snapshot)."""
    from .eod import stock_snapshot

    return stock_snapshot(ctx, on_hand_read=lambda: {
        scope.store_location_id: ctx.gateway.on_hand_by_item(item_ids=None, **scope.on_hand_kwargs)
        for scope in scopes})


def _store_levels(ctx: JobContext, scopes: list[LocationScope], progress) -> dict[int, StoreLevels]:
    levels = {}
    for scope in scopes:
        found = levels[scope.store_location_id] = StoreLevels()
        for page in ctx.client.iter_inventory_item_pages(location_id=scope.store_location_id):
            inventory_levels_add(found, page, location_id=scope.store_location_id)
            progress.tick()
    return levels


def _pairs(links: Iterator, scopes: list[LocationScope]) -> Iterator[list]:
    """(link, scope) pairs, at most BATCH a request, whole links only: a link's pairs never straddle two
    requests, so a failure leaves each link all sent or all unsent."""
    per_request = max(1, BATCH // len(scopes))
    batch = []
    for link in links:
        batch.extend((link, scope) for scope in scopes)
        if len(batch) >= per_request * len(scopes):
            yield batch
            batch = []
    if batch:
        yield batch


def eod_export_locations(ctx: JobContext, mapping) -> dict:
    from .eod import (
        DRY_RUN_ACTION,
        SET_LEVEL_ACTION,
        BatchOutcomeUnknown,
        _absolute_requests_received,
        eod_is_dry_run,
    )

    run, store, config = ctx.run, ctx.store, ctx.config
    problem = mapping_problem(ctx, mapping)
    if problem:
        raise PrerequisiteMissing(problem)
    dry_run, dry_reason = eod_is_dry_run(ctx)
    behaviors = holds.stock_behaviors_known(store)
    scopes = location_scopes(config, mapping)
    link_ids = None
    refs = runs.run_retry_refs(run)
    if refs is not None:
        link_ids = [ref for ref in refs if isinstance(ref, int)]
    links_total = len(link_ids) if link_ids is not None else binder.links_count(store=store)
    runs.run_set_total(run=run, total=links_total * len(scopes))
    progress = runs.RunProgress(run=run, lock=ctx.lock)
    on_hand, held, ledger_max = _snapshot(ctx, scopes)
    held_by_item = held.by_item
    remote = _store_levels(ctx, scopes, progress) if dry_run else None
    spool = runs.RunItemSpool(run=run)
    received_before = _absolute_requests_received(ctx)
    drifted = 0
    capped = 0
    try:
        for pairs in _pairs(binder.links_iter(store=store, link_ids=link_ids, chunk=BATCH), scopes):
            quantities, held_at = [], {}
            for link, scope in pairs:
                if scope.is_default:  # a link's pairs come together, the default's first
                    levels = levels_at(scopes, held=int(held_by_item.get(link.item_id, 0)), on_hand={
                        at.store_location_id: on_hand[at.store_location_id].get(link.item_id, 0) for at in scopes})
                    capped += sum(found.capped for found in levels.values())
                found = levels[scope.store_location_id]
                quantities.append(found.level)
                held_at[(link.id, scope.store_location_id)] = found.held
            if dry_run:
                outcomes = []
                for (link, scope), qty in zip(pairs, quantities, strict=True):
                    before = remote[scope.store_location_id].level_for(
                        tracking=link.tracking, product_id=link.product_id, variant_id=link.variant_id)
                    drift = None if before is None else qty - before
                    drifted += 1 if drift else 0
                    outcomes.append(runs.ItemOutcome(
                        key=_key(link, scope), outcome=SyncRunItem.Outcome.OK,
                        action=DRY_RUN_ACTION if scope.is_default else LOCATION_DRY_RUN_ACTION,
                        reason="" if before is not None else "The store reports no level at this location.",
                        quantity_before=before, quantity_after=qty,
                        detail=_detail(link, scope, on_hand, held_at, drift=drift)))
            else:
                last_sent = _last_sent(pairs)
                outcomes = _send_pairs(ctx, pairs, quantities, on_hand, held_at, progress,
                                       set_action=SET_LEVEL_ACTION, last_sent=last_sent)
                drifted += sum(1 for o in outcomes if o.quantity_before is not None
                               and o.quantity_after != o.quantity_before)
            spool.add(outcomes)
            progress.tick(len(pairs))
    except Exception as exc:
        # What was sent before the failure is recorded, each OK pair with the snapshot's ledger id; the
        # pairs of a request that got no answer may have landed: they are marked too (eod.py does the same).
        if isinstance(exc, BatchOutcomeUnknown):
            spool.add(exc.outcomes)
        try:
            _record_pairs(run, spool, progress, dry_run=dry_run, ledger_id=ledger_max, superseding=False,
                          uncertain=isinstance(exc, BatchOutcomeUnknown))
        except Exception:
            logger.exception("End of Day run %s: the items sent before the failure could not be recorded", run.pk)
        raise
    else:
        _record_pairs(run, spool, progress, dry_run=dry_run, ledger_id=ledger_max, superseding=link_ids is None)
    finally:
        spool.close()
    if held.settled:
        holds.holds_settle(held.settled)
    summary = {"dry_run": dry_run, "write_requests": _absolute_requests_received(ctx) - received_before,
               "location_id": store.inventory_location_id,
               "locations": [scope.store_location_id for scope in scopes],
               "holds_at_location": store.inventory_location_id, "progress_writes": progress.writes,
               "stock_behavior": behaviors.default, "order_lines_held": held.lines, "capped_items": capped}
    warning = holds.stock_behavior_warning(expected_order_placed=config.stock_decreased_when_order_placed,
                                           behavior=behaviors.default)
    if warning:
        summary["warning"] = warning
    if dry_run:
        summary.update(dry_run_reason=dry_reason, drifted_items=drifted)
    else:  # levels sent that differ from the last level sent there (the run page's "changed only")
        summary["changed_items"] = drifted
    return summary


def _record_pairs(run, spool, progress, *, dry_run: bool, ledger_id: int, superseding: bool,
                  uncertain: bool = False) -> None:
    """The run's item rows, the default pairs' levels on the links (eod._record) and the other pairs'
    in StoreItemLocationLevel, in one transaction; `uncertain`: mark the unanswered pairs too."""
    from .eod import _record

    with transaction.atomic():
        _record(run, spool, progress, dry_run=dry_run, ledger_id=ledger_id, superseding=superseding)
        if not dry_run:
            location_levels_record(run=run, ledger_id=ledger_id)
            if uncertain:
                uncertain_pairs_mark(run=run, ledger_id=ledger_id)


def _key(link, scope: LocationScope) -> str:
    return f"{link.sku or link.item_number} @ {scope.mapped.code or scope.store_location_id}"


def _detail(link, scope: LocationScope, on_hand, held, **extra) -> dict:
    return {
        "ref": link.id,
        "location_id": scope.store_location_id,
        "product_id": link.product_id,
        "variant_id": link.variant_id,
        "item": link.item_number,
        "on_hand": int(on_hand[scope.store_location_id].get(link.item_id, 0)),
        "held": int(held.get((link.id, scope.store_location_id), 0)),  # the part of the holds taken here
        **extra,
    }


def _last_sent(pairs) -> dict[tuple[int, int], int | None]:
    """What the last End of Day sent the pairs at the other locations (one query a request's pairs)."""
    link_ids = {link.id for link, scope in pairs if not scope.is_default}
    if not link_ids:
        return {}
    return {(row[0], row[1]): row[2] for row in StoreItemLocationLevel.objects.filter(link_id__in=link_ids)
            .values_list("link_id", "store_location_id", "last_exported_qty")}


def location_levels_record(*, run, ledger_id: int | None = None) -> None:
    """Save what the run's OK pairs at the other locations sent (StoreItemLocationLevel), with the
    snapshot's last ledger id, from its item rows: one INSERT ... ON CONFLICT on PostgreSQL."""
    now = timezone.now()
    table, items = StoreItemLocationLevel._meta.db_table, SyncRunItem._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (link_id, store_location_id, last_exported_qty, last_synced_at, "
                f"absolute_ledger_id) SELECT DISTINCT ON (ref, loc) ref, loc, qty, %s, %s FROM (SELECT (item.detail ->> 'ref')::bigint AS ref, "
                f"(item.detail ->> 'location_id')::integer AS loc, item.quantity_after AS qty, item.id "
                f"FROM {items} AS item WHERE item.run_id = %s AND item.action = %s AND item.outcome = %s) AS sent "
                f"WHERE EXISTS (SELECT 1 FROM {StoreItemLink._meta.db_table} "
                f"AS link WHERE link.id = sent.ref) ORDER BY ref, loc, sent.id DESC "
                f"ON CONFLICT (link_id, store_location_id) DO UPDATE SET "
                f"last_exported_qty = EXCLUDED.last_exported_qty, last_synced_at = EXCLUDED.last_synced_at, "
                f"absolute_ledger_id = EXCLUDED.absolute_ledger_id",
                [now, ledger_id, run.pk, LOCATION_SET_ACTION, SyncRunItem.Outcome.OK])
        return
    rows = (SyncRunItem.objects.filter(run=run, action=LOCATION_SET_ACTION, outcome=SyncRunItem.Outcome.OK)
            .values_list("detail__ref", "detail__location_id", "quantity_after"))
    StoreItemLocationLevel.objects.bulk_create(
        [StoreItemLocationLevel(link_id=int(ref), store_location_id=int(loc), last_exported_qty=qty,
                                last_synced_at=now, absolute_ledger_id=ledger_id) for ref, loc, qty in rows],
        update_conflicts=True, unique_fields=["link", "store_location_id"],
        update_fields=["last_exported_qty", "last_synced_at", "absolute_ledger_id"], batch_size=2000)


def uncertain_pairs_mark(*, run, ledger_id: int) -> None:
    """The run's pairs at the other locations that got no answer keep the snapshot's ledger id (their level
    may be in the store; what it was stays as last known). Three statements, on a failed run only."""
    refs = {(int(ref), int(loc)) for ref, loc in SyncRunItem.objects.filter(
        run=run, action=LOCATION_SET_ACTION, outcome=SyncRunItem.Outcome.UNCERTAIN,
    ).values_list("detail__ref", "detail__location_id")}
    existing = set(StoreItemLink.objects.filter(id__in={ref for ref, _ in refs}).values_list("id", flat=True))
    StoreItemLocationLevel.objects.bulk_create(
        [StoreItemLocationLevel(link_id=ref, store_location_id=loc, absolute_ledger_id=ledger_id)
         for ref, loc in refs if ref in existing],
        update_conflicts=True, unique_fields=["link", "store_location_id"], update_fields=["absolute_ledger_id"],
        batch_size=2000)


def _send_pairs(ctx: JobContext, pairs, quantities, on_hand, held, progress, *, set_action: str,
                last_sent: dict) -> list:
    """Send one request's pairs; a refusal naming single items takes those out and resends the rest."""
    from .eod import MAX_REFUSED_ROUNDS, BatchOutcomeUnknown, _absolute_with_one_resend, _refused_indexes

    pending = list(range(len(pairs)))
    refused: dict[int, str] = {}
    transaction_id = ""
    for round_ in range(MAX_REFUSED_ROUNDS + 1):
        if not pending:
            break
        items = [{"location_id": pairs[i][1].store_location_id, **pairs[i][0].inventory_identity,
                  "quantity": quantities[i]} for i in pending]
        try:
            transaction_id = _absolute_with_one_resend(ctx, items, progress)
            break
        except (OutcomeUnknownError, TransientError) as exc:
            if isinstance(exc, TransientError) and exc.status is not None:
                raise  # the store answered an error: nothing was applied
            # No answer (a dropped connection even after the resend): the store may have applied it.
            raise BatchOutcomeUnknown(exc, [runs.ItemOutcome(
                key=_key(pairs[i][0], pairs[i][1]), outcome=SyncRunItem.Outcome.UNCERTAIN,
                action=set_action if pairs[i][1].is_default else LOCATION_SET_ACTION, quantity_after=quantities[i],
                quantity_before=pairs[i][0].last_exported_qty if pairs[i][1].is_default
                else last_sent.get((pairs[i][0].id, pairs[i][1].store_location_id)),
                reason="No answer came back from the store: whether it took this level is unknown. The next "
                       "End of Day sends it again.",
                detail=_detail(pairs[i][0], pairs[i][1], on_hand, held)) for i in pending]) from exc
        except ValidationError as exc:
            bad = _refused_indexes(exc, len(pending))
            if not bad or round_ == MAX_REFUSED_ROUNDS:
                for i in pending:
                    refused[i] = f"BigCommerce refused the batch: {exc.message}"
                pending = []
                break
            for index in bad:
                refused[pending[index]] = str(exc.errors.get(f"items.{index}") or exc.errors.get(f"items[{index}]")
                                              or exc.message)
            pending = [i for n, i in enumerate(pending) if n not in bad]
    sent = set(pending)
    outcomes = []
    for index, ((link, scope), qty) in enumerate(zip(pairs, quantities, strict=True)):
        action = set_action if scope.is_default else LOCATION_SET_ACTION
        before = link.last_exported_qty if scope.is_default else last_sent.get((link.id, scope.store_location_id))
        if index in sent:
            outcomes.append(runs.ItemOutcome(
                key=_key(link, scope), outcome=SyncRunItem.Outcome.OK, action=action,
                quantity_before=before, quantity_after=qty,
                store_transaction_id=transaction_id, detail=_detail(link, scope, on_hand, held)))
        else:
            outcomes.append(runs.ItemOutcome(
                key=_key(link, scope), outcome=SyncRunItem.Outcome.FAILED, action=action,
                reason=refused.get(index, "Not sent."), quantity_before=before, quantity_after=qty,
                detail=_detail(link, scope, on_hand, held)))
    return outcomes

