"""Export adjustments (IntelliTrack -> BigCommerce, intraday; DESIGN decision 8): what changed a linked
item's on-hand inside the quantity scope since the last export reaches the store as relative adjustments,
summed per item, at most 2000 items a request, each ledger row once.

The IntelliTrack ledger is the outbox. Decision 8 asks for "an outbox row written in the same transaction
as the stock change": every InventoryTransaction row already is one. It is written in the transaction that
changes the on-hand, it never changes afterwards, and `ledger_since` reads it by id only up to a high-water
mark no writer in flight can still fall below. A per-store cursor over ledger ids (StoreSyncState.
adjustments_cursor) therefore gives "each row once, nothing lost" without a second table to keep in step:
the cursor moves past a batch's rows in the same database transaction that records the batch
(AdjustmentBatch, state "sending"), before the request goes out; the answer then sets the batch's state
and its run items. A worker killed while the request is out leaves the batch "sending": never resent,
healed by the next End of Day like an uncertain one. A request the store surely did not apply (not
reached, 401/403, 429, another 4xx) gives the claim back, so its rows go with the next run.

Rows that count: adjust, set, receive, add, return, a move whose ends lie on different sides of the
scope's edge (each end is its own row: a move inside the scope nets to 0 per item), and a pick of an order
that is not this store's (a non-store order or another store's). A pick of this store's order does not
count: the store took that stock when the order was placed (or takes it when it ships; decision 18).
Initial stock rows (the inventory import, which copies the store's own levels) and new-item rows never
count. Units are single: `quantity_delta * each_count`.

A request whose outcome is unknown (timeout, 5xx after sending) is recorded `uncertain` and never resent:
the cursor moves past it and the next End of Day's absolute levels heal it (eod.adjustments_supersede
marks it superseded). Rows older than an End of Day snapshot are in its levels, so that End of Day moves
the cursor past them. While an End of Day of the store runs, nothing is sent: a relative adjustment landing
after its absolute level would count twice, or be wiped. A batch the store refuses item by item is resent
without the named items, which are reported failed (a level that would go below zero, an item the store
never had a level for): the End of Day sets their level.

"Allow writes to BigCommerce" off: a dry run that sums and lists what would be sent; the cursor stays."""
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce, Greatest

from plugin.bigcommerce.errors import BigCommerceError, OutcomeUnknownError, ValidationError

from .. import holds, locations, runs
from ..models import AdjustmentBatch, StoreItemLink, StoreSyncState, SyncRun, SyncRunItem
from .adjustments_locations import adjustments_export_locations
from .context import JobContext
from .eod import MAX_REFUSED_ROUNDS, _refused_indexes

logger = logging.getLogger(__name__)

BATCH = 2000  # items a request (the Inventory API's limit)
PAGE = 1000  # ledger rows a read
ADJUSTMENT_REASON = "itbc IntelliTrack stock change"
RELATIVE_PATH = "/v3/inventory/adjustments/relative"
SEND_ACTION = "adjust_relative"
DRY_RUN_ACTION = "dry_run"
# The ledger kinds that can change on-hand for the store (never initial_set: the inventory import copies
# the store's own levels; never new_item: it moves no stock).
COUNTED_KINDS = ("add", "receive", "adjust", "move_out", "move_in", "pick", "return")
PICK = "pick"


class _EndOfDayRunning(Exception):
    pass


@dataclass
class _Pending:
    """The rows read since the cursor, summed per link, up to BATCH distinct links."""

    units: dict = field(default_factory=lambda: defaultdict(int))
    rows: int = 0
    first_id: int | None = None


@dataclass
class _Tally:
    rows_read: int = 0
    rows_counted: int = 0
    store_picks_skipped: int = 0
    items_sent: int = 0
    items_refused: int = 0
    batches: int = 0
    uncertain_batches: int = 0


