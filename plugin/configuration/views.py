"""Store list, Add store, and a store's configuration tabs. Views check input and permissions and
call a service; every tab shares `configuration/store_tabs.html`."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from plugin.audit.selectors import configuration_history
from plugin.bigcommerce.errors import BigCommerceError

from .forms import (
    LARGEST_ID,
    BasicConfigurationForm,
    DefaultLocationForm,
    LocationMappingFormSet,
    StoreConnectionForm,
)
from .locations import location_mapping_update, store_locations_list, store_locations_read
from .models import StoreConnection
from .roles import role_needed_sentence
from .selectors import master_data_options, store_get, store_status
from .services import (
    basic_configuration_ensure,
    basic_configuration_update,
    store_connection_check,
    store_connection_create,
    store_connection_update,
)

VIEW_PERMISSION = "configuration.view_storeconnection"
ADD_STORE_PERMISSION = "configuration.add_storeconnection"
CHANGE_CONNECTION_PERMISSION = "configuration.change_storeconnection"
CHANGE_CONFIGURATION_PERMISSION = "configuration.change_basicconfiguration"
RUN_JOBS_PERMISSION = "configuration.run_jobs"
HISTORY_PAGE_SIZE = 20

TABS = [
    ("basic", "Basic Configuration", "configuration:basic"),
    ("cart", "Shopping Cart Configuration", "configuration:cart"),
    ("sync", "Synchronization", "configuration:sync"),
    ("logs", "Logs", "configuration:logs"),
]


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied(role_needed_sentence(permission))


def _store_or_404(pk) -> StoreConnection:
    store = store_get(pk=pk)
    if store is None:
        raise Http404("No such store.")
    if not hasattr(store, "basic_configuration"):
        # A store created outside the services still gets its (empty) configuration row.
        basic_configuration_ensure(store=store)
        store = store_get(pk=pk)
    return store


def _tab_context(request, store: StoreConnection, active: str, **extra) -> dict:
    user = request.user
    context = {
        "store": store,
        "configuration": store.basic_configuration,
        "tabs": TABS,
        "active_tab": active,
        "status": store_status(store),
        "can_change_configuration": user.has_perm(CHANGE_CONFIGURATION_PERMISSION),
        "can_change_connection": user.has_perm(CHANGE_CONNECTION_PERMISSION),
        "can_run_jobs": user.has_perm(RUN_JOBS_PERMISSION),
    }
    context.update(extra)
    return context


@login_required
@require_GET
def store_list(request):
    _require(request, VIEW_PERMISSION)
    from plugin.portal.dashboard import dashboard_rows  # the dashboard's reads, without its charts

    return render(
        request,
        "configuration/store_list.html",
        {"rows": dashboard_rows(with_charts=False), "can_add_store": request.user.has_perm(ADD_STORE_PERMISSION)},
    )


@sensitive_post_parameters("access_token")
@login_required
@require_http_methods(["GET", "POST"])
def store_add(request):
    _require(request, ADD_STORE_PERMISSION)
    form = StoreConnectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        store = store_connection_create(user=request.user, data=form.cleaned_data)
        messages.success(request, f"Store {store.name} added. Now fill in its Basic Configuration.")
        return redirect("configuration:basic", pk=store.pk)
    return render(request, "configuration/store_add.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def basic_configuration(request, pk):
    _require(request, VIEW_PERMISSION)
    store = _store_or_404(pk)
    configuration = store.basic_configuration
    can_change = request.user.has_perm(CHANGE_CONFIGURATION_PERMISSION)
    if request.method == "POST":
        _require(request, CHANGE_CONFIGURATION_PERMISSION)
        form = BasicConfigurationForm(request.POST, instance=configuration)
        if form.is_valid():
            basic_configuration_update(store=store, user=request.user, data=form.cleaned_data)
            messages.success(request, "Basic Configuration saved.")
            return redirect("configuration:basic", pk=store.pk)
        messages.error(request, "Basic Configuration was not saved: correct the fields marked below.")
    else:
        form = BasicConfigurationForm(instance=configuration)
    if not can_change:
        for form_field in form.fields.values():
            form_field.disabled = True
    return render(request, "configuration/basic.html",
                  _tab_context(request, store, "basic", form=form, **_location_forms(request, store)))


# ----- the store's inventory locations, on the Basic Configuration tab -----------------------------

def _location_forms(request, store: StoreConnection, data=None) -> dict:
    """The location table's forms: the default location choice and one mapping row per known location."""
    rows = store_locations_list(store=store)
    known = {row.store_location_id: row for row in rows}
    default_id = int(store.inventory_location_id)
    if data is not None:
        raw_default = data.get("default_location_id", "")
        default_id = int(raw_default) if raw_default.isascii() and raw_default.isdigit() and \
            int(raw_default) in known else default_id
    default_form = DefaultLocationForm(data, known=known, initial={"default_location_id": default_id})
    formset = LocationMappingFormSet(
        data, prefix="locations", configuration=store.basic_configuration, known=known, default_location_id=default_id,
        initial=[{"store_location_id": row.store_location_id, "site": row.site_id, "location": row.location_id}
                 for row in rows])
    if not request.user.has_perm(CHANGE_CONFIGURATION_PERMISSION):
        for form in [default_form, *formset.forms]:
            for form_field in form.fields.values():
                form_field.disabled = True
    return {"location_rows": [(form.store_location, form) for form in formset.forms],
            "location_formset": formset, "default_location_form": default_form,
            "default_location_id": default_id, "default_location_known": default_id in known}


