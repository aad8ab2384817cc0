"""Reads for the run pages: keyset-paginated run and item lists (fast on a million item rows)."""
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import F, Lookup, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import SyncRun, SyncRunItem

PAGE_SIZE = 50


@dataclass
class Page:
    rows: list
    next_cursor: str = ""


def _run_cursor(run: SyncRun) -> str:
    return f"{run.created_at.isoformat()}_{run.pk}"


ID_MAX = 2**63 - 1  # the largest bigint id


def keyset_id(text: str) -> int:
    """An id from a query string, 0 when it is not one. isdigit() alone accepts "²" and other digits
    int() refuses; a number past the bigint range would fail in the database."""
    if not (text and text.isascii() and text.isdigit()):
        return 0
    value = int(text)
    return value if value <= ID_MAX else 0


def _parse_run_cursor(cursor: str) -> tuple[datetime, int] | None:
    """(created_at, id) from a run list cursor; None for anything else (it is then ignored)."""
    created, _, pk = (cursor or "").rpartition("_")
    try:
        moment = parse_datetime(created) if created else None
    except ValueError:  # well-formed but impossible: 2024-02-30, an offset of +99:00
        return None
    position = keyset_id(pk)
    if moment is None or not position:
        return None
    try:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        # The database compares in UTC; an instant at the edge of the calendar has no UTC form.
        moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return moment, position


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# The jobs whose runs have steps (child runs, options["parent_run"]): the run list nests the steps under them.
PARENT_JOBS = (SyncRun.Job.BOOTSTRAP, SyncRun.Job.AUTO_SYNC, SyncRun.Job.EOD_EXPORT)


def sync_run_list(*, store=None, job="", status="", date_from=None, date_to=None, cursor="", size=PAGE_SIZE) -> Page:
    """Newest first, keyset on (created_at, id): each page is one indexed range scan, however deep.
    Steps (child runs) are left out unless the filter asks for their job or a status: they are listed
    under their parent (sync_run_children), but a failed step of a cycle that was only partial must still
    be found by its status."""
    runs = SyncRun.objects.select_related("store", "user").order_by("-created_at", "-id")
    if store is not None:
        runs = runs.filter(store=store)
    if job:
        runs = runs.filter(job=job)
    if (not job and not status) or job in PARENT_JOBS:
        runs = runs.exclude(options__has_key="parent_run")
    if status:
        runs = runs.filter(status=status)
    # Day bounds as instants (in the site's timezone), so the filter stays a range on the indexed column.
    if date_from:
        runs = runs.filter(created_at__gte=_day_start(date_from))
    if date_to:
        runs = runs.filter(created_at__lt=_day_start(date_to + timedelta(days=1)))
    position = _parse_run_cursor(cursor)
    if position is not None:
        created, pk = position
        runs = runs.filter(Q(created_at__lt=created) | Q(created_at=created, id__lt=pk))
    rows = list(runs[: size + 1])
    return Page(rows=rows[:size], next_cursor=_run_cursor(rows[size - 1]) if len(rows) > size else "")


def sync_run_children(*, parent_ids) -> dict[int, list[SyncRun]]:
    """The steps of these runs, by parent id, in the order they ran. One query (index on the parent key)."""
    ids = [pk for pk in parent_ids if pk]
    if not ids:
        return {}
    children: dict[int, list[SyncRun]] = {}
    steps = (SyncRun.objects.filter(options__has_key="parent_run", options__parent_run__in=ids)
             .select_related("store", "user").order_by("id"))
    for child in steps:
        children.setdefault(int(child.options["parent_run"]), []).append(child)
    return children


def sync_run_parent(*, run: SyncRun) -> SyncRun | None:
    parent_id = (run.options or {}).get("parent_run")
    if not isinstance(parent_id, int):
        return None
    return SyncRun.objects.filter(pk=parent_id).only("id", "job").first()


class QuantityChanged(Lookup):
    """`(a <> b) IS TRUE`, written as the expression index syncrunitem_run_changed has it (false or
    unknown when either side is missing), so PostgreSQL finds the index and its statistics."""

    lookup_name = "changed"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"(({lhs} <> {rhs}) IS TRUE)", [*lhs_params, *rhs_params]


def items_changed(items):
    """Items whose quantity changed: the level sent (or that a dry run would send) differs from the
    store's level before. Served by the index syncrunitem_run_changed."""
    return items.filter(QuantityChanged(F("quantity_after"), F("quantity_before")))


def sync_run_item_list(*, run: SyncRun, outcome="", changed_only=False, after: int = 0, size=PAGE_SIZE) -> Page:
    """A run's items in id order, keyset on id (index (run, outcome, id), (run, id), or the changed
    items' partial index): one short range scan per page, however large the run."""
    items = SyncRunItem.objects.filter(run=run).order_by("id")
    if outcome:
        items = items.filter(outcome=outcome)
    if changed_only:
        items = items_changed(items)
    if after:
        items = items.filter(id__gt=after)
    rows = list(items[: size + 1])
    return Page(rows=rows[:size], next_cursor=str(rows[size - 1].id) if len(rows) > size else "")


