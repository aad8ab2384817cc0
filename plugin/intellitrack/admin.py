"""Master data through Django admin. Stock and picks change only through the services (the ledger must
follow every change), so inventory records, ledger rows and picks are read-only here."""

from django.contrib import admin

from .models import (
    UOM,
    Carrier,
    Customer,
    Division,
    InventoryRecord,
    InventoryTransaction,
    Item,
    Location,
    Pick,
    PickingOrder,
    PickingOrderLine,
    ShippingMethod,
    ShipTo,
    Site,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "division"]
    list_filter = ["division"]
    search_fields = ["code", "name"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "site"]
    list_filter = ["site__division", "site"]
    search_fields = ["code", "name"]


@admin.register(UOM)
class UOMAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "each_count", "division"]
    list_filter = ["division"]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["item_number", "alternate_number", "description", "active", "division"]
    list_filter = ["division", "active"]
    search_fields = ["item_number", "alternate_number", "description"]
    list_select_related = ["division"]


ADDRESS_FIELDS = ["address1", "address2", "city", "state", "postal_code", "country"]


class ShipToInline(admin.StackedInline):
    model = ShipTo
    extra = 0
    fields = ["name", "company", *ADDRESS_FIELDS, "phone", "email"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "account_number", "email", "city", "division"]
    list_filter = ["division"]
    search_fields = ["name", "account_number", "email"]
    fields = ["division", "name", "account_number", "email", "phone", *ADDRESS_FIELDS]
    inlines = [ShipToInline]


class ShippingMethodInline(admin.TabularInline):
    model = ShippingMethod
    extra = 0


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ["name", "division"]
    list_filter = ["division"]
    search_fields = ["name"]
    inlines = [ShippingMethodInline]


@admin.register(InventoryRecord)
class InventoryRecordAdmin(ReadOnlyAdmin):
    list_display = ["item", "site", "location", "uom", "on_hand", "updated_at"]
    list_filter = ["site__division", "site"]
    search_fields = ["item__item_number"]
    list_select_related = ["item", "site", "location", "uom"]


@admin.register(InventoryTransaction)
class InventoryTransactionAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "kind", "item", "location", "quantity_delta", "balance_after", "user"]
    list_filter = ["kind"]
    search_fields = ["item__item_number", "reference", "reason"]
    list_select_related = ["item", "location", "user"]


class PickingOrderLineInline(admin.TabularInline):
    model = PickingOrderLine
    extra = 0
    fields = ["line_number", "item", "ordered_qty", "picked_qty", "store_order_product_id", "comment"]
    readonly_fields = ["picked_qty"]
    raw_id_fields = ["item"]


@admin.register(PickingOrder)
class PickingOrderAdmin(admin.ModelAdmin):
    list_display = ["number", "order_date", "customer", "status", "source_store", "store_order_id"]
    list_filter = ["division", "status", "source_store"]
    search_fields = ["number", "customer__name"]
    # Status moves through the close/reopen/cancel services, which keep closed_at in step.
    readonly_fields = ["status", "closed_at"]
    raw_id_fields = ["customer", "ship_to"]
    inlines = [PickingOrderLineInline]


@admin.register(Pick)
class PickAdmin(ReadOnlyAdmin):
    list_display = ["id", "picked_at", "line", "quantity", "location", "user", "tracking_number"]
    list_select_related = ["line", "location", "user"]
