"""A store's inventory locations and where each one's stock comes from in IntelliTrack.

Refresh reads the store's locations (`GET /v3/inventory/locations`, every page) into
StoreInventoryLocation rows; the mapping gives each one an IntelliTrack site, or a single location of a
site. The store's `inventory_location_id` is the default location: it shows the Basic Configuration's
Default Site/Location in its quantity scope, exactly as a store with one location does, and it carries
what open orders hold first (the rule is spelled out in plugin/sync/locations.py). Every change is
recorded in the configuration history (django-simple-history, with the user)."""
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from .models import BasicConfiguration, StoreConnection, StoreInventoryLocation

REFRESH_REASON = "Locations read from the store"
MAPPING_REASON = "Location mapping saved"


@dataclass(frozen=True)
class MappedLocation:
    """One store location and the IntelliTrack stock it shows (`site_id`, `location_id`: IntelliTrack ids;
    for the default location, the Basic Configuration's defaults)."""

    store_location_id: int
    code: str
    label: str
    is_default: bool
    site_id: int | None
    location_id: int | None

    @property
    def name(self) -> str:
        return f"{self.code or self.label or self.store_location_id} (#{self.store_location_id})"


@dataclass(frozen=True)
class LocationMapping:
    default: MappedLocation
    others: tuple[MappedLocation, ...] = field(default_factory=tuple)

    @property
    def is_multi(self) -> bool:
        """More than the default location is mapped: the jobs send each location its own level."""
        return bool(self.others)

    @property
    def locations(self) -> tuple[MappedLocation, ...]:
        return (self.default, *self.others)


# ----- selectors ---------------------------------------------------------------------------------

def store_locations_list(*, store: StoreConnection) -> list[StoreInventoryLocation]:
    return list(StoreInventoryLocation.objects.filter(store=store).select_related("site", "location")
                .order_by("store_location_id"))


def location_mapping_get(*, store: StoreConnection, config=None) -> LocationMapping:
    """The store's mapped locations, the default first (one query). Locations without a site are left
    out: they are sent nothing. Without any mapping row this is today's single location. `config`: the
    store's Basic Configuration when the caller holds it already."""
    config = config if config is not None else getattr(store, "basic_configuration", None)
    default_id = int(store.inventory_location_id)
    rows = list(StoreInventoryLocation.objects.filter(store=store).order_by("store_location_id")
                .values("store_location_id", "code", "label", "site_id", "location_id"))
    default_row = next((row for row in rows if row["store_location_id"] == default_id), None)
    default = MappedLocation(
        store_location_id=default_id, code=(default_row or {}).get("code", ""),
        label=(default_row or {}).get("label", ""), is_default=True,
        site_id=getattr(config, "default_site_id", None), location_id=getattr(config, "default_location_id", None))
    others = tuple(
        MappedLocation(store_location_id=row["store_location_id"], code=row["code"], label=row["label"],
                       is_default=False, site_id=row["site_id"], location_id=row["location_id"])
        for row in rows if row["store_location_id"] != default_id and row["site_id"] is not None
    )
    return LocationMapping(default=default, others=others)


def mapping_conflicts(*, store: StoreConnection, division_id, site_id, quantity_scope: str,
                      default_location_id=None) -> list[tuple[str, str]]:
    """What the saved mapping of the store's other locations says against these Basic Configuration values,
    as (Basic Configuration field, sentence naming the mapped location): a site counted twice (the Default
    Site mapped to another location, or the whole Division as the scope), or a mapped site of another
    division. Empty when nothing else is mapped. One query."""
    default_id = int(default_location_id if default_location_id is not None else store.inventory_location_id)
    rows = list(StoreInventoryLocation.objects.filter(store=store, site__isnull=False)
                .exclude(store_location_id=default_id).select_related("site").order_by("store_location_id"))
    conflicts = []
    for row in rows:
        name = f"{row.code or row.label or row.store_location_id} (#{row.store_location_id})"
        if quantity_scope == BasicConfiguration.QuantityScope.DIVISION:
            conflicts.append(("quantity_scope", (
                f"Store location {name} shows site {row.site.code}: with the whole Division as the scope the "
                "default location would count that site's stock again. Keep Default Site or Default "
                "Location, or clear that location's site first.")))
        if site_id is not None and row.site_id == int(site_id):
            conflicts.append(("default_site", (
                f"Site {row.site.code} already shows the stock of store location {name}: choose another "
                "Default Site, or clear that location's site first.")))
        if division_id is not None and row.site.division_id != int(division_id):
            conflicts.append(("default_division", (
                f"Store location {name} shows site {row.site.code} of another division: clear that "
                "location's site first.")))
        if division_id is None:
            conflicts.append(("default_division", (
                f"Store location {name} shows site {row.site.code}: the default location needs the "
                "Default Division, Site, Location and UOM.")))
    return conflicts


