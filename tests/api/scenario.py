"""A small warehouse shared by the page, browser and API tests. Stock is put in through the receive service,
so every record has its ledger rows like in real use.

Division D1: site S1 with locations A-01 (10 x W-100) and A-02 (3 x W-100), site S2 with B-01 (4 x G-200),
and an empty location A-03. Division D2 has a location Z-01 with stock of its own item.
Open picking order PO-1: line 1 W-100 x 5, line 2 G-200 x 2, line 3 W-100 x 20."""

from types import SimpleNamespace

from plugin.intellitrack import services
from tests.intellitrack.factories import (
    CarrierFactory,
    DivisionFactory,
    ItemFactory,
    LocationFactory,
    PickingOrderFactory,
    PickingOrderLineFactory,
    SiteFactory,
    UOMFactory,
)


def warehouse() -> SimpleNamespace:
    d1 = DivisionFactory(code="D1", name="Main")
    s1 = SiteFactory(division=d1, code="S1")
    s2 = SiteFactory(division=d1, code="S2")
    a01 = LocationFactory(site=s1, code="A-01")
    a02 = LocationFactory(site=s1, code="A-02")
    a03 = LocationFactory(site=s1, code="A-03")
    b01 = LocationFactory(site=s2, code="B-01")
    ea = UOMFactory(division=d1, code="EA")
    widget = ItemFactory(division=d1, item_number="W-100", description="Widget", default_uom=ea)
    gadget = ItemFactory(division=d1, item_number="G-200", description="Gadget", default_uom=ea)
    for item, location, quantity in [(widget, a01, 10), (widget, a02, 3), (gadget, b01, 4)]:
        services.inventory_receive(item=item, location=location, uom=ea, quantity=quantity)

    d2 = DivisionFactory(code="D2", name="Other")
    z01 = LocationFactory(site=SiteFactory(division=d2, code="T1"), code="Z-01")
    other_ea = UOMFactory(division=d2, code="EA")
    other_item = ItemFactory(
        division=d2, item_number="W-100", description="Other widget", default_uom=other_ea
    )
    services.inventory_receive(item=other_item, location=z01, uom=other_ea, quantity=50)

    ups = CarrierFactory(division=d1, name="UPS")
    foreign_carrier = CarrierFactory(division=d2, name="DHL")
    order = PickingOrderFactory(division=d1, number="PO-1", carrier=ups)
    lines = [
        PickingOrderLineFactory(order=order, line_number=1, item=widget, ordered_qty=5),
        PickingOrderLineFactory(order=order, line_number=2, item=gadget, ordered_qty=2),
        PickingOrderLineFactory(order=order, line_number=3, item=widget, ordered_qty=20),
    ]
    return SimpleNamespace(
        division=d1,
        s1=s1,
        s2=s2,
        a01=a01,
        a02=a02,
        a03=a03,
        b01=b01,
        ea=ea,
        widget=widget,
        gadget=gadget,
        other_division=d2,
        z01=z01,
        other_item=other_item,
        ups=ups,
        foreign_carrier=foreign_carrier,
        order=order,
        lines=lines,
    )


def on_hand(item, location) -> int:
    from plugin.intellitrack.models import InventoryRecord

    return sum(InventoryRecord.objects.filter(item=item, location=location).values_list("on_hand", flat=True))
