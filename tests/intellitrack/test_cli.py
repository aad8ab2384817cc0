from io import StringIO

import pytest
from django.core.management import call_command

from plugin.intellitrack.models import (
    UOM,
    Carrier,
    Customer,
    Division,
    Location,
    ShippingMethod,
    ShipTo,
    Site,
)


def seed() -> str:
    out = StringIO()
    call_command("itbc", "seed-demo", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_creates_master_data_once():
    first = seed()
    assert "created 1 divisions" in first
    division = Division.objects.get(code="MAIN")
    assert Site.objects.filter(division=division).count() == 2
    assert Location.objects.filter(site__division=division).count() >= 4
    assert dict(UOM.objects.filter(division=division).values_list("code", "each_count")) == {
        "EA": 1,
        "CS": 12,
    }
    assert Carrier.objects.filter(division=division).count() >= 2
    assert ShippingMethod.objects.filter(carrier__division=division).count() >= 2
    assert ShipTo.objects.filter(customer__division=division).count() == 1
    counts = [
        model.objects.count()
        for model in (Division, Site, Location, UOM, Carrier, ShippingMethod, Customer, ShipTo)
    ]

    assert "already present" in seed()
    assert [
        model.objects.count()
        for model in (Division, Site, Location, UOM, Carrier, ShippingMethod, Customer, ShipTo)
    ] == counts


@pytest.mark.django_db
def test_seed_demo_fills_in_what_is_missing_and_keeps_edits():
    seed()
    Location.objects.filter(code="B-02").delete()
    UOM.objects.filter(code="CS").update(name="Carton")
    assert "created 1 locations" in seed()
    assert UOM.objects.get(code="CS").name == "Carton"
