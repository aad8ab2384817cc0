"""The adjustment export for a store with more than one mapped inventory location: each ledger row goes
to the one mapped location whose scope holds its site (or location), never to the others
(plugin/sync/locations.py). adjustments.adjustments_export_run hands over here only then.

Everything else is the single-location export's (adjustments.py): the ledger is the outbox, the cursor
moves past a batch's rows in the transaction that records the batch before the request goes out, an
unknown outcome is never resent (the next End of Day heals it), a refusal naming single items resends
the rest. Units are summed per (unit, location) pair, at most 2000 pairs a request. A pick of this
store's order counts only where it was picked outside the default location's scope: that location
loses the units and the default gains them (its holds shrink by what was picked). A row already in an
absolute level is skipped per (unit, location): the default's mark is the link's absolute_ledger_id, the
others' StoreItemLocationLevel's (a failed End of Day marks only the pairs it sent)."""
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction

from .. import runs
from ..locations import RowLocator, location_ledger_marks, location_scopes, mapping_problem
from ..models import AdjustmentBatch, StoreItemLink, StoreSyncState, SyncRun, SyncRunItem
from .context import JobContext, PrerequisiteMissing

logger = logging.getLogger(__name__)


@dataclass
class _PendingPairs:
    units: dict = field(default_factory=lambda: defaultdict(int))  # (link id, store location id) -> units
    rows: int = 0
    first_id: int | None = None


def adjustments_export_locations(ctx: JobContext, mapping, *, summary: dict, start: int, dry_run: bool) -> dict:
    from .adjustments import (
        BATCH,
        COUNTED_KINDS,
        PAGE,
        PICK,
        RELATIVE_PATH,
        _EndOfDayRunning,
        _links_load,
        _Tally,
    )

    run, store, config = ctx.run, ctx.store, ctx.config
    problem = mapping_problem(ctx, mapping)
    if problem:
        raise PrerequisiteMissing(problem)
    scopes = location_scopes(config, mapping)
    locator = RowLocator(config, scopes)
    default_id = scopes[0].store_location_id
    names = {scope.store_location_id: scope.mapped.code or str(scope.store_location_id) for scope in scopes}
    summary["locations"] = [scope.store_location_id for scope in scopes]
    received_before = ctx.client.received("POST", RELATIVE_PATH)
    tally = _Tally()
    links: dict[int, StoreItemLink | None] = {}
    progress = runs.RunProgress(run=run, lock=ctx.lock)
    pending = _PendingPairs()
    read_to = consumed_to = start
    per_location: dict[int, int] = defaultdict(int)
    marks: dict[tuple[int, int], int] = {}  # (link id, other location) -> last ledger row in its level
    marked_links: set[int] = set()

    def in_absolute_level(link, location_id: int, row_id: int) -> bool:
        if location_id == default_id:
            return row_id <= (link.absolute_ledger_id or 0)
        return row_id <= marks.get((link.id, location_id), 0)

    def add_row(link_id: int, changes: list[tuple[int, int]], row_id: int) -> None:
        """One ledger row's changes, (location, units): all in the same batch. A batch sent up to the row
        before this one must not hold part of it (given back after a failure, the row would be read and
        that part sent again)."""
        nonlocal pending
        new_keys = sum(1 for location_id, _ in changes if (link_id, location_id) not in pending.units)
        if new_keys and len(pending.units) + new_keys > BATCH:
            _flush_pairs(ctx, pending, upto=consumed_to, dry_run=dry_run, tally=tally, links=links, names=names)
            pending = _PendingPairs()
        for location_id, units in changes:
            pending.units[(link_id, location_id)] += units
        pending.first_id = pending.first_id or row_id

    try:
        while True:
            page = ctx.gateway.ledger_since(read_to, limit=PAGE, kinds=COUNTED_KINDS)
            _links_load(store, links, {row.item_id for row in page.rows})
            unmarked = {link.id for link in links.values() if link is not None} - marked_links
            marks.update(location_ledger_marks(link_ids=unmarked))
            marked_links.update(unmarked)
            for row in page.rows:
                tally.rows_read += 1
                link = links.get(row.item_id)
                location_id = locator.location_of(row) if link is not None else None
                if location_id is not None:
                    units = row.quantity_delta * row.each_count
                    if row.kind == PICK and row.store_id == store.pk:
                        if location_id == default_id:
                            tally.store_picks_skipped += 1
                            changes = []
                        else:
                            # Picked away from the default: that location loses the units, the default's
                            # holds shrink by them.
                            changes = [(location_id, units), (default_id, -units)]
                    else:
                        changes = [(location_id, units)]
                    changes = [(at, qty) for at, qty in changes if not in_absolute_level(link, at, row.id)]
                    if changes:
                        add_row(link.id, changes, row.id)
                        tally.rows_counted += 1
                        per_location[location_id] += 1
                        pending.rows += 1
                consumed_to = row.id
            read_to = page.next_cursor
            progress.tick(len(page.rows))
            if len(page.rows) < PAGE:
                break
        _flush_pairs(ctx, pending, upto=read_to, dry_run=dry_run, tally=tally, links=links, names=names)
    except _EndOfDayRunning:
        summary["waiting_for_end_of_day"] = True
        summary["note"] = ("An End of Day of this store started: the rest was not sent; the End of Day covers "
                           "it.")
    state = StoreSyncState.objects.get(store=store)
    SyncRun.objects.filter(pk=run.pk).update(processed=progress.processed, total=progress.processed)
    run.processed = run.total = progress.processed
    summary.update(
        ledger_from=start,
        ledger_to=read_to if dry_run else state.adjustments_cursor,
        rows_read=tally.rows_read,
        rows_counted=tally.rows_counted,
        rows_by_location={str(key): value for key, value in sorted(per_location.items())},
        store_order_picks_skipped=tally.store_picks_skipped,
        items_sent=tally.items_sent,
        items_refused=tally.items_refused,
        batches=tally.batches,
        uncertain_batches=tally.uncertain_batches,
        write_requests=ctx.client.received("POST", RELATIVE_PATH) - received_before,
    )
    if tally.uncertain_batches:
        summary["warning"] = (f"{tally.uncertain_batches} request(s) got no answer: they are not sent again; "
                              "the next End of Day sets those levels.")
    return summary


