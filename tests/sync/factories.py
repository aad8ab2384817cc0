"""Factories for the sync app: a store with its saved defaults, links and runs."""
import factory

from plugin.configuration.models import BasicConfiguration, StoreConnection
from plugin.sync.models import StoreItemLink, SyncRun
from tests.intellitrack.factories import (
    DivisionFactory,
    ItemFactory,
    LocationFactory,
    SiteFactory,
    UOMFactory,
)


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoreConnection
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"store-{n}")
    store_hash = factory.Sequence(lambda n: f"hash{n}")
    access_token = "token-for-tests"
    api_base_url = "https://api.bigcommerce.com"
    timezone = "UTC"
    connection_ok = True


def configured_store(*, name="shop", base_url="https://api.bigcommerce.com", store_hash="abc123", token="tok", **config):
    """A store whose Basic Configuration names a division D1, site S1, location L1 (plus L2 in the same
    site and L9 in another site) and unit EA."""
    division = DivisionFactory(code="D1")
    site = SiteFactory(division=division, code="S1")
    location = LocationFactory(site=site, code="L1")
    LocationFactory(site=site, code="L2")
    LocationFactory(site=SiteFactory(division=division, code="S9"), code="L9")
    uom = UOMFactory(division=division, code="EA")
    store = StoreFactory(name=name, api_base_url=base_url, store_hash=store_hash, access_token=token)
    defaults = dict(
        default_division=division,
        default_site=site,
        default_location=location,
        default_uom=uom,
        allow_writes_to_bigcommerce=True,
    )
    defaults.update(config)
    BasicConfiguration.objects.update_or_create(store=store, defaults=defaults)
    store.refresh_from_db()
    return store


class RunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    store = factory.SubFactory(StoreFactory)
    job = SyncRun.Job.IMPORT_PRODUCTS


class LinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoreItemLink

    store = factory.SubFactory(StoreFactory)
    product_id = factory.Sequence(lambda n: 1000 + n)
    variant_id = None
    tracking = StoreItemLink.Tracking.PRODUCT
    item = factory.SubFactory(ItemFactory)
    sku = factory.LazyAttribute(lambda o: o.item.item_number)
