"""Run pages in an operator's words: a run's summary and counts as sentences, one unit per line, its error
as a sentence, its duration. Pure functions of the stored values (no queries), so every job's wording is
unit-tested on summaries taken from real runs.

The summaries are written by the jobs (plugin/sync/jobs/*) for the record and for tests; some of their keys
are bookkeeping (cursors, progress writes, scan flags) and never reach the page. A key this module does not
know yet still shows, under a readable label and a readable value, never as a Python repr."""
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from .selectors import STORE_ORDER_STATUSES

JOB_NAMES = {
    "import_products": "Import Products", "import_inventory": "Import Inventory",
    "import_carriers": "Import Carriers", "import_orders": "Import Orders",
    "export_fulfillments": "Export Fulfillments", "export_adjustments": "Export Adjustments",
    "eod_export": "End of Day", "bootstrap": "Import Products, Inventory, and Carriers",
    "auto_sync": "Auto sync cycle",
}

# Bookkeeping the jobs keep for themselves, their tests and the next run: never shown.
INTERNAL_KEYS = frozenset({
    "prerequisite_missing",  # the error says which
    "progress_writes", "cancel_scan_ok", "listing_complete", "ledger_from", "ledger_to", "dry_run_from",
    "statuses_listed", "orders_imported_first", "lock_held_by", "waiting_for_end_of_day", "writes_off",
    "steps", "orders_run", "dry_run", "pages", "waiting_fetched", "webhook_destination", "catalog_cursor",
    "rows_counted", "absolute_ledger_id", "ledger_id", "snapshot_ledger_id",
    "items_pruned_rows", "items_pruned_on",  # the run page says so in its own box
})

STOCK_BEHAVIORS = {
    "order_placed": "The store takes stock off when an order is placed.",
    "order_completed_or_shipped": "The store takes stock off when an order ships.",
    "order_completed": "The store takes stock off when an order ships.",
}


@dataclass
class RunFacts:
    """What a run's summary is read from: the run record's counts, flags and summary."""

    job: str
    summary: dict = field(default_factory=dict)
    status: str = "succeeded"
    dry_run: bool = False
    total: int | None = None
    processed: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0

    @classmethod
    def of(cls, run) -> "RunFacts":
        summary = run.summary if isinstance(run.summary, dict) else {}
        return cls(job=run.job, summary=summary, status=run.status,
                   dry_run=bool(run.dry_run or summary.get("dry_run")), total=run.total,
                   processed=run.processed or 0, succeeded=run.succeeded_count or 0,
                   failed=run.failed_count or 0, skipped=run.skipped_count or 0)


# --- numbers and words ---------------------------------------------------------------------------------

def number(value) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def count(n, singular: str, plural: str | None = None) -> str:
    """"1 item", "1,204 items"; "no items" for 0."""
    n = int(n or 0)
    word = singular if n == 1 else (plural or f"{singular}s")
    return f"no {word}" if n == 0 else f"{number(n)} {word}"


def _n(summary: dict, key: str) -> int:
    value = summary.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _words(key) -> str:
    return re.sub(r"[_\-]+", " ", str(key)).strip()


def label(key: str) -> str:
    """A summary key as words: "order_lines_held" -> "Order lines held"."""
    words = _words(key)
    return (words[:1].upper() + words[1:]) if words else "Value"


