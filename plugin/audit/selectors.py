"""Configuration history of a store: who changed what, when, with each field's before and after.

Both history tables are read once each and compared pairwise in memory (a store's configuration
history is short), so a page costs a fixed number of queries however many entries it shows."""
import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from plugin.configuration.models import (
    ORDER_STATUS_CHOICES,
    BasicConfiguration,
    StoreConnection,
    StoreInventoryLocation,
)
from plugin.intellitrack.models import UOM, Division, Location, Site

# Bookkeeping fields (timestamps, test results) are left out of the diff.
BASIC_CONFIGURATION_FIELDS = BasicConfiguration.EDITABLE_FIELDS
STORE_CONNECTION_FIELDS = ["name", "store_hash", "api_base_url", "timezone", "inventory_location_id"]
MASTER_DATA_MODELS = {
    "default_division": Division,
    "default_site": Site,
    "default_location": Location,
    "default_uom": UOM,
}
ORDER_STATUS_NAMES = dict(ORDER_STATUS_CHOICES)
# Where a model's verbose name reads oddly in a change list.
LABELS = {
    "auto_sync_enabled": "Auto sync",
    "eod_enabled": "End of Day processing",
    "default_uom": "Default UOM",
    "api_base_url": "API base URL",
}
EMPTY = "—"


@dataclass
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class HistoryEntry:
    when: dt.datetime
    who: str
    section: str
    action: str
    reason: str
    changes: list[FieldChange] = field(default_factory=list)


def _records(history_model, **filters) -> list:
    return list(history_model.objects.filter(**filters).select_related("history_user").order_by("history_date", "history_id"))


def _master_data_codes(records: list) -> dict[str, dict[int, str]]:
    codes = {}
    for name, model in MASTER_DATA_MODELS.items():
        attname = f"{name}_id"
        ids = {getattr(record, attname) for record in records if getattr(record, attname)}
        codes[name] = {pk: obj.code for pk, obj in model.objects.in_bulk(ids).items()}
    return codes


def _display(model, name: str, value, codes: dict) -> str:
    if value is None or value == "":
        return EMPTY
    if name in MASTER_DATA_MODELS:
        return codes[name].get(value, f"#{value} (deleted)")
    if name == "order_statuses_to_import":
        return ", ".join(ORDER_STATUS_NAMES.get(status, str(status)) for status in value) or EMPTY
    model_field = model._meta.get_field(name)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return str(value)


def _entries(model, records: list, fields: list[str], section: str, codes: dict) -> list[HistoryEntry]:
    entries = []
    previous = None
    for record in records:
        changes = []
        for name in fields:
            attname = model._meta.get_field(name).attname
            after = getattr(record, attname)
            before = getattr(previous, attname) if previous is not None else None
            if previous is None and after in (None, "", []):
                continue
            if previous is None or before != after:
                changes.append(
                    FieldChange(
                        label=LABELS.get(name) or str(model._meta.get_field(name).verbose_name).capitalize(),
                        before=_display(model, name, before, codes) if previous is not None else EMPTY,
                        after=_display(model, name, after, codes),
                    )
                )
        entries.append(
            HistoryEntry(
                when=record.history_date,
                who=record.history_user.get_username() if record.history_user else "system",
                section=section,
                action={"+": "created", "~": "changed", "-": "deleted"}.get(record.history_type, "changed"),
                reason=record.history_change_reason or "",
                changes=changes,
            )
        )
        previous = record
    return entries


def configuration_history(*, store: StoreConnection) -> list[HistoryEntry]:
    """Every recorded change of the store's connection and Basic Configuration, newest first."""
    basic_records = _records(BasicConfiguration.history.model, store_id=store.pk)
    connection_records = _records(StoreConnection.history.model, id=store.pk)
    codes = _master_data_codes(basic_records)
    entries = _entries(BasicConfiguration, basic_records, BASIC_CONFIGURATION_FIELDS, "Basic Configuration", codes)
    entries += _entries(
        StoreConnection, connection_records, STORE_CONNECTION_FIELDS, "Shopping Cart Configuration", codes
    )
    entries += _store_location_entries(store)
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries


STORE_LOCATION_FIELDS = [("code", "Code"), ("label", "Label"), ("site_id", "IntelliTrack site"),
                         ("location_id", "IntelliTrack location")]


def _store_location_entries(store: StoreConnection) -> list[HistoryEntry]:
    """The store's inventory locations (Refresh) and their mapping, one entry per recorded change; each
    location is compared with its own previous record. Three queries."""
    records = _records(StoreInventoryLocation.history.model, store_id=store.pk)
    names = {
        "site_id": {pk: obj.code for pk, obj in Site.objects.in_bulk({r.site_id for r in records if r.site_id}).items()},
        "location_id": {pk: obj.code for pk, obj in
                        Location.objects.in_bulk({r.location_id for r in records if r.location_id}).items()},
    }

    def shown(attname, value):
        if value in (None, ""):
            return EMPTY
        return names[attname].get(value, f"#{value} (deleted)") if attname in names else str(value)

    entries, previous = [], {}
    for record in records:
        before = previous.get(record.id)
        changes = []
        for attname, label in STORE_LOCATION_FIELDS:
            after_value = getattr(record, attname)
            before_value = getattr(before, attname) if before is not None else None
            if record.history_type == "-" or (before is None and after_value in (None, "")):
                continue
            if before is None or before_value != after_value:
                changes.append(FieldChange(label=label, before=shown(attname, before_value) if before else EMPTY,
                                           after=shown(attname, after_value)))
        entries.append(HistoryEntry(
            when=record.history_date,
            who=record.history_user.get_username() if record.history_user else "system",
            section=f"Store location {record.store_location_id}",
            action={"+": "created", "~": "changed", "-": "deleted"}.get(record.history_type, "changed"),
            reason=record.history_change_reason or "",
            changes=changes,
        ))
        previous[record.id] = record
    return entries
