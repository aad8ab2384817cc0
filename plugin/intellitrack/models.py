"""Embedded IntelliTrack: the master data the plugin places stock into.

Division > Site > Location, and units of measure per division. Codes are the stable, human keys
(configuration files name master data by code, never by database id).

Items, inventory records with their immutable ledger, customers, carriers and picking orders. Stock
changes only through `plugin.intellitrack.services`."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone


class Division(models.Model):
    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} - {self.name}"


class Site(models.Model):
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="sites")
    code = models.CharField(max_length=30)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["division__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["division", "code"], name="site_code_unique_per_division")
        ]

    def __str__(self):
        return f"{self.code} - {self.name}"


class Location(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="locations")
    code = models.CharField(max_length=30)
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["site__code", "code"]
        constraints = [models.UniqueConstraint(fields=["site", "code"], name="location_code_unique_per_site")]

    def __str__(self):
        return self.code if not self.name else f"{self.code} - {self.name}"


class UOM(models.Model):
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="uoms")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=60)
    each_count = models.PositiveIntegerField(
        default=1, help_text="How many single units one of this UOM holds."
    )

    class Meta:
        ordering = ["division__code", "code"]
        verbose_name = "unit of measure"
        constraints = [
            models.UniqueConstraint(fields=["division", "code"], name="uom_code_unique_per_division")
        ]

    def __str__(self):
        return f"{self.code} ({self.each_count})"


class Item(models.Model):
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="items")
    # As long as a BigCommerce SKU may be, so every SKU can be an item number.
    item_number = models.CharField(max_length=255)
    alternate_number = models.CharField(max_length=255, blank=True)
    description = models.CharField(max_length=255, blank=True)
    active = models.BooleanField(default=True)
    default_uom = models.ForeignKey(UOM, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["division__code", "item_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["division", "item_number"], name="item_number_unique_per_division"
            ),
            models.UniqueConstraint(
                fields=["division", "alternate_number"],
                condition=~models.Q(alternate_number=""),
                name="item_alternate_number_unique_per_division",
            ),
        ]

    def __str__(self):
        return self.item_number


class InventoryRecord(models.Model):
    """On-hand stock of one item in one location and UOM. `site` repeats the location's site so scope
    totals (site or location) are a single indexed aggregate without a join."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="inventory_records")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="inventory_records")
    uom = models.ForeignKey(UOM, on_delete=models.PROTECT, related_name="+")
    on_hand = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["item__item_number", "site__code", "location__code"]
        permissions = [("adjust_inventory", "Can adjust inventory")]
        constraints = [
            models.UniqueConstraint(fields=["item", "location", "uom"], name="inventory_record_unique"),
            models.CheckConstraint(condition=models.Q(on_hand__gte=0), name="inventory_on_hand_not_negative"),
        ]
        indexes = [
            models.Index(fields=["site", "item"], name="inventory_site_item_idx"),
            models.Index(fields=["location", "item"], name="inventory_location_item_idx"),
        ]

    def __str__(self):
        return f"{self.item_id}@{self.location_id}: {self.on_hand}"