def readable(value) -> str:
    """Any stored value as text an operator reads: no brackets, braces or quotes of a repr."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ", timespec="minutes") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, dict):
        return "; ".join(f"{_words(k)}: {readable(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple | set):
        return ", ".join(readable(v) for v in value) or "none"
    text = str(value)
    moment = _iso_moment(text)
    return moment or text


def _iso_moment(text: str) -> str:
    """An ISO timestamp from a summary, shortened to the minute ("2026-12-04 16:05 UTC")."""
    if not re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text):
        return ""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return ""
    suffix = " UTC" if moment.utcoffset() == timedelta(0) else ""
    return moment.strftime("%Y-%m-%d %H:%M") + suffix


def statuses(ids) -> str:
    names = [STORE_ORDER_STATUSES.get(i, f"status {i}") if isinstance(i, int) else readable(i) for i in ids or []]
    return ", ".join(names) or "none"


def job_name(job: str) -> str:
    return JOB_NAMES.get(job, label(job))


# --- the summary, per job ------------------------------------------------------------------------------

def run_summary_lines(facts: RunFacts) -> list[str]:
    """The run in sentences, one unit per line; then the summary's other facts, readable."""
    builder = _BUILDERS.get(facts.job, _generic)
    summary = dict(facts.summary or {})
    if not summary and facts.status not in ("succeeded", "partial"):
        return []  # it never got far enough to say anything (queued, running, failed at once): see its error
    lines, used = builder(facts, summary)
    lines = [line for line in lines if line]
    for key in ("dry_run_reason", "note", "warning", "starting_point", "webhooks"):
        if summary.get(key) and key not in used:
            lines.append(_sentence(readable(summary[key])) if key != "webhooks"
                         else f"Order webhooks: {readable(summary[key])}.")
            used.add(key)
    for key, value in summary.items():
        if key in used or key in INTERNAL_KEYS or key in ("dry_run_reason", "note", "warning", "webhooks"):
            continue
        lines.append(f"{label(key)}: {readable(value)}.")
    return lines


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


def outcome_line(facts: RunFacts, unit: str, plural: str | None = None) -> str:
    """The item rows' outcomes, in the job's own unit."""
    word = unit if facts.succeeded == 1 else (plural or f"{unit}s")
    parts = [f"{number(facts.succeeded)} {word} OK"]
    if facts.skipped:
        parts.append(f"{number(facts.skipped)} skipped")
    parts.append(f"{number(facts.failed)} failed" if facts.failed else "none failed")
    return ", ".join(parts) + "."


PRODUCT_ACTIONS = {
    "created": ("Created {} in IntelliTrack", "item"),
    "linked": ("Linked {} that already existed in IntelliTrack", "item"),
    "updated": ("Updated {}", "item"),
    "unchanged": ("{} already up to date", "item"),
    "skipped": ("Skipped {}: inventory tracking is off in the store", "untracked product"),
    "duplicate": ("{} not created: the item number is already used", "item"),
    "rejected": ("IntelliTrack refused {}", "item"),
    "retired": ("Retired {}: deleted in the store", "item"),
}


def _products(facts: RunFacts, summary: dict):
    used = {"actions", "create_item_using", "modified_since", "initial_stock_items", "links_retired"}
    pages = _n(summary, "pages")
    read = f"Read {count(facts.processed, 'product')} from the store"
    if summary.get("modified_since"):
        read += f" changed since {readable(summary['modified_since'])}"
    lines = [read + (f" ({count(pages, 'page')})." if pages else ".")]
    lines += _action_lines(summary.get("actions"), PRODUCT_ACTIONS)
    if _n(summary, "initial_stock_items"):
        lines.append(f"Set the starting stock of {count(summary['initial_stock_items'], 'new item')}.")
    if _n(summary, "links_retired"):
        lines.append(f"Stopped sending levels for {count(summary['links_retired'], 'item')} whose product was "
                     "deleted in the store.")
    using = summary.get("create_item_using")
    if using:
        lines.append(f"Item numbers come from the {'product name' if using == 'name' else 'SKU'}.")
    return lines, used


INVENTORY_ACTIONS = {
    "set_stock": ("Set the stock of {} from the store's level", "item"),
    "overwritten": ("Replaced IntelliTrack's stock of {} (overwrite confirmed)", "item"),
    "unchanged": ("{} already had this stock", "item"),
    "none_in_store": ("Skipped {}: the store holds none at this location", "item"),
    "kept": ("Kept IntelliTrack's stock of {} (overwrite not confirmed)", "item"),
    "not_linked": ("Skipped {}: no IntelliTrack item for them", "store entry", "store entries"),
    "skipped": ("Skipped {}", "item"),
}


def _inventory(facts: RunFacts, summary: dict):
    used = {"actions", "overwrite", "location_id", "open_orders", "stock_behavior", "units_added_back"}
    lines = _action_lines(summary.get("actions"), INVENTORY_ACTIONS)
    if "open_orders" in summary:
        lines.append(f"Counted {count(summary['open_orders'], 'open store order')} holding stock.")
    if _n(summary, "units_added_back"):
        lines.append(f"Added back {count(summary['units_added_back'], 'unit')} those orders hold: they are still "
                     "on the shelf.")
    lines.append(_location(summary))
    lines.append(STOCK_BEHAVIORS.get(summary.get("stock_behavior"), ""))
    return lines, used