# ----- services ----------------------------------------------------------------------------------

@dataclass
class LocationsRefreshed:
    added: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    kept: int = 0
    listed: int = 0
    default_missing: bool = False


def store_locations_read(*, store: StoreConnection, user) -> LocationsRefreshed:
    """Refresh: read every page of the store's locations, then `store_locations_refresh`. BigCommerce's
    typed errors propagate (nothing changes then)."""
    from plugin.bigcommerce.client import client_for_store

    # Interactive: fail fast rather than keep the person waiting through the full retry policy.
    client = client_for_store(store, max_retries=1, max_rate_limit_waits=1, timeout=(5, 15))
    return store_locations_refresh(store=store, user=user, locations=client.list_locations())


@transaction.atomic
def store_locations_refresh(*, store: StoreConnection, user, locations: list[dict]) -> LocationsRefreshed:
    """Make the store's location rows what the store lists (`locations`: the client's `list_locations()`),
    keeping each kept location's mapping. A location the store no longer lists is deleted (in the
    history); the default location is never deleted, even when missing (the outcome says so)."""
    now = timezone.now()
    listed = {}
    for entry in locations:
        try:
            location_id = int(entry.get("id"))
        except (TypeError, ValueError):
            continue
        if 1 <= location_id <= 2**31 - 1:
            listed[location_id] = entry
    existing = {row.store_location_id: row for row in StoreInventoryLocation.objects.select_for_update()
                .filter(store=store)}
    outcome = LocationsRefreshed(default_missing=int(store.inventory_location_id) not in listed,
                                 listed=len(listed))
    for location_id, entry in sorted(listed.items()):
        values = {"code": str(entry.get("code") or "")[:100], "label": str(entry.get("label") or "")[:255],
                  "enabled": bool(entry.get("enabled", True))}
        row = existing.get(location_id)
        if row is None:
            row = StoreInventoryLocation(store=store, store_location_id=location_id, refreshed_at=now, **values)
            outcome.added.append(location_id)
        else:
            outcome.kept += 1
            changed = any(getattr(row, name) != value for name, value in values.items())
            for name, value in values.items():
                setattr(row, name, value)
            row.refreshed_at = now
            if not changed:
                # Only the time of the read moved: not a configuration change.
                row.skip_history_when_saving = True
        row._history_user = user
        row._change_reason = REFRESH_REASON
        row.save()
    for location_id, row in existing.items():
        if location_id not in listed and location_id != int(store.inventory_location_id):
            row._history_user = user
            row._change_reason = REFRESH_REASON
            row.delete()
            outcome.removed.append(location_id)
    return outcome


@transaction.atomic
def location_mapping_update(*, store: StoreConnection, user, default_location_id: int,
                            rows: list[dict]) -> StoreConnection:
    """Save a validated mapping: `rows` of {"store_location_id", "site", "location"} for the store's known
    locations (the default's site and location are the Basic Configuration's and are not stored), and
    which location is the default (saved as the connection's `inventory_location_id`)."""
    existing = {row.store_location_id: row for row in StoreInventoryLocation.objects.select_for_update()
                .filter(store=store)}
    for values in rows:
        row = existing[values["store_location_id"]]
        is_default = values["store_location_id"] == default_location_id
        site = None if is_default else values.get("site")
        location = None if is_default or site is None else values.get("location")
        if row.site_id == (site.pk if site else None) and row.location_id == (location.pk if location else None):
            continue
        row.site, row.location = site, location
        row._history_user = user
        row._change_reason = MAPPING_REASON
        row.save(update_fields=["site", "location"])
    if int(store.inventory_location_id) != int(default_location_id):
        store = StoreConnection.objects.select_for_update().get(pk=store.pk)
        store.inventory_location_id = int(default_location_id)
        store._history_user = user
        store._change_reason = MAPPING_REASON
        store.save(update_fields=["inventory_location_id", "updated_at"])
    return store
