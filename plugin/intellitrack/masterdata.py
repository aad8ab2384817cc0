"""Master data of the embedded IntelliTrack in the portal's own pages: divisions, sites, locations, units of
measure, carriers with their shipping methods, and customers with their ship-to addresses.

Each kind is described once in KINDS (model, form, list columns, search fields, child rows); the views
are the same for every kind. Saves and deletes go through `masterdata_save` and `masterdata_delete`, which
turn "something still refers to this row" into a message instead of an error page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import PROTECT, RESTRICT, Count, Model, ProtectedError, Q, QuerySet, RestrictedError
from django.forms.models import BaseInlineFormSet, inlineformset_factory
from django.urls import reverse

from .models import UOM, Carrier, Customer, Division, InventoryRecord, Location, ShippingMethod, ShipTo, Site

# --- forms ----------------------------------------------------------------------------------------


class _ParentFixedOnEdit:
    """The parent (division, site) of a saved row stays: stock, orders and the configuration hang on it,
    and inventory records repeat a location's site."""

    parent_field = "division"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields[self.parent_field].disabled = True
            self.fields[self.parent_field].help_text = "Fixed once saved."


class DivisionForm(forms.ModelForm):
    class Meta:
        model = Division
        fields = ["code", "name"]


class SiteForm(_ParentFixedOnEdit, forms.ModelForm):
    class Meta:
        model = Site
        fields = ["division", "code", "name"]