def _carriers(facts: RunFacts, summary: dict):
    return ([f"Imported {count(summary.get('carriers', facts.succeeded), 'carrier')} from "
             f"{count(summary.get('zones', 0), 'shipping zone')}."]), {"carriers", "zones"}


def _orders(facts: RunFacts, summary: dict):
    used = {"statuses", "imported", "waiting", "already", "cancelled", "held_orders", "unmanaged_lines",
            "modified_since", "stock_behavior", "initial_stock_items", "cancel_scan_ok"}
    lines = [f"Imported {count(summary.get('imported', 0), 'order')}."]
    if _n(summary, "unmanaged_lines"):
        lines.append(f"{count(summary['unmanaged_lines'], 'order line')} not managed in IntelliTrack (no item "
                     "for the product).")
    if _n(summary, "already"):
        lines.append(f"{count(summary['already'], 'order')} already imported.")
    if _n(summary, "waiting"):
        lines.append(f"{count(summary['waiting'], 'order')} waiting for their products (retried next run).")
    if _n(summary, "cancelled"):
        lines.append(f"Closed {count(summary['cancelled'], 'order')} cancelled, declined or refunded in the store.")
    if summary.get("cancel_scan_ok") is False:
        lines.append("Some orders cancelled in the store could not be closed yet: the next run tries again.")
    if "held_orders" in summary:
        lines.append(f"{count(summary['held_orders'], 'store order')} hold stock.")
    if _n(summary, "initial_stock_items"):
        lines.append(f"Set the starting stock of {count(summary['initial_stock_items'], 'new item')}.")
    if summary.get("statuses"):
        lines.append(f"Statuses imported: {statuses(summary['statuses'])}.")
    if summary.get("modified_since"):
        lines.append(f"Orders changed since {readable(summary['modified_since'])}.")
    lines.append(STOCK_BEHAVIORS.get(summary.get("stock_behavior"), ""))
    return lines, used


def _fulfillments(facts: RunFacts, summary: dict):
    used = {"mode", "picks_captured", "shipments_queued", "waiting_for_close", "sent", "confirmed", "refused",
            "uncertain", "left_pending"}
    lines = [f"Sent {count(summary.get('sent', 0), 'shipment')} to the store."]
    if _n(summary, "picks_captured"):
        lines.append(f"Captured {count(summary['picks_captured'], 'pick')} from IntelliTrack.")
    if _n(summary, "shipments_queued"):
        lines.append(f"Queued {count(summary['shipments_queued'], 'shipment')}.")
    if _n(summary, "confirmed"):
        lines.append(f"{count(summary['confirmed'], 'shipment')} found already in the store (not sent again).")
    if _n(summary, "refused"):
        lines.append(f"The store refused {count(summary['refused'], 'shipment')}.")
    if _n(summary, "uncertain"):
        lines.append(f"{count(summary['uncertain'], 'shipment')} got no answer: checked in the store before any "
                     "resend.")
    if _n(summary, "waiting_for_close"):
        lines.append(f"{count(summary['waiting_for_close'], 'shipment')} wait for their order to close.")
    if _n(summary, "left_pending"):
        lines.append(f"{count(summary['left_pending'], 'shipment')} left pending for the next run.")
    mode = summary.get("mode")
    if mode:
        lines.append("A shipment per pick." if mode == "per_pick" else "A shipment when the order closes.")
    return lines, used