def _pair_key(link, location_name: str) -> str:
    return f"{link.sku or f'{link.product_id}/{link.variant_id or chr(45)}'} @ {location_name}"


def _flush_pairs(ctx: JobContext, pending: _PendingPairs, *, upto: int, dry_run: bool, tally, links: dict,
                 names: dict) -> None:
    """Send one batch of (unit, location) changes and record it with the cursor past its rows."""
    from .adjustments import (
        DRY_RUN_ACTION,
        SEND_ACTION,
        _batch_claim,
        _cursor_advance,
        _end_of_day_running,
        _EndOfDayRunning,
        _relative_send,
    )

    by_id = {link.id: link for link in links.values() if link is not None}
    units = {key: qty for key, qty in pending.units.items() if qty}
    store, run = ctx.store, ctx.run
    if dry_run:
        runs.run_items_record(run=run, lock=ctx.lock, processed=0, outcomes=[
            runs.ItemOutcome(key=_pair_key(by_id[link_id], names[location_id]), outcome=SyncRunItem.Outcome.OK,
                             action=DRY_RUN_ACTION, reason=f"Would send {qty:+d} to location {location_id}.",
                             detail={"ref": link_id, "location_id": location_id, "delta": qty})
            for (link_id, location_id), qty in units.items()])
        return
    if not units:
        _cursor_advance(store, upto)
        return
    if _end_of_day_running(store):
        raise _EndOfDayRunning
    first_id = pending.first_id or upto
    batch, claimed_from = _batch_claim(ctx, first_id=first_id, upto=upto, deltas={
        f"{link_id}@{location_id}": qty for (link_id, location_id), qty in units.items()})
    keys, refused, transaction_id, batch_state, error = _relative_send(
        ctx, list(units), lambda key: {"location_id": key[1], **by_id[key[0]].inventory_identity,
                                       "quantity": units[key]},
        batch=batch, claimed_from=claimed_from, first_id=first_id, upto=upto)
    sent = set(keys)
    outcomes = []
    for (link_id, location_id), qty in units.items():
        link = by_id[link_id]
        detail = {"ref": link_id, "location_id": location_id, "delta": qty, "ledger_from": first_id,
                  "ledger_to": upto}
        if (link_id, location_id) in refused:
            outcome, reason = SyncRunItem.Outcome.FAILED, (
                f"{refused[(link_id, location_id)]} Not sent again: the next End of Day sets this level.")
        elif batch_state == AdjustmentBatch.State.UNCERTAIN:
            outcome, reason = SyncRunItem.Outcome.UNCERTAIN, (
                f"No answer came back for {qty:+d}; not sent again: the next End of Day sets this level.")
        else:
            outcome, reason = SyncRunItem.Outcome.OK, f"Sent {qty:+d} to location {location_id}."
        outcomes.append(runs.ItemOutcome(
            key=_pair_key(link, names[location_id]), outcome=outcome, action=SEND_ACTION, reason=reason,
            detail=detail, store_transaction_id=transaction_id if (link_id, location_id) in sent else ""))
    with transaction.atomic():
        AdjustmentBatch.objects.filter(pk=batch.pk).update(
            state=batch_state, store_transaction_id=(transaction_id or "")[:100], error=error,
            refused={f"{link_id}@{location_id}": reason for (link_id, location_id), reason in refused.items()})
        runs.run_items_record(run=run, lock=ctx.lock, outcomes=outcomes, processed=0)
    tally.batches += 1
    tally.items_refused += len(refused)
    if batch_state == AdjustmentBatch.State.UNCERTAIN:
        tally.uncertain_batches += 1
    else:
        tally.items_sent += len(sent)
