"""Pages of the embedded IntelliTrack: Inventory Data with the Adjust Inventory form, Items with their
ledger, Picking Orders with the Pick form. Views read through selectors and write through services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from plugin.portal.redirects import next_from, safe_redirect, safe_redirect_target

from . import selectors, services
from .forms import (
    InventoryAdjustForm,
    InventoryFilterForm,
    ItemFilterForm,
    PickForm,
    PickingOrderFilterForm,
    add_service_errors,
)
from .models import Carrier, InventoryRecord, Item, Pick, PickingOrder, PickingOrderLine

PAGE_SIZE = 50
LEDGER_PAGE_SIZE = 25


def _page(request, queryset, per_page=None):
    return Paginator(queryset, per_page or PAGE_SIZE).get_page(request.GET.get("page"))


def _needs(perm: str):
    """Login first (anonymous -> login page), then the permission (logged in without it -> 403)."""

    def decorate(view):
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorate


# --- Inventory Data -------------------------------------------------------------------------------


@_needs("intellitrack.view_inventoryrecord")
@require_GET
def inventory_list(request):
    form = InventoryFilterForm(request.GET or None)
    filters = form.selector_filters() if form.is_bound else {}
    if form.is_bound and not form.is_valid():
        # A filter that names something unknown matches nothing, rather than everything.
        return render(
            request,
            "intellitrack/inventory_list.html",
            {"form": form, "page_obj": _page(request, InventoryRecord.objects.none()), "totals": {}},
        )
    records = (
        selectors.inventory_list(**filters)
        .select_related("item", "site", "site__division", "location", "uom")
        # A stable order so a row never shows on two pages.
        .order_by("item__item_number", "site__code", "location__code", "uom__code", "pk")
    )
    return render(
        request,
        "intellitrack/inventory_list.html",
        {
            "form": form,
            "page_obj": _page(request, records),
            "totals": selectors.inventory_totals(**filters),
            "can_adjust": request.user.has_perm("intellitrack.adjust_inventory"),
        },
    )


@_needs("intellitrack.adjust_inventory")
def inventory_adjust(request, pk):
    record = get_object_or_404(
        InventoryRecord.objects.select_related("item", "site", "site__division", "location", "uom"), pk=pk
    )
    form = InventoryAdjustForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        common = {
            "item": record.item,
            "location": record.location,
            "uom": record.uom,
            "reason": data["reason"],
            "reference": data["reference"],
            "user": request.user,
        }
        try:
            if data["mode"] == InventoryAdjustForm.DELTA:
                services.inventory_adjust(quantity_delta=data["quantity"], **common)
            else:
                services.inventory_set(quantity=data["quantity"], **common)
        except ValidationError as error:
            add_service_errors(form, error, InventoryAdjustForm.SERVICE_FIELDS)
        else:
            record.refresh_from_db(fields=["on_hand"])
            seen = " ".join(store.sentence for store in _store_visibility(record))
            messages.success(
                request,
                f"{record.item.item_number} at {record.location.code}: on-hand is now {record.on_hand}."
                + (f" {seen}" if seen else ""),
            )
            return safe_redirect(request, _safe_next(request), fallback=reverse("intellitrack:inventory-list"))
    return render(
        request,
        "intellitrack/inventory_adjust.html",
        {
            "record": record,
            "form": form,
            "next": _safe_next(request),
            "stores": _store_visibility(record),
            "can_run_jobs": request.user.has_perm(RUN_JOBS_PERMISSION),
        },
    )


RUN_JOBS_PERMISSION = "configuration.run_jobs"


def _store_visibility(record):
    """When each store that links this item sees a change here (the sync plugin's answer)."""
    from plugin.sync.jobs.adjustments import adjustments_store_visibility

    return adjustments_store_visibility(item_id=record.item_id, division_id=record.site.division_id,
                                        site_id=record.site_id, location_id=record.location_id)


def _safe_next(request):
    # Only a path on this site (the portal's one redirect check), so the form cannot redirect elsewhere.
    return safe_redirect_target(request, next_from(request))


# --- Items ----------------------------------------------------------------------------------------


@_needs("intellitrack.view_item")
@require_GET
def item_list(request):
    form = ItemFilterForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    query = form.cleaned_data.get("q", "").strip() if form.is_bound and valid else ""
    items = selectors.item_list_with_on_hand(query=query)
    if not valid:
        items = items.none()
    context = {"form": form, "page_obj": _page(request, items), "q": query}
    return render(request, "intellitrack/item_list.html", context)


@_needs("intellitrack.view_item")
@require_GET
def item_detail(request, pk):
    item = get_object_or_404(Item.objects.select_related("division", "default_uom"), pk=pk)
    records = (
        InventoryRecord.objects.filter(item=item)
        .select_related("site", "location", "uom")
        .order_by("site__code", "location__code", "uom__code")
    )
    ledger = selectors.item_transaction_list(item=item)
    return render(
        request,
        "intellitrack/item_detail.html",
        {
            "item": item,
            "records": records,
            "page_obj": _page(request, ledger, LEDGER_PAGE_SIZE),
            "can_adjust": request.user.has_perm("intellitrack.adjust_inventory"),
        },
    )


# --- Picking orders -------------------------------------------------------------------------------


@_needs("intellitrack.view_pickingorder")
@require_GET
def order_list(request):
    form = PickingOrderFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    orders = selectors.picking_order_list(
        status=data.get("status") or None, store_order_id=data.get("store_order_id")
    ).select_related("source_store")
    if form.is_bound and not form.is_valid():
        orders = orders.none()
    term = data.get("q", "").strip()
    if term:
        orders = orders.filter(Q(number__icontains=term) | Q(customer__name__icontains=term))
    orders = orders.annotate(ordered=Sum("lines__ordered_qty"), picked=Sum("lines__picked_qty")).order_by(
        "-order_date", "-pk"
    )
    return render(request, "intellitrack/order_list.html", {"form": form, "page_obj": _page(request, orders)})


def _order_detail_context(request, order, pick_forms=None):
    lines = list(
        order.lines.select_related("item")
        .prefetch_related(
            Prefetch(
                "picks",
                queryset=Pick.objects.select_related("location", "user", "carrier").order_by(
                    "picked_at", "pk"
                ),
            )
        )
        .order_by("line_number")
    )
    can_pick = request.user.has_perm("intellitrack.pick_order") and order.status == PickingOrder.Status.OPEN
    pick_forms = pick_forms or {}
    if can_pick:
        stock = selectors.pick_stock_by_item(order=order, item_ids={line.item_id for line in lines})
        carriers = list(Carrier.objects.filter(division_id=order.division_id).order_by("name"))
    for line in lines:
        # A form that came back with errors stays on its line even when the line is now fully picked.
        line.pick_form = pick_forms.get(line.pk) if can_pick else None
        if line.pick_form is None and can_pick and line.remaining > 0:
            line.pick_form = PickForm(line=line, stock=stock.get(line.item_id, []), carriers=carriers)
    return {
        "order": order,
        "lines": lines,
        "can_pick": can_pick,
        "can_close": request.user.has_perm("intellitrack.close_order"),
    }


def _get_order(pk):
    return get_object_or_404(
        PickingOrder.objects.select_related(
            "division", "customer", "ship_to", "carrier", "shipping_method", "source_store"
        ),
        pk=pk,
    )


@_needs("intellitrack.view_pickingorder")
@require_GET
def order_detail(request, pk):
    order = _get_order(pk)
    return render(request, "intellitrack/order_detail.html", _order_detail_context(request, order))


@require_POST
@_needs("intellitrack.pick_order")
def line_pick(request, pk, line_pk):
    order = _get_order(pk)
    line = get_object_or_404(
        PickingOrderLine.objects.select_related("item", "order"), pk=line_pk, order=order
    )
    form = PickForm(request.POST, line=line)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.order_pick(
                line=line,
                quantity=data["quantity"],
                location=data["location"],
                tracking_number=data["tracking_number"],
                carrier=data["carrier"],
                user=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"Picked {data['quantity']} of {line.item.item_number} (line {line.line_number})."
            )
            return redirect("intellitrack:order-detail", pk=order.pk)
    order.refresh_from_db()
    context = _order_detail_context(request, order, pick_forms={line.pk: form})
    # A closed order shows no pick forms, so its refusal goes on the page as a message instead.
    if not context["can_pick"]:
        for error in form.non_field_errors() or ["This order cannot be picked."]:
            messages.error(request, error)
    return render(request, "intellitrack/order_detail.html", context, status=400)


@require_POST
@_needs("intellitrack.close_order")
def order_close(request, pk):
    order = _get_order(pk)
    return _change_status(request, order, services.order_close, "closed")


@require_POST
@_needs("intellitrack.close_order")
def order_reopen(request, pk):
    order = _get_order(pk)
    return _change_status(request, order, services.order_reopen, "reopened")


def _change_status(request, order, service, done):
    try:
        service(order=order, user=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"Order {order.number} {done}.")
    return redirect("intellitrack:order-detail", pk=order.pk)
