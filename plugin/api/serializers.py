"""Serializers of the REST API. Input serializers check types and that ids exist; the stock rules are the
services' (the same ones the pages call), whose errors come back as 400 with a reason per field."""

from rest_framework import serializers

from plugin.intellitrack.forms import QUANTITY_LIMIT
from plugin.intellitrack.models import (
    UOM,
    Carrier,
    Division,
    InventoryRecord,
    InventoryTransaction,
    Item,
    Location,
    Pick,
    PickingOrder,
    PickingOrderLine,
    Site,
)

# --- inventory ------------------------------------------------------------------------------------


class InventoryQuerySerializer(serializers.Serializer):
    division = serializers.PrimaryKeyRelatedField(queryset=Division.objects.all(), required=False)
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all(), required=False)
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all(), required=False)
    item = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Part of an item number or description."
    )

    def to_internal_value(self, data):
        # An id parameter given with an empty value is refused, as the schema declares (DRF would skip it).
        empty = [name for name in ("division", "site", "location") if name in data and data.get(name) == ""]
        if empty:
            raise serializers.ValidationError({name: ["Give a value, or leave the parameter out."] for name in empty})
        return super().to_internal_value(data)


class InventoryRecordSerializer(serializers.ModelSerializer):
    item_number = serializers.CharField(source="item.item_number", read_only=True)
    item_description = serializers.CharField(source="item.description", read_only=True)
    division = serializers.IntegerField(source="site.division_id", read_only=True)
    division_code = serializers.CharField(source="site.division.code", read_only=True)
    site_code = serializers.CharField(source="site.code", read_only=True)
    location_code = serializers.CharField(source="location.code", read_only=True)
    uom_code = serializers.CharField(source="uom.code", read_only=True)

    class Meta:
        model = InventoryRecord
        fields = [
            "id",
            "item",
            "item_number",
            "item_description",
            "division",
            "division_code",
            "site",
            "site_code",
            "location",
            "location_code",
            "uom",
            "uom_code",
            "on_hand",
            "updated_at",
        ]
        read_only_fields = fields


class InventoryTransactionSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.get_username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = InventoryTransaction
        fields = [
            "id",
            "kind",
            "item",
            "site",
            "location",
            "uom",
            "quantity_delta",
            "balance_after",
            "user",
            "reason",
            "reference",
            "picking_order",
            "created_at",
        ]
        read_only_fields = fields


class AdjustmentSerializer(serializers.Serializer):
    item = serializers.PrimaryKeyRelatedField(queryset=Item.objects.select_related("default_uom"))
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.select_related("site"))
    uom = serializers.PrimaryKeyRelatedField(
        queryset=UOM.objects.all(),
        required=False,
        help_text="Defaults to the item's default unit of measure.",
    )
    quantity_delta = serializers.IntegerField(
        required=False,
        min_value=-QUANTITY_LIMIT,
        max_value=QUANTITY_LIMIT,
        help_text="Change on-hand by this amount (negative lowers it). Give this or `quantity`.",
    )
    quantity = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=QUANTITY_LIMIT,
        help_text="Set on-hand to this count. Give this or `quantity_delta`.",
    )
    reason = serializers.CharField(max_length=200)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        has_delta, has_count = "quantity_delta" in attrs, "quantity" in attrs
        if has_delta == has_count:
            raise serializers.ValidationError(
                {
                    "quantity_delta": [
                        "Give either quantity_delta (a change) or quantity (a new count), not both."
                    ]
                }
            )
        if "uom" not in attrs:
            if attrs["item"].default_uom is None:
                raise serializers.ValidationError(
                    {"uom": ["The item has no default unit of measure; give one."]}
                )
            attrs["uom"] = attrs["item"].default_uom
        return attrs


class AdjustmentResultSerializer(serializers.Serializer):
    on_hand = serializers.IntegerField(help_text="On-hand at the location after the adjustment.")
    transaction = InventoryTransactionSerializer(
        allow_null=True, help_text="The ledger row written; null when the count already matched."
    )


# --- picking orders -------------------------------------------------------------------------------


class LinePickSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.get_username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Pick
        fields = ["id", "quantity", "location", "user", "picked_at", "tracking_number", "carrier"]
        read_only_fields = fields


class PickingOrderLineSerializer(serializers.ModelSerializer):
    item_number = serializers.CharField(source="item.item_number", read_only=True)
    remaining = serializers.IntegerField(read_only=True)
    picks = LinePickSerializer(many=True, read_only=True)

    class Meta:
        model = PickingOrderLine
        fields = [
            "id",
            "line_number",
            "item",
            "item_number",
            "ordered_qty",
            "picked_qty",
            "remaining",
            "store_order_product_id",
            "comment",
            "picks",
        ]
        read_only_fields = fields


class PickingOrderSerializer(serializers.ModelSerializer):
    division_code = serializers.CharField(source="division.code", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    lines = PickingOrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = PickingOrder
        fields = [
            "id",
            "number",
            "division",
            "division_code",
            "order_date",
            "due_date",
            "status",
            "customer",
            "customer_name",
            "ship_to",
            "carrier",
            "shipping_method",
            "source_store",
            "store_order_id",
            "created_at",
            "closed_at",
            "lines",
        ]
        read_only_fields = fields


class PickCreateSerializer(serializers.Serializer):
    line = serializers.PrimaryKeyRelatedField(
        queryset=PickingOrderLine.objects.select_related("order", "item"), help_text="Picking order line id."
    )
    quantity = serializers.IntegerField(min_value=1, max_value=QUANTITY_LIMIT)
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.select_related("site"))
    tracking_number = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    carrier = serializers.PrimaryKeyRelatedField(
        queryset=Carrier.objects.all(), required=False, allow_null=True, default=None
    )


class PickSerializer(serializers.ModelSerializer):
    order = serializers.IntegerField(source="line.order_id", read_only=True)
    order_status = serializers.CharField(source="line.order.status", read_only=True)
    line_picked_qty = serializers.IntegerField(source="line.picked_qty", read_only=True)
    line_remaining = serializers.IntegerField(source="line.remaining", read_only=True)
    user = serializers.CharField(source="user.get_username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Pick
        fields = [
            "id",
            "order",
            "order_status",
            "line",
            "line_picked_qty",
            "line_remaining",
            "quantity",
            "location",
            "user",
            "picked_at",
            "tracking_number",
            "carrier",
            "transaction",
        ]
        read_only_fields = fields
