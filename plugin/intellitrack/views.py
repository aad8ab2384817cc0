"""Pages of the embedded IntelliTrack: Inventory Data with the Adjust Inventory form, Items with their
ledger, Picking Orders with the Pick form. Views read through selectors and write through services."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, Sum
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from plugin.portal.redirects import next_from, safe_redirect, safe_redirect_target
from plugin.portal.spreadsheet import spreadsheet_cell

from . import masterdata, selectors, services
from .forms import (
    InventoryAdjustForm,
    InventoryFilterForm,
    ItemFilterForm,
    PickForm,
    PickingOrderFilterForm,
    add_service_errors,
)
from .models import Carrier, InventoryRecord, Item, Pick, PickingOrder, PickingOrderLine
from .selectors import INVENTORY_DEFAULT_SORT

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


INVENTORY_COLUMNS = [
    # (sort key, header, right-aligned)
    ("item", "Item", False),
    ("description", "Description", False),
    ("division", "Division", False),
    ("site", "Site", False),
    ("location", "Location", False),
    ("uom", "UOM", False),
    ("on_hand", "On hand", True),
    ("available", "Available (item)", True),
    ("store_level", "Store level (last sent)", True),
    ("updated", "Updated", False),
]


def _inventory_form(request):
    form = InventoryFilterForm(request.GET or None)
    # A filter that names something unknown matches nothing, rather than everything.
    filters = form.page_filters() if form.is_bound else {"sort": INVENTORY_DEFAULT_SORT}
    return form, filters


@_needs("intellitrack.view_inventoryrecord")
@require_GET
def inventory_list(request):
    form, filters = _inventory_form(request)
    if not filters:
        records, totals = InventoryRecord.objects.none(), {}
    else:
        records = selectors.inventory_page_list(**filters)
        totals = selectors.inventory_totals(**{k: v for k, v in filters.items() if k != "sort"})
    # Page the ids first, then read the page's 50 rows with their computed columns: a deep page then
    # skips plain ids instead of computing Available and the store level for every row it skips.
    page_obj = _page(request, selectors.inventory_page_ids(**filters) if filters else records.values_list("pk"))
    by_id = records.filter(pk__in=list(page_obj.object_list)).in_bulk()
    page_obj.object_list = [by_id[pk] for pk in page_obj.object_list if pk in by_id]
    store = filters.get("store")
    levels = selectors.inventory_store_levels(item_ids={record.item_id for record in page_obj}, store=store)
    for record in page_obj:
        record.store_levels = levels.get(record.item_id, [])
    sort = filters.get("sort", INVENTORY_DEFAULT_SORT)
    columns = [
        {"key": key, "header": header, "end": end, "active": sort.lstrip("-") == key,
         "descending": sort == f"-{key}", "next_sort": f"-{key}" if sort == key else key}
        for key, header, end in INVENTORY_COLUMNS
    ]
    return render(
        request,
        "intellitrack/inventory_list.html",
        {
            "form": form,
            "page_obj": page_obj,
            "totals": totals,
            "columns": columns,
            "store": store,
            "location_options": form.location_options(),
            "can_adjust": request.user.has_perm("intellitrack.adjust_inventory"),
        },
    )


CSV_CHUNK = 2000


@_needs("intellitrack.view_inventoryrecord")
@require_GET
def inventory_csv(request):
    """The filtered, sorted list as CSV, streamed a chunk of records at a time (never the whole list in
    memory): one query for the records through a cursor, one for the store levels of each chunk."""
    form, filters = _inventory_form(request)
    if not filters:
        errors = "; ".join(f"{name}: {' '.join(messages_)}" for name, messages_ in form.errors.items())
        return HttpResponseBadRequest(f"Bad filter: {errors}", content_type="text/plain")
    rows = selectors.inventory_csv_rows(filters=filters, chunk_size=CSV_CHUNK)
    writer = csv.writer(_Echo())
    # Item numbers, descriptions and store names are typed by people: one that a spreadsheet would run
    # as a formula opens as text.
    response = StreamingHttpResponse(
        (writer.writerow([spreadsheet_cell(cell) for cell in row]) for row in rows), content_type="text/csv"
    )
    response["Content-Disposition"] = 'attachment; filename="inventory.csv"'
    return response


class _Echo:
    """A file-like object whose write returns the line, so csv.writer yields one row at a time."""

    def write(self, value):
        return value


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
    page_obj = _page(request, orders)
    store_side = _store_side(list(page_obj))
    for order in page_obj:
        order.store_side = store_side.get(order.pk)
    return render(request, "intellitrack/order_list.html", {"form": form, "page_obj": page_obj})


# What the Fulfillment export's shipment states mean to the picker.
SHIPMENT_STATE_WORDS = {
    "sent": "sent", "pending": "pending", "pending_close": "pending", "checking": "uncertain", "refused": "failed",
}
SHIPMENT_WORD_ORDER = ("sent", "pending", "uncertain", "failed")


def _store_side(orders) -> dict[int, dict]:
    """Per picking order that came from a store: the store order's status name (as the sync last read it),
    its shipments counted by state (sent, pending, uncertain, failed) and its address in the store's control
    panel. Three queries for a page of orders, whatever its size (the sync plugin's records)."""
    from plugin.sync.models import OrderImport, ShipmentOutbox, StoreOrderLine
    from plugin.sync.selectors import STORE_ORDER_STATUSES, store_order_control_panel_url

    from_store = [order for order in orders if order.source_store_id and order.store_order_id]
    if not from_store:
        return {}
    store_ids = {order.source_store_id for order in from_store}
    store_order_ids = {order.store_order_id for order in from_store}
    latest: dict[tuple[int, int], tuple] = {}
    for model in (StoreOrderLine, OrderImport):
        for store_id, store_order_id, status_id, seen_at in model.objects.filter(
            store_id__in=store_ids, store_order_id__in=store_order_ids
        ).order_by().values_list("store_id", "store_order_id", "status_id", "updated_at"):
            key = (store_id, store_order_id)
            if key not in latest or seen_at > latest[key][1]:
                latest[key] = (status_id, seen_at)
    shipments: dict[int, dict[str, int]] = {}
    for order_id, state, count in (
        ShipmentOutbox.objects.filter(picking_order_id__in=[order.pk for order in from_store])
        .order_by().values("picking_order_id", "state").annotate(count=Count("id"))
        .values_list("picking_order_id", "state", "count")
    ):
        word = SHIPMENT_STATE_WORDS.get(state, state)
        by_word = shipments.setdefault(order_id, {})
        by_word[word] = by_word.get(word, 0) + count
    side = {}
    for order in from_store:
        status_id, seen_at = latest.get((order.source_store_id, order.store_order_id), (None, None))
        counts = shipments.get(order.pk, {})
        side[order.pk] = {
            "status_id": status_id,
            "status_name": STORE_ORDER_STATUSES.get(status_id, f"Status {status_id}") if status_id is not None else "",
            "status_seen_at": seen_at,
            "shipments": [{"state": word, "count": counts[word]} for word in SHIPMENT_WORD_ORDER if word in counts],
            "control_panel_url": store_order_control_panel_url(
                store=order.source_store, store_order_id=order.store_order_id
            ),
        }
    return side


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
        "store_side": _store_side([order]).get(order.pk),
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
    """Close an order. One with units left to pick asks first: without `confirm=1` the answer is a page
    listing what is left, whose Confirm button posts again with it (no script needed)."""
    order = _get_order(pk)
    if request.POST.get("confirm") != "1" and order.status == PickingOrder.Status.OPEN:
        short = [line for line in order.lines.select_related("item").order_by("line_number") if line.remaining > 0]
        if short:
            return render(
                request,
                "intellitrack/order_close_confirm.html",
                {"order": order, "short_lines": short, "units_left": sum(line.remaining for line in short)},
            )
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


# --- Master data ----------------------------------------------------------------------------------


def _masterdata_kind(kind: str, action: str, request):
    """The kind of master data named in the route, after checking the user may `action` it (403 if not)."""
    found = masterdata.KINDS[kind]
    if not request.user.has_perm(found.permission(action)):
        raise PermissionDenied
    return found


def _masterdata_permissions(request, kind) -> dict:
    return {action: request.user.has_perm(kind.permission(action)) for action in ("add", "change", "delete")}


@login_required
@require_GET
def masterdata_index(request):
    kinds = [kind for kind in masterdata.KINDS.values() if request.user.has_perm(kind.permission("view"))]
    if not kinds:
        raise PermissionDenied
    return render(request, "masterdata/index.html", {"kinds": kinds})


@login_required
@require_GET
def masterdata_list(request, kind):
    kind = _masterdata_kind(kind, "view", request)
    form = ItemFilterForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    query = form.cleaned_data.get("q", "").strip() if form.is_bound and valid else ""
    rows = masterdata.masterdata_list(kind=kind, query=query)
    if not valid:
        rows = rows.none()
    page_obj = _page(request, rows)
    for row in page_obj:
        row.cells = kind.cells(row)
    return render(
        request,
        "masterdata/list.html",
        {"kind": kind, "kinds": masterdata.KINDS.values(), "form": form, "page_obj": page_obj,
         "can": _masterdata_permissions(request, kind)},
    )


def _masterdata_form_page(request, kind, row=None):
    """Create (no row) or edit a row with its child rows; a valid post saves and goes back to the list."""
    data = request.POST if request.method == "POST" else None
    form = kind.form(data, instance=row)
    children = None
    if kind.children:
        child_model = kind.children.model._meta
        may_delete = request.user.has_perm(f"{child_model.app_label}.delete_{child_model.model_name}")
        children = kind.children(data, instance=row, prefix="children", may_delete=may_delete)
    if data is not None and form.is_valid() and (children is None or children.is_valid()):
        try:
            saved = masterdata.masterdata_save(form=form, children=children)
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, f"{kind.singular.capitalize()} {saved} saved.")
            return redirect(kind.route("list"))
    return render(
        request,
        "masterdata/form.html",
        {"kind": kind, "form": form, "children": children, "row": row, "can": _masterdata_permissions(request, kind)},
    )


@login_required
def masterdata_add(request, kind):
    kind = _masterdata_kind(kind, "add", request)
    return _masterdata_form_page(request, kind)


@login_required
def masterdata_edit(request, kind, pk):
    kind = _masterdata_kind(kind, "change", request)
    row = get_object_or_404(kind.model, pk=pk)
    return _masterdata_form_page(request, kind, row)


@login_required
def masterdata_delete(request, kind, pk):
    """GET asks; POST deletes, or says what still refers to the row."""
    kind = _masterdata_kind(kind, "delete", request)
    row = get_object_or_404(kind.model, pk=pk)
    if request.method == "POST":
        try:
            masterdata.masterdata_delete(kind=kind, row=row)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, f"{kind.singular.capitalize()} {row} deleted.")
        return redirect(kind.route("list"))
    return render(
        request,
        "masterdata/delete.html",
        # A list of pairs: a dict's "items" key would hide its .items in the template.
        {"kind": kind, "row": row, "references": sorted(masterdata.masterdata_references(row).items())},
    )
