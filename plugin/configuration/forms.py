"""One form per configuration tab. Forms check input only; saving is done by the services."""
import datetime as dt

from django import forms
from django.conf import settings
from django.utils import timezone

from plugin.intellitrack.models import Division, Location, Site

from .locations import mapping_conflicts
from .models import ORDER_STATUS_CHOICES, BasicConfiguration, StoreConnection
from .selectors import default_uom_choices, store_has_item_links, store_timezone_choice_label
from .timezones import TimezoneChoiceField, store_own_timezone, timezone_choices
from .urlpolicy import api_base_url_problem, api_base_url_same

LARGEST_ID = 2**63 - 1  # of a 64-bit primary key

TOKEN_KEEP_HELP = "Leave blank to keep the saved token."
TOKEN_AGAIN_MESSAGE = (
    "Enter the access token again: a new API base URL or store hash would send the saved token to another place."
)
EARLIEST_SYNC_MOMENT = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class StoreConnectionForm(forms.ModelForm):
    """Shopping Cart Configuration. The access token is write-only: it is never rendered back."""

    access_token = forms.CharField(
        label="Access Token",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    api_base_url = forms.URLField(
        label="API Base URL",
        assume_scheme="https",
        max_length=200,
        initial=StoreConnection._meta.get_field("api_base_url").default,
        help_text=StoreConnection._meta.get_field("api_base_url").help_text,
    )
    # Blank: the store's timezone (the services keep it in step with the store); a name: kept as chosen.
    timezone = TimezoneChoiceField(
        label="Timezone",
        required=False,
        help_text="End of Day runs at its time in this timezone unless Basic Configuration names another. "
        "The store's timezone is read by Test connection and followed until you choose one.",
    )

    class Meta:
        model = StoreConnection
        fields = ["name", "store_hash", "api_base_url", "timezone", "inventory_location_id"]
        labels = {
            "name": "Name",
            "store_hash": "Store Hash",
            "inventory_location_id": "BigCommerce Inventory Location ID",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = timezone_choices(
            blank_label=store_timezone_choice_label(self.instance),
            store_timezone=store_own_timezone(self.instance),
            current=self.instance.chosen_timezone,
        )
        if "timezone" not in (kwargs.get("initial") or {}):
            self.initial["timezone"] = self.instance.chosen_timezone
        self.fields["access_token"].help_text = (
            TOKEN_KEEP_HELP + " Type a new one to replace it."
            if self.has_saved_token
            else "The store API account's access token (X-Auth-Token)."
        )

    @property
    def has_saved_token(self) -> bool:
        return bool(self.instance.pk and self.instance.has_token)

    def clean_api_base_url(self):
        url = self.cleaned_data["api_base_url"]
        problem = api_base_url_problem(url)
        if problem:
            raise forms.ValidationError(problem)
        return url

    def clean(self):
        cleaned = super().clean()
        # The saved token goes only where it was entered for: a new target needs it typed again.
        if self.instance.pk and not cleaned.get("access_token") and "access_token" not in self.errors:
            new_url = cleaned.get("api_base_url")
            new_hash = cleaned.get("store_hash")
            if (new_url is not None and not api_base_url_same(new_url, self.instance.api_base_url)) or (
                new_hash is not None and new_hash != self.instance.store_hash
            ):
                self.add_error("access_token", TOKEN_AGAIN_MESSAGE)
        return cleaned

    def clean_store_hash(self):
        store_hash = self.cleaned_data["store_hash"]
        saved_hash = self.instance.store_hash
        if self.instance.pk and store_hash != saved_hash and store_has_item_links(store=self.instance):
            raise forms.ValidationError(
                "This store's products are linked to IntelliTrack items, and those product and variant ids "
                f"belong to store {saved_hash}. Keep the store hash, or add the other store as a new store."
            )
        return store_hash

    def clean_access_token(self):
        token = self.cleaned_data.get("access_token", "")
        if not token and not self.has_saved_token:
            raise forms.ValidationError("Enter the access token: this store has none saved yet.")
        if token and any(ch.isspace() for ch in token):
            raise forms.ValidationError("An access token holds no spaces.")
        # It travels in an HTTP header: other characters could not be sent (or stored, for the
        # undecodable bytes a terminal passes on).
        if token and not (token.isascii() and token.isprintable()):
            raise forms.ValidationError("An access token holds letters, digits and ASCII punctuation only.")
        return token


class BasicConfigurationForm(forms.ModelForm):
    """Basic Configuration. The Site, Location and UOM lists follow the chosen Division and Site, both
    when rendering (initial or bound data) and when validating, so a tampered id is a field error."""

    eod_timezone = TimezoneChoiceField(label="End of Day Timezone", required=False)
    order_statuses_to_import = forms.TypedMultipleChoiceField(
        label="Order Statuses to Import",
        choices=ORDER_STATUS_CHOICES,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "%(value)s is not a BigCommerce order status."},
    )
    notification_recipients = forms.CharField(
        label="Notification recipients",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text=BasicConfiguration._meta.get_field("notification_recipients").help_text,
    )

    class Meta:
        model = BasicConfiguration
        fields = BasicConfiguration.EDITABLE_FIELDS
        widgets = {
            "create_item_using": forms.RadioSelect,
            "last_auto_sync_completed_on": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "eod_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "sync_time_from": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "sync_time_to": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        help_texts = {
            "auto_sync_enabled": "Ticked: auto sync is on, every Sync Interval.",
            "eod_enabled": "Ticked: once a day at this time, every linked item's stock level is sent to "
                           "BigCommerce. Needs Last Auto Sync Completed On ticked.",
            "sync_time_from": "Optional: auto sync cycles run only between these local times (End of Day "
                              "timezone). A range ending before it starts runs over midnight.",
            "quantity_scope": "Which IntelliTrack stock counts toward the level sent to BigCommerce.",
        }
        # The vendor's wording and casing (IntelliTrack for BigCommerce's Basic Configuration tab).
        labels = {
            "default_division": "Default Division",
            "default_uom": "Default UOM",
            "default_site": "Default Site",
            "default_location": "Default Location",
            "create_item_using": "Create Item Using",
            "quantity_scope": "Quantity Scope",
            "auto_sync_enabled": "Last Auto Sync Completed On",
            "last_auto_sync_completed_on": "Completed on (date and time)",
            "sync_interval_minutes": "Sync Interval (minutes)",
            "sync_time_from": "Sync Time Range: from",
            "sync_time_to": "Sync Time Range: to",
            "eod_enabled": "End of Day Processing Time",
            "eod_time": "Processing time",
            "stock_decreased_when_order_placed": "Stock Decreased When Order Placed",
            "fulfillment_mode": "Fulfillment Mode",
            "sync_enabled": "Sync Enabled",
            "allow_writes_to_bigcommerce": "Allow Writes to BigCommerce",
        }
        error_messages = {
            "default_uom": {"invalid_choice": "Choose a UOM of the chosen division whose each-count is 1."},
            "default_site": {"invalid_choice": "Choose a site of the chosen division."},
            "default_location": {"invalid_choice": "Choose a location of the chosen site."},
            "default_division": {"invalid_choice": "That division does not exist (any more)."},
        }

    DEFAULT_FIELDS = ["default_division", "default_site", "default_location", "default_uom"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["last_auto_sync_completed_on"].widget.format = "%Y-%m-%dT%H:%M"
        self.fields["last_auto_sync_completed_on"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S",
                                                                     "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        self.fields["last_auto_sync_completed_on"].help_text = (
            f"Only data changed after this moment is synced; set it back to re-sync a window ({settings.TIME_ZONE})."
        )
        store = self.instance.store if self.instance.store_id else None
        self.fields["eod_timezone"].choices = timezone_choices(
            blank_label="the store's timezone" if store is None
            else f"the connection's timezone ({store.timezone})" if store.timezone_chosen
            else f"the store's timezone ({store.timezone})",
            store_timezone=store_own_timezone(store) if store else "",
            current=self.instance.eod_timezone,
        )
        self.fields["eod_timezone"].help_text = (
            "Blank: the store's timezone."
            if store is None
            else f"Blank: the connection's timezone ({store.timezone}, chosen on Shopping Cart Configuration)."
            if store.timezone_chosen
            else f"Blank: the store's timezone ({store.timezone})."
        )
        self.fields["default_division"].queryset = Division.objects.all()
        division_id = self._chosen_id("default_division")
        site_id = self._chosen_id("default_site")
        self.fields["default_site"].queryset = Site.objects.filter(division_id=division_id)
        self.fields["default_uom"].queryset = default_uom_choices(division_id)
        self.fields["default_location"].queryset = Location.objects.filter(
            site_id=site_id, site__division_id=division_id
        )

    def _chosen_id(self, name: str) -> int | None:
        """The id the user picked (bound data) or the saved one; None when missing, not a number, or
        beyond any 64-bit id (SQLite refuses such a number outright instead of matching nothing)."""
        if self.is_bound:
            raw = self.data.get(self.add_prefix(name))
        else:
            raw = self.initial.get(name)
        try:
            value = int(raw) if raw not in (None, "") else None
        except (TypeError, ValueError):
            return None
        return value if value is not None and 0 < value <= LARGEST_ID else None

    def clean_last_auto_sync_completed_on(self):
        moment = self.cleaned_data.get("last_auto_sync_completed_on")
        # Bounded so the value also fits a datetime once converted to UTC (year 1 to 9999 only).
        if moment is not None and moment < EARLIEST_SYNC_MOMENT:
            raise forms.ValidationError("Choose a moment after 2000-01-01.")
        if moment is not None and moment > timezone.now():
            raise forms.ValidationError("Choose a moment in the past: syncing picks up changes made after it.")
        return moment

    def clean_eod_time(self):
        eod_time = self.cleaned_data.get("eod_time")
        # The crontab fires on the minute: seconds would make the saved time and the run disagree.
        return eod_time.replace(second=0, microsecond=0) if eod_time else eod_time

    def clean_order_statuses_to_import(self):
        statuses = sorted(set(self.cleaned_data["order_statuses_to_import"]))
        if not statuses:
            raise forms.ValidationError("Choose at least one order status.")
        return statuses

    MAX_NOTIFICATION_RECIPIENTS = 20

    def clean_notification_recipients(self):
        """Addresses separated by commas, semicolons or line breaks: one error per address that is not one;
        saved without duplicates as "a@example.com, b@example.com"."""
        raw = self.cleaned_data.get("notification_recipients") or ""
        addresses = [part for part in raw.replace(",", " ").replace(";", " ").split() if part]
        check = forms.EmailField(max_length=254)
        problems, unique = [], {}
        for address in addresses:
            try:
                check.clean(address)
            except forms.ValidationError:
                shown = address if len(address) <= 80 else address[:77] + "..."
                problems.append(forms.ValidationError(f"\u201c{shown}\u201d is not an email address.",
                                                      code="invalid"))
            else:
                unique.setdefault(address.lower(), address)
        if problems:
            raise forms.ValidationError(problems)
        if len(unique) > self.MAX_NOTIFICATION_RECIPIENTS:
            raise forms.ValidationError(f"Give at most {self.MAX_NOTIFICATION_RECIPIENTS} addresses "
                                        f"({len(unique)} given).")
        return ", ".join(unique.values())

    def clean(self):
        cleaned = super().clean()
        # The four defaults go together: where imported data lands is all of them or none. A field
        # with its own error was filled in (with something invalid), so it counts as given.
        given = [name for name in self.DEFAULT_FIELDS if cleaned.get(name) or name in self.errors]
        for name in self.DEFAULT_FIELDS:
            if given and name not in given:
                self.add_error(name, "Division, Site, Location and UOM are needed together.")
        if cleaned.get("auto_sync_enabled") and not given:
            self.add_error("auto_sync_enabled", "Choose Division, Site, Location and UOM before turning auto sync on.")
        range_ends = [cleaned.get("sync_time_from"), cleaned.get("sync_time_to")]
        if (range_ends[0] is None) != (range_ends[1] is None):
            missing = "sync_time_to" if range_ends[1] is None else "sync_time_from"
            if missing not in self.errors:
                self.add_error(missing, "Give both ends of the Sync Time Range, or neither.")
        elif range_ends[0] is not None and range_ends[0] == range_ends[1]:
            self.add_error("sync_time_to", "The Sync Time Range must not start and end at the same time.")
        if cleaned.get("eod_enabled"):
            if not cleaned.get("auto_sync_enabled"):
                self.add_error("eod_enabled", "End of Day needs auto sync on: tick Last Auto Sync Completed On.")
            if not cleaned.get("eod_time") and "eod_time" not in self.errors:
                self.add_error("eod_time", "Enter the End of Day time.")
        self._check_location_mapping(cleaned)
        return cleaned

    def _check_location_mapping(self, cleaned) -> None:
        """The store's other mapped locations must still fit the new defaults (the mapping's own form checks
        them against the saved ones): otherwise End of Day would count a site twice."""
        if not self.instance.store_id or any(name in self.errors for name in self.DEFAULT_FIELDS):
            return
        division, site = cleaned.get("default_division"), cleaned.get("default_site")
        for field, message in mapping_conflicts(store=self.instance.store, division_id=getattr(division, "pk", None),
                                                site_id=getattr(site, "pk", None),
                                                quantity_scope=cleaned.get("quantity_scope")):
            self.add_error(field, message)


# ----- the store's inventory locations (Basic Configuration tab) ---------------------------------------

class LocationMappingForm(forms.Form):
    """One of the store's locations: the IntelliTrack site (or single location of it) it shows."""

    store_location_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), required=False, label="IntelliTrack site",
        error_messages={"invalid_choice": "Choose a site of the store's division (the Default Division)."},
    )
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(), required=False, label="IntelliTrack location",
        error_messages={"invalid_choice": "Choose a location of the chosen site."},
    )

    def __init__(self, *args, division_id=None, known=None, default_location_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.known = known or {}
        self.default_location_id = default_location_id
        self.fields["site"].queryset = Site.objects.filter(division_id=division_id)
        self.fields["location"].queryset = Location.objects.filter(site__division_id=division_id)
        site_id = self._chosen_site_id()
        self.location_choices = list(Location.objects.filter(site_id=site_id, site__division_id=division_id)) \
            if site_id else []

    def _chosen_site_id(self):
        raw = self.data.get(self.add_prefix("site")) if self.is_bound else self.initial.get("site")
        raw = getattr(raw, "pk", raw)
        try:
            value = int(raw) if raw not in (None, "") else None
        except (TypeError, ValueError):
            return None
        return value if value is not None and 0 < value <= LARGEST_ID else None

    @property
    def store_location(self):
        """The saved row this form shows (None for a tampered id)."""
        raw = self.data.get(self.add_prefix("store_location_id")) if self.is_bound \
            else self.initial.get("store_location_id")
        try:
            return self.known.get(int(raw))
        except (TypeError, ValueError):
            return None

    def clean_store_location_id(self):
        location_id = self.cleaned_data["store_location_id"]
        if location_id not in self.known:
            raise forms.ValidationError(
                f"The store has no location {location_id} (as last read): press Refresh locations.")
        return location_id

    def clean(self):
        cleaned = super().clean()
        site, location = cleaned.get("site"), cleaned.get("location")
        if location is not None and site is None and "site" not in self.errors:
            self.add_error("site", "Choose the site of this location.")
        elif location is not None and site is not None and location.site_id != site.pk:
            self.add_error("location", "Choose a location of the chosen site.")
        return cleaned


class BaseLocationMappingFormSet(forms.BaseFormSet):
    """Every known location of the store, one row each; a site is used by one location at most (the
    default location's is the Basic Configuration's Default Site)."""

    def __init__(self, *args, configuration=None, known=None, default_location_id=None, **kwargs):
        self.configuration = configuration
        self.known = known or {}
        self.default_location_id = default_location_id
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {"division_id": self.configuration.default_division_id if self.configuration else None,
                "known": self.known, "default_location_id": self.default_location_id}

    def clean(self):
        if any(self.errors):
            return
        config = self.configuration
        default_id = self.default_location_id
        default_site_id = config.default_site_id if config else None
        seen_ids = set()
        used_sites = {default_site_id: default_id} if default_site_id else {}
        mapped_others = 0
        for form in self.forms:
            location_id = form.cleaned_data.get("store_location_id")
            if location_id in seen_ids:
                form.add_error("store_location_id", f"Location {location_id} is listed twice.")
                continue
            seen_ids.add(location_id)
            site = form.cleaned_data.get("site")
            if location_id == default_id or site is None:
                continue
            mapped_others += 1
            if site.pk in used_sites:
                owner = used_sites[site.pk]
                form.add_error("site", (
                    f"Site {site} already shows the stock of the default location {owner} (the Default Site)."
                    if owner == default_id else f"Site {site} is already mapped to location {owner}."))
            else:
                used_sites[site.pk] = location_id
        if mapped_others and not (config and config.defaults_complete):
            raise forms.ValidationError(
                "Save the Basic Configuration's Division, Site, Location and UOM first: they are what the "
                "default location shows.")
        if mapped_others and config and config.quantity_scope == BasicConfiguration.QuantityScope.DIVISION:
            raise forms.ValidationError(
                "The quantity scope is the whole Division: the default location would show every site's stock "
                "again. Choose Default Site or Default Location as the scope to map more locations.")


LocationMappingFormSet = forms.formset_factory(LocationMappingForm, formset=BaseLocationMappingFormSet, extra=0,
                                               can_delete=False)


class DefaultLocationForm(forms.Form):
    """Which of the store's locations is the default (today's single location)."""

    default_location_id = forms.TypedChoiceField(
        coerce=int, label="Default location", widget=forms.RadioSelect,
        error_messages={"invalid_choice": "The store has no location %(value)s (as last read): press Refresh."},
    )

    def __init__(self, *args, known=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_location_id"].choices = [(location_id, str(location_id)) for location_id in (known or {})]