class InventoryTransaction(models.Model):
    """One immutable ledger row per stock event. Its id is the cursor for "changes since"."""

    class Kind(models.TextChoices):
        NEW_ITEM = "new_item", "New item"
        ADD = "add", "Add to inventory"
        RECEIVE = "receive", "Receive"
        ADJUST = "adjust", "Adjust"
        MOVE_OUT = "move_out", "Move out"
        MOVE_IN = "move_in", "Move in"
        PICK = "pick", "Pick"
        RETURN = "return", "Return"
        INITIAL_SET = "initial_set", "Initial stock"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="transactions")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    uom = models.ForeignKey(UOM, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    quantity_delta = models.BigIntegerField(default=0)
    balance_after = models.BigIntegerField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    reference = models.CharField(max_length=100, blank=True)
    picking_order = models.ForeignKey(
        "PickingOrder", on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    pick = models.ForeignKey("Pick", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(db_default=Now(), db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["item", "location", "uom"], name="transaction_record_idx")]

    def __str__(self):
        return f"{self.kind} {self.quantity_delta:+d} item {self.item_id}"


class PostalAddress(models.Model):
    """The address lines a customer and each of its ship-tos carry."""

    address1 = models.CharField(max_length=255, blank=True)
    address2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=30, blank=True)
    country = models.CharField(max_length=100, blank=True)

    class Meta:
        abstract = True


class Customer(PostalAddress):
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="customers")
    # The store whose order import created the customer (blank: entered in IntelliTrack). Account numbers
    # come from each store's own customer ids, so two stores feeding one division keep theirs apart.
    source_store = models.ForeignKey(
        "configuration.StoreConnection",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
    )
    name = models.CharField(max_length=200)
    account_number = models.CharField(max_length=60, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["division", "account_number"],
                condition=~models.Q(account_number="") & models.Q(source_store__isnull=True),
                name="customer_account_unique_per_division",
            ),
            models.UniqueConstraint(
                fields=["division", "source_store", "account_number"],
                condition=~models.Q(account_number="") & models.Q(source_store__isnull=False),
                name="customer_account_unique_per_store",
            ),
        ]

    def __str__(self):
        return self.name


class ShipTo(PostalAddress):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="ship_tos")
    name = models.CharField(max_length=200, blank=True)
    company = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["customer_id", "id"]
        verbose_name = "ship-to address"
        verbose_name_plural = "ship-to addresses"

    def __str__(self):
        return ", ".join(part for part in [self.name or self.company, self.address1, self.city] if part)


class Carrier(models.Model):
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="carriers")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["division", "name"], name="carrier_name_unique_per_division")
        ]

    def __str__(self):
        return self.name


class ShippingMethod(models.Model):
    carrier = models.ForeignKey(Carrier, on_delete=models.CASCADE, related_name="methods")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["carrier__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "name"], name="method_name_unique_per_carrier")
        ]

    def __str__(self):
        return f"{self.carrier} - {self.name}"


class PickingOrder(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="picking_orders")
    number = models.CharField(max_length=40)
    order_date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="picking_orders")
    ship_to = models.ForeignKey(ShipTo, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    shipping_method = models.ForeignKey(
        ShippingMethod, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    source_store = models.ForeignKey(
        "configuration.StoreConnection",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="picking_orders",
    )
    store_order_id = models.PositiveBigIntegerField(null=True, blank=True)
    # Lines of the store order that IntelliTrack does not manage (no item): [{sku, name, quantity, reason}].
    unmanaged_lines = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-order_date", "-id"]
        permissions = [
            ("pick_order", "Can pick picking orders"),
            ("close_order", "Can close and reopen picking orders"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["division", "number"], name="picking_order_number_unique_per_division"
            ),
            models.UniqueConstraint(
                fields=["source_store", "store_order_id"], name="picking_order_store_order_unique"
            ),
        ]
        indexes = [models.Index(fields=["source_store", "status"], name="picking_order_store_status_idx")]

    def __str__(self):
        return self.number


class PickingOrderLine(models.Model):
    order = models.ForeignKey(PickingOrder, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="picking_order_lines")
    ordered_qty = models.PositiveIntegerField()
    picked_qty = models.PositiveIntegerField(default=0)
    store_order_product_id = models.PositiveBigIntegerField(null=True, blank=True)
    comment = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["order_id", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "line_number"], name="picking_line_number_unique_per_order"
            ),
            models.CheckConstraint(
                condition=models.Q(picked_qty__lte=models.F("ordered_qty")),
                name="picking_line_picked_not_over",
            ),
        ]

    def __str__(self):
        return f"{self.order_id}/{self.line_number}"

    @property
    def remaining(self) -> int:
        return self.ordered_qty - self.picked_qty


class Pick(models.Model):
    line = models.ForeignKey(PickingOrderLine, on_delete=models.PROTECT, related_name="picks")
    quantity = models.PositiveIntegerField()
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    picked_at = models.DateTimeField(default=timezone.now, db_index=True)
    tracking_number = models.CharField(max_length=50, blank=True)
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    transaction = models.ForeignKey(
        InventoryTransaction, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.quantity} of line {self.line_id}"
