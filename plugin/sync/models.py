"""Job runs and their per-item outcomes (the audit log of every import and export)."""
from django.conf import settings
from django.db import models


class SyncRun(models.Model):
    class Job(models.TextChoices):
        IMPORT_PRODUCTS = "import_products", "Import Products (BigCommerce -> IntelliTrack)"
        IMPORT_INVENTORY = "import_inventory", "Import Inventory (BigCommerce -> IntelliTrack)"
        IMPORT_CARRIERS = "import_carriers", "Import Carriers (BigCommerce -> IntelliTrack)"
        IMPORT_ORDERS = "import_orders", "Import Orders (BigCommerce -> IntelliTrack)"
        EOD_EXPORT = "eod_export", "End of Day stock snapshot (IntelliTrack -> BigCommerce)"
        BOOTSTRAP = "bootstrap", "Import Products, Inventory, and Carriers (BigCommerce -> IntelliTrack)"
        AUTO_SYNC = "auto_sync", "Auto sync cycle"

    class Trigger(models.TextChoices):
        MANUAL = "manual", "Button"
        SCHEDULE = "schedule", "Schedule"
        COMMAND = "command", "Command"
        API = "api", "API"
        RETRY = "retry", "Retry of failed items"
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

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["store", "job", "-created_at"], name="syncrun_store_job_created"),
            models.Index(fields=["store", "status", "-created_at"], name="syncrun_store_status_created"),
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
        indexes = [models.Index(fields=["run", "outcome", "id"], name="syncrunitem_run_outcome_id")]

    def __str__(self):
        return f"{self.key}: {self.outcome}"
