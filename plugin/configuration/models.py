"""A store connection and its Basic Configuration (one per store).

Business settings live here and change only through `plugin.configuration.services`."""
import zoneinfo

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from simple_history.models import HistoricalRecords

from plugin.intellitrack.models import UOM, Division, Location, Site

from .crypto import EncryptedTextField

BIGCOMMERCE_API_URL = "https://api.bigcommerce.com"

AWAITING_FULFILLMENT = 11

# BigCommerce order status ids (GET /v2/order_statuses).
ORDER_STATUS_CHOICES = [
    (0, "Incomplete"),
    (1, "Pending"),
    (2, "Shipped"),
    (3, "Partially Shipped"),
    (4, "Refunded"),
    (5, "Cancelled"),
    (6, "Declined"),
    (7, "Awaiting Payment"),
    (8, "Awaiting Pickup"),
    (9, "Awaiting Shipment"),
    (10, "Completed"),
    (11, "Awaiting Fulfillment"),
    (12, "Manual Verification Required"),
    (13, "Disputed"),
    (14, "Partially Refunded"),
]


def default_order_statuses() -> list[int]:
    return [AWAITING_FULFILLMENT]


TIMEZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]
KNOWN_TIMEZONES = frozenset(name for name, _ in TIMEZONE_CHOICES)


class StoreConnection(models.Model):
    name = models.CharField(
        max_length=60,
        unique=True,
        validators=[RegexValidator(r"^[\w.-]+$", "Use letters, digits, '.', '-' or '_' only.")],
        help_text="A short name for this store, used in commands (--store NAME).",
    )
    store_hash = models.CharField(
        max_length=40,
        validators=[RegexValidator(r"^[a-z0-9]+$", "A store hash holds lower-case letters and digits only.")],
    )
    access_token = EncryptedTextField(blank=True)
    api_base_url = models.URLField(
        "API base URL",
        default=BIGCOMMERCE_API_URL,
        help_text="BigCommerce's API by default; a sandbox store's URL for demos and tests.",
    )
    # The timezone End of Day runs in (unless Basic Configuration names another). Until a person chooses
    # one, it is the store's: the first successful Test connection takes it from the store's /v2/store,
    # and every later one keeps it in step. A chosen timezone is kept; a difference is shown on the pages.
    timezone = models.CharField(max_length=64, choices=TIMEZONE_CHOICES, default="UTC")
    timezone_chosen = models.BooleanField(
        "Timezone chosen here",
        default=False,
        help_text="Off: the store's timezone, read by Test connection (UTC until the first one succeeds).",
    )
    inventory_location_id = models.PositiveIntegerField(
        "BigCommerce inventory location id",
        default=1,
        # BigCommerce's ids are 32-bit; the bound is the same whatever the database's integer range.
        validators=[MinValueValidator(1), MaxValueValidator(2**31 - 1)],
    )
    # What the last "Test connection" read from the store.
    connection_tested_at = models.DateTimeField(null=True, blank=True)
    connection_ok = models.BooleanField(default=False)
    connection_message = models.CharField(max_length=500, blank=True)
    remote_store_name = models.CharField(max_length=200, blank=True)
    remote_timezone = models.CharField(max_length=64, blank=True)
    remote_update_stock_behavior = models.CharField(max_length=40, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["access_token"])

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def has_token(self) -> bool:
        return bool(self.access_token)

    @property
    def chosen_timezone(self) -> str:
        """The timezone a person chose; "" when it is the store's (the forms' and files' blank choice)."""
        return self.timezone if self.timezone_chosen else ""


