"""Job runs and their per-item outcomes (the audit log of every import and export)."""
from django.conf import settings
from django.db import models


class SyncRun(models.Model):
    class Job(models.TextChoices):
        IMPORT_PRODUCTS = "import_products", "Import Products (BigCommerce -> IntelliTrack)"
        IMPORT_INVENTORY = "import_inventory", "Import Inventory (BigCommerce -> IntelliTrack)"
        IMPORT_CARRIERS = "import_carriers", "Import Carriers (BigCommerce -> IntelliTrack)"
        IMPORT_ORDERS = "import_orders", "Import Orders (BigCommerce -> IntelliTrack)"
        EXPORT_FULFILLMENTS = "export_fulfillments", "Export Fulfillments (IntelliTrack -> BigCommerce)"
        EXPORT_ADJUSTMENTS = "export_adjustments", "Export Adjustments (IntelliTrack -> BigCommerce)"
        EOD_EXPORT = "eod_export", "End of Day stock snapshot (IntelliTrack -> BigCommerce)"
        BOOTSTRAP = "bootstrap", "Import Products, Inventory, and Carriers (BigCommerce -> IntelliTrack)"
        AUTO_SYNC = "auto_sync", "Auto sync cycle"

    class Trigger(models.TextChoices):
        MANUAL = "manual", "Button"
        SCHEDULE = "schedule", "Schedule"
        COMMAND = "command", "Command"
        API = "api", "API"
        RETRY = "retry", "Retry of failed items"
        WEBHOOK = "webhook", "Store webhook"
        CATCH_UP = "catch_up", "Catch-up after downtime"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partial"
        FAILED = "failed", "Failed"
        STALE = "stale", "Stale (worker died)"
        MISSED = "missed", "Missed"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)
    # The outcomes an operator is told about (the Runs badge, the error log) until acknowledged.
    FAILURE_STATUSES = (Status.FAILED, Status.PARTIAL, Status.STALE, Status.MISSED)
    FINISHED_STATUSES = (Status.SUCCEEDED, Status.PARTIAL, Status.FAILED, Status.STALE, Status.MISSED)

    store = models.ForeignKey("configuration.StoreConnection", on_delete=models.CASCADE, related_name="runs")
    job = models.CharField(max_length=30, choices=Job.choices)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    dry_run = models.BooleanField(default=False)
    options = models.JSONField(default=dict, blank=True)

    total = models.PositiveIntegerField(null=True, blank=True)
    processed = models.PositiveIntegerField(default=0)
    succeeded_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    summary = models.JSONField(default=dict, blank=True)
    # The End of Day slot (UTC instant) a scheduled run covers: one run per store and slot.
    scheduled_for = models.DateTimeField(null=True, blank=True)
    retry_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries")
    # A failed or partial run someone has seen: it leaves the Runs badge and the store's status light.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                        related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["store", "job", "-created_at"], name="syncrun_store_job_created"),
            models.Index(fields=["store", "status", "-created_at"], name="syncrun_store_status_created"),
            models.Index(fields=["-created_at", "-id"], name="syncrun_created_id"),
            # The Runs badge and the error log: the failures nobody acknowledged yet (a small part of all runs).
            models.Index(fields=["store", "-created_at"], name="syncrun_unacknowledged",
                         condition=models.Q(acknowledged_at__isnull=True,
                                            status__in=["failed", "partial", "stale", "missed"])),
        ]
        constraints = [
            # The database half of "one run at a time per store and job" (holds without Redis too).
            models.UniqueConstraint(
                fields=["store", "job"],
                condition=models.Q(status__in=["queued", "running"]),
                name="syncrun_one_active_per_store_job",
            ),
            models.UniqueConstraint(
                fields=["store", "job", "scheduled_for"],
                condition=models.Q(scheduled_for__isnull=False),
                name="syncrun_one_per_scheduled_slot",
            ),
        ]

    def __str__(self):
        return f"Run #{self.pk} {self.get_job_display()} [{self.status}]"