def _adjustments(facts: RunFacts, summary: dict):
    used = {"items_sent", "batches", "write_requests", "rows_read", "store_order_picks_skipped", "items_refused",
            "uncertain_batches", "location_id"}
    verb = "Would send" if facts.dry_run else "Sent"
    requests = summary.get("write_requests", summary.get("batches", 0))
    sent = summary.get("items_sent", 0)
    lines = [f"{verb} {count(sent, 'adjustment')}" + ("." if facts.dry_run or not sent else f" in {count(requests, 'request')}.")]
    lines.append(f"Read {count(summary.get('rows_read', 0), 'IntelliTrack stock change')}.")
    if _n(summary, "store_order_picks_skipped"):
        lines.append(f"Left out {count(summary['store_order_picks_skipped'], 'pick')} of store orders: the store "
                     "already took that stock off.")
    if _n(summary, "items_refused"):
        lines.append(f"The store refused {count(summary['items_refused'], 'adjustment')} (the End of Day sets "
                     "those levels).")
    if _n(summary, "uncertain_batches"):
        lines.append(f"{count(summary['uncertain_batches'], 'request')} got no answer: not sent again; the next "
                     "End of Day heals them.")
    lines.append(_location(summary))
    return lines, used


def eod_changed_count(summary: dict) -> int | None:
    """How many levels differ from the store's level before (the drift table's "changed only" count)."""
    for key in ("drifted_items", "changed_items"):
        if isinstance(summary.get(key), int):
            return summary[key]
    return None


def _eod(facts: RunFacts, summary: dict):
    used = {"write_requests", "location_id", "stock_behavior", "order_lines_held", "capped_items",
            "drifted_items", "changed_items", "orders_run"}
    changed = eod_changed_count(summary)
    if facts.dry_run:
        lines = [f"Computed {count(facts.succeeded, 'level')}; nothing was sent to the store (dry run)."]
        if changed is not None:
            lines.append(f"{count(changed, 'item')} had drifted from the store's level." if changed
                         else "No item had drifted from the store's level.")
    else:
        lines = [f"Sent {count(facts.succeeded, 'level')} in {count(summary.get('write_requests', 0), 'request')}."]
        if changed is not None:
            lines.append(f"{count(changed, 'item')} had drifted from the last level known in the store." if changed
                         else "No item had drifted from the last level known in the store.")
    if facts.failed:
        lines.append(f"{count(facts.failed, 'level')} not set: the store refused them.")
    if _n(summary, "capped_items"):
        lines.append(f"{count(summary['capped_items'], 'level')} capped to BigCommerce's limits.")
    if "order_lines_held" in summary:
        lines.append(f"{count(summary['order_lines_held'], 'open order line')} hold stock.")
    if summary.get("orders_run"):
        lines.append(f"Orders were imported first (run #{summary['orders_run']}).")
    lines.append(_location(summary))
    lines.append(STOCK_BEHAVIORS.get(summary.get("stock_behavior"), ""))
    return lines, used


def _steps(facts: RunFacts, summary: dict):
    used = {"failed_steps"}
    steps = summary.get("steps") if isinstance(summary.get("steps"), dict) else {}
    # In the order they ran (their run ids): PostgreSQL's jsonb keeps keys in its own order.
    steps = dict(sorted(steps.items(), key=lambda step: step[1] if isinstance(step[1], int) else 0))
    lines = [f"Ran {count(len(steps) or facts.processed, 'step')}"
             + (f": {', '.join(job_name(job) for job in steps)}." if steps else ".")]
    failed = summary.get("failed_steps") or []
    if failed:
        lines.append(f"Failed as a whole: {', '.join(job_name(job) for job in failed)}.")
    return lines, used


def _generic(facts: RunFacts, summary: dict):
    return [outcome_line(facts, "item")], set()


_BUILDERS = {
    "import_products": _products, "import_inventory": _inventory, "import_carriers": _carriers,
    "import_orders": _orders, "export_fulfillments": _fulfillments, "export_adjustments": _adjustments,
    "eod_export": _eod, "bootstrap": _steps, "auto_sync": _steps,
}


def _action_lines(actions, wording: dict) -> list[str]:
    if not isinstance(actions, dict):
        return []
    lines = []
    # The wording's order (jsonb keeps keys in its own), then any action it does not know.
    ordered = [*(key for key in wording if key in actions), *(key for key in actions if key not in wording)]
    for action in ordered:
        n = actions[action]
        if not n:
            continue
        if action in wording:
            text, *nouns = wording[action]
            phrase = count(n, *nouns)
            line = text.format(phrase)
            lines.append(line[:1].upper() + line[1:] + ".")
        else:
            lines.append(f"{label(action)}: {count(n, 'item')}.")
    return lines


