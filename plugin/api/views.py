"""REST API over the embedded IntelliTrack. Reads go through selectors, writes through the same services
the pages call, so a rule holds the same way on both."""

import django_filters
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from plugin.intellitrack import selectors, services
from plugin.intellitrack.models import InventoryRecord, Pick, PickingOrder

from .permissions import HasViewPermissions
from .serializers import (
    AdjustmentResultSerializer,
    AdjustmentSerializer,
    InventoryQuerySerializer,
    InventoryRecordSerializer,
    PickCreateSerializer,
    PickingOrderSerializer,
    PickSerializer,
)


def service_error(error: DjangoValidationError) -> ValidationError:
    """A service's Django ValidationError as a DRF 400 keyed by field (non_field_errors for the rest)."""
    if hasattr(error, "error_dict"):
        detail = {
            (api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else key): messages
            for key, messages in error.message_dict.items()
        }
    else:
        detail = {api_settings.NON_FIELD_ERRORS_KEY: error.messages}
    return ValidationError(detail)


LARGEST_ID = 2**63 - 1


def _whole_number(raw: str) -> int | None:
    """A non-negative whole number in ASCII digits (no sign, no decimals), or None."""
    if not (raw.isascii() and raw.isdigit()) or len(raw.lstrip("0")) > 19:
        return None
    return int(raw)


class Pagination(PageNumberPagination):
    """Page numbers from 1 (0 is read as 1); a page past the last is 404. A page size from 1 to 1000;
    anything else in either parameter is 400, never silently replaced."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    last_page_strings = ()

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        number = _whole_number(raw)
        if number is None:
            raise ValidationError({self.page_query_param: ["A whole number: 1 for the first page (0 is read as 1)."]})
        return max(number, 1)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = _whole_number(raw)
        if size is None or not 1 <= size <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]})
        return size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 0}
                parameter["description"] = "Page number: 1 for the first page (0 is read as 1)."
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
                parameter["description"] = f"Results per page, 1 to {self.max_page_size} (default {self.page_size})."
        return parameters


class InventoryListView(generics.ListAPIView):
    """Inventory records (on-hand per item, location and unit of measure), filtered like the Inventory
    Data page."""

    serializer_class = InventoryRecordSerializer
    pagination_class = Pagination
    permission_classes = [HasViewPermissions]
    read_permissions = ["intellitrack.view_inventoryrecord"]
    filter_backends = []

    @extend_schema(parameters=[InventoryQuerySerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = InventoryQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        return (
            selectors.inventory_list(
                division=filters.get("division"),
                site=filters.get("site"),
                location=filters.get("location"),
                item_query=filters.get("item", "").strip(),
            )
            .select_related("item", "site", "site__division", "location", "uom")
            .order_by("item__item_number", "site__code", "location__code", "uom__code", "pk")
        )


class AdjustmentCreateView(APIView):
    """Adjust on-hand at one location: by a change (`quantity_delta`) or to a new count (`quantity`).
    A reason is required and on-hand never goes below zero."""

    permission_classes = [HasViewPermissions]
    write_permissions = ["intellitrack.adjust_inventory"]

    @extend_schema(
        request=AdjustmentSerializer,
        responses={201: AdjustmentResultSerializer, 200: AdjustmentResultSerializer},
    )
    def post(self, request):
        serializer = AdjustmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        common = {
            "item": data["item"],
            "location": data["location"],
            "uom": data["uom"],
            "reason": data["reason"],
            "reference": data["reference"],
            "user": request.user,
        }
        try:
            if "quantity_delta" in data:
                row = services.inventory_adjust(quantity_delta=data["quantity_delta"], **common)
            else:
                row = services.inventory_set(quantity=data["quantity"], **common)
        except DjangoValidationError as error:
            raise service_error(error) from error
        on_hand = (
            InventoryRecord.objects.filter(item=data["item"], location=data["location"], uom=data["uom"])
            .values_list("on_hand", flat=True)
            .first()
        )
        result = AdjustmentResultSerializer({"on_hand": on_hand or 0, "transaction": row}).data
        return Response(result, status=status.HTTP_201_CREATED if row else status.HTTP_200_OK)


@extend_schema_field(OpenApiTypes.INT)
class WholeNumberFilter(django_filters.NumberFilter):
    """A whole number (0.5 is refused, not matched against nothing)."""

    field_class = forms.IntegerField


class DeclaredFilterSet(django_filters.FilterSet):
    """Query filters as the schema declares them: a parameter given with an empty value is refused (400),
    not read as "no filter"; leave the parameter out for that."""

    def is_valid(self):
        valid = super().is_valid()
        for name in self.filters:
            if name in self.data and self.data.get(name) == "":
                if name in self.form.cleaned_data or name not in self.form.errors:
                    self.form.add_error(name, "Give a value, or leave the parameter out.")
                valid = False
        return valid


class PickingOrderFilter(DeclaredFilterSet):
    status = django_filters.ChoiceFilter(choices=PickingOrder.Status.choices)
    store_order_id = WholeNumberFilter(min_value=0, max_value=LARGEST_ID)

    class Meta:
        model = PickingOrder
        fields = ["status", "store_order_id", "source_store", "division"]


def _orders_with_lines():
    return selectors.picking_order_list(with_lines=True)


class PickingOrderListView(generics.ListAPIView):
    """Picking orders with their lines, newest first."""

    serializer_class = PickingOrderSerializer
    pagination_class = Pagination
    permission_classes = [HasViewPermissions]
    read_permissions = ["intellitrack.view_pickingorder"]
    filterset_class = PickingOrderFilter

    def get_queryset(self):
        return _orders_with_lines()


class PickingOrderDetailView(generics.RetrieveAPIView):
    serializer_class = PickingOrderSerializer
    permission_classes = [HasViewPermissions]
    read_permissions = ["intellitrack.view_pickingorder"]
    filter_backends = []

    def get_queryset(self):
        return _orders_with_lines()


class _OrderStatusView(APIView):
    permission_classes = [HasViewPermissions]
    write_permissions = ["intellitrack.close_order"]
    service = None

    @extend_schema(request=None, responses={200: PickingOrderSerializer})
    def post(self, request, pk):
        order = get_object_or_404(PickingOrder, pk=pk)
        try:
            self.service(order=order, user=request.user)
        except DjangoValidationError as error:
            raise service_error(error) from error
        return Response(PickingOrderSerializer(_orders_with_lines().get(pk=order.pk)).data)


class PickingOrderCloseView(_OrderStatusView):
    """Close an open picking order by hand."""

    service = staticmethod(services.order_close)


class PickingOrderReopenView(_OrderStatusView):
    """Reopen a closed picking order."""

    service = staticmethod(services.order_reopen)


class PickCreateView(APIView):
    """Pick part or all of a line's remaining quantity from one location. Never more than the line still
    needs nor more than is on hand there; the order closes itself when every line is fully picked."""

    permission_classes = [HasViewPermissions]
    write_permissions = ["intellitrack.pick_order"]

    @extend_schema(request=PickCreateSerializer, responses={201: PickSerializer})
    def post(self, request):
        serializer = PickCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            pick = services.order_pick(
                line=data["line"],
                quantity=data["quantity"],
                location=data["location"],
                tracking_number=data["tracking_number"],
                carrier=data["carrier"],
                user=request.user,
            )
        except DjangoValidationError as error:
            raise service_error(error) from error
        pick = Pick.objects.select_related("line__order", "user").get(pk=pick.pk)
        return Response(PickSerializer(pick).data, status=status.HTTP_201_CREATED)
