"""Forms of the embedded IntelliTrack pages. They check the shape of the input; the stock rules
(never below zero, never over-pick, closed orders) live in the services, whose errors are put back on
the matching form field by `add_service_errors`."""

from django import forms
from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator

from .models import Carrier, Division, Location, PickingOrder, Site
from .selectors import INVENTORY_DEFAULT_SORT, INVENTORY_SORTS, pick_stock_by_item

# Far above any real stock count, far below where a 64-bit on-hand could overflow.
QUANTITY_LIMIT = 1_000_000_000


def add_service_errors(
    form: forms.Form, error: ValidationError, aliases: dict[str, str] | None = None
) -> None:
    """Attach a service's ValidationError to the form: known keys to their field (after renaming the
    service's argument names to form field names), everything else to the form as a whole."""
    aliases = aliases or {}
    by_field = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
    for key, messages in by_field.items():
        field = aliases.get(key, key)
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


def _sort_choices():
    return [(key, key) for name in INVENTORY_SORTS for key in (name, f"-{name}")]


class InventoryFilterForm(forms.Form):
    division = forms.ModelChoiceField(Division.objects.all(), required=False)
    site = forms.ModelChoiceField(Site.objects.select_related("division"), required=False)
    location = forms.ModelChoiceField(
        Location.objects.select_related("site"),
        required=False,
        error_messages={"invalid_choice": "This location is not in the chosen site; choose one of its locations."},
    )
    item = forms.CharField(
        required=False, max_length=255, label="Item", help_text="Item number or description"
    )
    store = forms.ModelChoiceField(
        apps.get_model("configuration", "StoreConnection").objects.order_by("name"),
        required=False,
        label="Store",
        help_text="Only items this store links, with the level last sent to it",
    )
    # Whitelisted: a column key of INVENTORY_SORTS, "-" in front for descending.
    sort = forms.ChoiceField(choices=_sort_choices, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Several divisions may reuse a site code, so the label names the parent too.
        self.fields["site"].label_from_instance = lambda site: f"{site.division.code} / {site.code}"
        self.fields["location"].label_from_instance = lambda loc: f"{loc.site.code} / {loc.code}"
        self.fields["store"].label_from_instance = lambda store: store.name
        site_id = self._chosen_site_id()
        if site_id is not None:
            # The Location list follows the Site: only its locations are offered and accepted.
            self.fields["location"].queryset = Location.objects.select_related("site").filter(site_id=site_id)

    def _chosen_site_id(self) -> int | None:
        if not self.is_bound:
            return None
        try:
            site = self.fields["site"].clean(self.data.get(self.add_prefix("site")))
        except ValidationError:
            return None
        return site.pk if site is not None else None

    def location_options(self):
        """Every location with its site, for the page's script that narrows the list when the Site changes
        (the rendered list holds only the chosen site's)."""
        return Location.objects.select_related("site").order_by("site__code", "code", "pk")

    def selector_filters(self) -> dict:
        """Keyword arguments for `inventory_list` / `inventory_totals` (empty when the form is invalid)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "division": data["division"],
            "site": data["site"],
            "location": data["location"],
            "item_query": data["item"].strip(),
        }

    def page_filters(self) -> dict:
        """`selector_filters` plus the store and the sort, for `inventory_page_list`."""
        filters = self.selector_filters()
        if filters:
            filters["store"] = self.cleaned_data["store"]
            filters["sort"] = self.cleaned_data["sort"] or INVENTORY_DEFAULT_SORT
        return filters


class InventoryAdjustForm(forms.Form):
    DELTA = "delta"
    COUNT = "count"

    mode = forms.ChoiceField(
        choices=[(DELTA, "Change on-hand by (+/-)"), (COUNT, "Set a new on-hand count")],
        initial=DELTA,
        widget=forms.RadioSelect,
        label="Adjustment",
    )
    quantity = forms.IntegerField(label="Quantity", min_value=-QUANTITY_LIMIT, max_value=QUANTITY_LIMIT)
    reason = forms.CharField(max_length=200, label="Reason")
    reference = forms.CharField(max_length=100, required=False, label="Reference")

    # Service argument names -> fields of this form.
    SERVICE_FIELDS = {"quantity_delta": "quantity", "on_hand": "quantity"}

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("Give a reason for the adjustment.")
        return reason

    def clean(self):
        cleaned = super().clean()
        mode, quantity = cleaned.get("mode"), cleaned.get("quantity")
        if quantity is None:
            return cleaned
        if mode == self.DELTA and quantity == 0:
            self.add_error("quantity", "A change of 0 does nothing; enter a positive or negative number.")
        if mode == self.COUNT and quantity < 0:
            self.add_error("quantity", "On-hand cannot be below zero.")
        return cleaned


class PickForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, max_value=QUANTITY_LIMIT, label="Quantity")
    location = forms.ModelChoiceField(Location.objects.none(), label="Location")
    tracking_number = forms.CharField(max_length=50, required=False, label="Tracking number")
    carrier = forms.ModelChoiceField(Carrier.objects.none(), required=False, label="Carrier")

    def __init__(self, *args, line, stock=None, carriers=None, **kwargs):
        """`stock` ([(location, on_hand)], most first) and `carriers` can be handed in by a page that shows
        a form per line, so it reads them once per order instead of once per line."""
        kwargs.setdefault("prefix", f"line-{line.pk}")
        super().__init__(*args, **kwargs)
        self.line = line
        order = line.order
        if stock is None:
            stock = pick_stock_by_item(order=order, item_ids=[line.item_id]).get(line.item_id, [])
        if carriers is None:
            carriers = list(Carrier.objects.filter(division_id=order.division_id).order_by("name"))
        # Only where the item has stock, with the amount in the label so the picker can choose. The
        # querysets validate a posted id; the prepared choices render without another query.
        location = self.fields["location"]
        location.queryset = Location.objects.filter(pk__in=[place.pk for place, _ in stock])
        location.choices = [("", "Choose a location" if stock else "No stock of this item")] + [
            (place.pk, f"{place.site.code} / {place.code} ({on_hand} on hand)") for place, on_hand in stock
        ]
        carrier = self.fields["carrier"]
        carrier.queryset = Carrier.objects.filter(division_id=order.division_id)
        carrier.choices = [("", "---------")] + [(choice.pk, choice.name) for choice in carriers]
        # Never more than the line still needs: the browser's box says so, and so does validation.
        quantity = self.fields["quantity"]
        quantity.max_value = max(line.remaining, 1)
        quantity.widget.attrs["max"] = quantity.max_value
        quantity.validators = [
            validator for validator in quantity.validators if not isinstance(validator, MaxValueValidator)
        ] + [MaxValueValidator(
            line.remaining,
            message=f"Only {line.remaining} left to pick on this line: "
                    f"enter a quantity less than or equal to {line.remaining}.",
        )]
        if not self.is_bound:
            self.initial.setdefault("quantity", line.remaining)
            if stock:
                self.initial.setdefault("location", stock[0][0].pk)
            if order.carrier_id:
                self.initial.setdefault("carrier", order.carrier_id)


class PickingOrderFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *PickingOrder.Status.choices], required=False)
    store_order_id = forms.IntegerField(min_value=0, required=False, label="Store order id")
    q = forms.CharField(max_length=100, required=False, label="Search", help_text="Order number or customer")


class ItemFilterForm(forms.Form):
    # CharField refuses NUL characters, which PostgreSQL cannot compare against.
    q = forms.CharField(max_length=100, required=False, label="Search")