def _location(summary: dict) -> str:
    return f"Store inventory location {summary['location_id']}." if summary.get("location_id") else ""


# --- counts, in the job's unit -------------------------------------------------------------------------

# (unit of progress, unit of the item rows)
UNITS = {
    "import_products": (("product", None), ("item", None)),
    "import_inventory": (("store entry", "store entries"), ("item", None)),
    "import_carriers": (("carrier", None), ("carrier", None)),
    "import_orders": (("order", None), ("order", None)),
    "export_fulfillments": (("shipment", None), ("shipment", None)),
    "export_adjustments": (("item", None), ("item", None)),
    "eod_export": (("item", None), ("item", None)),
    "bootstrap": (("step", None), ("step", None)),
    "auto_sync": (("step", None), ("step", None)),
}


def progress_line(facts: RunFacts) -> str:
    """How far the run got, in its own unit of progress: "36 of 36 products"."""
    (unit, plural), _ = UNITS.get(facts.job, (("item", None), ("item", None)))
    word = unit if (facts.total if facts.total is not None else facts.processed) == 1 else (plural or unit + "s")
    if facts.total is not None:
        return f"{number(facts.processed)} of {number(facts.total)} {word}"
    return count(facts.processed, unit, plural)


def outcomes_line(facts: RunFacts) -> str:
    _, (unit, plural) = UNITS.get(facts.job, (("item", None), ("item", None)))
    return outcome_line(facts, unit, plural)


# --- errors --------------------------------------------------------------------------------------------

# The client's typed errors, as the first words an operator reads.
ERROR_MEANINGS = {
    "AuthError": "BigCommerce refused the store's access token or its permissions",
    "NotFoundError": "BigCommerce did not find what was asked for",
    "ValidationError": "BigCommerce refused the data sent",
    "RateLimitedError": "The store's request limit did not free up in time",
    "ConnectionFailedError": "The store could not be reached",
    "TransientError": "The store did not answer in time",
    "PermanentError": "BigCommerce refused the request",
    "OutcomeUnknownError": "No answer came back from the store, so whether it took the change is unknown",
    "BigCommerceError": "BigCommerce reported an error",
}
# Class names that carry no meaning of their own: their message already is the sentence.
SILENT_CLASSES = {"_StepFailed", "StepFailed", "PrerequisiteMissing", "RunInProgress", "Exception"}
UNEXPECTED = "An unexpected error stopped the run; the technical details are in the worker's log."
_CLASS_PREFIX = re.compile(r"(?<![\w.])(_?[A-Z][A-Za-z0-9]*(?:Error|Exception|Failed|Missing|Timeout|InProgress)):\s*")
_CLASS_IN_PARENS = re.compile(r"\s*\((?:[a-z_]+\.)*_?[A-Z][A-Za-z0-9]*(?:Error|Exception|Timeout)\)")


def error_sentence(text: str) -> str:
    """A run's error as sentences: exception class names are translated or dropped; an unexpected error
    (a bug, whose text means nothing to an operator) becomes one plain sentence."""
    text = (text or "").strip()
    if not text:
        return ""
    if text.startswith("Unexpected error:"):
        return UNEXPECTED

    def translate(match):
        name = match.group(1)
        if name in SILENT_CLASSES or name not in ERROR_MEANINGS:
            return ""
        return ERROR_MEANINGS[name] + ": "

    cleaned = _CLASS_PREFIX.sub(translate, text)
    cleaned = _CLASS_IN_PARENS.sub("", cleaned)
    cleaned = re.sub(r"\s{2,}", " ", cleaned).strip()
    cleaned = cleaned[:1].upper() + cleaned[1:]
    return _sentence(cleaned)


# --- durations -----------------------------------------------------------------------------------------

def duration_text(seconds: float | None) -> str:
    """"0.4 s", "12 s", "3 min 05 s", "2 h 04 min"; "" when unknown."""
    if seconds is None or seconds < 0:
        return ""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def run_seconds(*, started_at, finished_at, now=None) -> float | None:
    """A run's duration: start to finish, or start to now while it runs."""
    if started_at is None:
        return None
    end = finished_at or now
    return None if end is None else (end - started_at).total_seconds()