class LocationForm(_ParentFixedOnEdit, forms.ModelForm):
    parent_field = "site"

    class Meta:
        model = Location
        fields = ["site", "code", "name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        site = self.fields["site"]
        site.queryset = Site.objects.select_related("division").order_by("division__code", "code")
        # Several divisions may reuse a site code, so the label names the division too.
        site.label_from_instance = lambda choice: f"{choice.division.code} / {choice.code} - {choice.name}"


class UOMForm(_ParentFixedOnEdit, forms.ModelForm):
    class Meta:
        model = UOM
        fields = ["division", "code", "name", "each_count"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["each_count"].min_value = 1
        self.fields["each_count"].widget.attrs["min"] = 1
        if self.instance.pk and InventoryRecord.objects.filter(uom_id=self.instance.pk).exists():
            # Stock is counted in this unit: a new each-count would silently change how much there is.
            self.fields["each_count"].disabled = True
            self.fields["each_count"].help_text = "Fixed: stock is held in this unit."

    def clean_each_count(self):
        each_count = self.cleaned_data["each_count"]
        if each_count is not None and each_count < 1:
            raise ValidationError("A unit holds at least one single unit.")
        return each_count


class CarrierForm(_ParentFixedOnEdit, forms.ModelForm):
    class Meta:
        model = Carrier
        fields = ["division", "name"]


class CustomerForm(_ParentFixedOnEdit, forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["division", "name", "account_number", "email", "phone", "address1", "address2", "city",
                  "state", "postal_code", "country"]


class _Children(BaseInlineFormSet):
    """Child rows (shipping methods, ship-tos): blank extra rows are ignored, a marked row is deleted,
    but only for a user who may delete that child model: for anyone else there is no Delete box, and a
    posted one is refused."""

    def __init__(self, *args, may_delete: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.can_delete = may_delete

    def clean(self):
        super().clean()
        if self.can_delete or not self.is_bound:
            return
        if any(self.data.get(form.add_prefix("DELETE")) for form in self.forms):
            plural = self.model._meta.verbose_name_plural
            raise ValidationError(f"Your role may not delete {plural}; ask an administrator.")


ShippingMethodFormSet = inlineformset_factory(
    Carrier, ShippingMethod, formset=_Children, fields=["name", "description"], extra=1, can_delete=True
)
ShipToFormSet = inlineformset_factory(
    Customer, ShipTo, formset=_Children,
    fields=["name", "company", "address1", "address2", "city", "state", "postal_code", "country", "phone",
            "email"],
    extra=1, can_delete=True,
)


# --- the kinds ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    slug: str  # in the URL and the route names
    model: type[Model]
    title: str  # "Sites"
    singular: str  # "site"
    form: type[forms.ModelForm]
    columns: tuple[str, ...]
    cells: Callable[[Model], list]
    search: tuple[str, ...]
    related: tuple[str, ...] = ()
    annotate: dict = field(default_factory=dict)
    ordering: tuple[str, ...] = ()
    children: type[BaseInlineFormSet] | None = None
    children_title: str = ""

    @property
    def model_name(self) -> str:
        return self.model._meta.model_name

    def permission(self, action: str) -> str:
        """`view`, `add`, `change` or `delete` on this kind's model."""
        return f"intellitrack.{action}_{self.model_name}"

    def route(self, action: str) -> str:
        return f"intellitrack:masterdata-{self.slug}-{action}"

    @property
    def route_edit(self) -> str:
        return self.route("edit")

    @property
    def route_delete(self) -> str:
        return self.route("delete")

    @property
    def list_url(self) -> str:
        return reverse(self.route("list"))

    @property
    def add_url(self) -> str:
        return reverse(self.route("add"))


KINDS: dict[str, Kind] = {
    kind.slug: kind
    for kind in [
        Kind(
            slug="divisions", model=Division, title="Divisions", singular="division", form=DivisionForm,
            columns=("Code", "Name", "Sites"), cells=lambda row: [row.code, row.name, row.site_count],
            search=("code", "name"), annotate={"site_count": Count("sites")}, ordering=("code",),
        ),
        Kind(
            slug="sites", model=Site, title="Sites", singular="site", form=SiteForm,
            columns=("Code", "Name", "Division", "Locations"),
            cells=lambda row: [row.code, row.name, row.division.code, row.location_count],
            search=("code", "name", "division__code"), related=("division",),
            annotate={"location_count": Count("locations")}, ordering=("division__code", "code"),
        ),
        Kind(
            slug="locations", model=Location, title="Locations", singular="location", form=LocationForm,
            columns=("Code", "Name", "Site", "Division"),
            cells=lambda row: [row.code, row.name, row.site.code, row.site.division.code],
            search=("code", "name", "site__code"), related=("site", "site__division"),
            ordering=("site__division__code", "site__code", "code"),
        ),
        Kind(
            slug="uoms", model=UOM, title="Units of measure", singular="unit of measure", form=UOMForm,
            columns=("Code", "Name", "Each count", "Division"),
            cells=lambda row: [row.code, row.name, row.each_count, row.division.code],
            search=("code", "name"), related=("division",), ordering=("division__code", "code"),
        ),
        Kind(
            slug="carriers", model=Carrier, title="Carriers", singular="carrier", form=CarrierForm,
            columns=("Name", "Division", "Shipping methods"),
            cells=lambda row: [row.name, row.division.code, row.method_count],
            search=("name", "division__code"), related=("division",), annotate={"method_count": Count("methods")},
            ordering=("division__code", "name"), children=ShippingMethodFormSet, children_title="Shipping methods",
        ),
        Kind(
            slug="customers", model=Customer, title="Customers", singular="customer", form=CustomerForm,
            columns=("Name", "Account", "Email", "City", "Division", "Ship-tos"),
            cells=lambda row: [row.name, row.account_number, row.email, row.city, row.division.code,
                               row.ship_to_count],
            search=("name", "account_number", "email", "city"), related=("division",),
            annotate={"ship_to_count": Count("ship_tos")}, ordering=("division__code", "name"),
            children=ShipToFormSet, children_title="Ship-to addresses",
        ),
    ]
}


# --- reads and writes -----------------------------------------------------------------------------


def masterdata_list(*, kind: Kind, query: str = "") -> QuerySet:
    """A kind's rows matching `query` (any search field contains it), in a stable order (id last)."""
    rows = kind.model.objects.select_related(*kind.related)
    if kind.annotate:
        rows = rows.annotate(**kind.annotate)
    query = (query or "").strip()
    if query:
        condition = Q()
        for name in kind.search:
            condition |= Q(**{f"{name}__icontains": query})
        rows = rows.filter(condition)
    return rows.order_by(*kind.ordering, "pk")


def _refusal(subject: str, counts: dict[str, int]) -> ValidationError:
    named = ", ".join(f"{count} {name}" for name, count in sorted(counts.items()))
    return ValidationError(f"{subject} cannot be deleted: {named} still refer to it.", code="protected")


def _protected_error_counts(error: ProtectedError | RestrictedError) -> dict[str, int]:
    counts: dict[str, int] = {}
    rows = error.protected_objects if isinstance(error, ProtectedError) else error.restricted_objects
    for row in rows:
        name = str(row._meta.verbose_name_plural)
        counts[name] = counts.get(name, 0) + 1
    return counts


def masterdata_references(row: Model) -> dict[str, int]:
    """How many rows refer to `row` through a protecting foreign key, by their kind (one count per
    relation, never the rows themselves: a division may hold many thousand items)."""
    counts: dict[str, int] = {}
    # Hidden relations too (related_name "+"): the ledger and the store configuration refer to rows so.
    for relation in row._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete and (relation.one_to_many or relation.one_to_one)):
            continue
        if relation.on_delete not in (PROTECT, RESTRICT):
            continue
        count = relation.related_model._base_manager.filter(**{relation.field.name: row}).count()
        if count:
            name = str(relation.related_model._meta.verbose_name_plural)
            counts[name] = counts.get(name, 0) + count
    return counts


def masterdata_save(*, form: forms.ModelForm, children: BaseInlineFormSet | None = None) -> Model:
    """Save a valid form and its child rows together. A child row marked for deletion that something
    still refers to (a ship-to on an order) raises ValidationError and nothing is saved."""
    try:
        with transaction.atomic():
            row = form.save()
            if children is not None:
                children.instance = row
                children.save()
    except (ProtectedError, RestrictedError) as error:
        raise _refusal("A row marked for deletion", _protected_error_counts(error)) from error
    return row


def masterdata_delete(*, kind: Kind, row: Model) -> None:
    """Delete a row nothing refers to; otherwise ValidationError saying what refers to it."""
    subject = f"The {kind.singular} {row}"
    references = masterdata_references(row)
    if references:
        raise _refusal(subject, references)
    try:
        with transaction.atomic():
            row.delete()
    except (ProtectedError, RestrictedError) as error:  # through a child row (a ship-to on an order)
        raise _refusal(subject, _protected_error_counts(error)) from error
