import factory

from plugin.configuration.models import BasicConfiguration, StoreConnection
from plugin.intellitrack.models import UOM, Division, Location, Site

TOKEN = "tok3nPlainTextValue9876543210abcdef"


class DivisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Division

    code = factory.Sequence(lambda n: f"DIV{n}")
    name = factory.Sequence(lambda n: f"Division {n}")


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    division = factory.SubFactory(DivisionFactory)
    code = factory.Sequence(lambda n: f"SITE{n}")
    name = factory.Sequence(lambda n: f"Site {n}")


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    site = factory.SubFactory(SiteFactory)
    code = factory.Sequence(lambda n: f"LOC{n}")
    name = ""


class UOMFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UOM

    division = factory.SubFactory(DivisionFactory)
    code = factory.Sequence(lambda n: f"EA{n}")
    name = "Each"
    each_count = 1


class StoreConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoreConnection

    name = factory.Sequence(lambda n: f"store-{n}")
    store_hash = factory.Sequence(lambda n: f"abc{n}")
    access_token = TOKEN
    api_base_url = "https://api.bigcommerce.test"
    timezone = "America/New_York"


class BasicConfigurationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BasicConfiguration

    store = factory.SubFactory(StoreConnectionFactory)