class SyncRunItem(models.Model):
    class Outcome(models.TextChoices):
        OK = "ok", "OK"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        UNCERTAIN = "uncertain", "Outcome unknown"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=255, help_text="SKU, item number or order id.")
    action = models.CharField(max_length=40, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.TextField(blank=True)
    quantity_before = models.BigIntegerField(null=True, blank=True)
    quantity_after = models.BigIntegerField(null=True, blank=True)
    store_transaction_id = models.CharField(max_length=100, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["run", "outcome", "id"], name="syncrunitem_run_outcome_id"),
            models.Index(fields=["run", "id"], name="syncrunitem_run_id"),
        ]

    def __str__(self):
        return f"{self.key}: {self.outcome}"


class StoreItemLink(models.Model):
    """The binder: one stock-tracked unit of a store (a product, or a variant) <-> one IntelliTrack item."""

    class Tracking(models.TextChoices):
        PRODUCT = "product", "By product"
        VARIANT = "variant", "By variant"

    store = models.ForeignKey("configuration.StoreConnection", on_delete=models.CASCADE, related_name="item_links")
    product_id = models.PositiveBigIntegerField()
    # Null for a product tracked by product.
    variant_id = models.PositiveBigIntegerField(null=True, blank=True)
    sku = models.CharField(max_length=255, blank=True)
    tracking = models.CharField(max_length=10, choices=Tracking.choices)
    item = models.ForeignKey("intellitrack.Item", on_delete=models.CASCADE, related_name="store_links")
    last_exported_qty = models.BigIntegerField(null=True, blank=True)
    last_remote_qty = models.BigIntegerField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # Set when the store deleted the product or variant: no level is sent any more; the item stays.
    retired_at = models.DateTimeField(null=True, blank=True)
    # The last ledger row in the snapshot of the last absolute level sent (the adjustment export skips up to it).
    absolute_ledger_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["store_id", "id"]
        constraints = [
            # Two partial constraints, because NULL variant ids never collide in a plain unique index.
            models.UniqueConstraint(
                fields=["store", "product_id"],
                condition=models.Q(variant_id__isnull=True),
                name="link_unique_product_tracked",
            ),
            models.UniqueConstraint(
                fields=["store", "product_id", "variant_id"],
                condition=models.Q(variant_id__isnull=False),
                name="link_unique_variant_tracked",
            ),
            # Two store units on one item would send one stock figure twice.
            models.UniqueConstraint(fields=["store", "item"], name="link_unique_item_per_store"),
        ]
        indexes = [
            models.Index(fields=["store", "sku"], name="link_store_sku"),
            # Order lines and inventory entries find their links by product id.
            models.Index(fields=["store", "product_id"], name="link_store_product"),
        ]

    def __str__(self):
        return f"{self.store_id}:{self.product_id}/{self.variant_id or '-'} -> item {self.item_id}"

    @property
    def inventory_identity(self) -> dict:
        """How the Inventory API names this unit: by variant id when tracked by variant, else product id."""
        if self.tracking == self.Tracking.VARIANT:
            return {"variant_id": self.variant_id}
        return {"product_id": self.product_id}


