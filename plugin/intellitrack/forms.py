"""Forms of the embedded IntelliTrack pages. They check the shape of the input; the stock rules
(never below zero, never over-pick, closed orders) live in the services, whose errors are put back on
the matching form field by `add_service_errors`."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from .models import Carrier, Division, Location, PickingOrder, Site
from .selectors import pick_stock_by_item

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


class InventoryFilterForm(forms.Form):
    division = forms.ModelChoiceField(Division.objects.all(), required=False)
    site = forms.ModelChoiceField(Site.objects.select_related("division"), required=False)
    location = forms.ModelChoiceField(Location.objects.select_related("site"), required=False)
    item = forms.CharField(
        required=False, max_length=255, label="Item", help_text="Item number or description"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Several divisions may reuse a site code, so the label names the parent too.
        self.fields["site"].label_from_instance = lambda site: f"{site.division.code} / {site.code}"
        self.fields["location"].label_from_instance = lambda loc: f"{loc.site.code} / {loc.code}"

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
