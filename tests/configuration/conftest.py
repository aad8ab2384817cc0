from dataclasses import dataclass

import pytest

from .factories import (
    BasicConfigurationFactory,
    DivisionFactory,
    LocationFactory,
    SiteFactory,
    StoreConnectionFactory,
    UOMFactory,
)


@dataclass
class MasterData:
    division: object
    site: object
    location: object
    uom: object
    other_division: object
    other_site: object  # in other_division
    other_location: object  # in other_site
    sibling_site: object  # second site of division
    sibling_location: object  # in sibling_site
    other_uom: object  # of other_division


@pytest.fixture
def master(db):
    division = DivisionFactory(code="MAIN", name="Main division")
    site = SiteFactory(division=division, code="WH1", name="Warehouse 1")
    sibling_site = SiteFactory(division=division, code="WH2", name="Warehouse 2")
    other_division = DivisionFactory(code="OTHER", name="Other division")
    other_site = SiteFactory(division=other_division, code="OWH", name="Other warehouse")
    return MasterData(
        division=division,
        site=site,
        location=LocationFactory(site=site, code="A-01"),
        uom=UOMFactory(division=division, code="EA"),
        other_division=other_division,
        other_site=other_site,
        other_location=LocationFactory(site=other_site, code="Z-99"),
        sibling_site=sibling_site,
        sibling_location=LocationFactory(site=sibling_site, code="B-01"),
        other_uom=UOMFactory(division=other_division, code="CS"),
    )


@pytest.fixture
def store(db):
    return BasicConfigurationFactory(store=StoreConnectionFactory(name="main-store")).store


def basic_data(master, **overrides):
    """POST data for a complete, valid Basic Configuration."""
    data = {
        "default_division": master.division.pk,
        "default_site": master.site.pk,
        "default_location": master.location.pk,
        "default_uom": master.uom.pk,
        "create_item_using": "sku",
        "quantity_scope": "default_site",
        "auto_sync_enabled": "on",
        "last_auto_sync_completed_on": "",
        "sync_interval_minutes": "15",
        "eod_enabled": "on",
        "eod_time": "18:30",
        "eod_timezone": "",
        "stock_decreased_when_order_placed": "on",
        "order_statuses_to_import": ["11"],
        "fulfillment_mode": "per_pick",
        "sync_enabled": "on",
        "allow_writes_to_bigcommerce": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None and value != ""}