# --- item rows: one set of column names for the page and the CSV ---------------------------------------

@dataclass(frozen=True)
class Column:
    name: str
    numeric: bool = False
    help: str = ""


OUTCOME_NAMES = {"ok": "OK", "failed": "Failed", "skipped": "Skipped", "uncertain": "Outcome unknown"}
ACTION_NAMES = {
    "set_level": "Set level", "dry_run": "Computed (dry run, not sent)", "adjust_relative": "Adjusted",
    "set_stock": "Stock set", "none_in_store": "Nothing in the store", "already_imported": "Already imported",
    "not_linked": "No item", "step": "Step", "shipment": "Shipment", "confirmed": "Already in the store",
}
BEFORE_SOURCES = {"read": "read from the store", "last_sent": "last sent", "last_read": "last read"}
STORE_TRANSACTION = Column("Store transaction")
BEFORE_HELP = ("The store's level before this run as far as we know: read from the store in a dry run; in a "
               "real run the level last sent to it (or last read by a dry run).")


def eod_columns(*, dry_run: bool) -> list[Column]:
    return [
        Column("Key"), Column("Outcome"),
        Column("Store level before", numeric=True, help=BEFORE_HELP), Column("Known from"),
        Column("On-hand", numeric=True), Column("Held by open orders", numeric=True),
        Column("Level to send" if dry_run else "Level sent", numeric=True),
        Column("Change", numeric=True, help="Level sent minus the store's level before."),
        Column("Reason"),
    ]


GENERIC_COLUMNS = [Column("Key"), Column("Action"), Column("Outcome"), Column("Reason"),
                   Column("Quantity before", numeric=True), Column("Quantity after", numeric=True),
                   Column("Details")]

# Item detail keys an operator reads, in words; the rest (ids, refs, cursors) stays in the record.
DETAIL_WORDS = {"store_level": "store level", "on_hand": "on-hand", "held": "held by orders", "delta": "sent",
                "lines": "lines", "unmanaged_lines": "lines not managed", "tracking_number": "tracking number",
                "carrier": "carrier"}


def item_columns(job: str, *, dry_run: bool) -> list[Column]:
    return eod_columns(dry_run=dry_run) if job == "eod_export" else list(GENERIC_COLUMNS)


def signed(n: int | None) -> str:
    if n is None:
        return ""
    return f"+{n:,}" if n > 0 else (f"\u2212{-n:,}" if n < 0 else "0")


def item_change(*, quantity_before, quantity_after) -> int | None:
    if quantity_before is None or quantity_after is None:
        return None
    return quantity_after - quantity_before


def item_cells(job: str, *, key, action, outcome, reason, quantity_before, quantity_after, detail) -> list:
    """One item row's cells, in item_columns' order (numbers stay numbers for the CSV)."""
    detail = detail if isinstance(detail, dict) else {}
    outcome_name = OUTCOME_NAMES.get(outcome, label(outcome))
    if job == "eod_export":
        source = detail.get("before_source")
        return [key, outcome_name, quantity_before,
                BEFORE_SOURCES.get(source, "") if quantity_before is not None else "not known",
                detail.get("on_hand"), detail.get("held"), quantity_after,
                item_change(quantity_before=quantity_before, quantity_after=quantity_after), reason]
    shown_key = job_name(key) if action == "step" else key
    figures = []
    for name, words in DETAIL_WORDS.items():
        value = detail.get(name)
        if value not in (None, ""):
            figures.append(f"{words} {signed(value) if name == 'delta' else readable(value)}")
    if detail.get("capped"):
        figures.append("capped")
    return [shown_key, ACTION_NAMES.get(action, label(action) if action else ""), outcome_name, reason,
            quantity_before, quantity_after, ", ".join(figures)]


def page_cells(columns: list[Column], cells: list) -> list[str]:
    """Cells as the page shows them: numbers with separators, the change signed, nothing for unknown."""
    shown = []
    for column, value in zip(columns, cells, strict=False):
        if value is None:
            shown.append("")
        elif column.name == "Change":
            shown.append(signed(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            shown.append(number(value))
        else:
            shown.append(str(value))
    return shown