def sync_run_items_iter(*, run: SyncRun, outcome="", changed_only=False):
    """Every item of a run, streamed (server-side cursor on PostgreSQL) for CSV export."""
    items = SyncRunItem.objects.filter(run=run).order_by("id")
    if outcome:
        items = items.filter(outcome=outcome)
    if changed_only:
        items = items_changed(items)
    return items.values_list(
        "key", "action", "outcome", "reason", "quantity_before", "quantity_after", "detail",
        "store_transaction_id",
    ).iterator(chunk_size=2000)


def sync_run_progress(*, run: SyncRun) -> dict:
    from .presenters import RunFacts, error_sentence, outcomes_line, progress_line

    facts = RunFacts.of(run)
    return {
        # In the run's own units ("36 of 36 products", "51 items OK, 4 skipped, none failed.").
        "progress_text": progress_line(facts),
        "outcomes_text": outcomes_line(facts),
        "id": run.pk,
        "job": run.job,
        "job_display": run.get_job_display(),
        "status": run.status,
        "status_display": run.get_status_display(),
        "finished": run.status in SyncRun.FINISHED_STATUSES,
        "processed": run.processed,
        "total": run.total,
        "succeeded": run.succeeded_count,
        "failed": run.failed_count,
        "skipped": run.skipped_count,
        "error": error_sentence(run.error),
        "dry_run": bool(run.dry_run or (run.summary or {}).get("dry_run")),
    }


def store_active_runs(*, store) -> dict[str, SyncRun]:
    return {run.job: run for run in SyncRun.objects.filter(store=store, status__in=SyncRun.ACTIVE_STATUSES)}


# --- a store order's fulfillment, for the picking order page ------------------------------------------

# BigCommerce's fixed order status ids (their labels can be renamed in the store).
STORE_ORDER_STATUSES = {
    0: "Incomplete", 1: "Pending", 2: "Shipped", 3: "Partially Shipped", 4: "Refunded", 5: "Cancelled",
    6: "Declined", 7: "Awaiting Payment", 8: "Awaiting Pickup", 9: "Awaiting Shipment", 10: "Completed",
    11: "Awaiting Fulfillment", 12: "Manual Verification Required", 13: "Disputed", 14: "Partially Refunded",
}
CONTROL_PANEL_ORDER_URL = "https://store-{hash}.mybigcommerce.com/manage/orders/{order_id}"


@dataclass
class StoreOrderFulfillment:
    store_name: str
    store_order_id: int
    status_id: int | None
    status_name: str
    status_seen_at: datetime | None
    control_panel_url: str
    shipments: list


def store_order_control_panel_url(*, store, store_order_id: int) -> str:
    """The order in the store's control panel (built from the store hash: the connection keeps no control
    panel address)."""
    base = getattr(store, "control_panel_base_url", "") or ""
    if base:
        return f"{base.rstrip('/')}/manage/orders/{int(store_order_id)}"
    return CONTROL_PANEL_ORDER_URL.format(hash=store.store_hash, order_id=int(store_order_id))


def store_order_fulfillment(*, store, store_order_id: int, picking_order_id: int | None = None) -> StoreOrderFulfillment:
    """A store order's status as the sync last read it (its tracked lines, or its import row, whichever
    is newer) and the shipments the Fulfillment export holds for it (of one picking order when named).
    Three queries."""
    from .models import OrderImport, ShipmentOutbox, StoreOrderLine

    seen = [
        row for row in (
            StoreOrderLine.objects.filter(store=store, store_order_id=store_order_id)
            .order_by("-updated_at").values("status_id", "updated_at").first(),
            OrderImport.objects.filter(store=store, store_order_id=store_order_id)
            .values("status_id", "updated_at").first(),
        ) if row is not None
    ]
    latest = max(seen, key=lambda row: row["updated_at"]) if seen else None
    shipments = ShipmentOutbox.objects.filter(store=store, store_order_id=store_order_id).order_by("id")
    if picking_order_id is not None:
        shipments = shipments.filter(picking_order_id=picking_order_id)
    status_id = latest["status_id"] if latest else None
    return StoreOrderFulfillment(
        store_name=store.name,
        store_order_id=int(store_order_id),
        status_id=status_id,
        status_name=STORE_ORDER_STATUSES.get(status_id, f"Status {status_id}") if status_id is not None else "",
        status_seen_at=latest["updated_at"] if latest else None,
        control_panel_url=store_order_control_panel_url(store=store, store_order_id=store_order_id),
        shipments=list(shipments),
    )