class BasicConfiguration(models.Model):
    # The settings staff edit (the form, the history diff and configuration files all use this list).
    EDITABLE_FIELDS = [
        "default_division",
        "default_uom",
        "default_site",
        "default_location",
        "create_item_using",
        "quantity_scope",
        "auto_sync_enabled",
        "last_auto_sync_completed_on",
        "sync_interval_minutes",
        "sync_time_from",
        "sync_time_to",
        "eod_enabled",
        "eod_time",
        "eod_timezone",
        "stock_decreased_when_order_placed",
        "order_statuses_to_import",
        "fulfillment_mode",
        "sync_enabled",
        "allow_writes_to_bigcommerce",
        "notification_recipients",
    ]

    class CreateItemUsing(models.TextChoices):
        SKU = "sku", "SKU"
        NAME = "name", "Product name (variants: name plus option values)"

    class QuantityScope(models.TextChoices):
        DEFAULT_SITE = "default_site", "Default Site (all its locations)"
        DEFAULT_LOCATION = "default_location", "Default Location only"
        DIVISION = "division", "Whole Division"

    class FulfillmentMode(models.TextChoices):
        PER_PICK = "per_pick", "A shipment for every pick"
        ON_CLOSE = "on_close", "One shipment when the order closes"

    store = models.OneToOneField(StoreConnection, on_delete=models.CASCADE, related_name="basic_configuration")

    # IntelliTrack settings: where BigCommerce data lands.
    default_division = models.ForeignKey(Division, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    default_uom = models.ForeignKey(
        UOM, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="Default UOM"
    )
    default_site = models.ForeignKey(Site, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    default_location = models.ForeignKey(Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    create_item_using = models.CharField(max_length=10, choices=CreateItemUsing.choices, default=CreateItemUsing.SKU)
    quantity_scope = models.CharField(
        "Quantity scope sent to the store",
        max_length=20,
        choices=QuantityScope.choices,
        default=QuantityScope.DEFAULT_SITE,
    )

    # Automation. The checkbox beside "Last Auto Sync Completed On" switches auto sync on.
    auto_sync_enabled = models.BooleanField("Last Auto Sync Completed On", default=False)
    last_auto_sync_completed_on = models.DateTimeField(null=True, blank=True)
    sync_interval_minutes = models.PositiveSmallIntegerField(
        "Sync interval (minutes)", default=15, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    # The optional Sync Time Range: auto sync cycles run only between these local times (End of Day timezone).
    sync_time_from = models.TimeField("Sync Time Range from", null=True, blank=True)
    sync_time_to = models.TimeField("Sync Time Range to", null=True, blank=True)
    eod_enabled = models.BooleanField("End of Day Processing Time", default=False)
    eod_time = models.TimeField("End of Day time", null=True, blank=True)
    eod_timezone = models.CharField(
        "End of Day timezone",
        max_length=64,
        choices=TIMEZONE_CHOICES,
        blank=True,
        help_text="Blank: the store's timezone.",
    )

    # Orders and fulfillment.
    stock_decreased_when_order_placed = models.BooleanField(default=True)
    order_statuses_to_import = models.JSONField(default=default_order_statuses)
    fulfillment_mode = models.CharField(max_length=10, choices=FulfillmentMode.choices, default=FulfillmentMode.PER_PICK)

    # Safety switches.
    sync_enabled = models.BooleanField(default=True)
    allow_writes_to_bigcommerce = models.BooleanField(
        "Allow writes to BigCommerce", default=False, help_text="Off: every export is a dry run."
    )

    # Who is mailed when something breaks (plugin.portal.notifications): the addresses, normalised by the
    # form to "a@example.com, b@example.com" so the history shows them as they read.
    notification_recipients = models.TextField(
        "Notification recipients",
        blank=True,
        help_text="Email addresses told when a run fails or ends partly, an End of Day is missed, a job cannot "
                  "start, or the store's stock setting differs. One per line or separated by commas.",
    )

    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        permissions = [("run_jobs", "Can run import and export jobs")]

    def __str__(self):
        return f"Basic Configuration of {self.store}"

    @property
    def effective_eod_timezone(self) -> str:
        return self.eod_timezone or self.store.timezone

    @property
    def notification_recipient_list(self) -> list[str]:
        return [address for address in (self.notification_recipients or "").replace(",", " ").split() if address]

    @property
    def defaults_complete(self) -> bool:
        return all(
            [self.default_division_id, self.default_site_id, self.default_location_id, self.default_uom_id]
        )


class StoreInventoryLocation(models.Model):
    """One of the store's BigCommerce inventory locations (as the last Refresh read them) and the
    IntelliTrack site, or single location of a site, whose stock it shows.

    The store's `inventory_location_id` is the default location: it shows the Basic Configuration's
    Default Site/Location (its quantity scope, exactly as with one location) and it alone carries what
    open orders hold (see plugin/sync/locations.py). Every other location shows its own site (or
    location) and is sent nothing while it has no site. Changed only by plugin.configuration.locations."""

    store = models.ForeignKey(StoreConnection, on_delete=models.CASCADE, related_name="inventory_locations")
    store_location_id = models.PositiveIntegerField(
        "BigCommerce location id", validators=[MinValueValidator(1), MaxValueValidator(2**31 - 1)]
    )
    code = models.CharField(max_length=100, blank=True)
    label = models.CharField(max_length=255, blank=True)
    enabled = models.BooleanField(default=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name="IntelliTrack site")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name="IntelliTrack location",
                                 help_text="Blank: the whole site.")
    refreshed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["store_id", "store_location_id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "store_location_id"], name="store_inventory_location_unique"),
        ]

    def __str__(self):
        return f"{self.store_id}: location {self.store_location_id} ({self.code or self.label})"