class OrderImport(models.Model):
    """Staging row per store order: discovered -> imported, or waiting (unmatched line) and retried."""

    class State(models.TextChoices):
        IMPORTED = "imported", "Imported"
        WAITING = "waiting", "Waiting (retried next run)"
        CANCELLED = "cancelled", "Cancelled in the store"
        NOTHING_TO_PICK = "no_stock", "Nothing to pick (no stock-tracked product)"

    store = models.ForeignKey("configuration.StoreConnection", on_delete=models.CASCADE, related_name="order_imports")
    store_order_id = models.PositiveBigIntegerField()
    status_id = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=10, choices=State.choices)
    reason = models.TextField(blank=True)
    picking_order = models.ForeignKey(
        "intellitrack.PickingOrder", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    attempts = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["store_id", "store_order_id"]
        constraints = [models.UniqueConstraint(fields=["store", "store_order_id"], name="order_import_unique")]
        indexes = [models.Index(fields=["store", "state"], name="order_import_store_state")]

    def __str__(self):
        return f"{self.store_id}:{self.store_order_id} [{self.state}]"


class StoreOrderLine(models.Model):
    """What one line of a store order holds of the store's stock (decision 18): kept for every order in a
    status that holds stock, whether or not it is imported as a picking order and whether or not the line
    matches an item. Matched by the link's product and variant ids only, never by SKU."""

    store = models.ForeignKey("configuration.StoreConnection", on_delete=models.CASCADE, related_name="order_lines")
    store_order_id = models.PositiveBigIntegerField()
    order_product_id = models.PositiveBigIntegerField()
    product_id = models.PositiveBigIntegerField()
    variant_id = models.PositiveBigIntegerField(null=True, blank=True)
    sku = models.CharField(max_length=255, blank=True)
    name = models.CharField(max_length=255, blank=True)
    link = models.ForeignKey(StoreItemLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Why no item manages this line ("" when `link` is set).
    unmanaged_reason = models.TextField(blank=True)
    quantity = models.PositiveIntegerField()
    quantity_shipped = models.PositiveIntegerField(default=0)
    # Units shipped before IntelliTrack held this stock (before go-live): they left the shelf without a pick.
    base_shipped = models.PositiveIntegerField(default=0)
    # The store took the units off when the order was placed (its channel's update_stock_behavior then).
    taken_at_placement = models.BooleanField(default=False)
    status_id = models.PositiveSmallIntegerField()
    channel_id = models.PositiveIntegerField(default=1)
    # A finished order whose every unit IntelliTrack picked: it holds nothing and is left out of the sums.
    settled = models.BooleanField(default=False)
    order_created_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["store_id", "store_order_id", "order_product_id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "order_product_id"], name="order_line_unique_per_store"),
        ]
        indexes = [
            models.Index(fields=["store", "store_order_id"], name="order_line_store_order"),
            models.Index(fields=["store", "settled", "status_id"], name="order_line_store_open"),
        ]

    def __str__(self):
        return f"{self.store_id}:{self.store_order_id}/{self.order_product_id} x{self.quantity}"


class StoreSyncState(models.Model):
    """What the sync has learnt about a store: when IntelliTrack started holding its stock, and the
    stock behaviour the store really has (per channel), with when it was last seen to change."""

    store = models.OneToOneField("configuration.StoreConnection", on_delete=models.CASCADE,
                                 related_name="sync_state")
    # The first inventory import: orders created after it had their stock in IntelliTrack from the start.
    go_live_at = models.DateTimeField(null=True, blank=True)
    # {"channel id": {"behavior": ..., "seen_at": iso, "previous": ..., "changed_after": iso}}
    stock_behaviors = models.JSONField(default=dict, blank=True)
    stock_behavior_read_at = models.DateTimeField(null=True, blank=True)
    # The last scan of orders that left the holding statuses (finished or closed), for the next window.
    closed_scan_at = models.DateTimeField(null=True, blank=True)
    # The auto sync cycle checks linked products for deletion a slice at a time: the last product id checked.
    catalog_check_cursor = models.PositiveBigIntegerField(default=0)
    # The order webhooks (optional): the secret they carry and the destination they were registered for.
    webhook_secret = models.CharField(max_length=64, blank=True)
    webhooks_destination = models.CharField(max_length=500, blank=True)
    # The Adjustment export's place in the IntelliTrack ledger: every row up to this id has been sent, or
    # superseded by an End of Day snapshot. Null until the first export (or End of Day) sets it.
    adjustments_cursor = models.BigIntegerField(null=True, blank=True)
    # The Fulfillment export's place in the IntelliTrack ledger: every pick up to this ledger row id has its
    # shipment outbox row (the cursor moves in the transaction that writes them).
    fulfillments_cursor = models.BigIntegerField(default=0)

    def __str__(self):
        return f"Sync state of store {self.store_id}"


class AdjustmentBatch(models.Model):
    """One relative adjustment request of the Adjustment export: the ledger rows it covers (ids
    first..last) and what it sent per link. `uncertain` (no answer came back) is never resent; the next
    End of Day snapshot covers it and sets `superseded_by`."""

    class State(models.TextChoices):
        SENDING = "sending", "Sending (if it stays so, the worker stopped: the next End of Day heals it)"
        SENT = "sent", "Sent"
        UNCERTAIN = "uncertain", "Outcome unknown (the next End of Day heals it)"
        REFUSED = "refused", "Refused by the store"

    UNKNOWN_STATES = (State.SENDING, State.UNCERTAIN)

    store = models.ForeignKey("configuration.StoreConnection", on_delete=models.CASCADE,
                              related_name="adjustment_batches")
    run = models.ForeignKey(SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=10, choices=State.choices)
    first_ledger_id = models.BigIntegerField()
    last_ledger_id = models.BigIntegerField()
    items_count = models.PositiveIntegerField(default=0)
    store_transaction_id = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    # {link id: units sent}; the refused ones as {link id: reason}.
    deltas = models.JSONField(default=dict, blank=True)
    refused = models.JSONField(default=dict, blank=True)
    # The End of Day run whose snapshot covers this batch's rows (an uncertain batch is healed by it).
    superseded_by = models.ForeignKey(SyncRun, on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+")

    class Meta:
        ordering = ["store_id", "-id"]
        indexes = [models.Index(fields=["store", "state", "superseded_by"], name="adjbatch_store_state")]

    def __str__(self):
        return f"{self.store_id}: ledger {self.first_ledger_id}..{self.last_ledger_id} [{self.state}]"


class ShipmentOutbox(models.Model):
    """One store shipment to send (DESIGN decision 10): a pick (Fulfillment mode "per pick") or what an
    order close ships ("on close"). Written by the Fulfillment export in the transaction that moves the
    store's ledger cursor past the picks it holds, so each pick lands in exactly one row; sent once: a
    row whose request may have reached the store is `checking` until the store's shipments are read."""

    class State(models.TextChoices):
        PENDING_CLOSE = "pending_close", "Waiting for the order to close"
        PENDING = "pending", "Pending"
        CHECKING = "checking", "Checking (outcome unknown)"
        SENT = "sent", "Sent"
        REFUSED = "refused", "Refused"

    OPEN_STATES = (State.PENDING_CLOSE, State.PENDING, State.CHECKING)

    store = models.ForeignKey("configuration.StoreConnection", on_delete=models.CASCADE,
                              related_name="shipment_outbox")
    store_order_id = models.PositiveBigIntegerField()
    picking_order = models.ForeignKey("intellitrack.PickingOrder", on_delete=models.SET_NULL, null=True,
                                      blank=True, related_name="+")
    mode = models.CharField(max_length=10, default="per_pick")
    # The store order's shipping address of these lines (0 until read from the store order at send time).
    order_address_id = models.PositiveBigIntegerField(default=0)
    items = models.JSONField(default=list)  # [{"order_product_id": int, "quantity": int}]
    tracking_number = models.CharField(max_length=50, blank=True)
    carrier_name = models.CharField(max_length=100, blank=True)
    shipping_provider = models.CharField(max_length=40, blank=True)
    tracking_carrier = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=15, choices=State.choices, default=State.PENDING)
    store_shipment_id = models.PositiveBigIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    note = models.TextField(blank=True)
    # The picks this shipment carries, and the ledger rows (cursor values) they were read at.
    pick_ids = models.JSONField(default=list)
    cursor_first = models.BigIntegerField(default=0)
    cursor_last = models.BigIntegerField(default=0)
    run = models.ForeignKey(SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["store_id", "id"]
        indexes = [
            models.Index(fields=["store", "state", "id"], name="shipment_outbox_store_state"),
            models.Index(fields=["store", "store_order_id"], name="shipment_outbox_store_order"),
            models.Index(fields=["picking_order", "id"], name="shipment_outbox_picking_order"),
        ]

    def __str__(self):
        return f"{self.store_id}:{self.store_order_id} shipment [{self.state}]"

    @property
    def quantity(self) -> int:
        return sum(int(item["quantity"]) for item in self.items or [])


class StoreItemLocationLevel(models.Model):
    """What End of Day last sent a linked unit at one of the store's other mapped inventory locations
    (plugin/sync/locations.py). The default location's level stays on the link (`last_exported_qty`)."""

    link = models.ForeignKey(StoreItemLink, on_delete=models.CASCADE, related_name="location_levels")
    store_location_id = models.PositiveIntegerField()
    last_exported_qty = models.BigIntegerField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # The last ledger row of the snapshot this level was computed from: the adjustment export never sends
    # this (unit, location) a row up to it again (the link's absolute_ledger_id is the default location's).
    absolute_ledger_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["link", "store_location_id"], name="link_location_level_unique"),
        ]

    def __str__(self):
        return f"link {self.link_id} @ {self.store_location_id}: {self.last_exported_qty}"