@login_required
@require_POST
def location_mapping(request, pk):
    _require(request, CHANGE_CONFIGURATION_PERMISSION)
    store = _store_or_404(pk)
    forms = _location_forms(request, store, data=request.POST)
    default_form, formset = forms["default_location_form"], forms["location_formset"]
    if default_form.is_valid() and formset.is_valid():
        location_mapping_update(store=store, user=request.user,
                                default_location_id=default_form.cleaned_data["default_location_id"],
                                rows=[form.cleaned_data for form in formset.forms])
        messages.success(request, "Location mapping saved.")
        return redirect(reverse("configuration:basic", kwargs={"pk": store.pk}) + "#store-locations")
    messages.error(request, "The location mapping was not saved: correct the rows marked below.")
    form = BasicConfigurationForm(instance=store.basic_configuration)
    return render(request, "configuration/basic.html", _tab_context(request, store, "basic", form=form, **forms))


@login_required
@require_POST
def locations_refresh(request, pk):
    """Read the store's inventory locations (every page) and keep each known one's mapping."""
    _require(request, CHANGE_CONFIGURATION_PERMISSION)
    store = _store_or_404(pk)
    try:
        outcome = store_locations_read(store=store, user=request.user)
    except BigCommerceError as exc:
        messages.error(request, f"The store's locations could not be read: {exc}")
    else:
        text = f"Read {outcome.listed} location(s) from the store"
        if outcome.added:
            text += f"; new: {', '.join(map(str, outcome.added))}"
        if outcome.removed:
            text += f"; no longer in the store (removed): {', '.join(map(str, outcome.removed))}"
        messages.success(request, text + ".")
        if outcome.default_missing:
            messages.warning(request, f"The default location {store.inventory_location_id} is not among the "
                                      "store's locations: choose another default.")
    return redirect(reverse("configuration:basic", kwargs={"pk": store.pk}) + "#store-locations")


def _optional_id(request, name: str) -> int | None:
    """The id in query parameter `name`, None when absent. ValueError says why it is no id."""
    raw = request.GET.get(name, "")
    if raw == "":
        return None
    # isdigit() alone also accepts digits int() refuses, such as "²".
    if not (raw.isascii() and raw.isdigit()):
        raise ValueError(f"'{name}' must be a number.")
    digits = raw.lstrip("0") or "0"  # int() refuses very long strings, even of leading zeros
    if len(digits) > len(str(LARGEST_ID)) or int(digits) > LARGEST_ID:
        raise ValueError(f"'{name}' is larger than any id.")
    return int(digits)


@login_required
@require_POST
def notification_test(request, pk):
    """"Send test email": one mail to the saved notification recipients now; the page says what happened."""
    from plugin.portal.notifications import notice_test_send

    _require(request, CHANGE_CONFIGURATION_PERMISSION)
    store = _store_or_404(pk)
    outcome = notice_test_send(store=store, user=request.user)
    getattr(messages, outcome.level)(request, outcome.text)
    return redirect("configuration:basic", pk=store.pk)


@login_required
@require_GET
def basic_configuration_options(request, pk):
    """The dependent drop-down lists for a chosen division (and site), as JSON."""
    _require(request, VIEW_PERMISSION)
    _store_or_404(pk)
    try:
        division_id = _optional_id(request, "division")
        site_id = _optional_id(request, "site")
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(master_data_options(division_id=division_id, site_id=site_id))


@sensitive_post_parameters("access_token")
@login_required
@require_http_methods(["GET", "POST"])
def cart_configuration(request, pk):
    _require(request, VIEW_PERMISSION)
    store = _store_or_404(pk)
    can_change = request.user.has_perm(CHANGE_CONNECTION_PERMISSION)
    if request.method == "POST":
        _require(request, CHANGE_CONNECTION_PERMISSION)
        form = StoreConnectionForm(request.POST, instance=store)
        if form.is_valid():
            store_connection_update(store=store, user=request.user, data=form.cleaned_data)
            messages.success(request, "Shopping Cart Configuration saved.")
            return redirect("configuration:cart", pk=store.pk)
        messages.error(request, "Shopping Cart Configuration was not saved: correct the fields marked below.")
        store.refresh_from_db()  # the header shows the saved name, not the rejected one
    else:
        form = StoreConnectionForm(instance=store)
    if not can_change:
        for form_field in form.fields.values():
            form_field.disabled = True
    return render(request, "configuration/cart.html", _tab_context(request, store, "cart", form=form))


@login_required
@require_POST
def connection_test(request, pk):
    _require(request, RUN_JOBS_PERMISSION)
    store = _store_or_404(pk)
    outcome = store_connection_check(store=store, user=request.user)
    for level, text in outcome.messages:
        # The warnings stay on every tab of the store (store_tabs.html) as long as they hold.
        if level != "warning":
            getattr(messages, level)(request, text)
    return redirect("configuration:cart", pk=outcome.store.pk)


@login_required
@require_GET
def synchronization(request, pk):
    _require(request, VIEW_PERMISSION)
    from plugin.portal.dashboard import activity_signature, runs_activity

    store = _store_or_404(pk)
    # The status box's refresh script reloads it when the store's activity differs from this one.
    activity = runs_activity(store_ids=[store.pk]).get(store.pk, {}).get("signature", activity_signature(
        last_run_id=None, active=False))
    return render(request, "configuration/sync.html", _tab_context(request, store, "sync", activity=activity))


@login_required
@require_GET
def logs(request, pk):
    _require(request, VIEW_PERMISSION)
    store = _store_or_404(pk)
    page = Paginator(configuration_history(store=store), HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "configuration/logs.html", _tab_context(request, store, "logs", history_page=page))
