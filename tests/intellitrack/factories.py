"""factory_boy factories for the embedded IntelliTrack. One division "D1" with site S1 holding
locations; items get the division's EA unit as default UOM."""

import datetime

import factory

from plugin.intellitrack import models


class DivisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Division
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"D{n + 1}")
    name = factory.LazyAttribute(lambda o: f"Division {o.code}")


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Site
        django_get_or_create = ["division", "code"]

    division = factory.SubFactory(DivisionFactory)
    code = factory.Sequence(lambda n: f"S{n + 1}")
    name = factory.LazyAttribute(lambda o: f"Site {o.code}")


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Location
        django_get_or_create = ["site", "code"]

    site = factory.SubFactory(SiteFactory)
    code = factory.Sequence(lambda n: f"L{n + 1}")


class UOMFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.UOM
        django_get_or_create = ["division", "code"]

    division = factory.SubFactory(DivisionFactory)
    code = "EA"
    name = "Each"
    each_count = 1


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Item

    division = factory.SubFactory(DivisionFactory)
    item_number = factory.Sequence(lambda n: f"SKU-{n:05d}")
    description = factory.LazyAttribute(lambda o: f"Item {o.item_number}")
    default_uom = factory.LazyAttribute(lambda o: UOMFactory(division=o.division))


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Customer

    division = factory.SubFactory(DivisionFactory)
    name = factory.Sequence(lambda n: f"Customer {n}")


class CarrierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Carrier
        django_get_or_create = ["division", "name"]

    division = factory.SubFactory(DivisionFactory)
    name = factory.Sequence(lambda n: f"Carrier {n}")


class PickingOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.PickingOrder

    division = factory.SubFactory(DivisionFactory)
    number = factory.Sequence(lambda n: f"PO-{n:05d}")
    order_date = factory.LazyFunction(datetime.date.today)
    customer = factory.LazyAttribute(lambda o: CustomerFactory(division=o.division))


class PickingOrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.PickingOrderLine

    order = factory.SubFactory(PickingOrderFactory)
    line_number = factory.Sequence(lambda n: n + 1)
    item = factory.LazyAttribute(lambda o: ItemFactory(division=o.order.division))
    ordered_qty = 5
