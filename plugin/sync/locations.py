"""Stores with several mapped inventory locations: what each location is sent.

The mapping (plugin.configuration.locations) gives every store location an IntelliTrack scope: the
default location keeps the Basic Configuration's (Default Site, or Default Location, as the quantity
scope says: exactly today's single location), every other mapped location its own site, or a single
location of a site. A store with only the default location mapped never comes here: the jobs keep their
single-location path unchanged.

    level(location) = on_hand(location's scope) - held(location)

**Holds count against the default location first.** An order placed in the store takes its units off a
location the order does not name: BigCommerce's v2 orders carry no location for a line unless the order
has a fulfillment (pickup) location, and the store takes stock from its default location otherwise. So
`held(default) = held` of decision 18 (what every store order holds and IntelliTrack has not picked, or
picked but not shipped under "completed or shipped"), as far as the default's on-hand covers it; the part
it cannot cover is held at the other mapped locations in mapping order (store location id), each up to
its own on-hand, so the units orders hold are never offered again elsewhere (an oversell). Where holds are
carried this way, the adjustment export still sends each ledger row's change to its own location: the
next End of Day sets the split again. Picks of store orders lower
on-hand where they are picked: a pick at a non-default location's site lowers that location's level and
raises the default's by the same units (its holds shrink); a pick at the default's site changes nothing
(on-hand and holds drop together), as with one location. The stock of a store order is therefore taken
from the default location first; keep the store's default location (location 1, where the store takes
the stock of orders without a fulfillment location) as the default of the mapping.

The adjustment export attributes each ledger row to the mapped location whose scope holds the row's
site (or location) and sends the change to that location only; a row outside every mapped scope sends
nothing. Absolute levels of several locations share a request: items are (unit, location) pairs, at
most 2000 a request."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q

from plugin.configuration.locations import (
    LocationMapping,
    MappedLocation,
    location_mapping_get,
    mapping_conflicts,
)
from plugin.configuration.models import StoreInventoryLocation
from plugin.intellitrack.models import Location

from . import holds
from .models import StoreItemLocationLevel

DEFAULT_LOCATION = "default_location"
DEFAULT_SITE = "default_site"


@dataclass(frozen=True)
class LocationScope:
    """One mapped store location and where its stock is in IntelliTrack."""

    mapped: MappedLocation
    on_hand_kwargs: dict  # for gateway.on_hand_by_item
    landing_location_id: int | None  # where the inventory import puts the store's level

    @property
    def store_location_id(self) -> int:
        return self.mapped.store_location_id

    @property
    def is_default(self) -> bool:
        return self.mapped.is_default


def mapping_for(ctx) -> LocationMapping:
    """The job's store's location mapping (one query); `.is_multi` says whether this module applies."""
    return location_mapping_get(store=ctx.store, config=ctx.config)


def mapping_problem(ctx, mapping: LocationMapping) -> str:
    """Why the saved mapping cannot be sent as it is (a site counted at two locations, a site of another
    division, ...), as a sentence for the run's error; empty when it can. One query. The forms refuse
    all of these; a change made around them must fail the run rather than send wrong levels."""
    conflicts = mapping_conflicts(store=ctx.store, division_id=ctx.config.default_division_id,
                                  site_id=ctx.config.default_site_id, quantity_scope=ctx.config.quantity_scope,
                                  default_location_id=mapping.default.store_location_id)
    if not conflicts:
        seen: dict[int, MappedLocation] = {}
        for mapped in mapping.others:
            if mapped.site_id in seen:
                conflicts.append(("", f"Store locations {seen[mapped.site_id].name} and {mapped.name} show the "
                                      "same site."))
            seen.setdefault(mapped.site_id, mapped)
    if not conflicts:
        return ""
    return (f"Nothing was sent: the store's location mapping does not fit the Basic Configuration. "
            f"{conflicts[0][1]}")


def location_scopes(config, mapping: LocationMapping) -> list[LocationScope]:
    """The default location first (the Basic Configuration's scope), then the others. A location mapped
    to a whole site takes the inventory import's stock at the site's first location by code (one query
    for every such site)."""
    whole_sites = {m.site_id for m in mapping.others if m.location_id is None}
    first_location = {}
    for location_id, site_id in (Location.objects.filter(site_id__in=whole_sites).order_by("site_id", "code", "id")
                                 .values_list("id", "site_id")):
        first_location.setdefault(site_id, location_id)
    scopes = [LocationScope(
        mapped=mapping.default,
        on_hand_kwargs={"division": config.default_division_id, "scope": config.quantity_scope,
                        "site_id": config.default_site_id, "location_id": config.default_location_id},
        landing_location_id=config.default_location_id,
    )]
    for mapped in mapping.others:
        scopes.append(LocationScope(
            mapped=mapped,
            on_hand_kwargs={"division": config.default_division_id,
                            "scope": DEFAULT_LOCATION if mapped.location_id else DEFAULT_SITE,
                            "site_id": mapped.site_id, "location_id": mapped.location_id},
            landing_location_id=mapped.location_id or first_location.get(mapped.site_id),
        ))
    return scopes


@dataclass(frozen=True)
class LocationLevel:
    level: int
    capped: bool  # to BigCommerce's maximum
    held: int  # the units of the holds taken off this location


def levels_at(scopes: list[LocationScope], *, on_hand: dict[int, int], held: int) -> dict[int, LocationLevel]:
    """{store location id: its level} for one unit (`on_hand` by store location id): the holds come off
    the default location (all of them when they are negative: picked units the store has not taken off),
    and what its on-hand cannot cover off the other locations in mapping order, each up to its on-hand."""
    levels = {}
    remaining = held
    for scope in scopes:
        here = int(on_hand.get(scope.store_location_id, 0))
        if scope.is_default and remaining <= 0:
            taken = remaining
        else:
            taken = max(0, min(remaining, here))
        remaining -= taken
        level, capped = holds.level_for_store(on_hand=here, held=taken)
        levels[scope.store_location_id] = LocationLevel(level=level, capped=capped, held=taken)
    return levels


class RowLocator:
    """Which mapped store location a ledger row's site and location belong to (None: outside every one).
    A location mapped on its own comes before a whole site; the default's scope follows the quantity
    scope (a site used by two locations is refused by the mapping form)."""

    def __init__(self, config, scopes: list[LocationScope]):
        self.by_location: dict[int, int] = {}
        self.by_site: dict[int, int] = {}
        default = scopes[0]
        if config.quantity_scope == DEFAULT_LOCATION:
            self.by_location[config.default_location_id] = default.store_location_id
        else:
            self.by_site[config.default_site_id] = default.store_location_id
        for scope in scopes[1:]:
            if scope.mapped.location_id:
                self.by_location[scope.mapped.location_id] = scope.store_location_id
            else:
                self.by_site[scope.mapped.site_id] = scope.store_location_id

    def location_of(self, row) -> int | None:
        if row.location_id is not None and row.location_id in self.by_location:
            return self.by_location[row.location_id]
        if row.site_id is not None:
            return self.by_site.get(row.site_id)
        return None


def location_ledger_marks(*, link_ids) -> dict[tuple[int, int], int]:
    """{(link id, store location id): the last ledger row in the absolute level End of Day sent there},
    for the other locations (one query)."""
    if not link_ids:
        return {}
    return {(link_id, location_id): ledger_id for link_id, location_id, ledger_id in
            StoreItemLocationLevel.objects.filter(link_id__in=link_ids, absolute_ledger_id__isnull=False)
            .values_list("link_id", "store_location_id", "absolute_ledger_id")}


def mapped_elsewhere(*, stores, site_id: int, location_id: int) -> set[int]:
    """Ids of the stores among `stores` where a mapped location other than the default shows this site (as
    a whole) or this location. One query."""
    return set(StoreInventoryLocation.objects.filter(store__in=stores, site_id=site_id)
               .exclude(store_location_id=F("store__inventory_location_id"))
               .filter(Q(location__isnull=True) | Q(location_id=location_id))
               .values_list("store_id", flat=True))