def adjustments_export_run(ctx: JobContext) -> dict:
    run, store, config = ctx.run, ctx.store, ctx.config
    dry_run = not config.allow_writes_to_bigcommerce
    state = holds.sync_state(store)
    summary = {"dry_run": dry_run, "location_id": store.inventory_location_id}
    if dry_run:
        summary["dry_run_reason"] = ("Dry run: \"Allow writes to BigCommerce\" is off. Nothing is sent and the "
                                     "ledger cursor does not move.")
    if (run.options or {}).get("only_failed_of"):
        summary["note"] = ("Refused items are not sent again as relative adjustments: the End of Day sets "
                           "their level. This run sends what changed since the last export.")
    start = state.adjustments_cursor
    if start is None:
        start = _ledger_high_water(ctx)
        if not dry_run:
            _cursor_advance(store, start)
        summary["starting_point"] = (f"First export: it starts at ledger row {start}; changes before it reach "
                                     "the store with the next End of Day.")
    if dry_run and start is not None:
        # Writes are off: the cursor stays for the day they are on, but each dry run lists only what
        # changed since the last one, not everything since the cursor again.
        last_dry = (SyncRun.objects.filter(store=store, job=SyncRun.Job.EXPORT_ADJUSTMENTS,
                                           status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL],
                                           summary__dry_run=True)
                    .exclude(pk=run.pk).order_by("-id").values_list("summary__ledger_to", flat=True).first())
        if last_dry is not None and int(last_dry) > start:
            start = int(last_dry)
            summary["dry_run_from"] = start
    if _end_of_day_running(store):
        summary.update(ledger_from=start, ledger_to=start, waiting_for_end_of_day=True,
                       note="An End of Day of this store is running, or stopped before it ended and is run "
                            "again: nothing was sent; the changes wait for it.")
        return summary
    # Several mapped store locations: each row goes to the location whose scope holds it.
    location_mapping = locations.mapping_for(ctx)
    if location_mapping.is_multi:
        return adjustments_export_locations(ctx, location_mapping, summary=summary, start=start, dry_run=dry_run)

    received_before = ctx.client.received("POST", RELATIVE_PATH)
    tally = _Tally()
    scope = _Scope(ctx)
    links: dict[int, StoreItemLink | None] = {}
    progress = runs.RunProgress(run=run, lock=ctx.lock)
    pending = _Pending()
    read_to = consumed_to = start
    try:
        while True:
            page = ctx.gateway.ledger_since(read_to, limit=PAGE, kinds=COUNTED_KINDS)
            _links_load(store, links, {row.item_id for row in page.rows})
            for row in page.rows:
                tally.rows_read += 1
                link = links.get(row.item_id)
                # A row up to the last absolute level the link was sent is in that level already.
                if link is not None and row.id > (link.absolute_ledger_id or 0) and scope.counts(row):
                    if row.kind == PICK and row.store_id == store.pk:
                        tally.store_picks_skipped += 1
                    else:
                        if link.id not in pending.units and len(pending.units) >= BATCH:
                            _flush(ctx, pending, upto=consumed_to, dry_run=dry_run, tally=tally, links=links)
                            pending = _Pending()
                        pending.units[link.id] += row.quantity_delta * row.each_count
                        pending.rows += 1
                        pending.first_id = pending.first_id or row.id
                        tally.rows_counted += 1
                consumed_to = row.id
            read_to = page.next_cursor
            progress.tick(len(page.rows))
            if len(page.rows) < PAGE:
                break
        _flush(ctx, pending, upto=read_to, dry_run=dry_run, tally=tally, links=links)
    except _EndOfDayRunning:
        summary["waiting_for_end_of_day"] = True
        summary["note"] = ("An End of Day of this store started: the rest was not sent; the End of Day covers "
                           "it.")
    state.refresh_from_db(fields=["adjustments_cursor"])
    SyncRun.objects.filter(pk=run.pk).update(processed=progress.processed, total=progress.processed)
    run.processed = run.total = progress.processed
    summary.update(
        ledger_from=start,
        ledger_to=read_to if dry_run else state.adjustments_cursor,
        rows_read=tally.rows_read,
        rows_counted=tally.rows_counted,
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


class _Scope:
    """Whether a ledger row's location lies inside the configured quantity scope (config.quantity_scope,
    as eod._scope_kwargs reads it)."""

    def __init__(self, ctx: JobContext):
        config = ctx.config
        self.scope = config.quantity_scope
        self.site_id, self.location_id = config.default_site_id, config.default_location_id
        self.sites = None
        if self.scope not in ("default_site", "default_location"):
            self.sites = {site.id for site in ctx.gateway.sites(division=config.default_division_id)}

    def counts(self, row) -> bool:
        if self.scope == "default_location":
            return row.location_id is not None and row.location_id == self.location_id
        if self.scope == "default_site":
            return row.site_id is not None and row.site_id == self.site_id
        return row.site_id in self.sites


def _links_load(store, links: dict, item_ids: set) -> None:
    """The store's links of the items not looked up yet (one query a page)."""
    missing = item_ids - links.keys()
    if not missing:
        return
    found = {link.item_id: link for link in StoreItemLink.objects.filter(store=store, item_id__in=missing)
             .only("id", "item_id", "product_id", "variant_id", "tracking", "sku", "absolute_ledger_id")}
    for item_id in missing:
        links[item_id] = found.get(item_id)


def _ledger_high_water(ctx: JobContext) -> int:
    """The ledger's high-water mark: an empty read answers with it as its next cursor."""
    return int(ctx.gateway.ledger_since(0, limit=1, kinds=()).next_cursor)


def adjustments_start_at_go_live(ctx: JobContext, state: StoreSyncState) -> None:
    """At go-live (the first inventory import) the export starts at the ledger's end: what IntelliTrack
    recorded before is not a change of the store's levels. Sets the field; the caller saves it."""
    state.adjustments_cursor = max(state.adjustments_cursor or 0, _ledger_high_water(ctx))


def _end_of_day_running(store) -> bool:
    """An End of Day of the store is running, or the last one that could write stopped without a word
    (its worker died: stale): some of its absolute levels, which hold every ledger row up to its
    snapshot, may be in the store, and which is unknown. Relative changes wait until an End of Day
    ends; the periodic check reruns a stale one (schedule.eod_catch_up)."""
    latest = (SyncRun.objects.filter(store=store, job=SyncRun.Job.EOD_EXPORT, dry_run=False, started_at__isnull=False)
              .exclude(status=SyncRun.Status.MISSED).order_by("-pk").values_list("status", flat=True).first())
    return latest in (SyncRun.Status.RUNNING, SyncRun.Status.STALE) or SyncRun.objects.filter(
        store=store, job=SyncRun.Job.EOD_EXPORT, status=SyncRun.Status.RUNNING).exists()


def _cursor_advance(store, ledger_id: int) -> None:
    """Move the store's cursor forward to `ledger_id` (never back: an End of Day may be ahead)."""
    StoreSyncState.objects.filter(store=store).update(
        adjustments_cursor=Greatest(Coalesce("adjustments_cursor", Value(0)), Value(ledger_id)))


def _key(link) -> str:
    return link.sku or f"{link.product_id}/{link.variant_id or '-'}"


def _flush(ctx: JobContext, pending: _Pending, *, upto: int, dry_run: bool, tally: _Tally, links: dict) -> None:
    """Send one batch (the rows up to ledger id `upto`) and record it with the cursor past it."""
    by_id = {link.id: link for link in links.values() if link is not None}
    units = {link_id: qty for link_id, qty in pending.units.items() if qty}
    store, run = ctx.store, ctx.run
    if dry_run:
        runs.run_items_record(run=run, lock=ctx.lock, processed=0, outcomes=[
            runs.ItemOutcome(key=_key(by_id[link_id]), outcome=SyncRunItem.Outcome.OK, action=DRY_RUN_ACTION,
                             reason=f"Would send {qty:+d}.",
                             detail={"ref": link_id, "delta": qty}) for link_id, qty in units.items()])
        return
    if not units:
        _cursor_advance(store, upto)
        return
    if _end_of_day_running(store):
        raise _EndOfDayRunning
    first_id = pending.first_id or upto
    batch, claimed_from = _batch_claim(ctx, first_id=first_id, upto=upto, deltas={
        str(link_id): qty for link_id, qty in units.items()})
    pending_ids, refused, transaction_id, batch_state, error = _relative_send(
        ctx, list(units), lambda link_id: {"location_id": store.inventory_location_id,
                                           **by_id[link_id].inventory_identity, "quantity": units[link_id]},
        batch=batch, claimed_from=claimed_from, first_id=first_id, upto=upto)
    outcomes = []
    sent_ids = set(pending_ids)
    for link_id, qty in units.items():
        link = by_id[link_id]
        detail = {"ref": link_id, "delta": qty, "ledger_from": first_id, "ledger_to": upto}
        if link_id in refused:
            outcome, reason = SyncRunItem.Outcome.FAILED, (
                f"{refused[link_id]} Not sent again: the next End of Day sets this level.")
        elif batch_state == AdjustmentBatch.State.UNCERTAIN:
            outcome, reason = SyncRunItem.Outcome.UNCERTAIN, (
                f"No answer came back for {qty:+d}; not sent again: the next End of Day sets this level.")
        else:
            outcome, reason = SyncRunItem.Outcome.OK, f"Sent {qty:+d}."
        # A relative change: the store's level before and after is not known here (detail["delta"]).
        outcomes.append(runs.ItemOutcome(key=_key(link), outcome=outcome, action=SEND_ACTION, reason=reason,
                                         detail=detail,
                                         store_transaction_id=transaction_id if link_id in sent_ids else ""))
    with transaction.atomic():
        AdjustmentBatch.objects.filter(pk=batch.pk).update(
            state=batch_state, store_transaction_id=(transaction_id or "")[:100], error=error,
            refused={str(link_id): reason for link_id, reason in refused.items()})
        runs.run_items_record(run=run, lock=ctx.lock, outcomes=outcomes, processed=0)
    tally.batches += 1
    tally.items_refused += len(refused)
    if batch_state == AdjustmentBatch.State.UNCERTAIN:
        tally.uncertain_batches += 1
    else:
        tally.items_sent += len(sent_ids)


def adjustments_uncertain_list(*, store, limit: int = 50):
    """The store's uncertain batches no End of Day has covered yet, newest first (for the pages)."""
    return AdjustmentBatch.objects.filter(store=store, state__in=AdjustmentBatch.UNKNOWN_STATES,
                                          superseded_by=None).select_related("run").order_by("-id")[:limit]


@dataclass(frozen=True)
class StoreVisibility:
    """When a store sees a stock change of one of its linked items (for the adjust page)."""

    store_id: int
    store_name: str
    auto_sync: bool
    interval_minutes: int
    next_cycle_at: object  # an aware datetime in the store's End of Day timezone, or None
    in_scope: bool
    can_send_now: bool  # sync is enabled: "Send to the store now" can start the export

    @property
    def pk(self) -> int:  # the job button names its store by pk
        return self.store_id

    @property
    def sentence(self) -> str:
        if not self.in_scope:
            return (f"{self.store_name}: this location is outside the store's quantity scope; the store's level "
                    "does not change.")
        if self.auto_sync:
            when = f", next about {self.next_cycle_at:%H:%M}" if self.next_cycle_at else ""
            return (f"{self.store_name} sees this at the next auto sync cycle (every {self.interval_minutes} "
                    f"minutes{when}).")
        return f"{self.store_name} sees this at the next End of Day."


def adjustments_store_visibility(*, item_id: int, division_id: int, site_id: int, location_id: int,
                                 now=None) -> list[StoreVisibility]:
    """For each store whose division is the item's division and that links the item: when it will see a
    change made at this location. Three queries (stores with their configuration, last cycle per store, the
    stores whose other mapped inventory locations show this site or location)."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.db.models import Max
    from django.utils import timezone

    now = now or timezone.now()
    links = (StoreItemLink.objects.filter(item_id=item_id, store__basic_configuration__default_division_id=division_id)
             .select_related("store", "store__basic_configuration"))
    stores = [link.store for link in links]
    last_cycles = dict(SyncRun.objects.filter(store__in=stores, job=SyncRun.Job.AUTO_SYNC).order_by()
                       .values("store_id").annotate(last=Max("created_at")).values_list("store_id", "last"))
    other_locations = locations.mapped_elsewhere(stores=stores, site_id=site_id, location_id=location_id)
    found = []
    for store in stores:
        config = store.basic_configuration
        auto = bool(config.sync_enabled and config.auto_sync_enabled)
        interval = int(config.sync_interval_minutes or 15)
        next_at = None
        if auto:
            step = timedelta(minutes=interval)
            next_at = last_cycles.get(store.pk) or now
            while next_at <= now:
                next_at += step * max(1, int((now - next_at) / step))
            next_at = next_at.astimezone(ZoneInfo(config.effective_eod_timezone))
        scope = config.quantity_scope
        in_scope = (location_id == config.default_location_id if scope == "default_location"
                    else site_id == config.default_site_id if scope == "default_site" else True)
        in_scope = in_scope or store.pk in other_locations  # another mapped store location shows it
        found.append(StoreVisibility(store_id=store.pk, store_name=store.name, auto_sync=auto,
                                     interval_minutes=interval, next_cycle_at=next_at, in_scope=in_scope,
                                     can_send_now=bool(config.sync_enabled)))
    return found


def _batch_claim(ctx: JobContext, *, first_id: int, upto: int, deltas: dict) -> tuple[AdjustmentBatch, int]:
    """Claim a batch before sending it: the batch row (state "sending") and the cursor past its rows commit
    first, so a worker killed while the request is out never leads to a resend; its batch stays
    "sending", listed with the uncertain ones, and the next End of Day heals it. Returns the batch and
    where the cursor was."""
    store = ctx.store
    with transaction.atomic():
        claimed_from = StoreSyncState.objects.select_for_update().get(store=store).adjustments_cursor
        batch = AdjustmentBatch.objects.create(
            store=store, run=ctx.run, state=AdjustmentBatch.State.SENDING, first_ledger_id=first_id,
            last_ledger_id=upto, items_count=len(deltas), deltas=deltas)
        _cursor_advance(store, upto)
    return batch, claimed_from


def _relative_send(ctx: JobContext, keys: list, item_of, *, batch: AdjustmentBatch, claimed_from,
                   first_id: int, upto: int) -> tuple[list, dict, str, str, str]:
    """Send a claimed batch of relative changes (`item_of(key)` is each key's request item); a refusal
    naming single items takes those out and resends the rest. Returns the keys sent, the refused ones with
    their reasons, the store's transaction id, the batch's state and its error. An answer that says
    nothing was applied gives the claim back and propagates: those rows go with the next run."""

    refused: dict = {}
    transaction_id, error, batch_state = "", "", AdjustmentBatch.State.SENT
    for round_ in range(MAX_REFUSED_ROUNDS + 1):
        if not keys:
            break
        try:
            transaction_id = ctx.client.adjust_relative([item_of(key) for key in keys], reason=ADJUSTMENT_REASON)[0]
            break
        except OutcomeUnknownError as exc:
            batch_state, error = AdjustmentBatch.State.UNCERTAIN, str(exc)
            logger.warning("Adjustment batch of store %s (ledger %s..%s): outcome unknown: %s", ctx.store.pk,
                           first_id, upto, exc)
            break
        except ValidationError as exc:
            bad = _refused_indexes(exc, len(keys))
            if not bad or round_ == MAX_REFUSED_ROUNDS:
                for key in keys:
                    refused[key] = f"BigCommerce refused the batch: {exc.message}"
                keys = []
                break
            for index in bad:
                refused[keys[index]] = str(exc.errors.get(f"items.{index}") or exc.errors.get(f"items[{index}]")
                                           or exc.message)
            keys = [key for i, key in enumerate(keys) if i not in bad]
        except BigCommerceError:
            # Nothing was applied (not reached, rate limited, credentials, another 4xx).
            with transaction.atomic():
                batch.delete()
                StoreSyncState.objects.filter(store=ctx.store, adjustments_cursor=upto).update(
                    adjustments_cursor=claimed_from)
            raise
    if not keys and batch_state == AdjustmentBatch.State.SENT:
        batch_state = AdjustmentBatch.State.REFUSED
    return keys, refused, transaction_id, batch_state, error
